"""Swedish labels the workbooks print for codes: household types, staff age bands, statuses.

Indicator names and definitions are in config/catalogue.yml; these are the labels of the codes
inside some indicators' ids and of the validation report.
"""

from __future__ import annotations

HOUSEHOLD_TYPES: dict[int, str] = {
    1: "Endast barn under 18 år",
    3: "Ensamstående man utan barn",
    4: "Ensamstående man med barn",
    5: "Ensamstående kvinna utan barn",
    6: "Ensamstående kvinna med barn",
    7: "Sammanboende utan barn",
    8: "Sammanboende med barn",
    9: "Okänd hushållstyp",
}
"""Socialstyrelsen's hushållstyp codes (there is no code 2)."""

AGE_BANDS: dict[str, str] = {
    "": "Alla åldrar",
    "_alder_29": "29 år och yngre",
    "_alder_30_49": "30–49 år",
    "_alder_50": "50 år och äldre",
}
"""Suffix of a staff id → age band label (age at the end of the period)."""

SEVERITIES = {"critical": "kritisk", "warning": "varning"}

STATUS = {"ok": "ok", "varning": "varning", "stopp": "stopp"}

TABLES: dict[str, str] = {
    "district": "Stadsdelar",
    "household": "Hushåll",
    "person": "Personer",
    "application": "Ansökningar och beslut",
    "payment": "Utbetalningar",
    "support_obstacle": "Försörjningshinder",
    "intervention": "Arbetsmarknadsinsatser",
    "job_place": "Feriejobb- och Stockholmsjobbsplatser",
    "population": "Befolkning",
    "staff": "Personal",
    "staff_month": "Personal per månad (tid och sjukfrånvaro)",
    "indicator_input": "Inrapporterade värden (enkät, index, inköp)",
}
"""Source tables as managers know them (Datakvalitet, Om statistiken)."""

MEANING = {
    "ok": "Inga anmärkningar: alla rader räknas med.",
    "varning": (
        "Rader i karantän räknas inte med: uppgifter som bygger på tabellen kan vara något lägre "
        "än i verksamhetssystemet tills felen är rättade."
    ),
    "stopp": "För många fel: ingen statistik har tagits fram (körningen stoppades).",
}
"""What a table's validation status means for the figures."""


def table_label(name: str) -> str:
    return TABLES.get(name, name)
