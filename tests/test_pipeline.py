"""The thin path end to end through the CLI, on a small database whose figures are known by hand."""

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from etl import archive
from etl.__main__ import main
from tests.support.pii_scan import scan
from tests.support.source_data import small_db


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("EB_PSEUDONYM_KEY", "test-pseudonym-key-0123456789abcdef")


def test_run_produces_hand_computed_statistics_suppressed_workbooks_and_archive(
    empty_db_url, tmp_path, key_env, capsys
):
    small_db(empty_db_url)
    out_dir = tmp_path / "out"
    assert (
        main(["run", "--source", empty_db_url, "--period", "2018-T1", "--out", str(out_dir), "--no-email"])
        == 0
    )

    package = out_dir / "archive" / "2018" / "T1" / "v1"
    stats = pd.read_csv(package / "statistics.csv")
    assert list(stats.columns) == [
        "indicator_id",
        "period",
        "district_code",
        "sex",
        "numerator",
        "denominator",
        "value",
        "unit",
    ]
    hh = stats[stats.indicator_id == "eb_hushall"].set_index(["district_code", "sex"])["value"]
    expected = {("KUN", "T"): 6, ("KUN", "K"): 6, ("KUN", "M"): 0, ("NOR", "T"): 2, ("NOR", "K"): 0,
                ("NOR", "M"): 2, ("OST", "T"): 0, ("ALL", "T"): 8, ("ALL", "K"): 6,
                ("ALL", "M"): 2}  # fmt: skip
    assert {k: hh[k] for k in expected} == expected

    # Published: NOR M=2 is primary; its complements are NOR T (T = K + M), ALL M (the districts'
    # M sum to it) and ALL T (the districts' T): one unknown x = NOR M stays free, as
    # NOR T = x, ALL M = x and ALL T = 6 + x. The women's figures and the zeros stay visible.
    pub = pd.read_csv(package / "published.csv", keep_default_na=False)
    shown = pub[(pub.indicator_id == "eb_hushall") & (pub.published != "..")]
    assert set(zip(shown.district_code, shown.sex, shown.published, strict=True)) == {
        ("ALL", "K", "6"), ("KUN", "T", "6"), ("KUN", "K", "6"), ("KUN", "M", "0"), ("NOR", "K", "0"),
        ("OST", "T", "0"), ("OST", "K", "0"), ("OST", "M", "0")
    }  # fmt: skip

    books = sorted(p.name for p in (package / "workbooks").iterdir())
    assert books == [
        f"Tertialuppfoljning_2018_T1_Forsorjningsstod_{s}.xlsx" for s in ("ALL", "KUN", "NOR", "OST")
    ]
    wb = openpyxl.load_workbook(package / "workbooks" / books[0])
    assert wb.sheetnames == [
        "Sammanfattning", "Ekonomiskt bistånd", "Jämställdhetsanalys", "Arbetsmarknad", "Personal",
        "Ekonomi", "Datakvalitet", "Om statistiken",
    ]  # fmt: skip
    cells = [c.value for row in wb["Sammanfattning"].iter_rows() for c in row if c.value is not None]
    assert "Kvinnor" in cells and "Män" in cells

    assert archive.verify(out_dir / "archive") == []
    assert scan(out_dir) == {}  # staging, quarantine, outputs and archive
    printed = capsys.readouterr().out
    assert f"Arkivpaket: {package}" in printed and str(package / "workbooks" / books[1]) in printed


