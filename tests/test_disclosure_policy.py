"""Issue 12's disclosure policy (docs/disclosure.md) on small hand-computed tables, the gate, and
the auditor on every demo period.

The staff fixture is the 2018 T1 unit: 32 employees, 28 women and 4 men, all full time (FTE
28 + 4 = 32). Sick leave: women 6.0 %, men 2.0 %, so the unit's (hours ∝ FTE) is
(28·6.0 + 4·2.0) / 32 = 176 / 32 = 5.5 %.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from etl import audit, disclosure_gate
from etl.disclosure import PRIMARY, SUPPRESSED, DisclosureConfig, protect, suppress
from etl.published import PUBLISHED
from etl.vocabulary import BASIS, NOT_INDIVIDUAL, PERSONS, RULE, STAFF_GROUP

CFG = DisclosureConfig.from_settings()
RULE_ONLY = dataclasses.replace(CFG, audit_rounds=0)


def _row(ind, sex, value, basis, rule, unit="procent", district="ALL", period="2018-T1"):
    return {
        "indicator_id": ind, "period": period, "district_code": district, "sex": sex, "value": float(value),
        "unit": unit, BASIS: int(basis), RULE: rule,
    }  # fmt: skip


def _staff(sick=(5.5, 6.0, 2.0), long_share=(50.0, 50.0, math.nan)) -> pd.DataFrame:
    rows = []
    for sex, n in (("T", 32), ("K", 28), ("M", 4)):
        rows.append(_row("pe_anstallda", sex, n, n, NOT_INDIVIDUAL, "antal"))
        rows.append(_row("pe_arsarbetare", sex, n, n, NOT_INDIVIDUAL, "årsarbetare"))
    for ind, values in (("pe_sjukfranvaro", sick), ("pe_langtidssjuk_andel", long_share)):
        for (sex, n), v in zip((("T", 32), ("K", 28), ("M", 4)), values, strict=True):
            rows.append(_row(ind, sex, v, n, STAFF_GROUP))
    return pd.DataFrame(rows)


def _shown(pub: pd.DataFrame, ind: str) -> dict[str, str]:
    part = pub[pub.indicator_id == ind]
    return dict(zip(part.sex, part.published, strict=True))


def test_staff_sick_leave_small_group_hidden_unit_total_and_headcount_by_sex_shown():
    pub, checked = protect(_staff(), CFG)
    # Men (4 ≤ 10): hidden. Women (28) hidden too: 32·5.5 − 28·6.0 = 8 = 4·m would give m = 2.0.
    assert _shown(pub, "pe_sjukfranvaro") == {"T": "5.5", "K": "..", "M": ".."}
    # The unit's total and headcount / FTE by sex are shown.
    assert _shown(pub, "pe_anstallda") == {"T": "32", "K": "28", "M": "4"}
    assert _shown(pub, "pe_arsarbetare") == {"T": "32", "K": "28", "M": "4"}
    # No sick hours among the 4 men: "–" would say so; ".." instead, and women's 50 % (= T) hidden.
    assert _shown(pub, "pe_langtidssjuk_andel") == {"T": "50", "K": "..", "M": ".."}
    primary = checked[checked[PRIMARY]]
    assert set(zip(primary.indicator_id, primary.sex, strict=True)) == {
        ("pe_sjukfranvaro", "M"), ("pe_langtidssjuk_andel", "M"),
    }  # fmt: skip
    assert audit.audit(pub, sensitive=_sensitive(checked)).ok


def test_a_small_groups_rate_derivable_within_one_point_is_refused():
    # Only the primary cell hidden: 32·5.5 = 28·6.0 + 4·m within the FTE relation's slack
    # (0.02 pp × 32 FTE = 0.64): m in (176 − 168 ± 0.64) / 4 = 1.84 … 2.16, narrower than ±1 pp.
    pub = _staff().assign(suppressed=[False] * 6 + [False, False, True] + [False, False, True])
    pub = pub.assign(value=pub["value"].mask(pub["suppressed"]))
    result = audit.audit(pub)
    (sick,) = [f for f in result.findings if f.indicator_id == "pe_sjukfranvaro"]
    assert (sick.sex, sick.kind) == ("M", "interval")
    assert sick.low == pytest.approx(1.84) and sick.high == pytest.approx(2.16)
    assert "totalt = kvinnor + män" in sick.text()


def test_the_audit_hides_the_unit_total_when_it_alone_pins_a_small_group():
    # Everyone 0.1 %: with K and M hidden, 32·0.1 = 3.2 = 28·k + 4·m (± 0.64) still gives
    # m ≤ (3.2 + 0.64) / 4 = 0.96: within 1 pp of 0. The rule-based pattern stops at {K, M}; the
    # audit round hides T as well.
    stats = _staff(sick=(0.1, 0.1, 0.1))
    rule_only, checked = protect(stats, RULE_ONLY)
    assert _shown(rule_only, "pe_sjukfranvaro") == {"T": "0.1", "K": "..", "M": ".."}
    (leak,) = audit.audit(rule_only, sensitive=_sensitive(checked)).findings
    assert (leak.indicator_id, leak.sex, leak.low) == ("pe_sjukfranvaro", "M", 0.0)
    assert leak.high == pytest.approx(0.96)
    assert audit.audit(rule_only, sensitive=set()).ok  # only primary cells need an interval
    pub, checked = protect(stats, CFG)
    assert _shown(pub, "pe_sjukfranvaro") == {"T": "..", "K": "..", "M": ".."}
    assert audit.audit(pub, sensitive=_sensitive(checked)).ok


def test_the_last_round_of_extra_cells_is_audited_too():
    # One audit round hides T (as above); the pattern after it is audited once more, so the
    # package passes the gate instead of being refused as "not audited".
    checked = suppress(_staff(sick=(0.1, 0.1, 0.1)), dataclasses.replace(CFG, audit_rounds=1))
    assert checked.attrs["audit_leaks_left"] == 0
    assert checked[checked.indicator_id == "pe_sjukfranvaro"][SUPPRESSED].all()


def test_a_tables_relations_are_kept_for_its_audit_rounds_only(monkeypatch):
    # The audit builds a table's relations once for all its rounds; once the table is done they
    # are dropped, so the next stage does not carry them (tens of MB at national scale).
    built = []
    real = audit._groups
    counted = lambda *a: built.append(real.cache_info().misses) or real(*a)  # noqa: E731
    counted.cache_clear = real.cache_clear
    monkeypatch.setattr(audit, "_groups", counted)
    suppress(_staff(sick=(0.1, 0.1, 0.1)), CFG)
    assert len(built) >= 2 and set(built[1:]) == {1}  # audited more than once, built once
    assert real.cache_info().currsize == 0


def test_a_leak_the_audit_names_no_fix_for_hides_its_whole_relation(monkeypatch):
    # The last resort (small sources): when the audit finds a leak but names no cell to hide, the
    # whole relation of the leaking cell is hidden (T with K and M), then audited again.
    monkeypatch.setattr(audit, "_fix", lambda cells, relations, f: ())
    checked = suppress(_staff(sick=(0.1, 0.1, 0.1)), CFG)
    assert checked.attrs["audit_leaks_left"] == 0
    assert checked[checked.indicator_id == "pe_sjukfranvaro"][SUPPRESSED].all()


def _sensitive(checked: pd.DataFrame) -> set:
    rows = checked[checked[PRIMARY]]
    return set(zip(rows.period, rows.indicator_id, rows.district_code, rows.sex, strict=True))


def _aspirants(women_everywhere: int) -> pd.DataFrame:
    """Aspirants by district: NOR has 3 (primary), all men; KUN 9 men + ``women_everywhere`` women."""
    w = women_everywhere
    cells = {("NOR", "T"): 3, ("NOR", "K"): 0, ("NOR", "M"): 3,
             ("KUN", "T"): 9 + w, ("KUN", "K"): w, ("KUN", "M"): 9,
             ("ALL", "T"): 12 + w, ("ALL", "K"): w, ("ALL", "M"): 12}  # fmt: skip
    return pd.DataFrame(
        [_row("am_stockholmsjobb_aspiranter", s, v, v, PERSONS, "antal", d) for (d, s), v in cells.items()]
    )


def test_zero_that_tells_the_composition_of_a_hidden_cell_is_hidden():
    # NOR: T 3 and M 3 hidden (1–4 persons); K = 0 beside them says "all men" -> hidden. Then sex K
    # holds NOR hidden alone -> KUN's K (6 < ALL's 6? tie: a district before the unit) is hidden;
    # sex M and T: KUN's (9 < 12; 15 < 18). ALL stays shown; KUN's triple is all hidden.
    pub, checked = protect(_aspirants(6), CFG)
    hidden = set(zip(pub.loc[pub[SUPPRESSED], "district_code"], pub.loc[pub[SUPPRESSED], "sex"], strict=True))
    assert hidden == {(d, s) for d in ("NOR", "KUN") for s in "TKM"}
    assert audit.audit(pub, sensitive=_sensitive(checked)).ok
    # Without the zero rule the auditor names the leak (attribute disclosure).
    leak = pub.copy()
    nor_k = (leak.district_code == "NOR") & (leak.sex == "K")
    leak.loc[nor_k, [SUPPRESSED, "value"]] = [False, 0.0]
    found = {(f.scope, f.sex, f.kind) for f in audit.audit(leak).findings}
    assert ("NOR", "M", "attribute") in found


def test_a_structural_zero_stays_shown():
    # No woman among the unit's 12 aspirants (ALL K = 0 beside ALL T = 12): NOR's K = 0 tells
    # nothing the unit's own figures do not. Hidden: NOR T, M; sex M and T complements KUN M, T.
    pub, checked = protect(_aspirants(0), CFG)
    hidden = set(zip(pub.loc[pub[SUPPRESSED], "district_code"], pub.loc[pub[SUPPRESSED], "sex"], strict=True))
    assert hidden == {("NOR", "T"), ("NOR", "M"), ("KUN", "T"), ("KUN", "M")}
    assert audit.audit(pub, sensitive=_sensitive(checked)).ok


def test_one_hidden_cell_in_a_relation_gets_the_smallest_other_cell_as_complement():
    # eb_hushall KUN: K 3 (primary), M 20, T 23. T = K + M holds one hidden cell -> the smaller of
    # M (20) and T (23) is hidden. Exact recovery by subtraction is then impossible: 23 − ?.
    rows = [_row("eb_hushall", s, v, v, PERSONS, "antal", "KUN") for s, v in (("T", 23), ("K", 3), ("M", 20))]
    out = suppress(pd.DataFrame(rows), CFG)
    assert dict(zip(out.sex, out[SUPPRESSED], strict=True)) == {"T": False, "K": True, "M": True}
    assert out[PRIMARY].tolist() == [False, True, False]


def _leaking_output(output) -> pd.DataFrame:
    """Leak 1 of issue 12: men's sick leave 30–49 hidden, T and K shown (FTE 17 = 15 + 2)."""
    output.mkdir(parents=True, exist_ok=True)
    rows = [
        ("pe_arsarbetare_alder_30_49", "T", 17.0, False), ("pe_arsarbetare_alder_30_49", "K", 15.0, False),
        ("pe_arsarbetare_alder_30_49", "M", 2.0, False), ("pe_sjukfranvaro_alder_30_49", "T", 7.36, False),
        ("pe_sjukfranvaro_alder_30_49", "K", 8.32, False), ("pe_sjukfranvaro_alder_30_49", "M", None, True),
    ]  # fmt: skip
    pub = pd.DataFrame(
        [
            {"indicator_id": i, "period": "2018-T1", "district_code": "ALL", "sex": s, "value": v,
             "unit": "procent", SUPPRESSED: h, "published": ".." if h else f"{v:g}"}
            for i, s, v, h in rows
        ]
    )  # fmt: skip
    pub.to_csv(output / PUBLISHED, index=False)
    summary = {"period": "2018-T1", "primary": 1, "secondary": 0,
               "sensitive": [["2018-T1", "pe_sjukfranvaro_alder_30_49", "ALL", "M"]]}  # fmt: skip
    (output / disclosure_gate.SUMMARY).write_text(json.dumps(summary))
    return pub


