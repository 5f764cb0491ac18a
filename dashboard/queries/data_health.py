"""The Data health page's queries: sources' freshness and last loads, runs, quality checks, rows
set aside and files refused (the audit schema). Runs the warehouse never saw are in the run log
(warehouse.runs_after_publish)."""

from __future__ import annotations

from dashboard import warehouse


@warehouse.query
def source_freshness():
    """The latest freshness check of every source (audit.source_freshness, filled each run)."""
    return """
        select source, cadence, last_loaded_at, due_by, status, checked_at, run_id
        from audit.source_freshness
        qualify run_id = max(run_id) over ()
        order by status = 'fresh', source
    """


@warehouse.query
def last_loads():
    """When each source last had a file loaded, from audit.loaded_files."""
    return """
        select source, max(loaded_at) as last_loaded_at,
               count(*) filter (where status = 'loaded') as files_loaded,
               sum(rows) filter (where status = 'loaded') as rows_loaded,
               arg_max(original_name, loaded_at) as last_file
        from audit.loaded_files
        group by source
        order by source
    """


@warehouse.query
def load_runs():
    return """
        select run_id, started_at, finished_at, status, files_loaded, files_skipped,
               files_rejected, rows_loaded, rows_quarantined, checks_passed, checks_failed,
               checks_warned, error
        from audit.load_runs
        order by run_id desc
    """


@warehouse.query
def quality_results(run_id: str):
    """The quality checks of a run: failures first."""
    return (
        """
        select suite, expectation, column_name, level, success, observed_value,
               unexpected_count, unexpected_sample
        from audit.quality_results
        where run_id = ?
        order by success, level, suite, expectation, column_name
    """,
        [run_id],
    )


@warehouse.query
def quarantine():
    return """
        select q.run_id, q.source, coalesce(f.original_name, q.source_file) as file,
               q.source_row, q.column_name, q.value, q.rule, q.quarantined_at
        from audit.quarantine as q
        left join audit.loaded_files as f on f.load_id = q.load_id
        order by q.quarantined_at desc, file, q.source_row
    """


@warehouse.query
def rejected_files():
    return """
        select run_id, source, original_name, row_number, column_name, reason, rejected_at
        from audit.rejected_files
        order by rejected_at desc, original_name
    """
