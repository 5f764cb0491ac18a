"""What an evidence pack says about one bid, read from one warehouse file (the published one or
a kept version): the bid, its money, each benefit, the quality checks that passed on the data
behind them and every source file they came from. The figures come through the Bid page's
queries (dashboard/queries/), within the reader's scope (dashboard/warehouse.py); only the
costs by year, the marts' sources and the files loaded are asked for here. The panel report
(Portfolio) is every bid's figures in a county, or all, with a summary row of each compared with
an earlier kept version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from dashboard import queries, ui, warehouse
from dashboard.bid import money
from dashboard.queries import bid, data_health
from flows.security import roles

# The marts a pack's figures are read from: their sources are the pack's lineage, their suites
# its quality checks.
BID_MARTS = (
    "dim_bids",
    "dim_benefits",
    "fct_benefit_realisation",
    "fct_benefit_attribution",
    "fct_measure_attribution",
    "fct_bid_value",
    "fct_bid_sensitivity",
    "fct_bid_cash_flows",
)


class NoSuchBid(LookupError):
    """The bid is not in the warehouse (or not within the reader's scope)."""

    def __init__(self, bid_id: str, known: list[str]):
        super().__init__(bid_id)
        self.bid_id, self.known = bid_id, known


@dataclass(frozen=True)
class Figures:
    """Everything a pack shows, as the warehouse holds it."""

    bid: pd.Series  # marts.dim_bids' row
    version: str  # the run that published the file
    published_at: datetime
    value: pd.Series | None  # fct_bid_value's row; None before any benefit is measured
    sensitivity: pd.DataFrame
    costs: pd.DataFrame  # by financial year
    latest: pd.DataFrame  # each benefit's latest complete year
    profile: pd.DataFrame  # each benefit's complete years
    attributions: pd.DataFrame  # by benefit_id
    sharing: pd.DataFrame
    in_progress: pd.DataFrame
    comparison_areas: dict[str, str]
    discount_rate: float
    period: ui.Period
    checks: pd.DataFrame  # of the publishing run, on the marts and sources behind the figures
    sources: list[str]
    lineage: pd.DataFrame  # audit.loaded_files of those sources
    within: tuple[str, ...] | None  # the organisations of the reader's scope; None: everything


@dataclass(frozen=True)
class Portfolio:
    """What the panel report shows: each bid's figures and the summary table."""

    scope: str | None  # a county as dim_bids.county holds it; None for every bid
    bids: list[Figures]
    summary: pd.DataFrame  # summary()'s rows, with `changed` against the earlier version
    compared_with: str | None  # the run that published the earlier version, if any


def gather(bid_id: str, path: Path) -> Figures:
    """The figures of `bid_id` in the warehouse file at `path`; NoSuchBid if it holds none."""
    bids = queries.bids(None, path=path)
    if bid_id not in set(bids.bid_id):
        raise NoSuchBid(bid_id, sorted(bids.bid_id))
    run = warehouse.publishing_run(path=path).iloc[0]
    complete = _has(path, bid.REALISATION, "is_complete_period")
    years = queries.financial_years(path=path).financial_year.tolist()
    value = bid.bid_value(bid_id, path=path)
    sources = _sources(path)
    parameters = queries.method_parameters(path=path).set_index("parameter").value
    return Figures(
        bid=bids.set_index("bid_id").loc[bid_id],
        version=run.run_id,
        published_at=run.finished_at,
        value=None if value.empty else value.iloc[0],
        sensitivity=bid.bid_sensitivity(bid_id, path=path),
        costs=costs_by_year(bid_id, path=path),
        latest=bid.benefit_latest_rows(bid_id, complete, path=path),
        profile=_profile(bid_id, years, complete, path),
        attributions=bid.benefit_attribution(bid_id, path=path).set_index("benefit_id"),
        sharing=bid.benefit_sharing(bid_id, path=path),
        in_progress=bid.year_to_date_rows(bid_id, complete, path=path),
        comparison_areas=_comparison_areas(bid_id, path),
        discount_rate=float(parameters["discount_rate"]),
        period=ui.Period(years[0], years[-1]),
        checks=_checks(run.run_id, sources, path),
        sources=sources,
        lineage=loaded_files(tuple(sources), path=path),
        within=within_scope(),
    )


def within_scope() -> tuple[str, ...] | None:
    """The organisations the figures are read within (dashboard/warehouse.py), or None when the
    whole warehouse is: a pack made within a reader's scope says so, and its lineage lists only
    the files that scope reaches."""
    scope = warehouse.scope()
    return None if scope == roles.EVERYTHING else tuple(sorted(scope.organisations or ()))


def _has(path: Path, mart: str, column: str) -> bool:
    """Whether the mart has the column (queries.has_column, on the file at `path`)."""
    return column in queries.mart_columns(mart, path=path).columns


def _profile(bid_id: str, years: list[str], complete: bool, path: Path) -> pd.DataFrame:
    """Every complete year of each benefit: the Bid page's profile over all the years."""
    period = ui.Period(years[0], years[-1])
    return bid.benefit_profile_rows(bid_id, period.start, period.end, complete, path=path)


def _comparison_areas(bid_id: str, path: Path) -> dict[str, str]:
    if queries.tables_present("intermediate", ("int_benefit_units",), path=path).empty:
        return {}
    rows = bid.comparison_area_rows(bid_id, path=path)
    return dict(rows.itertuples(index=False, name=None))


def _sources(path: Path) -> list[str]:
    """The sources the bid's marts are built from (audit.mart_readiness)."""
    readiness = queries.readiness_recorded(path=path)
    behind = readiness[readiness.mart.isin(BID_MARTS)].sources
    return sorted({s for sources in behind for s in sources})


def _checks(run_id: str, sources: list[str], path: Path) -> pd.DataFrame:
    """The publishing run's checks on the bid's marts and their sources."""
    results = data_health.quality_results(run_id, path=path)
    suites = {f"mart.{m}" for m in BID_MARTS} | {f"source.{s}" for s in sources}
    about = results.suite.map(lambda s: ".".join(s.split(".")[:2]) in suites).astype(bool)
    return results[about].sort_values(["suite", "expectation", "column_name"], na_position="first")


@warehouse.query
def costs_by_year(bid_id: str):
    """A bid's costs in each year that has any: cash as sent, the award's part, and in real
    terms with optimism bias on what is not yet paid (fct_bid_cash_flows)."""
    return (
        """
        select financial_year, capital_cost_cash_gbp, recurring_cost_cash_gbp,
               award_funded_cash_gbp, planned_cost_real_gbp, cost_real_gbp
        from marts.fct_bid_cash_flows
        where bid_id = ? and capital_cost_cash_gbp + recurring_cost_cash_gbp > 0
        order by financial_year
    """,
        [bid_id],
    )


@warehouse.query
def loaded_files(sources: tuple[str, ...]):
    """Every file loaded from these sources, in the order loaded."""
    return (
        """
        select source, original_name, sha256, rows, rows_quarantined, run_id, loaded_at, as_of,
               status
        from audit.loaded_files
        where list_contains(?, source)
        order by source, load_id
    """,
        [list(sources)],
    )


def gather_portfolio(scope: str | None, path: Path, earlier: Path | None) -> Portfolio:
    """Every bid in `scope` (a county; None for all) in the warehouse file at `path`, and what
    changed in each since the kept version at `earlier`; NoSuchBid if the scope holds none."""
    rows = summary(scope, path=path)
    if rows.empty:
        counties = sorted(set(queries.bids(None, path=path).county))
        raise NoSuchBid(scope or "", counties)
    before = summary(scope, path=earlier) if earlier is not None else None
    rows = rows.assign(changed=[changes(row, before) for row in rows.itertuples()])
    return Portfolio(
        scope=scope,
        bids=[gather(bid_id, path) for bid_id in rows.bid_id],
        summary=rows,
        compared_with=(warehouse.publishing_run(path=earlier).iloc[0].run_id if earlier else None),
    )


def changes(row, before: pd.DataFrame | None) -> str:
    """What changed in a bid's summary row since the earlier version's, in words."""
    if before is None:
        return "no earlier version to compare with"
    then = before[before.bid_id == row.bid_id]
    if then.empty:
        return "new since the earlier version"
    then = then.iloc[0]
    said = [
        f"{label} {show(then[column])} to {show(getattr(row, column))}"
        for label, column, show in (
            ("award", "award_gbp", ui.pounds),
            ("NPV", "npv_gbp", ui.pounds),
            ("BCR", "benefit_cost_ratio", money.ratio),
            ("status", "status", status_text),
        )
        if show(then[column]) != show(getattr(row, column))
    ]
    return "; ".join(said) if said else "no change"


@warehouse.query
def summary(scope: str | None):
    """The panel report's table: each bid in a county (or all) with its award, value to date
    and status (fct_bid_overview: the worst of its benefits' latest complete years)."""
    return (
        """
        select b.bid_id, b.title, b.county, b.award_gbp, o.npv_gbp, o.benefit_cost_ratio,
               o.status
        from marts.dim_bids as b
        left join marts.fct_bid_overview as o on o.bid_id = b.bid_id
        where ?::varchar is null or b.county = ?
        order by b.go_live_date, b.bid_id
    """,
        [scope, scope],
    )


def status_text(status: str | None) -> str:
    """A bid's status as a mark and words; a bid with no benefits has none (fct_bid_overview)."""
    return (
        "no benefits in the register"
        if status is None or pd.isna(status)
        else ui.status_text(status)
    )
