"""Data health: when each source was last loaded and whether it is late, the last run's status
and quality results, quarantined rows and refused files with their reasons, and which warehouse
version is shown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import queries, ui

FRESHNESS = {"fresh": "● fresh", "late": "▲ late", "never": "■ never loaded"}

st.title("Data health")

shown = ui.load("published_version")
runs = ui.load("load_runs")
published_run = shown.run_id[0] if not shown.empty else ""

# ---- the last run, and runs since the warehouse shown was published
later = queries.runs_after_publish(published_run)
last = runs.iloc[0] if not runs.empty else None
a, b, c, d = st.columns(4)
if later:
    newest = later[-1]
    a.metric("Last run", newest["status"], help=f"Run {newest['run_id']}")
    st.warning(
        f"The last run ({newest['run_id']}) {newest['status']} and published nothing"
        + (f": {newest['error']}" if newest.get("error") else "")
        + ". The dashboard shows the last good warehouse, published by run "
        f"{published_run}."
    )
elif last is not None:
    a.metric("Last run", last.status, help=f"Run {last.run_id}")
if last is not None:
    b.metric("Files loaded", f"{last.files_loaded:,}", help=f"by run {last.run_id}")
    c.metric(
        "Quality checks",
        f"{last.checks_passed:,} passed",
        help=f"{last.checks_failed} failed, {last.checks_warned} warned, in run {last.run_id}",
    )
    d.metric("Rows set aside", f"{last.rows_quarantined:,}", help="quarantined by the last run")

# ---- which version is shown
if not shown.empty:
    v = shown.iloc[0]
    kept = v.version_file or "not kept in warehouse/versions/"
    st.info(
        f"**Warehouse shown:** published by run {v.run_id} at {v.published_at:%d %b %Y %H:%M} "
        f"({v.file_size_bytes / 1e6:,.1f} MB); kept as `{kept}`, one of {v.kept_versions} kept "
        "versions (`bluelight versions` lists them)."
    )

# ---- sources: freshness, or the last load of each where no check has run yet
st.subheader("Sources")
freshness = ui.load("source_freshness")
if freshness.empty:
    st.caption("No freshness check recorded yet: showing when each source last had a file loaded.")
    loads = ui.load("last_loads")
    ui.table(
        loads.rename(
            columns={
                "source": "Source",
                "last_loaded_at": "Last loaded",
                "files_loaded": "Files loaded",
                "rows_loaded": "Rows loaded",
                "last_file": "Last file",
            }
        ),
        "source_last_loads",
    )
else:
    late = freshness[freshness.status != "fresh"]
    st.caption(
        f"Checked {freshness.checked_at.max():%d %b %Y %H:%M} by run {freshness.run_id[0]}: "
        f"{len(late)} of {len(freshness)} sources late or never loaded."
    )
    ui.table(
        freshness.assign(status=freshness.status.map(FRESHNESS).fillna(freshness.status))
        .drop(columns=["run_id"])
        .rename(
            columns={
                "source": "Source",
                "cadence": "Expected",
                "last_loaded_at": "Last loaded",
                "due_by": "Next due by",
                "status": "Status",
                "checked_at": "Checked",
                "note": "Why",
            }
        ),
        "source_freshness",
    )

# ---- marts: ready, or waiting for sources never loaded
st.subheader("Marts")
readiness = ui.load("mart_readiness")
if readiness.empty:
    st.caption(
        "No mart readiness recorded: the warehouse was published before runs recorded which "
        "sources each mart waits for."
    )
else:
    waiting = readiness[readiness.status != "ready"]
    st.caption(
        f"Recorded by run {readiness.run_id.iloc[0]}: {len(readiness) - len(waiting)} of "
        f"{len(readiness)} marts ready; the rest wait for sources never loaded. Send each "
        "source's files to its inbox folder; `bluelight sources NAME --template` writes a "
        "template for an agency extract."
    )
    ui.table(
        pd.DataFrame(
            {
                "Mart": readiness.mart,
                "Status": [
                    ui.readiness_text(status, sources)
                    for status, sources in zip(readiness.status, readiness.waiting_for, strict=True)
                ],
                "Rows": readiness.rows,
                "Waiting for": [", ".join(sources) for sources in readiness.waiting_for],
                "Inbox folders": [
                    ", ".join(f"inbox/{s}/" for s in sources) for sources in readiness.waiting_for
                ],
                "Built from": [", ".join(sources) for sources in readiness.sources],
            }
        ),
        "mart_readiness",
    )

# ---- quality results of the run that published the warehouse
st.subheader("Quality checks")
if published_run:
    quality = ui.load("quality_results", published_run)
    failed = quality[~quality.success]
    summary = (
        quality.assign(result=quality.success.map({True: "passed", False: "failed"}))
        .groupby(["suite", "level", "result"], as_index=False)
        .size()
        .pivot_table(index=["suite", "level"], columns="result", values="size", fill_value=0)
        .reset_index()
    )
    for column in ("passed", "failed"):
        if column not in summary:
            summary[column] = 0
    st.caption(
        f"Run {published_run}: {int(quality.success.sum())} of {len(quality)} checks passed."
    )
    if not failed.empty:
        st.markdown("**Failed checks**")
        ui.table(failed, "quality_failures")
        # A mart suite is named mart.<mart>[.<query>]: an empty mart waiting for a source fails
        # its row count as a warning, as it should until the source loads.
        waiting_marts = set(readiness[readiness.status == "waiting"].mart)
        on_waiting = failed.suite.str.split(".").str[1].isin(waiting_marts) & (
            failed.suite.str.startswith("mart.")
        )
        if on_waiting.any():
            count = int(on_waiting.sum())
            st.caption(
                ("All of them are" if count == len(failed) else f"{count} of them are")
                + " on marts still waiting for a source never loaded (see Marts above): "
                "expected until it loads."
            )
    with st.expander("Checks by suite"):
        ui.table(
            summary[["suite", "level", "passed", "failed"]].rename(columns=str.capitalize),
            "quality_summary",
        )

# ---- quarantined rows and refused files
st.subheader("Rows set aside (quarantine)")
held = ui.load("quarantine")
if held.empty:
    st.success("No rows set aside.")
else:
    by_rule = held.groupby(["source", "file", "column_name", "rule"], as_index=False).size()
    st.caption(
        f"{len(held):,} {'row' if len(held) == 1 else 'rows'} kept in raw as sent, left out of "
        "staging and the marts."
    )
    ui.table(
        by_rule.rename(
            columns={
                "source": "Source",
                "file": "File",
                "column_name": "Column",
                "rule": "Rule broken",
                "size": "Rows",
            }
        ),
        "quarantine_by_rule",
    )
    with st.expander("Every row set aside"):
        ui.table(held, "quarantine_rows")

st.subheader("Files refused")
refused = ui.load("rejected_files")
if refused.empty:
    st.success("No files refused.")
else:
    st.caption(
        "Each file is in rejected/<run>/ with a .reason.txt; send a corrected file to the inbox."
    )
    ui.table(
        refused.assign(
            row_number=refused.row_number.astype("Int64"),
            rejected_at=pd.to_datetime(refused.rejected_at),
        ),
        "rejected_files",
    )

st.subheader("Load runs")
ui.table(runs, "load_runs")
ui.version_caption()
