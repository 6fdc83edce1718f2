"""The statistics stage on coded inputs (etl.statistics.inputs: only the columns read, ids as
integer codes) gives byte for byte what it gave on the validated tables read whole with the ids as
text, and what the code before the change (commit d22371f) wrote for the same data."""

from __future__ import annotations

import hashlib
import re
import shutil

import pandas as pd
import pytest

from etl import pipeline, source, staging
from etl.periods import Period
from etl.settings import settings
from etl.statistics import build, comparison, inputs
from tests.support.demo import demo_tables

YEARS = (2017, 2018)
PINNED = {
    # sha256 of statistics_step's files for the unit demo data of YEARS as validated staging, as
    # the code before the statistics were read as coded inputs (commit d22371f) wrote them.
    # statistics.parquet and published.csv are hashed in canonical form (``_canonical``): their
    # full-precision floats differ in the last bits from one CPU to another (d22371f wrote other
    # bytes on an AVX-512 EPYC than on the machine these were first pinned on, but the same
    # statistics.csv, which has 10 digits; on one machine d22371f and this code write the same bytes).
    "2018-T2": {
        "disclosure.json": "631a83459c6ab31827d6eed51712b088dcef4668c12876068967f613b8614197",
        "published.csv": "54942e5e74987a3dbcc76c6c59507b291023fb15fcba543b373b24c726eb0a57",
        "published_comparison.csv": "192b384c8d75876ff578e73feeaa43150f2693967c4c232f2b279a36b698f70b",
        "statistics.csv": "8ab4be42a8012e5fed19685a720b0bc1591d679edf0893973170e32c647ddfc5",
        "statistics.parquet": "62592c8e62aca24ca8ad736a2ec22ba23ace7f17d9fad11b20f44e59a1c7604f",
    },
    "2018-T3": {
        "disclosure.json": "3520c63e8a5363db03edc8bad9e71358fe99b544ca4edc5ed38d69800d33a10e",
        "published.csv": "86c191e8c2562741a8ab7d1b47c4883dd39b3dbb2613a8202c085b729275adb5",
        "published_comparison.csv": "89ef8e2a200bd4858d19e85d06a94c073208238c36f56fb2d2253f20f3f504b8",
        "statistics.csv": "9b1ebcce20140dea3eee20a4194ef6f15a9ca04d7efff97691dea70fc401be50",
        "statistics.parquet": "7ae9725c6acd864d9060366aa937c55a897134327e6848db1f5faf6ca8e7e739",
    },
}


_DECIMAL = re.compile(rb"-?[0-9]+\.[0-9]+(?:e[-+]?[0-9]+)?")


def _canonical(path) -> bytes:
    """The file's bytes; for statistics.parquet and published.csv with every float at 10
    significant digits (as statistics.csv writes them), the dtypes and all else exact."""
    if path.name == "statistics.parquet":
        frame = pd.read_parquet(path)
        text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
        return (str(frame.dtypes.to_dict()) + text).encode()
    if path.name == "published.csv":
        return _DECIMAL.sub(lambda m: b"%.10g" % float(m.group()), path.read_bytes())
    return path.read_bytes()


def _write_validated(run) -> None:
    for name, frame in demo_tables(YEARS).items():
        path = staging.table_path(run, staging.VALIDATED, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run = tmp_path_factory.mktemp("stats") / "run"
    _write_validated(run)
    return run


def test_ids_become_integer_codes_in_sorted_order(run):
    coded = inputs.read_tables(run, settings().catalogue)
    text = staging.read_table(run, staging.VALIDATED, "person")
    assert coded["person"]["person_id"].dtype == "int32"  # half of int64's memory
    order = text["person_id"].sort_values().index
    assert coded["person"]["person_id"].loc[order].is_monotonic_increasing
    # The same numbering in every table that holds a person's id.
    applicant = staging.read_table(run, staging.VALIDATED, "application")["applicant_id"]
    number = dict(zip(text["person_id"], coded["person"]["person_id"], strict=True))
    known = applicant.isin(number)
    assert (coded["application"]["applicant_id"][known] == applicant[known].map(number)).all()
    assert "_type_errors" not in coded["person"] and "handler_id" not in coded["application"]


def test_code_columns_are_categoricals_of_the_same_values(run):
    coded = inputs.read_tables(run, settings().catalogue)
    for table, column in inputs.CATEGORIES:
        text = staging.read_table(run, staging.VALIDATED, table)[column]
        held = coded[table][column]
        assert isinstance(held.dtype, pd.CategoricalDtype)
        assert list(held.cat.categories) == sorted(text.dropna().unique())
        assert held.astype("object").equals(text.astype("object"))  # missing stays missing


@pytest.mark.parametrize("period", ["2018-T1", "2018-T2", "2018-T3"])
def test_coded_inputs_give_the_statistics_of_text_ids(run, period):
    p = Period.parse(period)
    text = {name: staging.read_table(run, staging.VALIDATED, name) for name in source.TABLES}
    coded = inputs.read_tables(run, settings().catalogue)
    pd.testing.assert_frame_equal(build.build_statistics(run, p, coded), build.build_statistics(run, p, text),
                                  check_exact=True)  # fmt: skip
    pd.testing.assert_frame_equal(comparison.build_comparison(run, p, coded),
                                  comparison.build_comparison(run, p, text), check_exact=True)  # fmt: skip


@pytest.mark.parametrize("period", sorted(PINNED))
def test_statistics_step_writes_what_the_code_before_wrote(run, period, tmp_path):
    shutil.copytree(run, tmp_path / "run")
    run = tmp_path / "run"
    plan = pipeline.RunPlan(run_id=f"t_{period}", period_name=period, run_dir=str(run),
                            archive_root=str(run.parent / "archive"))  # fmt: skip
    pipeline.statistics_step(plan)
    files = {"statistics.parquet": run / "statistics.parquet"}
    files |= {p.name: p for p in (run / pipeline.OUTPUT).iterdir() if p.is_file()}
    digests = {name: hashlib.sha256(_canonical(p)).hexdigest() for name, p in files.items()}
    assert digests == PINNED[period]
