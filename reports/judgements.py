"""The måluppfyllelse of each indicator and scope, judged once for the workbook and the e-mail.

Both read the run's published figures and its published comparison figures (the previous
year's same period and full year, which annual shares, seasonal counts and "minskar/ökar" goals
are judged with); :class:`Judgements` is the one place that turns them into an
:class:`etl.targets.Assessment`, so the e-mail can never say something the workbook does not.
Suppressed figures are never used: the judgement sees what a reader of the workbook sees.
"""

from __future__ import annotations

import weakref

import pandas as pd

from etl import targets
from etl.periods import Period
from etl.settings import Entry, settings
from etl.statistics import comparison
from reports.model import Figures, ReportContext, figures_by_period

_BY_CONTEXT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Judgements:
    """Judgements for one run: its period, published figures and comparison figures."""

    def __init__(
        self,
        published: pd.DataFrame | Figures,
        earlier: pd.DataFrame | dict[str, Figures] | None,
        period: Period,
        suppressed_symbol: str | None = None,
    ) -> None:
        symbol = suppressed_symbol or settings().pipeline.disclosure.suppressed_symbol
        self.period = period
        self.plan = settings().plan(period.year)
        self.figures = published if isinstance(published, Figures) else Figures(published, symbol)
        self._earlier = earlier if isinstance(earlier, dict) else figures_by_period(earlier, symbol)

    @classmethod
    def of(cls, ctx: ReportContext) -> Judgements:
        """The context's judgements (made once per context, from its indexed figures)."""
        found = _BY_CONTEXT.get(ctx)
        if found is None:
            found = cls(ctx.figures, ctx.comparison_figures, ctx.period, ctx.suppressed_symbol)
            _BY_CONTEXT[ctx] = found
        return found

    def history(self, entry: Entry, scope: str) -> targets.History:
        """Last year's same period and full year (None where not computed or not shown)."""
        periods = comparison.comparison_periods(self.period)

        def number(role: str) -> float | None:
            figures = self._earlier.get(str(periods[role]))
            if figures is None or not figures.has(entry.id):
                return None
            return figures.get(entry.id, scope, "T").number

        return targets.History(same_period=number("previous_year"), full_year=number("previous_full_year"))

    def assess(self, entry: Entry, scope: str) -> targets.Assessment:
        """The judgement of ``entry`` for ``scope`` (the published total, year to date)."""
        value = self.figures.get(entry.id, scope, "T").number
        return targets.assess(
            entry, self.plan, value, self.period.months, scope, self.history(entry, scope)
        )