def test_the_gate_refuses_a_leaking_package_in_swedish(tmp_path):
    output = tmp_path / "output"
    pub = _leaking_output(output)
    with pytest.raises(audit.DisclosureAuditError) as err:
        disclosure_gate.require_clean(output, "skickas")
    text = str(err.value)
    assert text.startswith("Paketet skickas inte")
    assert "pe_sjukfranvaro_alder_30_49 ALL M" in text and "samband: totalt = kvinnor + män" in text
    # Hiding women's figure too makes it pass.
    pub.loc[4, [SUPPRESSED, "value", "published"]] = [True, None, ".."]
    pub.to_csv(output / PUBLISHED, index=False)
    assert disclosure_gate.require_clean(output, "skickas").ok


def test_the_pipeline_neither_archives_nor_emails_a_leaking_package(tmp_path):
    from etl import archive, pipeline, source, staging

    plan = pipeline.plan_run("cli__2018-T1", period="2018-T1", data_dir=tmp_path)
    run = pipeline.Path(plan.run_dir)
    _leaking_output(run / "output")
    (run / "output" / "workbooks").mkdir()
    (run / "output" / "statistics.csv").write_text("a\n1\n")
    staging.write_json(run / "validation.json", [])
    for table in source.TABLES:
        staging.write_json(staging.meta_path(run, staging.RAW, table), {"rows": 1})
    with pytest.raises(audit.DisclosureAuditError, match="Paketet arkiveras inte"):
        pipeline.archive_step(plan)
    assert archive.versions(tmp_path / "archive", pipeline.Period(2018, 1)) == []
    with pytest.raises(audit.DisclosureAuditError, match="Paketet skickas inte"):
        pipeline.email_step(plan, "someone@example.org")
    assert not pipeline.outbox_dir(pipeline.RunPlan.of(plan)).exists()


