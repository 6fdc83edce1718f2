"""Swedish names, definitions and sources the workbooks print (Om statistiken and sheet labels).

Plan indicators take their names from config/indicators.yml (etl.targets); this module adds
the case, gender and staff ids of the catalogue and the short definition of every indicator
family. Kept here, not in config/, because it is report text, not a setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.swedish import MONTHS  # noqa: F401  (re-exported: the month names live in reports.swedish)


@dataclass(frozen=True)
class Definition:
    name: str
    definition: str
    source: str


_CASE = "Verksamhetssystemet för ekonomiskt bistånd"
_STAFF = "Personalsystemet (anställningar, arbetad och schemalagd tid, sjukfrånvaro per månad)"
_INPUT = "Inrapporterat värde (indicator_input) från medarbetarenkät, styrning eller inköp"
_APPL = f"{_CASE}: ansökningar och beslut (tabellen application)"

DEFINITIONS: dict[str, Definition] = {
    "eb_hushall": Definition(
        "Hushåll med ekonomiskt bistånd",
        "Antal hushåll med utbetalt ekonomiskt bistånd någon gång under perioden (år till och med "
        "tertialet). Kön = registerledarens kön.",
        f"{_CASE}: hushåll, personer och utbetalningar",
    ),
    "eb_mottagare": Definition(
        "Personer i hushåll med ekonomiskt bistånd (inkl. barn)",
        "Antal personer, barn inräknade, i hushåll med utbetalt bistånd under perioden.",
        f"{_CASE}: hushåll, personer och utbetalningar",
    ),
    "eb_andel_befolkning": Definition(
        "Andel av befolkningen med ekonomiskt bistånd",
        "Personer (inkl. barn) i hushåll med bistånd under perioden / invånare 31 december × 100 "
        "(Kolada N31807).",
        f"{_CASE}; befolkning från USK (tabellen population)",
    ),
    "eb_andel_barn": Definition(
        "Andel barn i familjer med ekonomiskt bistånd",
        "Barn 0–17 år i hushåll med bistånd under perioden / invånare 0–17 år × 100.",
        f"{_CASE}; befolkning från USK (tabellen population)",
    ),
    "eb_langvarigt_vuxna": Definition(
        "Andel vuxna med långvarigt ekonomiskt bistånd",
        "Vuxna (18+) med bistånd minst 10 av de senaste 12 månaderna / vuxna invånare × 100.",
        f"{_CASE}; befolkning från USK (tabellen population)",
    ),
    "eb_utbetalt_kr": Definition(
        "Utbetalt ekonomiskt bistånd (kr)",
        "Summa utbetalt bistånd för biståndsmånader i perioden, kronor. Kön = registerledarens kön.",
        f"{_CASE}: utbetalningar (tabellen payment)",
    ),
    "eb_kr_per_hushallsmanad": Definition(
        "Utbetalt belopp per hushållsmånad (kr)",
        "Utbetalt bistånd / antal hushållsmånader (hushåll × månader med utbetalning) i perioden.",
        f"{_CASE}: utbetalningar (tabellen payment)",
    ),
    "eb_hushall_typ": Definition(
        "Hushåll efter hushållstyp",
        "Hushåll med bistånd i perioden efter Socialstyrelsens hushållstyp (1, 3–9).",
        f"{_CASE}: hushåll (hushållstyp)",
    ),
    "eb_mottagare_typ": Definition(
        "Personer efter hushållstyp",
        "Personer (inkl. barn) i hushåll med bistånd i perioden efter hushållets typ.",
        f"{_CASE}: hushåll och personer",
    ),
    "eb_utbetalt_kr_manad": Definition(
        "Utbetalt per månad (kr)",
        "Utbetalt bistånd per biståndsmånad, periodens månader och samma månader föregående år.",
        f"{_CASE}: utbetalningar (tabellen payment)",
    ),
    "eb_hushall_manad": Definition(
        "Hushåll per månad",
        "Hushåll med utbetalt bistånd per biståndsmånad, periodens månader och föregående år.",
        f"{_CASE}: utbetalningar (tabellen payment)",
    ),
    "am_stockholmsjobb_aspiranter": Definition(
        "Aspiranter som fått Stockholmsjobb",
        "Antal personer som under perioden påbörjat ett Stockholmsjobb.",
        f"{_CASE}: insatser (tabellen intervention)",
    ),
    "am_praktik": Definition(
        "Praktiktillfällen inom stadens verksamheter",
        "Antal praktiktillfällen som påbörjats under perioden för aspiranter som Jobbtorg matchat.",
        f"{_CASE}: insatser (tabellen intervention)",
    ),
    "am_feriejobb_platser": Definition(
        "Platser för feriejobb",
        "Antal tillhandahållna feriejobbsplatser i perioden. Platser, inte personer: ej per kön.",
        "Platsregistret (tabellen job_place)",
    ),
    "am_stockholmsjobb_platser": Definition(
        "Platser för Stockholmsjobb",
        "Antal tillhandahållna platser för Stockholmsjobb i perioden. Platser: ej per kön.",
        "Platsregistret (tabellen job_place)",
    ),
    "ar_till_forsorjning": Definition(
        "Andel till egen försörjning efter AR-insats",
        "Personer med socialmedicinska rehabiliteringsskäl vars AR-insats avslutats i perioden med "
        "egen eller annan försörjning / alla avslutade AR-insatser × 100.",
        f"{_CASE}: insatser (tabellen intervention)",
    ),
    "am_unga_varken_arbetar_studerar": Definition(
        "Andel unga som varken arbetar eller studerar",
        "Inrapporterad andel (årsvärde).",
        _INPUT,
    ),
    "ja_avslag_andel": Definition(
        "Andel avslag",
        "Beslut med avslag / alla beslut i perioden × 100, ensamstående hushåll (typ 3–6).",
        _APPL,
    ),
    "ja_beviljat_kr_medel": Definition(
        "Beviljat belopp, medel (kr)",
        "Medelbelopp beviljat per beslut i perioden, ensamstående hushåll (typ 3–6).",
        _APPL,
    ),
    "ja_beviljat_andel_av_ansokt": Definition(
        "Beviljat belopp i procent av ansökt",
        "Summa beviljat / summa ansökt × 100, ensamstående hushåll (typ 3–6).",
        _APPL,
    ),
    "ja_handlaggningstid_median": Definition(
        "Handläggningstid, median (dagar)",
        "Median antal dagar från mottagen ansökan till beslut, ensamstående hushåll (typ 3–6).",
        _APPL,
    ),
    "ja_beviljat_kr_justerad_skillnad": Definition(
        "Justerad skillnad i beviljat belopp, kvinnor − män (kr)",
        "Skillnad i beviljat belopp mellan kvinnor och män med samma hushållstyp och ansökt belopp; "
        "konfidensintervall med seedad bootstrap.",
        _APPL,
    ),
    "pe_anstallda": Definition(
        "Anställda",
        "Antal anställda med anställning i periodens sista månad. Ålder vid periodens slut.",
        _STAFF,
    ),
    "pe_arsarbetare": Definition(
        "Årsarbetare",
        "Summa sysselsättningsgrad (årsarbetare) i periodens sista månad.",
        _STAFF,
    ),
    "pe_sjukfranvaro": Definition(
        "Sjukfrånvaro (%)",
        "Sjukfrånvarotimmar / ordinarie (schemalagd) arbetstid × 100, perioden hittills (SKR).",
        _STAFF,
    ),
    "pe_sjukfranvaro_dag_1_14": Definition(
        "Sjukfrånvaro dag 1–14 (%)",
        "Sjukfrånvarotimmar dag 1–14 / ordinarie arbetstid × 100.",
        _STAFF,
    ),
    "pe_langtidssjuk_andel": Definition(
        "Andel långtidssjukfrånvaro (60 dagar eller mer)",
        "Sjukfrånvarotimmar i sjukperioder på 60 dagar eller mer / all sjukfrånvaro × 100.",
        _STAFF,
    ),
    "styrningsindex": Definition("Styrningsindex", "Stadens styrningsindex (årsvärde).", _INPUT),
    "aktivt_medskapandeindex": Definition(
        "Aktivt Medskapandeindex", "Index ur stadens medarbetarenkät (årsvärde).", _INPUT
    ),
    "ledarskapsindex": Definition("Ledarskapsindex", "Index ur stadens medarbetarenkät (årsvärde).", _INPUT),
    "rekommendera_arbetsplats_andel": Definition(
        "Andel som kan rekommendera sin arbetsplats",
        "Andel medarbetare som kan rekommendera sin arbetsplats, medarbetarenkäten (årsvärde).",
        _INPUT,
    ),
    "elektroniska_inkop_andel": Definition(
        "Andel elektroniska inköp", "Elektroniska inköp / alla inköp × 100.", _INPUT
    ),
}

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


def definition(indicator_id: str) -> Definition | None:
    """The definition of an id, falling back to its family (``eb_hushall_typ_3`` → ``eb_hushall_typ``)."""
    if indicator_id in DEFINITIONS:
        return DEFINITIONS[indicator_id]
    for suffix in AGE_BANDS:
        if suffix and indicator_id.endswith(suffix):
            return DEFINITIONS.get(indicator_id.removesuffix(suffix))
    family = indicator_id.rsplit("_", 1)[0]
    return DEFINITIONS.get(family)
