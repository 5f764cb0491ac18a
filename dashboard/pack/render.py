"""An evidence pack as one standalone HTML document: the figures gathered (gather.py) put into
the template pack.html.j2 with Jinja2, numbers in the dashboard's formats (dashboard/ui.py),
charts inline as SVG (charts.py). Nothing in it depends on when it is made: the same bid from
the same version gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd

from dashboard import ui
from dashboard.bid import benefits, money, saving
from dashboard.pack import charts
from dashboard.pack.gather import Figures

TEMPLATE = "pack.html.j2"


def command(bid_id: str, version: str) -> str:
    """The command that rebuilds the pack."""
    return f"bluelight pack {bid_id} --version {version}"


def html(figures: Figures) -> str:
    """The pack of `figures` as an HTML document."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        pounds=ui.pounds,
        ratio=money.ratio,
        share=ui.share,
        status=ui.status_text,
        in_unit=ui.value_in_unit,
        signed=ui.signed_in_unit,
        words=lambda s: str(s).replace("_", " "),
        moment=lambda t: "" if t is None or pd.isna(t) else f"{t:%Y-%m-%d %H:%M:%S}",
        day=lambda d: "" if d is None or pd.isna(d) else f"{d:%d %B %Y}",
        yes_no=lambda b: "yes" if b else "no",
    )
    bid_id = figures.bid.name
    return environment.get_template(TEMPLATE).render(
        f=figures,
        bid_id=bid_id,
        name=ui.bid_name(bid_id, figures.bid.title),
        partners=figures.bid.partners.split(";"),
        money_note=money.not_monetised(figures.value) if figures.value is not None else "",
        sensitivity_chart=(
            charts.sensitivity(bid_id, figures.sensitivity) if not figures.sensitivity.empty else ""
        ),
        benefits=[benefit(row, figures) for row in figures.latest.itertuples()],
        checks_passed=figures.checks[figures.checks.success.fillna(False).astype(bool)],
        checks_not_passed=figures.checks[~figures.checks.success.fillna(False).astype(bool)],
        command=command(bid_id, figures.version),
    )


def benefit(row, figures: Figures) -> dict:
    """What the pack shows of one benefit: its latest complete year (row), the money steps, the
    profile and the attribution with their charts, other bids' shares and any year to date."""
    mine = figures.profile[figures.profile.benefit_id == row.benefit_id]
    att = (
        figures.attributions.loc[row.benefit_id]
        if row.benefit_id in figures.attributions.index
        else None
    )
    kinds = [saving.overview_column(r) for r in figures.latest.itertuples()]
    return {
        "row": row,
        "kind": f"{row.category.replace('_', '-').capitalize()}, "
        f"{row.recurrence.replace('_', '-')}",
        "steps": money_steps(row, kinds.count(saving.overview_column(row))),
        "effect": effect(row),
        "profile": mine,
        "profile_chart": charts.profile(row, mine) if not mine.empty else "",
        "attribution": att,
        "attribution_chart": (
            charts.attribution(row.benefit_id, att)
            if att is not None and benefits.attribution_drawn(att)
            else ""
        ),
        "areas": figures.comparison_areas.get(row.benefit_id, ""),
        "shared": figures.sharing[figures.sharing.benefit_id == row.benefit_id],
        "in_progress": figures.in_progress[figures.in_progress.benefit_id == row.benefit_id],
    }


def money_steps(row, parts: int) -> list[tuple[str, str]]:
    """A money benefit's steps from baseline to the bid's attributed saving (the Bid page's,
    dashboard/bid/saving.py), as (step, pounds); none for a benefit that is not money."""
    if not saving.is_money(row):
        return []
    counterfactual = row.improvement_basis == "counterfactual"
    unconfirmed = saving.confirmed(row).replace("**", "")
    overview = f"the Overview's realised, {saving.overview_column(row)}"
    if parts > 1:
        overview = f"one of {parts} parts of {overview}"
    gain = "Saving" if row.direction == "decrease" else "Money gained"
    return [
        (f"Baseline ({row.baseline_period}, the register's)", ui.pounds(row.baseline_value)),
        (
            f"Without the bid (counterfactual{unconfirmed})",
            ui.pounds(row.counterfactual_value) if counterfactual else "not estimated",
        ),
        ("Actual", ui.pounds(row.actual_value)),
        (gain, ui.pounds(row.improvement)),
        ("× this bid's attribution share", ui.share(row.attribution_share)),
        (f"= the bid's attributed saving: {overview}", ui.pounds(row.attributed_improvement)),
    ]


def effect(row) -> str:
    """The latest year's effect with its interval and method, or why there is none (the Bid
    page's words, dashboard/bid/benefits.py, without its links)."""
    return benefits.effect_text(row).split(" [Method](")[0].strip()