@pytest.mark.slow  # three full runs
def test_rerun_with_same_data_does_not_duplicate_the_archive_or_the_emails(tmp_path, key_env, monkeypatch):
    from etl.mail import recipients

    monkeypatch.setenv("EB_MAIL_MODE", "outbox")
    url = f"sqlite:///{tmp_path / 'src.db'}"
    small_db(url)
    args = ["run", "--source", url, "--period", "2018-T1", "--out", str(tmp_path / "out")]
    assert main(args) == 0
    ledger = tmp_path / "out" / "archive" / "2018" / "T1" / "email_ledger"
    first = sorted(p.name for p in ledger.iterdir())
    assert len(first) == len(recipients.recipient_addresses()) > 0  # one entry per recipient
    outbox = tmp_path / "out" / "outbox" / "2018-T1"
    eml = {p.name: p.stat().st_mtime_ns for p in outbox.iterdir()}
    assert main(args) == 0
    assert sorted(p.name for p in (tmp_path / "out" / "archive" / "2018" / "T1").iterdir()) == [
        "email_ledger", "v1"
    ]  # fmt: skip
    assert sorted(p.name for p in ledger.iterdir()) == first, "no email sent twice"
    assert {p.name: p.stat().st_mtime_ns for p in outbox.iterdir()} == eml
    # Another run id (the workbook's "Om statistiken" names it): a new package version, but the
    # same figures, so no recipient gets the report again.
    from etl import pipeline
    from etl.periods import Period

    other = pipeline.run_period(
        url,
        Period(2018, 1),
        tmp_path / "out",
        b"test-pseudonym-key-0123456789abcdef",
        run_id="another",
        send_emails=True,
    )
    assert other.package.name == "v2" and other.archive_created
    assert sorted(p.name for p in ledger.iterdir()) == first, "same figures: no email sent again"
    packaged = json.loads(
        (tmp_path / "out" / "archive" / "2018" / "T1" / "v1" / "email_ledger.json").read_text()
    )
    assert sorted(e["to"] for e in packaged) == sorted(recipients.recipient_addresses())


def test_missing_table_stops_with_exit_2_and_no_outputs(tmp_path, key_env, capsys):
    url = f"sqlite:///{tmp_path / 'src.db'}"
    small_db(url)
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("DROP TABLE payment"))
    assert main(["run", "--source", url, "--period", "2018-T1", "--out", str(tmp_path / "out")]) == 2
    assert "payment: tabellen saknas" in capsys.readouterr().err
    assert not (tmp_path / "out" / "archive").exists()


def test_bad_period_and_missing_key_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("EB_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("EB_PSEUDONYM_KEY_FILE", raising=False)
    url = f"sqlite:///{tmp_path / 'src.db'}"
    assert main(["run", "--source", url, "--period", "2018-T9", "--out", str(tmp_path)]) == 1
    assert "Ogiltig period" in capsys.readouterr().err
    assert main(["run", "--source", url, "--period", "2018-T1", "--out", str(tmp_path)]) == 1
    assert "pseudonymiseringsnyckel" in capsys.readouterr().err


def test_plan_resolves_the_period_from_override_interval_or_run_after(tmp_path):

    from etl.pipeline import plan_run

    utc = dt.UTC
    # T2 2018 ends at 2018-09-01 00:00 Stockholm = 2018-08-31 22:00 UTC.
    by_interval = plan_run("r", interval_end=dt.datetime(2018, 8, 31, 22, tzinfo=utc), data_dir=tmp_path)
    assert by_interval.period_name == "2018-T2"
    # A manual run due 2019-02-03 without interval covers the last completed period: 2018-T3.
    assert plan_run("r", run_after=dt.datetime(2019, 2, 3, tzinfo=utc)).period_name == "2018-T3"
    # 2018-05-01 00:30 Stockholm is 2018-04-30 22:30 UTC: T1 has just ended.
    assert plan_run("r", run_after=dt.datetime(2018, 4, 30, 22, 30, tzinfo=utc)).period_name == "2018-T1"
    forced = plan_run("manual__2018-05-16T00:00:00+00:00", period="2017-T3", data_dir=tmp_path)
    assert forced.period_name == "2017-T3"
    assert forced.run_dir == str(tmp_path / "staging" / "manual__2018-05-16T00_00_00_00_00")
    assert forced.archive_root == str(tmp_path / "archive")
