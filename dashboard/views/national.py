"""National picture: the published national statistics, which need no bid or agency extract.
Pick a police force, an ambulance trust or a fire and rescue service and see it beside the others
and beside the England and Wales median: police workforce by force and as-at date, ambulance
response by trust and month (AmbSYS) against the response standards, fire stations by service
on a map, and how far police force areas and fire and rescue authorities share their districts.
Medians and shares are the marts'; the page only draws them."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import ui

POLICE = ("fct_police_workforce",)
AMBULANCE = ("fct_ambulance_response_monthly",)
FIRE = ("dim_fire_stations",)
COTERMINOSITY = ("fct_area_coterminosity",)

# The workforce tables publish full-time equivalents, except special constables: a headcount.
HEADCOUNT = {"Special constables"}
# NHS England's Ambulance Response Programme standards (since 2017), in minutes: C1 and C2
# have a mean and a 90th centile standard, C3 and C4 a 90th centile standard only.
STANDARDS = {
    "C1": {"mean": 7, "p90": 15},
    "C2": {"mean": 18, "p90": 40},
    "C3": {"p90": 120},
    "C4": {"p90": 180},
}
CATEGORIES = {
    "C1": "C1: life-threatening",
    "C2": "C2: emergency",
    "C3": "C3: urgent",
    "C4": "C4: less urgent",
}
STATISTICS = {"mean": "Mean", "p90": "90th centile"}
AREA_TYPES = {
    "police_force_area": "Police force area",
    "fire_authority": "Fire and rescue authority",
}
PARTNER_KIND = {
    "police_force_area": "fire and rescue authority",
    "fire_authority": "police force area",
}
# The same on every chart: the chosen organisation in its service's colour, the others grey,
# a median black and dashed, a response standard orange and dotted.
OTHERS = ui.OKABE_ITO["grey"]
MEDIAN, MEDIAN_DASH = ui.OKABE_ITO["black"], [5, 3]
STANDARD, STANDARD_DASH = ui.OKABE_ITO["orange"], [2, 2]
STANDARD_TEXT = "#8A5A00"  # the orange, darkened so small text on white stays legible


def trust_label(name: str) -> str:
    """AmbSYS names trusts in capitals: 'LONDON AMBULANCE SERVICE NHS TRUST'."""
    words = name.title().replace("Nhs", "NHS").split()
    return " ".join(w.lower() if w in ("Of", "And") and i else w for i, w in enumerate(words))


def short_trust(label: str) -> str:
    """A trust's name without 'NHS Trust' and the like, for a chart's axis."""
    for ending in (" University NHS Foundation Trust", " NHS Foundation Trust", " NHS Trust"):
        label = label.removesuffix(ending)
    return label


def ranked_bars(
    frame: pd.DataFrame,
    label: str,
    value: str,
    title: str,
    colour: str,
    rule: float | None = None,
    rule_label: str = "",
    value_format: str = ",.0f",
    standard: bool = False,
) -> alt.LayerChart | alt.Chart:
    """One bar per organisation, largest first, the chosen one (`chosen` column) in `colour`
    and the rest grey; a rule at `rule`, named by `rule_label`: a median (black, dashed) or a
    `standard` (orange, dotted), as on the trend charts. The value axis starts at zero."""
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(
                f"{label}:N",
                sort="-x",
                title=None,
                axis=alt.Axis(labelLimit=260, labelOverlap=False),
            ),
            x=alt.X(f"{value}:Q", title=title, scale=alt.Scale(zero=True)),
            color=alt.Color(
                "chosen:N",
                scale=alt.Scale(domain=[True, False], range=[colour, OTHERS]),
                legend=None,
            ),
            tooltip=[label, alt.Tooltip(f"{value}:Q", format=value_format, title=title)],
        )
    )
    chart = bars
    if rule is not None and pd.notna(rule):
        marker = pd.DataFrame({"value": [rule], "label": [rule_label]})
        line = (
            alt.Chart(marker)
            .mark_rule(
                color=STANDARD if standard else MEDIAN,
                strokeDash=STANDARD_DASH if standard else MEDIAN_DASH,
                strokeWidth=2 if standard else 1.5,
            )
            .encode(x="value:Q")
        )
        text = (
            alt.Chart(marker)
            .mark_text(
                align="left",
                dx=4,
                dy=-4,
                baseline="bottom",
                color=STANDARD_TEXT if standard else MEDIAN,
                fontSize=11,
            )
            .encode(x="value:Q", y=alt.value(0), text="label:N")
        )
        chart = bars + line + text
    return chart.properties(height=20 * len(frame) + 30)


# ---------------------------------------------------------------- police workforce


def police() -> None:
    st.header("Police workforce")
    if not ui.has_rows(POLICE):
        ui.empty_state(POLICE, "No police workforce tables loaded yet.")
        return
    left, right = st.columns(2)
    worker = ui.pick(
        "police_worker_type",
        "Who is counted",
        ui.load("police_worker_types"),
        default="Police officers",
        draw=right.selectbox,
    )
    workforce = ui.load("police_workforce", worker)
    force = ui.pick(
        "police_force", "Police force", sorted(workforce.force_name.unique()), draw=left.selectbox
    )
    unit = "headcount" if worker in HEADCOUNT else "FTE"
    number = "{:,.0f}" if unit == "headcount" else "{:,.2f}"  # as the tables publish them
    change = "{:+,.0f}" if unit == "headcount" else "{:+,.2f}"
    mine = workforce[workforce.force_name == force].sort_values("as_at_date")
    latest = workforce.as_at_date.max()
    now = workforce[workforce.as_at_date == latest].dropna(subset=["fte"])
    figure = mine[mine.as_at_date == latest].fte
    median = now.median_fte_england_wales.dropna()

    a, b, c = st.columns(3)
    if figure.empty or pd.isna(figure.iloc[0]):
        a.metric(f"{force}, {latest:%d %b %Y}", "not published")
    else:
        before = mine[mine.as_at_date < latest].dropna(subset=["fte"])
        a.metric(
            f"{force}, {latest:%d %b %Y}",
            f"{number.format(figure.iloc[0])} {unit}",
            delta=(
                change.format(figure.iloc[0] - before.fte.iloc[-1])
                + f" since {before.as_at_date.iloc[-1]:%d %b %Y}"
                if not before.empty
                else None
            ),
            delta_color="off",
        )
        rank = int((now.fte > figure.iloc[0]).sum()) + 1
        c.metric(
            f"Rank, {latest:%d %b %Y}",
            f"{rank} of {len(now)}",
            help=f"Among the forces of England and Wales by {worker.lower()}; 1 is the largest.",
        )
    b.metric(
        f"England and Wales median, {latest:%d %b %Y}",
        f"{number.format(median.iloc[0])} {unit}" if not median.empty else "n/a",
        help="The middle force of the 43 in England and Wales.",
    )

    st.subheader(f"{force} against the median")
    trend = mine[["as_at_date", "fte", "median_fte_england_wales", "table_name", "release"]]
    series = pd.concat(
        [
            pd.DataFrame({"as_at_date": trend.as_at_date, "series": force, "value": trend.fte}),
            pd.DataFrame(
                {
                    "as_at_date": trend.as_at_date,
                    "series": "England and Wales median",
                    "value": trend.median_fte_england_wales,
                }
            ),
        ]
    ).dropna(subset=["value"])
    dates = sorted(pd.to_datetime(series.as_at_date).unique())
    lines = (
        alt.Chart(series)
        .mark_line(point=alt.OverlayMarkDef(size=60))
        .encode(
            x=alt.X(
                "as_at_date:T",
                title="As at",
                axis=alt.Axis(
                    values=[alt.DateTime(year=d.year, month=d.month, date=d.day) for d in dates],
                    format="%d %b %Y",
                    labelAngle=0,
                ),
            ),
            y=alt.Y("value:Q", title=f"{worker} ({unit})", scale=alt.Scale(zero=True)),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(
                    domain=[force, "England and Wales median"],
                    range=[ui.SERVICE_COLOURS["police"], MEDIAN],
                ),
                title=None,
                legend=alt.Legend(orient="bottom", symbolType="stroke"),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(
                    domain=[force, "England and Wales median"], range=[[1, 0], MEDIAN_DASH]
                ),
                legend=None,
            ),
            tooltip=[
                "series",
                alt.Tooltip("as_at_date:T", format="%d %b %Y", title="as at"),
                alt.Tooltip("value:Q", format=",.2f", title=unit),
            ],
        )
        .properties(height=330)  # the whole chart: axis and legend take 110 px
    )
    ui.chart(lines, trend, "police_workforce_trend")

    st.subheader(f"Every force, {latest:%d %B %Y}")
    ranking = now[["force_name", "fte", "median_fte_england_wales", "table_name", "release"]]
    ranking = ranking.assign(chosen=ranking.force_name == force)
    ui.chart(
        ranked_bars(
            ranking,
            "force_name",
            "fte",
            f"{worker} ({unit})",
            ui.SERVICE_COLOURS["police"],
            rule=median.iloc[0] if not median.empty else None,
            rule_label="median",
        ),
        ranking,
        "police_workforce_forces",
    )
    releases = "; ".join(sorted(set(workforce.table_name + " of " + workforce.release)))
    measure = "headcount, as the table publishes it" if unit == "headcount" else "FTE"
    st.caption(
        f"Home Office, Police workforce, England and Wales ({releases}): {worker.lower()}, "
        f"{measure}. The latest release of each figure; the median is the middle of the 43 "
        "forces at each date."
    )


# ---------------------------------------------------------------- ambulance response


def standard_text(category: str) -> str:
    parts = [f"{STATISTICS[s].lower()} {m} min" for s, m in STANDARDS[category].items()]
    return f"{category} standard: " + " and ".join(parts)


def ambulance() -> None:
    st.header("Ambulance response")
    if not ui.has_rows(AMBULANCE):
        ui.empty_state(AMBULANCE, "No AmbSYS ambulance response figures loaded yet.")
        return
    trusts = ui.load("ambulance_trusts")
    names = {
        code: trust_label(n) for code, n in zip(trusts.trust_code, trusts.trust_name, strict=True)
    }
    left, right = st.columns(2)
    trust = ui.pick(
        "ambulance_trust",
        "Ambulance trust",
        list(names),
        draw=left.selectbox,
        format_func=lambda c: f"{names.get(c, c)} ({c})",
    )
    category = ui.pick(
        "ambulance_category",
        "Category",
        list(CATEGORIES),
        draw=right.selectbox,
        format_func=CATEGORIES.get,
    )
    name = names[trust]
    response = ui.load("ambulance_response", category)
    mine = response[response.trust_code == trust].sort_values("month")
    published = mine.dropna(subset=["mean_response_minutes", "p90_response_minutes"], how="all")
    if published.empty:
        st.info(f"AmbSYS publishes no {category} response times for {name}.")
        return
    last = published.iloc[-1]
    a, b, c = st.columns(3)
    for column, statistic in zip((a, b), STATISTICS, strict=True):
        value = last[f"{statistic}_response_minutes"]
        median = last[f"england_median_{statistic}_minutes"]
        standard = STANDARDS[category].get(statistic)
        gap = None if pd.isna(value) or pd.isna(median) else round(value - median, 1)
        column.metric(
            f"{category} {STATISTICS[statistic].lower()}, {last.month:%b %Y}",
            "n/a" if pd.isna(value) else f"{value:.1f} min",
            delta=(
                None
                if gap is None
                else f"{gap:+.1f} min against the England median ({median:.1f})"
                if gap
                else f"the England median ({median:.1f})"
            ),
            delta_color="inverse" if gap else "off",  # slower than the median shows red
            delta_arrow="auto" if gap else "off",
            help=f"Standard: {standard} min." if standard else "No standard for this statistic.",
        )
    c.metric(
        f"{category} incidents, {last.month:%b %Y}",
        "n/a" if pd.isna(last.incidents) else f"{int(last.incidents):,}",
    )
    st.markdown(
        f"**{standard_text(category)}.** "
        + "Each chart marks the standard that applies to it (dotted)."
    )

    st.subheader(f"{name} against the England median")
    columns = st.columns(2)
    for column, statistic in zip(columns, STATISTICS, strict=True):
        own = mine[["month", f"{statistic}_response_minutes"]].rename(
            columns={f"{statistic}_response_minutes": "minutes"}
        )
        england = mine[["month", f"england_median_{statistic}_minutes"]].rename(
            columns={f"england_median_{statistic}_minutes": "minutes"}
        )
        series = pd.concat(
            [own.assign(series=name), england.assign(series="England median")]
        ).dropna(subset=["minutes"])
        standard = STANDARDS[category].get(statistic)
        # The standard is a series of its own, so the legend names it beside the two lines.
        marked = {name: ui.SERVICE_COLOURS["ambulance"], "England median": MEDIAN}
        dashes = [[1, 0], MEDIAN_DASH]
        if standard is not None:
            marked[f"standard, {standard} min"] = STANDARD
            dashes.append(STANDARD_DASH)
        colour = alt.Color(
            "series:N",
            scale=alt.Scale(domain=list(marked), range=list(marked.values())),
            title=None,
            legend=alt.Legend(
                orient="bottom", direction="vertical", symbolType="stroke", labelLimit=400
            ),
        )
        dash = alt.StrokeDash(
            "series:N", scale=alt.Scale(domain=list(marked), range=dashes), legend=None
        )
        chart = (
            alt.Chart(series)
            .mark_line(strokeWidth=2)
            .encode(
                x=ui.month_axis(series.month),
                y=alt.Y(
                    "minutes:Q",
                    title=f"{STATISTICS[statistic]} response (minutes)",
                    scale=alt.Scale(zero=True),
                ),
                color=colour,
                strokeDash=dash,
                tooltip=[
                    "series",
                    alt.Tooltip("month:T", format="%b %Y"),
                    alt.Tooltip("minutes:Q", format=".1f"),
                ],
            )
        )
        if standard is not None:
            marker = pd.DataFrame({"minutes": [standard], "series": [f"standard, {standard} min"]})
            chart += (
                alt.Chart(marker)
                .mark_rule(strokeWidth=2)
                .encode(y="minutes:Q", color=colour, strokeDash=dash)
            )
        with column:
            st.markdown(
                f"**{STATISTICS[statistic]}**: "
                + (f"standard {standard} min" if standard else "no standard for this statistic")
            )
            data = mine[
                [
                    "month",
                    "trust_code",
                    "trust_name",
                    "incidents",
                    f"{statistic}_response_minutes",
                    f"england_median_{statistic}_minutes",
                ]
            ]
            ui.chart(
                chart.properties(height=400),  # the whole chart: axis and legend take 150 px
                data,
                f"ambulance_{category}_{statistic}",
            )

    st.subheader(f"Every trust, {last.month:%B %Y}")
    month = response[response.month == last.month].assign(
        trust=lambda f: f.trust_code.map(names).fillna(f.trust_name).map(short_trust),
        chosen=lambda f: f.trust_code == trust,
    )
    ranked = month.dropna(subset=["p90_response_minutes"])
    if not ranked.empty:
        ui.chart(
            ranked_bars(
                ranked[
                    ["trust", "trust_code", "incidents", "mean_response_minutes"]
                    + ["p90_response_minutes", "england_median_p90_minutes", "chosen"]
                ],
                "trust",
                "p90_response_minutes",
                f"{category} 90th centile (minutes)",
                ui.SERVICE_COLOURS["ambulance"],
                rule=STANDARDS[category]["p90"],
                rule_label=f"standard, {STANDARDS[category]['p90']} min",
                value_format=".1f",
                standard=True,
            ),
            ranked.drop(columns=["chosen"]),
            f"ambulance_{category}_trusts",
        )
    st.caption(
        "NHS England, Ambulance Quality Indicators (AmbSYS): times published in seconds, shown "
        "in minutes. The England median is the middle trust's figure each month. Months with no "
        "figure (trusts moved onto the new standards in stages from August 2017) are left out."
    )


# ---------------------------------------------------------------- fire stations


def fire() -> None:
    st.header("Fire stations")
    if not ui.has_rows(FIRE):
        ui.empty_state(FIRE, "No fire stations list loaded yet.")
        return
    counts = ui.load("fire_station_counts")
    stations = ui.load("fire_stations")
    names = dict(zip(counts.frs_code, counts.frs_name, strict=True))
    service = ui.pick(
        "fire_service",
        "Fire and rescue service",
        sorted(names, key=names.get),
        format_func=lambda c: names.get(c, c),
    )
    name = names[service]
    row = counts[counts.frs_code == service].iloc[0]
    a, b = st.columns(2)
    a.metric(f"{name}: stations", f"{int(row.stations):,}")
    rank = int((counts.stations > row.stations).sum()) + 1
    b.metric(
        "Rank by stations",
        f"{rank} of {len(counts)}",
        help="Among the fire and rescue services of England in the list; 1 has the most.",
    )

    st.subheader("Where the stations are")
    located = stations.dropna(subset=["easting", "northing"]).assign(
        chosen=lambda f: f.frs_code == service,
        service=lambda f: f.frs_name.where(f.frs_code == service, "other services"),
    )
    points = (
        alt.Chart(located)
        .mark_point(filled=True)
        .encode(
            longitude="easting:Q",
            latitude="northing:Q",
            color=alt.Color(
                "service:N",
                scale=alt.Scale(
                    domain=[name, "other services"], range=[ui.SERVICE_COLOURS["fire"], OTHERS]
                ),
                title=None,
                legend=alt.Legend(orient="bottom"),
            ),
            size=alt.Size(
                "chosen:N", scale=alt.Scale(domain=[True, False], range=[70, 12]), legend=None
            ),
            opacity=alt.Opacity(
                "chosen:N", scale=alt.Scale(domain=[True, False], range=[1.0, 0.5]), legend=None
            ),
            order=alt.Order("chosen:N"),
            tooltip=["station_name", "frs_name", "postcode"],
        )
    )
    ui.chart(
        points.project(type="identity", reflectY=True)
        .properties(height=620)
        .configure_view(stroke="#BBBBBB"),
        located.drop(columns=["chosen", "service"]),
        "fire_stations_map",
    )
    unplaced = counts[counts.with_grid_reference < counts.stations]
    st.caption(
        "Stations at their British National Grid references, north up (no background map)."
        + "".join(
            f" {r.frs_name}: {r.stations - r.with_grid_reference} of {r.stations} stations have "
            "no grid reference in the list, so are counted but not drawn."
            for r in unplaced.itertuples()
        )
    )

    st.subheader("Stations per service")
    per_service = counts.assign(chosen=counts.frs_code == service)
    ui.chart(
        ranked_bars(
            per_service, "frs_name", "stations", "Fire stations", ui.SERVICE_COLOURS["fire"]
        ),
        counts,
        "fire_stations_per_service",
    )
    st.caption("Home Office, list of fire stations in England.")


# ---------------------------------------------------------------- co-terminosity


def coterminosity() -> None:
    st.header("Police force areas and fire and rescue authorities")
    if not ui.has_rows(COTERMINOSITY):
        ui.empty_state(COTERMINOSITY, "No district lookups loaded yet.")
        return
    areas = ui.load("area_coterminosity")
    left, right = st.columns(2)
    kind = ui.pick(
        "coterminosity_area_type",
        "Area",
        list(AREA_TYPES),
        draw=left.radio,
        format_func=AREA_TYPES.get,
        horizontal=True,
    )
    mine = areas[areas.area_type == kind]
    names = dict(zip(mine.area_code, mine.area_name, strict=True))
    codes = sorted(names, key=names.get)
    # Start from the force or fire and rescue service chosen above (the workforce tables name
    # forces, "Avon & Somerset", where the ONS lookup has "Avon and Somerset"); a new choice
    # above starts the area afresh (the key carries it).
    force = _plain(st.session_state.get("filter.police_force", ""))
    service = st.session_state.get("filter.fire_service")
    start = next((c for c in codes if _plain(names[c]) == force or c == service), codes[0])
    code = right.selectbox(
        AREA_TYPES[kind],
        codes,
        index=codes.index(start),
        format_func=lambda c: names.get(c, c),
        key=f"coterminosity.{kind}.{start}",
    )
    here = mine[mine.area_code == code].iloc[0]
    there = areas[(areas.area_type != kind) & (areas.area_code == here.main_partner_code)]
    one, other = st.columns(2)
    with one:
        partner_card(here)
    if not there.empty:
        with other:
            partner_card(there.iloc[0])

    st.subheader("Every area")
    table = pd.DataFrame(
        {
            "Area type": areas.area_type.map(AREA_TYPES),
            "Area": areas.area_name,
            "Code": areas.area_code,
            "Districts": areas.districts,
            "Main partner": areas.main_partner_name.fillna("none in both lookups"),
            "Districts in both lookups": areas.matched_districts,
            "In main partner": areas.districts_in_main_partner,
            "Share (%)": (areas.district_share * 100).round(0),
            "Partners": areas.partners,
            "Co-terminous": areas.is_coterminous.map({True: "yes", False: "no"}),
        }
    )
    ui.table(
        table,
        "area_coterminosity",
        column_config={"Share (%)": st.column_config.NumberColumn(format="%.0f%%")},
    )
    st.caption(
        f"ONS lookups from district to police force area ({here.pfa_vintage} boundaries) and to "
        f"fire and rescue authority ({here.fra_vintage}); districts matched by code. Co-terminous: "
        "every district of the area is served by the one partner."
    )


def _plain(name: str) -> str:
    return " ".join(name.lower().replace("&", " and ").split())


def partner_card(area) -> None:
    """An area's main partner of the other kind, and the share of its districts it holds."""
    kind = PARTNER_KIND[area.area_type]
    st.markdown(f"**{area.area_name}** ({AREA_TYPES[area.area_type].lower()})")
    if pd.isna(area.main_partner_code):
        st.info(
            f"None of its {int(area.districts)} districts is in the {kind} lookup: the two "
            f"lookups' vintages ({area.pfa_vintage} and {area.fra_vintage}) code its districts "
            "differently."
        )
        return
    st.metric(
        f"{area.area_name}: main {kind}",
        area.main_partner_name,
        help="Co-terminous: they cover the same districts."
        if area.is_coterminous
        else "Not co-terminous: they do not cover the same districts.",
    )
    st.metric(
        f"{area.area_name}: districts in {area.main_partner_name}",
        f"{int(area.districts_in_main_partner)} of {int(area.matched_districts)} "
        f"({area.district_share:.0%})",
        help=f"Of its districts in both lookups ({int(area.matched_districts)} of "
        f"{int(area.districts)}); {int(area.partners)} {kind}"
        f"{'s' if area.partners != 1 else ''} hold them.",
    )


st.title("National picture")
st.caption(
    "Published national statistics, loaded as their publishers release them: no bid or agency "
    "extract needed. Choose your police force, ambulance trust or fire and rescue service in "
    "its section to see it beside the others and the median."
)
police()
ambulance()
fire()
coterminosity()
ui.version_caption()
