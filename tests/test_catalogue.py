"""The indicator catalogue (config/catalogue.yml) and the statistics hold each other to account:
every computed id has an entry, every entry is computed, the docs show the catalogue."""

from __future__ import annotations

import pandas as pd
import pytest

from etl import docs
from etl.periods import Period
from etl.settings import settings
from etl.settings.catalogue import Entry
from etl.statistics import build, case, economy, gender, staff
from reports.sheets.common import ids
from tests.support.config import REPO
from tests.support.demo import demo_tables

CATALOGUE = settings().catalogue


@pytest.fixture(scope="module")
def computed_ids() -> set[str]:
    """Ids the statistics compute on a year of demo data (T3: annual figures too), with one
    reported value for every indicator the catalogue says is reported (indicator_input)."""
    tables = dict(demo_tables())
    reported = [e.id for e in CATALOGUE if e.computed_by == "input"]
    rows = pd.DataFrame(
        {"indicator_id": reported, "year": 2018, "tertial": None, "district_code": None, "sex": "T"}
    ).assign(value=1.0
    )
    frame = tables["indicator_input"]
    tables["indicator_input"] = pd.concat(
        [frame[~frame["indicator_id"].isin(reported)], rows.astype(frame.dtypes.to_dict())], ignore_index=True
    )
    period = Period(2018, 3)
    districts = sorted(tables["district"]["district_code"])
    parts = [
        case.case_statistics(tables, period, districts),
        staff.staff_statistics(tables, period),
        gender.gender_statistics(tables, period, districts, settings().pipeline.gender_analysis),
        economy.economy_statistics(tables, period, districts),
    ]
    return set(pd.concat(parts)["indicator_id"])


def test_every_computed_id_has_a_catalogue_entry(computed_ids):
    assert sorted(i for i in computed_ids if CATALOGUE.entry_for(i) is None) == []


def test_every_catalogue_entry_is_computed(computed_ids):
    assert sorted(e.id for e in CATALOGUE if not any(e.pattern.match(i) for i in computed_ids)) == []


def test_an_id_the_catalogue_does_not_list_stops_the_statistics():
    stats = pd.DataFrame({"indicator_id": ["eb_hushall", "eb_ny_indikator"]})
    with pytest.raises(ValueError, match="saknas i config/catalogue.yml: eb_ny_indikator"):
        build.check_catalogue(stats, CATALOGUE)


def test_family_ids_resolve_to_their_entry():
    assert CATALOGUE.entry_for("eb_hushall_typ_3").id == "eb_hushall_typ"
    assert CATALOGUE.entry_for("eb_utbetalt_kr_manad_201804").id == "eb_utbetalt_kr_manad"
    assert CATALOGUE.entry_for("pe_sjukfranvaro_alder_30_49").id == "pe_sjukfranvaro"
    assert CATALOGUE.entry_for("eb_hushall_typ_2") is None  # there is no household type 2
    assert CATALOGUE.entry_for("eb_utbetalt_kr_manad_2018") is None


def test_relations_for_disclosure_come_from_the_entries():
    assert ("eb_mottagare", "eb_andel_befolkning") in CATALOGUE.linked_families()
    assert ("eb_hushall_manad_*", "eb_utbetalt_kr_manad_*") in CATALOGUE.linked_families()
    groups = dict(CATALOGUE.sum_groups())
    assert groups["*"] == ("*_alder_29", "*_alder_30_49", "*_alder_50")
    assert groups["eb_utbetalt_kr"] == ("eb_utbetalt_kr_manad_{year}*",)


def test_one_name_per_indicator_everywhere():
    names = [e.name for e in CATALOGUE]
    assert len(names) == len(set(names))
    assert CATALOGUE.get("eb_andel_befolkning").name == (
        "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen"
    )


def test_a_registered_entry_shows_up_in_its_sheet_group(monkeypatch):
    """Adding an indicator = its computation + one entry: the sheets read their rows from here."""
    extra = Entry(
        id="eb_hushall_med_barn",
        name="Hushåll med barn med ekonomiskt bistånd",
        definition="Hushåll av typ 4, 6 och 8 med utbetalt bistånd i perioden.",
        source="Verksamhetssystemet för ekonomiskt bistånd",
        tables=("household", "payment"),
        unit="antal",
        individual_based=True,
        periodicity="tertial",
        sheet="Ekonomiskt bistånd",
        group="oversikt",
        computed_by="case",
        disclosure="persons",
    )
    bigger = CATALOGUE.model_copy(update={"indicators": (*CATALOGUE.indicators, extra)})
    from reports.sheets import common

    monkeypatch.setattr(common, "settings", lambda: type("Settings", (), {"catalogue": bigger})())
    assert ids("Ekonomiskt bistånd", "oversikt")[-1] == "eb_hushall_med_barn"
    assert bigger.entry_for("eb_hushall_med_barn").name == "Hushåll med barn med ekonomiskt bistånd"


def test_docs_show_the_catalogue():
    assert docs.stale() == [], "Kör `python -m etl docs` och checka in docs/."
    text = (REPO / "docs" / "indicators.md").read_text(encoding="utf-8")
    prose = text.split(docs.BLOCKS[0][2])[1]  # after the generated table
    assert [e.id for e in CATALOGUE if e.id not in prose] == [], "Varje indikator behöver ett avsnitt."
