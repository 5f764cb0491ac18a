"""Source contracts: what each file a service sends must hold, declared once.

Ingest reads the columns, keys and rules from here (a row that breaks a rule is quarantined),
the quality gate's Great Expectations suites (expectations/sources/) and dbt's source and
staging YAML are written from here (`bluelight sources --write`; a test fails when they
disagree). Raw tables keep every value as text, as it was sent; the load parses each accepted
row once, with the warehouse's `raw.parse_*` macros (flows/warehouse/schema.py), the same ones the
quarantine rules use, into the typed `accepted` tables dbt's staging reads. This module is data,
one declaration per source, and long for that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The warehouse macro that parses a raw text value of each type (NULL when it does not parse).
PARSERS = {
    "varchar": None,
    "integer": "raw.parse_integer",
    "double": "raw.parse_number",
    "date": "raw.parse_date",
    "timestamp": "raw.parse_timestamp",
    "boolean": "raw.parse_boolean",
}
# The warehouse type each parser gives: the column types of the `accepted` tables.
SQL_TYPES = {
    "varchar": "varchar",
    "integer": "bigint",
    "double": "double",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}
# What each type accepts, for the documentation.
TYPE_FORMATS = {
    "varchar": "text",
    "integer": "whole number",
    "double": "number (a thousands comma or a leading pound sign is accepted)",
    "date": "ISO 2016-04-01, UK 01/04/2016, or an Excel serial number",
    "timestamp": "ISO 2016-04-01 08:15:00, UK 01/04/2016 08:15(:00), or an Excel serial",
    "boolean": "true/false, yes/no, y/n, 1/0",
}

SERVICES = ("police", "fire", "ambulance")
# Project types of the Green Book supplementary guidance on optimism bias (seed
# optimism_bias_defaults holds each one's bounds).
PROJECT_TYPES = (
    "standard_buildings",
    "non_standard_buildings",
    "standard_civil_engineering",
    "non_standard_civil_engineering",
    "equipment_development",
    "outsourcing",
)
FINANCIAL_YEAR_PATTERN = r"\d{4}-\d{2}"
AGENCY_FORMATS = ("csv", "xlsx", "ods", "parquet")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = True
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None  # a regular expression the whole text must match

    def parsed(self, expression: str | None = None) -> str:
        """SQL for this column's value parsed to its type."""
        expression = expression or f'"{self.name}"'
        parser = PARSERS[self.type]
        return f"{parser}({expression})" if parser else expression

    @property
    def sql_type(self) -> str:
        """The warehouse type of this column's parsed value (its `accepted` table's column)."""
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class RowRule:
    """A rule across columns: rows where `violation` (SQL) holds are quarantined."""

    name: str
    column: str
    violation: str


@dataclass(frozen=True)
class Lookup:
    """Values of `column` must appear in `other_column` of another source's accepted rows."""

    column: str
    source: str
    other_column: str


@dataclass(frozen=True)
class Cadence:
    """How often a source sends something new, and how long after that it is late."""

    name: str
    every_days: int | None  # None: only when something changes, so never late once loaded
    grace_days: int = 0

    def describe(self) -> str:
        if self.every_days is None:
            return self.name
        days = "day" if self.every_days == 1 else f"{self.every_days} days"
        grace = "1 day" if self.grace_days == 1 else f"{self.grace_days} days"
        return f"{self.name} (every {days}; late {grace} after that)"


