"""The scanner itself must find what it is meant to find, or the privacy tests prove nothing."""

import pandas as pd
import xlsxwriter

from tests.support.pii_scan import find_in_text, scan

PNR = "198112189876"  # valid check digit; 198112189875 is not


def test_text_forms():
    assert find_in_text(f"id={PNR};") == [PNR]
    assert find_in_text("19811218-9876") == ["19811218-9876"]
    assert find_in_text("198112459874") == []  # day 45 is neither a date nor a samordningsnummer
    assert find_in_text("198112189875") == []  # wrong check digit
    assert find_in_text("2198112189876") == []  # part of a longer number
    # samordningsnummer, day 79 = 19 + 60. Luhn over 811279987 with weights 2,1,2,…:
    # 7+1+2+2+5+9+9+8+5 = 48, so the check digit is 2.
    assert find_in_text("198112799872") == ["198112799872"]


def test_finds_planted_ids_in_parquet_xlsx_and_logs(tmp_path):
    pd.DataFrame({"a": ["x", PNR]}).to_parquet(tmp_path / "t.parquet")
    wb = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"))
    wb.add_worksheet().write_string(0, 0, f"person {PNR}")
    wb.close()
    (tmp_path / "task.log").write_text(f"INFO processing {PNR}\n")
    (tmp_path / "clean.log").write_text("INFO 20180516 rows=12345\n")
    assert set(scan(tmp_path)) == {str(tmp_path / n) for n in ("t.parquet", "b.xlsx", "task.log")}
