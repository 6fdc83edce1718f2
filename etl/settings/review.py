"""config/review.yml: the case review's sample sizes, the reviewer's answer lists and the
comparison's uncertainty (docs/review.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from etl.settings.base import Frozen
from etl.settings.pipeline import MIN_RESAMPLES


def _unique(values: tuple) -> tuple:
    if len(set(values)) != len(values):
        raise ValueError("värdena ska vara unika")
    return values


class Sample(Frozen):
    per_sex: int = Field(25, ge=1, le=1000)
    decisions: tuple[str, ...] = Field(("bifall", "delvis_bifall", "avslag"), min_length=1)


class Answers(Frozen):
    """The drop-down lists of the reviewer workbook (and the import's allowed values)."""

    concerned: tuple[str, ...] = Field(
        ("försörjningsstöd (norm)", "hyra eller boende", "akut nöd", "tandvård eller sjukvård", "övrigt"),
        min_length=2,
    )
    quality: tuple[int, ...] = Field((1, 2, 3, 4), min_length=2)
    guideline: tuple[str, ...] = Field(("ja", "nej", "delvis"), min_length=2)
    bemotande: tuple[str, ...] = Field(("ja", "nej"), min_length=2)

    _concerned = field_validator("concerned", "quality", "guideline", "bemotande")(_unique)


class Comparison(Frozen):
    bootstrap_resamples: int = Field(2000, ge=MIN_RESAMPLES)
    seed: int = Field(20180101, ge=0)
    confidence: float = Field(0.95, gt=0.5, lt=1)


class Review(Frozen):
    sample: Sample = Sample()
    answers: Answers = Answers()
    comparison: Comparison = Comparison()