# Late means nothing new for a whole cadence plus its grace: a nightly extract is late after two
# nights without one (a file that comes in the morning is not an alarm); the others allow for a
# publisher's usual slippage.
NIGHTLY = Cadence("nightly", 1, 1)
MONTHLY = Cadence("monthly", 31, 10)
QUARTERLY = Cadence("quarterly", 92, 21)
HALF_YEARLY = Cadence("half-yearly", 183, 31)
ANNUAL = Cadence("annual", 366, 60)
ON_CHANGE = Cadence("on change", None)


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    formats: tuple[str, ...] = AGENCY_FORMATS
    row_rules: tuple[RowRule, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    kind: str = (
        "agency"  # agency extract, or "published" statistics read by flows/sources/published.py
    )
    publisher: str | None = None
    # Expected cadence (audit.source_freshness). Published statistics are optional: one never
    # loaded is listed, not warned about; an agency extract never loaded is a warning.
    cadence: Cadence = ON_CHANGE
    # One worked row, as text, for the template an agency fills in (`bluelight sources NAME
    # --template`). The agency sources' examples agree with each other (the incident's district
    # is the boundary file's, the benefit's bid is the bid's), so a set of templates loads cleanly.
    example: Mapping[str, str] = field(default_factory=dict)

    # What the marts do while an agency extract has never been sent, when they can do without it
    # (e.g. bids costed at their award until a cost profile arrives): such an extract is
    # optional, like published statistics.
    fallback: str | None = None

    @property
    def optional(self) -> bool:
        return self.kind == "published" or self.fallback is not None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


C = Column

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "boundaries",
            "District lookup: each district's police force area, fire and rescue authority and "
            "ambulance trust, with its population and whether it is rural.",
            (
                C("district_code", "varchar", "District code (ONS LAD code or local code)."),
                C("district_name", "varchar", "District name."),
                C("county", "varchar", "County the district lies in."),
                C("rural_urban", "varchar", "Rural or urban district.", allowed=("rural", "urban")),
                C("population", "integer", "Resident population.", min=0, max=2_000_000),
                C("police_force_code", "varchar", "Police force area code."),
                C("police_force_name", "varchar", "Police force area name."),
                C("fire_authority_code", "varchar", "Fire and rescue authority code."),
                C("fire_authority_name", "varchar", "Fire and rescue authority name."),
                C("ambulance_trust_code", "varchar", "Ambulance trust code."),
                C("ambulance_trust_name", "varchar", "Ambulance trust name."),
            ),
            key=("district_code",),
            cadence=ANNUAL,
            example={
                "district_code": "E06000022",
                "district_name": "Bath and North East Somerset",
                "county": "Somerset",
                "rural_urban": "urban",
                "population": "192000",
                "police_force_code": "E23000036",
                "police_force_name": "Avon and Somerset",
                "fire_authority_code": "E31000001",
                "fire_authority_name": "Avon",
                "ambulance_trust_code": "RYF",
                "ambulance_trust_name": "South Western Ambulance Service",
            },
        ),
        Source(
            "incidents",
            "One row per incident attended: when the call came, when a resource was mobilised, "
            "left (fire only) and first arrived.",
            (
                C("incident_id", "varchar", "The service's own incident reference."),
                C("service", "varchar", "Service that attended.", allowed=SERVICES),
                C(
                    "incident_category",
                    "varchar",
                    "Incident category in the service's scheme.",
                    allowed=(
                        "emergency",
                        "priority",
                        "primary_fire",
                        "secondary_fire",
                        "rtc",
                        "false_alarm",
                        "special_service",
                        "cardiac_arrest",
                        "C1",
                        "C2",
                        "C3",
                        "C4",
                    ),
                ),
                C("district_code", "varchar", "District of the incident."),
                C("call_time", "timestamp", "Time the 999 call was answered (local time)."),
                C("mobilised_time", "timestamp", "Time the first resource was assigned."),
                C(
                    "mobile_time",
                    "timestamp",
                    "Time the first fire appliance left (fire only).",
                    required=False,
                ),
                C("first_arrival_time", "timestamp", "Time the first resource arrived."),
            ),
            key=("service", "incident_id"),
            cadence=NIGHTLY,
            row_rules=(
                RowRule(
                    "first arrival before the call",
                    "first_arrival_time",
                    "raw.parse_timestamp(first_arrival_time) < raw.parse_timestamp(call_time)",
                ),
                RowRule(
                    "mobilised before the call",
                    "mobilised_time",
                    "raw.parse_timestamp(mobilised_time) < raw.parse_timestamp(call_time)",
                ),
                RowRule(
                    "response over 24 hours (absurd)",
                    "first_arrival_time",
                    "raw.parse_timestamp(first_arrival_time) "
                    "> raw.parse_timestamp(call_time) + interval 24 hour",
                ),
            ),
            lookups=(Lookup("district_code", "boundaries", "district_code"),),
            example={
                "incident_id": "AF-2016-000123",
                "service": "fire",
                "incident_category": "primary_fire",
                "district_code": "E06000022",
                "call_time": "2016-04-01 08:15:00",
                "mobilised_time": "2016-04-01 08:15:52",
                "mobile_time": "2016-04-01 08:17:05",
                "first_arrival_time": "2016-04-01 08:23:40",
            },
        ),
        Source(
            "staffing",
            "Staff in post per service, role and month: full-time equivalent and headcount.",
            (
                C("month", "date", "First day of the month the figures are for."),
                C("organisation", "varchar", "Employing organisation."),
                C("service", "varchar", "Service.", allowed=SERVICES),
                C("role", "varchar", "Role group."),
                C("fte", "double", "Full-time equivalent staff in post.", min=0, max=100_000),
                C("headcount", "integer", "People in post.", min=0, max=100_000),
                C("shared_post", "boolean", "Posts shared between services (e.g. tri-service)."),
            ),
            key=("organisation", "month", "role"),
            cadence=MONTHLY,
            example={
                "month": "2016-04-01",
                "organisation": "Avon Fire and Rescue Service",
                "service": "fire",
                "role": "Firefighter (wholetime)",
                "fte": "412.5",
                "headcount": "430",
                "shared_post": "no",
            },
        ),
        Source(
            "estates",
            "Estate return: one row per site and financial year, with running costs, co-location "
            "and disposal.",
            (
                C("site_id", "varchar", "Site reference."),
                C(
                    "financial_year",
                    "varchar",
                    "Financial year, e.g. 2016-17.",
                    pattern=FINANCIAL_YEAR_PATTERN,
                ),
                C("site_name", "varchar", "Site name."),
                C("organisation", "varchar", "Owning organisation."),
                C("service", "varchar", "Service the site belongs to.", allowed=SERVICES),
                C("district_code", "varchar", "District the site lies in."),
                C("tenure", "varchar", "Tenure.", allowed=("freehold", "leasehold")),
                C(
                    "floor_area_m2",
                    "double",
                    "Gross internal floor area, square metres.",
                    min=0,
                    max=200_000,
                ),
                C(
                    "running_cost_gbp",
                    "double",
                    "Running cost in the year (rent, rates, utilities, maintenance), pounds cash.",
                    min=0,
                    max=50_000_000,
                ),
                C(
                    "co_located_services",
                    "varchar",
                    "Other services sharing the site, separated by ';'.",
                    required=False,
                ),
                C("co_located_since", "date", "Date sharing began.", required=False),
                C("disposal_date", "date", "Date the site was sold or left.", required=False),
                C(
                    "capital_receipt_gbp",
                    "double",
                    "Capital receipt from the disposal, pounds cash.",
                    required=False,
                    min=0,
                    max=100_000_000,
                ),
                C(
                    "easting",
                    "integer",
                    "British National Grid easting (EPSG:27700).",
                    min=0,
                    max=700_000,
                ),
                C(
                    "northing",
                    "integer",
                    "British National Grid northing (EPSG:27700).",
                    min=0,
                    max=1_300_000,
                ),
            ),
            key=("site_id", "financial_year"),
            cadence=ANNUAL,
            lookups=(Lookup("district_code", "boundaries", "district_code"),),
            example={
                "site_id": "AF-017",
                "financial_year": "2016-17",
                "site_name": "Bath Fire Station",
                "organisation": "Avon Fire and Rescue Service",
                "service": "fire",
                "district_code": "E06000022",
                "tenure": "freehold",
                "floor_area_m2": "1850",
                "running_cost_gbp": "212000",
                "co_located_services": "police",
                "co_located_since": "2016-09-01",
                "disposal_date": "",
                "capital_receipt_gbp": "",
                "easting": "375300",
                "northing": "164900",
            },
        ),
        Source(
            "bids",
            "Police Innovation Fund bids: who bid, what was awarded, when the project went live.",
            (
                C("bid_id", "varchar", "Bid reference."),
                C("title", "varchar", "Project title."),
                C("fund_round", "varchar", "Fund round, e.g. PIF 2014/15."),
                C("lead_organisation", "varchar", "Lead bidder (usually the PCC)."),
                C("partners", "varchar", "Partner organisations, separated by ';'."),
                C("county", "varchar", "County the project serves."),
                C("award_gbp", "double", "Fund award, pounds cash.", min=0, max=10_000_000),
                C(
                    "partner_contribution_gbp",
                    "double",
                    "Partners' own contribution, pounds cash.",
                    min=0,
                    max=50_000_000,
                ),
                C("go_live_date", "date", "Date the collaboration went live."),
                # Optional, for the HM Treasury Green Book appraisal (fct_bid_value): a file
                # without these columns still loads, and the defaults below apply.
                C(
                    "project_type",
                    "varchar",
                    "Project type for optimism bias (Green Book supplementary guidance); without "
                    "it, costs not yet paid carry no optimism bias unless the bid gives its own.",
                    required=False,
                    allowed=PROJECT_TYPES,
                ),
                C(
                    "optimism_bias",
                    "double",
                    "Optimism bias the bid's own appraisal adds to its costs not yet paid, as a "
                    "share (0.24 = 24%); replaces the Green Book upper bound for the project type "
                    "as the headline figure.",
                    required=False,
                    min=0,
                    max=3,
                ),
                C(
                    "appraisal_years",
                    "integer",
                    "Years of benefits the appraisal counts from the go-live year (default: var "
                    "appraisal_years_default, 10).",
                    required=False,
                    min=1,
                    max=60,
                ),
            ),
            key=("bid_id",),
            cadence=ON_CHANGE,
            example={
                "bid_id": "PIF-2016-017",
                "title": "Police and fire sharing Bath Fire Station",
                "fund_round": "PIF 2016/17",
                "lead_organisation": "Avon and Somerset PCC",
                "partners": "Avon Fire and Rescue Service;Avon and Somerset Constabulary",
                "county": "Somerset",
                "award_gbp": "450000",
                "partner_contribution_gbp": "150000",
                "go_live_date": "2016-09-01",
                "project_type": "standard_buildings",
                "optimism_bias": "",
                "appraisal_years": "10",
            },
        ),
        Source(
            "bid_costs",
            "A bid's costs by the financial year they are paid in: capital and recurring, funded "
            "by the fund award or the partners, paid (actual) or still planned (HM Treasury Green "
            "Book). One row per bid, year, cost type and funder; a bid without one is costed at "
            "its award and partners' contribution in the go-live year.",
            (
                C("bid_id", "varchar", "Bid the cost belongs to."),
                C(
                    "financial_year",
                    "varchar",
                    "Financial year the cost is paid in, e.g. 2016-17.",
                    pattern=FINANCIAL_YEAR_PATTERN,
                ),
                C(
                    "cost_type",
                    "varchar",
                    "capital (one-off investment) or recurring (running costs year by year).",
                    allowed=("capital", "recurring"),
                ),
                C(
                    "funded_by",
                    "varchar",
                    "Who pays: the fund award or the partners.",
                    allowed=("award", "partner"),
                ),
                C(
                    "amount_gbp",
                    "double",
                    "Cost in the year, pounds cash (that year's prices).",
                    min=0,
                    max=50_000_000,
                ),
                C(
                    "status",
                    "varchar",
                    "actual (paid: outturn) or planned (not yet paid: carries optimism bias).",
                    allowed=("actual", "planned"),
                ),
                C("description", "varchar", "What the cost is for.", required=False),
            ),
            key=("bid_id", "financial_year", "cost_type", "funded_by"),
            cadence=ON_CHANGE,
            fallback="each bid is costed at its award and partners' contribution, paid in the "
            "go-live year (fct_bid_value.cost_basis says so)",
            lookups=(Lookup("bid_id", "bids", "bid_id"),),
            example={
                "bid_id": "PIF-2016-017",
                "financial_year": "2016-17",
                "cost_type": "capital",
                "funded_by": "award",
                "amount_gbp": "450000",
                "status": "actual",
                "description": "Conversion of Bath Fire Station for police use",
            },
        ),
        Source(
            "benefits_register",
            "Benefits register, one per bid: each benefit promised, its measure, baseline and "
            "target (HM Treasury Green Book practice).",
            (
                C("benefit_id", "varchar", "Benefit reference."),
                C("bid_id", "varchar", "Bid the benefit belongs to."),
                C("description", "varchar", "What the benefit is."),
                C(
                    "category",
                    "varchar",
                    "Benefit category.",
                    allowed=("cashable", "non_cashable", "non_financial", "dis_benefit"),
                ),
                C(
                    "recurrence",
                    "varchar",
                    "Recurring or one-off.",
                    allowed=("recurring", "one_off"),
                ),
                C(
                    "beneficiary",
                    "varchar",
                    "Organisation that benefits.",
                    allowed=("police", "fire", "ambulance", "local_authority"),
                ),
                C("owner", "varchar", "Named benefit owner."),
                C(
                    "measure",
                    "varchar",
                    "Measure the benefit is tracked by.",
                    allowed=(
                        "fire_call_handling_mean_seconds",
                        "cardiac_arrest_response_mean_minutes",
                        "police_estate_running_cost_gbp",
                        "capital_receipts_cumulative_gbp",
                    ),
                ),
                C("measure_county", "varchar", "County the measure is taken over."),
                C(
                    "measure_scope",
                    "varchar",
                    "Districts the measure covers.",
                    allowed=("all", "rural", "urban"),
                ),
                C("unit", "varchar", "Unit of the measure.", allowed=("seconds", "minutes", "gbp")),
                C(
                    "direction",
                    "varchar",
                    "Whether the benefit is a decrease or an increase.",
                    allowed=("decrease", "increase"),
                ),
                C("baseline_value", "double", "Value in the baseline period."),
                C(
                    "baseline_period",
                    "varchar",
                    "Baseline financial year.",
                    pattern=FINANCIAL_YEAR_PATTERN,
                ),
                C("target_value", "double", "Value promised by the target date."),
                C("target_date", "date", "Date the target is due."),
                C(
                    "attribution_share",
                    "double",
                    "Share of the measured change credited to this bid (0 to 1).",
                    min=0,
                    max=1,
                ),
                C(
                    "price_base_year",
                    "varchar",
                    "Price base of money values.",
                    pattern=FINANCIAL_YEAR_PATTERN,
                ),
                C("evidence_source", "varchar", "Where the evidence comes from."),
                C(
                    "confidence",
                    "varchar",
                    "Confidence in the estimate.",
                    allowed=("high", "medium", "low"),
                ),
            ),
            key=("benefit_id",),
            cadence=QUARTERLY,
            lookups=(Lookup("bid_id", "bids", "bid_id"),),
            example={
                "benefit_id": "PIF-2016-017-B1",
                "bid_id": "PIF-2016-017",
                "description": "Lower police estate running costs from sharing the fire station",
                "category": "cashable",
                "recurrence": "recurring",
                "beneficiary": "police",
                "owner": "Head of Estates, Avon and Somerset Constabulary",
                "measure": "police_estate_running_cost_gbp",
                "measure_county": "Somerset",
                "measure_scope": "all",
                "unit": "gbp",
                "direction": "decrease",
                "baseline_value": "1200000",
                "baseline_period": "2015-16",
                "target_value": "1100000",
                "target_date": "2019-03-31",
                "attribution_share": "1",
                "price_base_year": "2015-16",
                "evidence_source": "Annual estate return",
                "confidence": "medium",
            },
        ),
        Source(
            "finance",
            "Budget and outturn spend per organisation, financial year and expenditure line.",
            (
                C(
                    "financial_year",
                    "varchar",
                    "Financial year, e.g. 2016-17.",
                    pattern=FINANCIAL_YEAR_PATTERN,
                ),
                C("organisation", "varchar", "Organisation, named as in the boundary lookup."),
                C("service", "varchar", "Service.", allowed=SERVICES),
                C(
                    "line",
                    "varchar",
                    "Expenditure line.",
                    allowed=(
                        "employees",
                        "premises",
                        "transport",
                        "supplies_and_services",
                        "capital_financing",
                    ),
                ),
                C("budget_gbp", "double", "Budget, pounds cash.", min=0, max=5_000_000_000),
                C("spend_gbp", "double", "Outturn spend, pounds cash.", min=0, max=5_000_000_000),
            ),
            key=("organisation", "financial_year", "line"),
            cadence=ANNUAL,
            example={
                "financial_year": "2016-17",
                "organisation": "Avon Fire and Rescue Service",
                "service": "fire",
                "line": "premises",
                "budget_gbp": "3500000",
                "spend_gbp": "3420000",
            },
        ),
        # Published statistics, read by flows/sources/published.py as their publishers release them.
        Source(
            "police_workforce_tables",
            "Home Office, Police workforce, England and Wales: full-time equivalents by police "
            "force area at each as-at date, one release per file (tables found by content).",
            (
                C("table_name", "varchar", "Sheet of the release, e.g. Table_1."),
                C("worker_type", "varchar", "Who is counted, e.g. Police officers."),
                C("as_at_date", "date", "Date the figure is as at."),
                C("force_name", "varchar", "Police force area, as published."),
                C(
                    "fte",
                    "double",
                    "Full-time equivalents (headcount for special constables).",
                    min=0,
                    max=100_000,
                ),
            ),
            key=("table_name", "as_at_date", "force_name"),
            cadence=HALF_YEARLY,
            formats=("ods", "xlsx"),
            kind="published",
            publisher="Home Office",
        ),
        Source(
            "ambsys",
            "NHS England Ambulance Quality Indicators (AmbSYS): one value per month, organisation "
            "and indicator code (A8 C1 incidents, A25 C1 mean seconds, ...).",
            (
                C("period", "date", "First day of the month (from Year and Month)."),
                C("region", "varchar", "NHS region (name or code, as published)."),
                C(
                    "org_code",
                    "varchar",
                    "Organisation code: Eng, a region Y.. or a trust R..",
                    pattern=r"(?:Eng|Y\d{2}|R[A-Z0-9]{2})",
                ),
                C("org_name", "varchar", "Organisation name."),
                C(
                    "measure_code",
                    "varchar",
                    "AmbSYS indicator code, e.g. A25.",
                    pattern=r"A\d+",
                ),
                C(
                    "value",
                    "double",
                    "Value: a count, or a time in seconds; missing where published as '.'.",
                    required=False,
                    min=0,
                ),
            ),
            key=("period", "org_code", "measure_code"),
            # Mean and 90th centile response times (C1 A25/A26, C1T A28/A29, C2 A31/A32, C3
            # A34/A35, C4 A37/A38). The slowest in the published series are hours, never days.
            row_rules=(
                RowRule(
                    "response time over 48 hours (absurd)",
                    "value",
                    "measure_code in ('A25', 'A26', 'A28', 'A29', 'A31', 'A32', 'A34', 'A35', "
                    "'A37', 'A38') and raw.parse_number(value) > 172800",
                ),
            ),
            cadence=MONTHLY,
            formats=("csv",),
            kind="published",
            publisher="NHS England",
        ),
        Source(
            "ons_lad_pfa",
            "ONS lookup from local authority district to police force area (any vintage).",
            (
                C(
                    "district_code",
                    "varchar",
                    "District (LAD) code: E06, E07, E08, E09 or W06 and six digits.",
                    pattern=r"(?:E06|E07|E08|E09|W06)\d{6}",
                ),
                C("district_name", "varchar", "District name."),
                C(
                    "pfa_code",
                    "varchar",
                    "Police force area code: E23 or W15 and six digits.",
                    pattern=r"(?:E23|W15)\d{6}",
                ),
                C("pfa_name", "varchar", "Police force area name."),
                C("vintage", "varchar", "Boundary year of the lookup, e.g. 2016."),
            ),
            key=("vintage", "district_code"),
            cadence=ANNUAL,
            formats=("csv",),
            kind="published",
            publisher="Office for National Statistics",
        ),
        Source(
            "ons_lad_fra",
            "ONS lookup from local authority district to fire and rescue authority (any vintage).",
            (
                C(
                    "district_code",
                    "varchar",
                    "District (LAD) code: E06, E07, E08, E09 or W06 and six digits.",
                    pattern=r"(?:E06|E07|E08|E09|W06)\d{6}",
                ),
                C("district_name", "varchar", "District name."),
                C(
                    "fra_code",
                    "varchar",
                    "Fire and rescue authority code: E31 or W25 and six digits.",
                    pattern=r"(?:E31|W25)\d{6}",
                ),
                C("fra_name", "varchar", "Fire and rescue authority name."),
                C("vintage", "varchar", "Boundary year of the lookup, e.g. 2021."),
            ),
            key=("vintage", "district_code"),
            cadence=ANNUAL,
            formats=("csv",),
            kind="published",
            publisher="Office for National Statistics",
        ),
        Source(
            "fire_stations",
            "Home Office list of fire stations in England, with British National Grid coordinates.",
            (
                C("frs_name", "varchar", "Fire and rescue service."),
                C(
                    "frs_code",
                    "varchar",
                    "Code of the service's area: E31 and six digits, or E06000053 for the Isles "
                    "of Scilly (whose council is its fire authority).",
                    pattern=r"(?:E31\d{6}|E06000053)",
                ),
                C("station_name", "varchar", "Station name."),
                C(
                    "address",
                    "varchar",
                    "Address (a web address for some services).",
                    required=False,
                ),
                C("postcode", "varchar", "Postcode.", required=False),
                C(
                    "easting",
                    "double",
                    "British National Grid easting (EPSG:27700).",
                    required=False,
                    min=0,
                    max=700_000,
                ),
                C(
                    "northing",
                    "double",
                    "British National Grid northing (EPSG:27700).",
                    required=False,
                    min=0,
                    max=1_300_000,
                ),
            ),
            key=("frs_code", "station_name"),
            cadence=ANNUAL,
            formats=("csv", "xlsx", "ods"),
            kind="published",
            publisher="Home Office",
        ),
        Source(
            "fire1001",
            "Home Office FIRE1001: response times to fires by fire and rescue authority, financial "
            "year and fire type, in minutes (read from minutes or time-of-day values).",
            (
                C(
                    "financial_year",
                    "varchar",
                    "Financial year as published, e.g. 2015/16.",
                    pattern=r"\d{4}[/-]\d{2}",
                ),
                C("frs_name", "varchar", "Fire and rescue authority."),
                C(
                    "frs_code",
                    "varchar",
                    "Authority code: E31 and six digits, or E06000053 for the Isles of Scilly.",
                    pattern=r"(?:E31\d{6}|E06000053)",
                ),
                C("fire_type", "varchar", "Type of fire, e.g. Primary fires."),
                C("incidents", "integer", "Fires counted.", required=False, min=0),
                C(
                    "total_response_minutes",
                    "double",
                    "Mean minutes from call to first arrival.",
                    required=False,
                    min=0,
                    max=60,
                ),
                C(
                    "call_handling_minutes",
                    "double",
                    "Mean call handling minutes.",
                    required=False,
                    min=0,
                    max=60,
                ),
                C(
                    "crew_turnout_minutes",
                    "double",
                    "Mean crew turnout minutes.",
                    required=False,
                    min=0,
                    max=60,
                ),
                C("drive_minutes", "double", "Mean drive minutes.", required=False, min=0, max=60),
            ),
            key=("financial_year", "frs_code", "fire_type"),
            cadence=ANNUAL,
            formats=("csv", "xlsx", "ods"),
            kind="published",
            publisher="Home Office",
        ),
    )
}


def load_rank(source_name: str) -> int:
    """Sources a lookup points at load first (boundaries and bids before what refers to them)."""
    source = SOURCES.get(source_name)
    if source is None or not source.lookups:
        return 0
    return 1 + max(load_rank(lookup.source) for lookup in source.lookups)


def source_for_folder(folder: str) -> Source | None:
    """The source that owns an inbox folder (folders carry the source's name)."""
    return SOURCES.get(folder)
