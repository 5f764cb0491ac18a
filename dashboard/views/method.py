"""Method: how every figure is worked out, for commissioners and auditors: docs/method.md as it
stands beside the code, with the thresholds and rates in force in the version shown (the dbt vars,
from marts.dim_method_parameters). Other pages link to its sections."""

from __future__ import annotations

import streamlit as st

from dashboard import queries, ui
from dashboard.method import METHOD_DOC

st.title("Method")
st.caption(
    "How each figure is worked out: its formula, its assumptions, its source and the HM Treasury "
    "Green Book or Magenta Book practice it follows."
)
if ui.has_rows(("dim_method_parameters",)):
    ui.table(
        queries.method_parameters().rename(
            columns={
                "parameter": "Parameter",
                "value": "Value",
                "unit": "Unit",
                "description": "What it decides",
            }
        ),
        "method_parameters",
    )
text = METHOD_DOC.read_text(encoding="utf-8") if METHOD_DOC.exists() else ""
st.markdown(text.split("\n", 1)[1] if text.startswith("# ") else text)  # the page has its title
ui.version_caption()