def test_the_gate_needs_the_summary(tmp_path):
    with pytest.raises(audit.DisclosureAuditError, match="disclosure.json saknas"):
        disclosure_gate.require_clean(tmp_path, "arkiveras")


def test_counts_of_primary_and_further_hidden_cells_for_the_note():
    _, checked = protect(_staff(), CFG)
    summary = disclosure_gate.summarize(checked, "2018-T1")
    assert (summary["primary"], summary["secondary"]) == (2, 2)  # men's two rates; women's two
    assert disclosure_gate.note(summary) == (
        "Perioden: 2 uppgifter döljs för att de vilar på för få personer (grundregeln) och 2 till för "
        "att de dolda inte ska gå att räkna fram ur totaler och andra uppgifter."
    )
    assert disclosure_gate.note(None) == ""


# --- every demo period -------------------------------------------------------------------------------

DEMO_PERIODS = [f"{y}-T{t}" for y in (2017, 2018, 2019) for t in (1, 2, 3)]


@pytest.mark.slow
@pytest.mark.parametrize("period", DEMO_PERIODS)
def test_no_leak_on_any_demo_period(period, demo_published):
    pub, checked = demo_published[period]
    result = audit.audit(pub, sensitive=_sensitive(checked))
    assert result.ok, result.summary()
    # The unit's sick leave is shown; no staff rate of a group of ten or fewer is.
    assert pub.loc[(pub.indicator_id == "pe_sjukfranvaro") & (pub.sex == "T"), "published"].item() != ".."
    staff = checked[checked[RULE] == STAFF_GROUP]
    small = staff[staff[BASIS].between(1, CFG.min_staff_group - 1)]
    assert pub.loc[small.index, SUPPRESSED].all()
    heads = pub[pub.indicator_id.str.startswith("pe_anstallda")]
    assert not heads[SUPPRESSED].any()
    # Few beyond the primary: on the demo 1.6–2.1 times the primary cells (an earlier attempt that
    # hid whatever the auditor named reached 2.3 times on 2018-T1).
    hidden, primary = int(checked[SUPPRESSED].sum()), int(checked[PRIMARY].sum())
    print(f"{period}: {hidden} dolda, {primary} enligt grundregeln, {hidden - primary} till")
    assert hidden < 2.5 * max(primary, 1)


