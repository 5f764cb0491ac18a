"""Evidence packs as standalone HTML documents, and as PDF from that HTML (WeasyPrint): the
figures gathered (gather.py) put into templates with Jinja2, numbers in the dashboard's formats
(dashboard/ui.py), charts inline as SVG (charts.py). pack.html.j2 is one bid's pack,
portfolio.html.j2 the panel report across bids; both are made of the same parts (_bid.html.j2,
_contents.html.j2, _appendix.html.j2, _style.html.j2). Nothing in them depends on when they are
made: the same bids from the same version give the same bytes."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import jinja2
import pandas as pd

from dashboard import ui
from dashboard.bid import benefits, money, saving
from dashboard.pack import charts, gather
from dashboard.pack.gather import Figures, Portfolio

TEMPLATE = "pack.html.j2"
PORTFOLIO_TEMPLATE = "portfolio.html.j2"


def command(bid_id: str, version: str, within: tuple[str, ...] | None = None) -> str:
    """The command that rebuilds the pack (made within the organisations `within`, if any)."""
    return f"bluelight pack {bid_id} --version {version}{_within(within)}"


def portfolio_command(
    scope: str | None, version: str, within: tuple[str, ...] | None = None
) -> str:
    """The command that rebuilds the panel report."""
    county = f" --scope {shlex.quote(scope)}" if scope else ""
    return f"bluelight pack --portfolio{county} --version {version}{_within(within)}"


def _within(organisations: tuple[str, ...] | None) -> str:
    return f" --within {shlex.quote(','.join(organisations))}" if organisations is not None else ""


def html(figures: Figures) -> str:
    """The pack of `figures` as an HTML document."""
    bid = bid_context(figures, level=2, prefix="")
    context = {**bid, **appendix_context(figures, bid["command"]), "created": _created(figures)}
    return _environment().get_template(TEMPLATE).render(context)


def portfolio(report: Portfolio) -> str:
    """The panel report: the summary table, each bid's sections on pages of their own, and
    the quality checks and lineage once (they are the same for every bid of one version)."""
    first = report.bids[0]
    environment = _environment()
    environment.filters["bid_status"] = gather.status_text
    return environment.get_template(PORTFOLIO_TEMPLATE).render(
        report=report,
        f=first,
        bids=[bid_context(f, level=3, prefix=f"{f.bid.name}-") for f in report.bids],
        **appendix_context(first, portfolio_command(report.scope, first.version, first.within)),
        created=_created(first),
    )


def pdf(document: str) -> bytes:
    """An HTML pack (standalone: nothing to fetch) as a tagged PDF (PDF/UA-1), A4 with page
    numbers and a contents list with page numbers. The same HTML gives the same bytes: the
    dates are the version's (the pack's dcterms meta) and the file identifier is the HTML's
    hash."""
    import weasyprint

    identifier = hashlib.sha256(document.encode("utf-8")).hexdigest()[:32].encode("ascii")
    return weasyprint.HTML(string=document, url_fetcher=NoFetching()).write_pdf(
        pdf_variant="pdf/ua-1", pdf_identifier=identifier
    )


class NoFetching:
    """WeasyPrint's url_fetcher: a pack is standalone, so any request is an error that stops
    the PDF rather than a download."""

    _fail_on_errors = True

    def __call__(self, url: str):
        raise ValueError(f"the pack fetches nothing, not {url}")


def _environment() -> jinja2.Environment:
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
    return environment


def _created(figures: Figures) -> str:
    """The document's date: the day its version was published. A W3C date-time needs a time
    zone, which the run log's local times do not record."""
    return f"{figures.published_at:%Y-%m-%d}"


def bid_context(figures: Figures, level: int, prefix: str) -> dict:
    """What _bid.html.j2 and _contents.html.j2 show of one bid, its headings from `level`
    and its ids after `prefix`."""
    bid_id = figures.bid.name
    return {
        "f": figures,
        "h": level,
        "p": prefix,
        "bid_id": bid_id,
        "name": ui.bid_name(bid_id, figures.bid.title),
        "partners": figures.bid.partners.split(";"),
        "money_note": money.not_monetised(figures.value) if figures.value is not None else "",
        "sensitivity_chart": (
            charts.sensitivity(bid_id, figures.sensitivity) if not figures.sensitivity.empty else ""
        ),
        "benefits": [benefit(row, figures) for row in figures.latest.itertuples()],
        "command": command(bid_id, figures.version, figures.within),
    }


def appendix_context(figures: Figures, rebuild: str) -> dict:
    """What _appendix.html.j2 shows: the checks and the lineage of the figures' version."""
    passed = figures.checks.success.fillna(False).astype(bool)
    not_passed = figures.checks[~passed]
    return {
        "checks_passed": figures.checks[passed],
        # how many rows a check found unexpected: not shown within a reader's scope
        "checks_not_passed": not_passed.assign(
            unexpected=[
                "" if pd.isna(n) else f" ({int(n)} unexpected)" for n in not_passed.unexpected_count
            ]
        ),
        "command": rebuild,
    }


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
