"""Case review for the gender-equality project (docs/review.md).

Random samples of decided applications before and after the project (``sample``), the
reviewer workbook (``reports.review_workbook``), its import with a Great Expectations suite
(``importer``), and the before/after comparison of women and men (``compare``). Everything that
names a case lives only in the restricted folder ``$EB_DATA_DIR/review/`` (``paths``).
"""
