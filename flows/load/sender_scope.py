"""Whether a file sent through the Upload page stays within its sender's scope: an analyst
granted some organisations (flows/security/roles.py) may send agency rows of the areas those
organisations serve, and nothing else. A row naming another area's county, district,
organisation or bid is a problem with its row, column and value, and the file is not placed:
otherwise the next night would load it and an analyst could move another area's bid into their
own, or change its benefits. Published statistics, which every reader sees, are not an
analyst's to send.

The areas come from the published warehouse, as the dashboard's scope does: the counties the
organisations serve (marts.dim_organisations), their districts (marts.dim_areas), every
organisation serving them, and the bids of those counties (marts.dim_bids); on the lake, read
pinned to its newest published snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flows.load.stage import read_source_file
from flows.load.validate import Problem, Warehouse
from flows.settings import Settings
from flows.sources.contracts import SOURCES
from flows.warehouse import backend
from flows.warehouse.backend import LakeVersion

OUTSIDE = "outside the areas your organisations serve"
AREAS_SQL = {
    "counties": "select distinct county from marts.dim_organisations "
    "where list_contains(?, organisation_code)",
    "districts": "select district_code from marts.dim_areas where county in ({counties})",
    "organisations": "select distinct organisation_name from marts.dim_organisations "
    "where county in ({counties})",
    "bids": "select bid_id from marts.dim_bids where county in ({counties})",
    "every_bid": "select bid_id from marts.dim_bids",
}


@dataclass(frozen=True)
class Areas:
    counties: set[str]
    districts: set[str]
    organisations: set[str]
    bids: set[str]
    every_bid: set[str]

    def allowed(self, column: str) -> set[str] | None:
        """The values of `column` within the areas; None for a column not checked."""
        return {
            "county": self.counties,
            "measure_county": self.counties,
            "district_code": self.districts,
            "organisation": self.organisations,
        }.get(column)


def areas(
    published: Warehouse, organisations: frozenset[str], settings: Settings | None = None
) -> Areas:
    """The areas `organisations` serve, in the published warehouse (none without one): a
    warehouse file, or a published version of the lake (`settings` say where the lake is)."""
    if published is None or not isinstance(published, LakeVersion) and not published.exists():
        return Areas(set(), set(), set(), set(), set())
    counties = AREAS_SQL["counties"]
    with backend.open_version(settings or Settings.from_env(), published) as con:
        found = {}
        for name, sql in AREAS_SQL.items():
            params = [] if name == "every_bid" else [sorted(organisations)]
            rows = con.execute(sql.format(counties=counties), params).fetchall()
            found[name] = {row[0] for row in rows}
    return Areas(**found)


def problems(path: Path, source: str, name: str, within: Areas) -> list[Problem]:
    """Each row of the file at `path` (for `source`) outside `within`: its row, column, why and
    value; one problem for a published statistic."""
    if SOURCES[source].kind == "published":
        return [Problem(None, None, "published statistics are sent by whoever runs the machine")]
    frame = read_source_file(path, SOURCES[source], name)
    found = []
    for column in frame.columns:
        found += _outside(frame[column], column, within)
    return sorted(found, key=lambda p: (p.row or 0, p.column or ""))


def _outside(values: pd.Series, column: str, within: Areas) -> list[Problem]:
    """The rows whose `column` falls outside `within` (the header is row 1)."""
    text = values.astype("string").str.strip()
    allowed = within.allowed(column)
    if allowed is not None:
        bad = text.notna() & (text != "") & ~text.isin(allowed)
        rule = OUTSIDE
    elif column == "bid_id":  # a new bid is the sender's to add; another area's is not
        bad = text.isin(within.every_bid - within.bids)
        rule = "a bid of another area"
    else:
        return []
    return [Problem(int(i) + 2, column, rule, str(text[i])) for i in values.index[bad]]
