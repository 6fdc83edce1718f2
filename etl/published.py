"""Reading published.csv back: the one table workbooks, e-mail and the trend are made from.

Its own module so that etl.pipeline and etl.mail read it the same way without importing each
other. pandas is imported inside: etl.mail is imported by the DAG file at parse time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

PUBLISHED = "published.csv"


def read_published(path: Path) -> pd.DataFrame:
    """A published.csv: ``published`` stays text (``..`` is not a number), ``value`` is numeric."""
    import pandas as pd

    df = pd.read_csv(path, dtype={"published": "string"}, keep_default_na=False)
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    return df
