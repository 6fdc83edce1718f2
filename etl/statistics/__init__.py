"""Statistics: sex-disaggregated indicators per district and for the unit, from validated staging.

``case`` (eb_, am_, ar_ and reported values), ``staff`` (pe_) and ``gender`` (ja_) each compute
their catalogue entries; ``build`` puts them together, checks them against the catalogue and
writes statistics.parquet. They share ``etl.vocabulary`` and ``frames``, never each other.
"""