@pytest.fixture(scope="module")
def demo_published():
    """Published tables of the demo's periods, computed from the demo source as the pipeline's
    statistics step does (without extraction and validation: the cheaper route)."""
    from etl.periods import Period
    from etl.settings import settings
    from etl.statistics import case, economy, gender, staff
    from tests.support.demo import demo_tables

    cfg = settings()
    tables = demo_tables((2016, 2017, 2018, 2019))
    districts = sorted(tables["district"]["district_code"])
    out = {}
    for name in DEMO_PERIODS:
        period = Period.parse(name)
        parts = [
            case.case_statistics(tables, period, districts, cfg.catalogue),
            staff.staff_statistics(tables, period),
            gender.gender_statistics(tables, period, districts, cfg=cfg.pipeline.gender_analysis),
            economy.economy_statistics(tables, period, districts),
        ]
        stats = pd.concat([p for p in parts if len(p)], ignore_index=True).assign(period=name)
        out[name] = protect(stats, CFG)
    return out


def test_nan_value_is_never_primary_for_persons():
    # A share with nothing to report (no denominator) is "–", whatever its basis.
    out = suppress(pd.DataFrame([_row("eb_hushall", "T", np.nan, 3, PERSONS, "antal")]), CFG)
    assert not out[SUPPRESSED].any() and not out[PRIMARY].any()


def test_the_workbook_states_the_counts_and_why_the_staff_split_is_missing(tmp_path):
    import openpyxl

    from reports.model import rule_texts
    from reports.workbook import write_workbook
    from tests.support.reports import context, published_table

    note = disclosure_gate.note({"primary": 92, "secondary": 40})
    path = write_workbook(context(published_table(), suppression_note=note, **rule_texts(CFG)), tmp_path)
    wb = openpyxl.load_workbook(path)
    about = [str(c.value) for row in wb["Om statistiken"].iter_rows() for c in row if c.value]
    assert any("92 uppgifter döljs" in v and "40 till" in v for v in about)
    staff = [str(c.value) for row in wb["Personal"].iter_rows() for c in row if c.value]
    assert any("10 eller färre anställda" in v and "kvinnornas när männen är få" in v for v in staff)


def test_the_command_line_audit_uses_the_packages_primary_cells(tmp_path, capsys):
    from etl.__main__ import main

    _leaking_output(tmp_path)
    assert main(["audit-disclosure", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "underkänd" in out and "1 uppgifter döljs" in out and "pe_sjukfranvaro_alder_30_49 ALL M" in out
    # Without the package's disclosure.json every hidden cell is held to the width (the same leak).
    (tmp_path / disclosure_gate.SUMMARY).unlink()
    assert main(["audit-disclosure", str(tmp_path / PUBLISHED)]) == 1
