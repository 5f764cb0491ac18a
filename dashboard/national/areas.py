"""The National picture's police force areas and fire and rescue authorities: each one's main
partner of the other kind and the share of its districts that partner holds, both ways, and a
table of all."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.queries import national

COTERMINOSITY = ("fct_area_coterminosity",)
AREA_TYPES = {
    "police_force_area": "Police force area",
    "fire_authority": "Fire and rescue authority",
}
PARTNER_KIND = {
    "police_force_area": "fire and rescue authority",
    "fire_authority": "police force area",
}


def section() -> None:
    if not ui.section(
        "Police force areas and fire and rescue authorities",
        COTERMINOSITY,
        "No district lookups loaded yet.",
    ):
        return
    areas = national.area_coterminosity()
    left, right = st.columns(2)
    kind = ui.pick("coterminosity_area_type", "Area", AREA_TYPES, draw=left.radio, horizontal=True)
    here = chosen_area(areas, kind, right)
    there = areas[(areas.area_type != kind) & (areas.area_code == here.main_partner_code)]
    one, other = st.columns(2)
    with one:
        partner_card(here)
    if not there.empty:
        with other:
            partner_card(there.iloc[0])
    every_area(areas, here)


def chosen_area(areas: pd.DataFrame, kind: str, column) -> pd.Series:
    """The area of `kind` chosen in `column`'s selectbox. It starts from the force or fire and
    rescue service chosen above (the workforce tables name forces "Avon & Somerset", where the
    ONS lookup has "Avon and Somerset"); a new choice above starts it afresh (the key carries
    it)."""
    mine = areas[areas.area_type == kind]
    names = dict(zip(mine.area_code, mine.area_name, strict=True))
    codes = sorted(names, key=names.get)
    force = _plain(st.session_state.get("filter.police_force", ""))
    service = st.session_state.get("filter.fire_service")
    start = next((c for c in codes if _plain(names[c]) == force or c == service), codes[0])
    code = column.selectbox(
        AREA_TYPES[kind],
        codes,
        index=codes.index(start),
        format_func=lambda c: names.get(c, c),
        key=f"coterminosity.{kind}.{start}",
    )
    return mine[mine.area_code == code].iloc[0]


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


def every_area(areas: pd.DataFrame, here: pd.Series) -> None:
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
