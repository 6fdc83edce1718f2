"""A synthetic published table covering the whole catalogue, and report contexts for it.

Three districts, suppressed cells carrying sentinel values (that must never reach a cell) and NaN
cells; the golden figures are written by hand from the 2018 plan's targets (config/plans/2018.yml).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from etl.periods import Period
from reports.model import ReportContext

PERIOD = Period(2018, 1)  # T1: January–April, 4 months
DISTRICTS = {"KUN": "Kungsholmen", "NOR": "+Norrmalm", "OST": "Östermalm"}  # "+..." must stay text
SCOPES = ["ALL", "KUN", "NOR", "OST"]
SHEETS = [
    "Sammanfattning",
    "Ekonomiskt bistånd",
    "Jämställdhetsanalys",
    "Arbetsmarknad",
    "Personal",
    "Ekonomi",
    "Datakvalitet",
    "Om statistiken",
]
UNIT = "Försörjningsstödsenheten"
TYPES = [1, 3, 4, 5, 6, 7, 8, 9]
MONTHS = [f"{y}{m:02d}" for y in (2018, 2017) for m in range(1, 5)]
PE = [
    "pe_anstallda",
    "pe_arsarbetare",
    "pe_sjukfranvaro",
    "pe_sjukfranvaro_dag_1_14",
    "pe_langtidssjuk_andel",
]

# (ids, scopes, sexes, unit): the whole catalogue for 2018-T1.
CATALOGUE = [
    (["eb_mottagare", "eb_hushall"], SCOPES, "TKM", "antal"),
    (["eb_andel_befolkning", "eb_andel_barn", "eb_langvarigt_vuxna"], SCOPES, "TKM", "procent"),
    (["eb_utbetalt_kr", "eb_kr_per_hushallsmanad"], SCOPES, "TKM", "kr"),
    ([f"eb_{w}_typ_{n}" for w in ("hushall", "mottagare") for n in TYPES], SCOPES, "TKM", "antal"),
    ([f"eb_utbetalt_kr_manad_{m}" for m in MONTHS], SCOPES, "TKM", "kr"),
    ([f"eb_hushall_manad_{m}" for m in MONTHS], SCOPES, "TKM", "antal"),
    (["am_stockholmsjobb_aspiranter", "am_praktik"], SCOPES, "TKM", "antal"),
    (["ar_till_forsorjning"], SCOPES, "TKM", "procent"),
    (["am_feriejobb_platser", "am_stockholmsjobb_platser"], SCOPES, "T", "antal"),
    (
        ["aktivt_medskapandeindex", "styrningsindex"],
        ["ALL"],
        "T",
        "index",
    ),  # passthrough; ledarskapsindex absent
    (["elektroniska_inkop_andel"], ["ALL"], "T", "procent"),
    (["ja_avslag_andel", "ja_beviljat_andel_av_ansokt"], SCOPES, "TKM", "procent"),
    (["ja_beviljat_kr_medel"], SCOPES, "TKM", "kr"),
    (["ja_handlaggningstid_median"], SCOPES, "TKM", "dagar"),
    ([f"ja_beviljat_kr_justerad_skillnad{s}" for s in ("", "_ki_lag", "_ki_hog")], SCOPES, "T", "kr"),
    (["ja_sokande_antal", "ja_beslut_antal"], SCOPES, "TKM", "antal"),
    (
        [f"{b}{s}" for b in ("ja_avslag_andel", "ja_beviljat_andel_av_ansokt") for s in ("_ki_lag", "_ki_hog")],  # noqa: E501
        SCOPES,
        "TKM",
        "procent",
    ),
    (
        [
            f"{b}_skillnad{s}"
            for b in ("ja_avslag_andel", "ja_beviljat_andel_av_ansokt")
            for s in ("", "_ki_lag", "_ki_hog")
        ]
        + ["ja_justerad_utesluten_andel"],
        SCOPES,
        "T",
        "procent",
    ),
    (
        ["ja_beviljat_kr_skillnad"]
        + [f"ja_beviljat_kr_regression_skillnad{s}" for s in ("", "_ki_lag", "_ki_hog")],
        SCOPES,
        "T",
        "kr",
    ),
    (["ja_justerad_fa_hushall", "ja_justerad_flera_toppar"], SCOPES, "T", "antal"),
    (
        ["pe_anstallda"] + [f"pe_anstallda{a}" for a in ("_alder_29", "_alder_30_49", "_alder_50")],
        ["ALL"],
        "TKM",
        "antal",
    ),
    (
        ["pe_arsarbetare"] + [f"pe_arsarbetare{a}" for a in ("_alder_29", "_alder_30_49", "_alder_50")],
        ["ALL"],
        "TKM",
        "årsarbetare",
    ),
    (
        [f"{p}{a}" for p in PE[2:] for a in ("", "_alder_29", "_alder_30_49", "_alder_50")],
        ["ALL"],
        "TKM",
        "procent",
    ),
]

GOLDEN = {
    ("eb_andel_befolkning", "ALL", "T"): 0.3,  # target 0.4, lower is better → uppfyllt
    ("eb_langvarigt_vuxna", "ALL", "T"): 0.24,  # target 0.22; 0.24 − 0.22 = 0.02 ≤ 0.1 × 0.22 → delvis
    ("am_stockholmsjobb_aspiranter", "ALL", "T"): 5.0,  # 18 × 4/12 = 6; 6 − 5 = 1 > 0.6 → ej uppfyllt
    ("eb_andel_befolkning", "KUN", "T"): 0.35,  # KUN target 0.3; 0.05 > 0.03 → ej uppfyllt
    ("eb_utbetalt_kr", "ALL", "T"): 4_000_000.0,
    ("eb_utbetalt_kr", "OST", "T"): 1_500_000.0,  # the 2018 budget line is Östermalm's
    ("eb_hushall", "ALL", "T"): 1234.0,
    ("ja_beviljat_kr_justerad_skillnad", "ALL", "T"): -350.0,
    ("ja_beviljat_kr_justerad_skillnad_ki_lag", "ALL", "T"): -800.0,
    ("ja_beviljat_kr_justerad_skillnad_ki_hog", "ALL", "T"): 100.0,
}
SUPPRESSED = [
    ("eb_andel_barn", "ALL", "T"),  # target 0.5 exists → judged "ej mätt"
    ("eb_hushall", "NOR", "M"),
    ("eb_hushall", "NOR", "K"),
    ("eb_utbetalt_kr_manad_201802", "ALL", "T"),
    ("ja_beviljat_kr_justerad_skillnad", "KUN", "T"),
    ("am_stockholmsjobb_aspiranter", "OST", "K"),
    ("pe_sjukfranvaro_alder_29", "ALL", "K"),
]
SENTINELS = [9001.25 + 17 * i for i in range(len(SUPPRESSED))]
"""Values a suppressed row still carries here (the contract says NaN): none may reach a cell."""
NOTHING = [("eb_kr_per_hushallsmanad", "OST", "K"), ("ja_avslag_andel", "OST", "M")]

VALIDATION = [
    {
        "table": "household",
        "rows_read": 600,
        "rows_accepted": 598,
        "rows_quarantined": 2,
        "status": "varning",
        "critical": [],
        "warnings": ["household.x: 2 rader, t.ex. hh-SECRETKEY"],
        "failed_rules": {"=SUM(A1:A9)": 2},
        "rules": [
            {
                "rule": "=SUM(A1:A9)",
                "column": "district_code",
                "severity": "warning",
                "level": "rad",
                "rows": 2,
                "examples": ["hh-SECRETKEY"],
                "expectation": "x",
                "detail": "@cmd|' /C calc'!A0",
            }
        ],
    },
    {
        "table": "person",
        "rows_read": 1200,
        "rows_accepted": 1200,
        "rows_quarantined": 0,
        "status": "ok",
        "critical": [],
        "warnings": [],
        "failed_rules": {},
        "rules": [],
    },
]


def published_table(period: Period = PERIOD, shift: float = 0.0) -> pd.DataFrame:
    """Every catalogue id, scope and sex for ``period``, with GOLDEN, SUPPRESSED and NOTHING applied."""
    frames = [
        pd.MultiIndex.from_product([ids, scopes, list(sexes)], names=["indicator_id", "district_code", "sex"])
        .to_frame(index=False)
        .assign(unit=unit)
        for ids, scopes, sexes, unit in CATALOGUE
    ]
    df = pd.concat(frames, ignore_index=True)
    df["value"] = np.arange(len(df), dtype="float64") + 10.0 + shift
    df = df.set_index(["indicator_id", "district_code", "sex"]).sort_index()
    for key, v in GOLDEN.items():
        df.loc[key, "value"] = v
    df["suppressed"] = False
    for key, sentinel in zip(SUPPRESSED, SENTINELS, strict=True):
        df.loc[key, ["value", "suppressed"]] = [sentinel, True]
    for key in NOTHING:
        df.loc[key, "value"] = np.nan
    df = df.reset_index()
    df["period"] = str(period)
    df["published"] = df["value"].map(lambda v: f"{v:.10g}").where(df["value"].notna(), "–")
    df.loc[df["suppressed"], "published"] = ".."
    return df[["indicator_id", "period", "district_code", "sex", "value", "unit", "suppressed", "published"]]


def context(published: pd.DataFrame, scope: str = "ALL", **kw) -> ReportContext:
    """A report context for ``scope`` of T1 2018; ``kw`` overrides any field."""
    args = dict(
        published=published,
        period=PERIOD,
        scope=scope,
        unit_name=UNIT,
        district_names=DISTRICTS,
        validation=VALIDATION,
        run_id="scheduled__2018-05-16",
        code_version="abc123def456",
        source_rows={"household": 600, "person": 1200, "payment": 5400},
        data_docs_location="http://example.invalid/archive/2018/T1/v1/validation/data_docs/index.html",
        population_year=2017,
        disclosure_rule="Uppgifter som vilar på 1–4 personer visas inte (..).",
        staff_rule="Sjukfrånvaro redovisas inte för grupper med tio eller färre anställda (..).",
    )
    args.update(kw)
    return ReportContext(**args)


DEVELOPER_WORDS = re.compile(
    r"(manual|scheduled|backfill)__|config/|\.ya?ml\b|\bOCR\b|bootstrap|seedad|\b[a-z]+(?:_[a-z0-9]+)+\b"
)
"""Run ids, config paths, library words and snake_case identifiers: not for managers."""
