"""Data health: when each source was last loaded and whether it is late, the last run's outcome
(succeeded, succeeded with refusals, failed) with the files it refused and rows it set aside,
its quality results, quarantined rows and refused files with their reasons, and which warehouse
version is shown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import queries, ui, warehouse
from dashboard.queries import data_health

FRESHNESS = {"fresh": "● fresh", "late": "▲ late", "never": "■ never loaded"}


OUTCOME_MARK = {"succeeded": "●", "succeeded with refusals": "▲", "failed": "■"}


def outcome(status: str) -> str:
    """A run's outcome in the run log's words, with the shape the freshness column uses."""
    return f"{OUTCOME_MARK.get(status, '')} {status}".strip()


def _since_publish(column, later: list[dict], published_run: str) -> None:
    """The newest run after the one that published the warehouse shown: it published nothing."""
    newest = later[-1]
    column.metric("Last run", outcome(newest["status"]), help=f"Run {newest['run_id']}")
    if newest.get("published") is False:
        st.info(
            f"The last run ({newest['run_id']}) found nothing new: no file loaded or refused, no "
            f"mart changed. The warehouse shown, published by run {published_run}, is current."
        )
        return
    st.warning(
        f"The last run ({newest['run_id']}) {newest['status']} and published nothing"
        + (f": {newest['error']}" if newest.get("error") else "")
        + f". The dashboard shows the last good warehouse, published by run {published_run}."
    )


def last_run(runs: pd.DataFrame, published_run: str) -> None:
    """The last run's outcome and what it refused or set aside, and any run since the warehouse
    shown was published."""
    later = warehouse.runs_after_publish(published_run)
    last = runs.iloc[0] if not runs.empty else None
    a, b, c, d, e = st.columns(5)
    if later:
        _since_publish(a, later, published_run)
    elif last is not None:
        a.metric("Last run", outcome(last.status), help=f"Run {last.run_id}")
    if last is None:
        return
    by = f"by run {last.run_id}, the one that published the warehouse shown"
    b.metric("Files loaded", f"{last.files_loaded:,}", help=by)
    c.metric("Files refused", f"{last.files_rejected:,}", help=f"{by}; listed below")
    d.metric("Rows set aside", f"{last.rows_quarantined:,}", help=f"{by}; listed below")
    e.metric(
        "Quality checks",
        f"{last.checks_passed:,} passed",
        help=f"{last.checks_failed} failed, {last.checks_warned} warned, {by}",
    )


def version_shown(shown: pd.DataFrame) -> None:
    if shown.empty:
        return
    v = shown.iloc[0]
    published = (
        f"**Warehouse shown:** published by run {v.run_id} at {v.published_at:%d %b %Y %H:%M}"
    )
    listed = "(`bluelight versions` lists them)."
    if pd.notna(v.snapshot_id):  # on the lake: a published snapshot, read by time travel
        st.info(
            f"{published}; snapshot {int(v.snapshot_id)} of the lake, one of {v.kept_versions} "
            f"published versions kept {listed}"
        )
        return
    kept = v.version_file or "not kept in warehouse/versions/"
    st.info(
        f"{published} ({v.file_size_bytes / 1e6:,.1f} MB); kept as `{kept}`, one of "
        f"{v.kept_versions} kept versions {listed}"
    )


def sources() -> None:
    """Freshness, or the last load of each source where no check has run yet."""
    st.subheader("Sources")
    freshness = data_health.source_freshness()
    if freshness.empty:
        st.caption(
            "No freshness check recorded yet: showing when each source last had a file loaded."
        )
        names = {
            "source": "Source",
            "last_loaded_at": "Last loaded",
            "files_loaded": "Files loaded",
            "rows_loaded": "Rows loaded",
            "last_file": "Last file",
        }
        ui.table(data_health.last_loads().rename(columns=names), "source_last_loads")
        return
    late = freshness[freshness.status != "fresh"]
    st.caption(
        f"Checked {freshness.checked_at.max():%d %b %Y %H:%M} by run {freshness.run_id[0]}: "
        f"{len(late)} of {len(freshness)} sources late or never loaded."
    )
    names = {
        "source": "Source",
        "cadence": "Expected",
        "last_loaded_at": "Last loaded",
        "due_by": "Next due by",
        "status": "Status",
        "checked_at": "Checked",
        "note": "Why",
    }
    ui.table(
        freshness.assign(status=freshness.status.map(FRESHNESS).fillna(freshness.status))
        .drop(columns=["run_id"])
        .rename(columns=names),
        "source_freshness",
    )


def marts(readiness: pd.DataFrame) -> None:
    """Each mart: ready, or waiting for sources never loaded."""
    st.subheader("Marts")
    if readiness.empty:
        st.caption(
            "No mart readiness recorded: the warehouse was published before runs recorded which "
            "sources each mart waits for."
        )
        return
    waiting = readiness[readiness.status != "ready"]
    st.caption(
        f"Recorded by run {readiness.run_id.iloc[0]}: {len(readiness) - len(waiting)} of "
        f"{len(readiness)} marts ready; the rest wait for sources never loaded. Send each "
        "source's files to its inbox folder; `bluelight sources NAME --template` writes a "
        "template for an agency extract."
    )
    waits = readiness.waiting_for
    table = pd.DataFrame(
        {
            "Mart": readiness.mart,
            "Status": [
                ui.readiness_text(status, sources)
                for status, sources in zip(readiness.status, waits, strict=True)
            ],
            "Rows": readiness.rows,
            "Waiting for": [", ".join(sources) for sources in waits],
            "Inbox folders": [", ".join(f"inbox/{s}/" for s in sources) for sources in waits],
            "Built from": [", ".join(sources) for sources in readiness.sources],
        }
    )
    ui.table(table, "mart_readiness")


def quality(published_run: str, readiness: pd.DataFrame) -> None:
    """The quality checks of the run that published the warehouse: failures first."""
    st.subheader("Quality checks")
    if not published_run:
        return
    checks = data_health.quality_results(published_run)
    failed = checks[~checks.success]
    st.caption(f"Run {published_run}: {int(checks.success.sum())} of {len(checks)} checks passed.")
    if not failed.empty:
        st.markdown("**Failed checks**")
        ui.table(failed, "quality_failures")
        on_waiting_marts(failed, readiness)
    with st.expander("Checks by suite"):
        ui.table(
            by_suite(checks)[["suite", "level", "passed", "failed"]].rename(columns=str.capitalize),
            "quality_summary",
        )


def by_suite(checks: pd.DataFrame) -> pd.DataFrame:
    """Checks passed and failed per suite and level."""
    summary = (
        checks.assign(result=checks.success.map({True: "passed", False: "failed"}))
        .groupby(["suite", "level", "result"], as_index=False)
        .size()
        .pivot_table(index=["suite", "level"], columns="result", values="size", fill_value=0)
        .reset_index()
    )
    for column in ("passed", "failed"):
        if column not in summary:
            summary[column] = 0
    return summary


def on_waiting_marts(failed: pd.DataFrame, readiness: pd.DataFrame) -> None:
    """Say how many failures are on marts waiting for a source. A mart suite is named
    mart.<mart>[.<query>]: an empty mart waiting for a source fails its row count as a warning,
    as it should until the source loads."""
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


def listed(title: str, rows: pd.DataFrame, none: str) -> bool:
    """A section's subheader, and whether it has `rows` to list; if not, says so (`none`): a
    good thing here."""
    st.subheader(title)
    if rows.empty:
        st.success(none)
    return not rows.empty


def set_aside() -> None:
    """Quarantined rows by rule, and every one of them."""
    held = data_health.quarantine()
    if not listed("Rows set aside (quarantine)", held, "No rows set aside."):
        return
    by_rule = held.groupby(["source", "file", "column_name", "rule"], as_index=False).size()
    st.caption(
        f"{len(held):,} {'row' if len(held) == 1 else 'rows'} kept in raw as sent, left out of "
        "staging and the marts."
    )
    names = {
        "source": "Source",
        "file": "File",
        "column_name": "Column",
        "rule": "Rule broken",
        "size": "Rows",
    }
    ui.table(by_rule.rename(columns=names), "quarantine_by_rule")
    with st.expander("Every row set aside"):
        ui.table(held, "quarantine_rows")


def refused() -> None:
    files = data_health.rejected_files()
    if not listed("Files refused", files, "No files refused."):
        return
    st.caption(
        "Each file is in rejected/<run>/ with a .reason.txt; send a corrected file to the inbox."
    )
    ui.table(
        files.assign(
            row_number=files.row_number.astype("Int64"),
            rejected_at=pd.to_datetime(files.rejected_at),
        ),
        "rejected_files",
    )


st.title("Data health")
shown = queries.published_version()
runs = data_health.load_runs()
published_run = shown.run_id[0] if not shown.empty else ""
last_run(runs, published_run)
version_shown(shown)
sources()
readiness = queries.mart_readiness()
marts(readiness)
quality(published_run, readiness)
set_aside()
refused()
st.subheader("Load runs")
ui.table(runs, "load_runs")
ui.version_caption()
