"""The gender analysis in plain Swedish, for the Jämställdhetsanalys sheet and the e-mail.

etl/statistics/gender*.py computes the figures; this module only words them for managers. The
definition of what the adjustment covers is the catalogue's one text (``definition()``).
"""

from __future__ import annotations

import math

from scipy import stats

from etl.settings import settings
from reports.swedish import format_number

DIFF_ID = "ja_beviljat_kr_justerad_skillnad"
FEW_HOUSEHOLDS = "skattningen vilar på mycket få hushåll"


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _level(confidence: float | None) -> str:
    if confidence is None:
        confidence = settings().pipeline.gender_analysis.confidence
    return format_number(confidence * 100, 0 if float(confidence * 100).is_integer() else 1)


def definition() -> str:
    """What the adjusted difference compares and adjusts for: the catalogue's definition."""
    return settings().catalogue.entry_for(DIFF_ID).definition


def verdict(
    diff: float | None, low: float | None, high: float | None, confidence: float | None = None
) -> str:
    """A plain-Swedish paragraph for managers on the adjusted difference and its interval."""
    if _missing(diff) or _missing(low) or _missing(high):
        return (
            "Den justerade jämförelsen av beviljade belopp mellan kvinnor och män kan inte visas för "
            "perioden: underlaget är för litet (för få ensamstående kvinnor eller män med beslut i "
            "jämförbara grupper) för att ge ett säkert resultat utan risk att enskilda kan pekas ut."
        )
    amount = round(abs(diff))
    if amount == 0:
        result = "fick ensamstående kvinnor och män i genomsnitt lika mycket per beviljat beslut"
    else:
        more = "mer" if diff > 0 else "mindre"
        result = (
            f"fick ensamstående kvinnor i genomsnitt {format_number(amount)} kr {more} "
            "per beviljat beslut än män"
        )
    text = (
        "Jämfört inom grupper med samma hushållssituation (med eller utan barn) och samma "
        f"försörjningshinder {result} ({_level(confidence)} % konfidensintervall: {format_number(low)} till "
        f"{format_number(high)} kr). "
    )
    if low <= 0 <= high:
        text += (
            "Skillnaden är inte statistiskt säkerställd: intervallet innehåller noll, så den kan bero "
            "på slumpen."
        )
    else:
        side = "under" if high < 0 else "över"
        text += (
            f"Skillnaden är statistiskt säkerställd: hela intervallet ligger {side} noll. "
            "Den bör följas upp i verksamhetens jämställdhetsarbete."
        )
    n = settings().pipeline.gender_analysis.min_households_per_sex
    return text + (
        f" Grupper med färre än {n} hushåll av något kön slås ihop eller lämnas utanför jämförelsen."
    )


def sign_flip(unadjusted: float | None, adjusted: float | None) -> str | None:
    """The composition effect in plain Swedish when the two differences have opposite signs."""
    if _missing(unadjusted) or _missing(adjusted) or round(unadjusted) == 0 or round(adjusted) == 0:
        return None
    if (unadjusted > 0) == (adjusted > 0):
        return None

    def word(x: float) -> str:
        return f"{format_number(round(abs(x)))} kr {'mer' if x > 0 else 'mindre'}"

    return (
        f"Utan justering fick kvinnor i genomsnitt {word(unadjusted)} än män per beviljat beslut, men "
        f"jämfört inom samma grupper fick de {word(adjusted)}. Det motsäger inte sig självt: kvinnor "
        "och män är olika fördelade över grupperna (till exempel är fler kvinnor ensamstående med barn, "
        "där beloppen är högre). Skillnaden utan justering speglar alltså vilka som söker "
        "(sammansättningseffekt), den justerade jämför kvinnor och män i samma situation."
    )


def robustness(fragile: float | None, multimodal: float | None, excluded: float | None) -> str:
    """Warnings on the estimate's footing: one household, several modes, decisions left out."""
    parts = []
    if not _missing(fragile) and fragile >= 1:
        parts.append(
            f"Observera: {FEW_HOUSEHOLDS}. Tas ett enda hushåll bort flyttas den justerade skillnaden "
            "mer än hälften av sitt värde eller byter tecken, så den ska inte läsas som ett säkert "
            "resultat."
        )
    if not _missing(multimodal) and multimodal >= 1:
        parts.append(
            "Intervallet är brett delvis för att en grupp i jämförelsen ofta saknar kvinnor eller män "
            "när hushållen dras om (omsamplingen har flera toppar)."
        )
    if not _missing(excluded) and round(excluded, 1) > 0:
        parts.append(
            f"{format_number(excluded, 1)} % av besluten ligger i grupper med för få hushåll av något "
            "kön och ingår inte i den justerade jämförelsen."
        )
    return " ".join(parts)


def limits(low: float | None, high: float | None, confidence: float | None = None) -> str:
    """What the analysis cannot show, with the smallest difference the data could detect."""
    text = (
        "Analysen kan inte visa om kvinnor och män har samma behov: behov, hyra, hushållets storlek "
        "och ansökt belopp är inte justerade för, och ett samband är inte ett orsakssamband."
    )
    if _missing(low) or _missing(high):
        return text
    if confidence is None:
        confidence = settings().pipeline.gender_analysis.confidence
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    detectable = (high - low) / (2 * z) * (z + stats.norm.ppf(0.8))
    return text + (
        f" Med så här många beslut kan en skillnad mindre än omkring {format_number(round(detectable))} kr "
        "inte upptäckas säkert (80 % styrka)."
    )


def peer(beta: float | None, low: float | None, high: float | None) -> str:
    """One sentence on the regression estimate beside the standardised difference."""
    if _missing(beta) or _missing(low) or _missing(high):
        return ""
    return (
        f"Som jämförelse ger en regression med samma slags grupper {format_number(round(beta))} kr "
        f"({format_number(low)} till {format_number(high)} kr). Den väger grupperna efter hur säkert de "
        "jämför kvinnor och män, inte efter antalet beslut, och kan därför skilja sig."
    )


def email_text(
    diff: float | None, low: float | None, high: float | None, fragile: float | None, symbol: str
) -> str:
    """The e-mail's value for the adjusted difference: never a bare point estimate."""
    if _missing(diff) or _missing(low) or _missing(high):
        return symbol
    sure = "inte statistiskt säkerställd" if low <= 0 <= high else "statistiskt säkerställd"
    text = (
        f"{format_number(round(diff))} kr ({_level(None)} % konfidensintervall {format_number(low)} "
        f"till {format_number(high)} kr; {sure})"
    )
    if not _missing(fragile) and fragile >= 1:
        text += f"; {FEW_HOUSEHOLDS}"
    return text
