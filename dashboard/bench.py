"""How long each dashboard page takes on a warehouse: `python -m dashboard.bench [path]`.

Each page is rendered by Streamlit's AppTest (the app's own scripts, server side, in this
process): "cold" with the query cache cleared and the warehouse as if just published, so every
query runs, as on the first view after a publish; "warm" straight after, from the cache. Beside
the whole render, the time spent in the queries' SQL is measured (warehouse.timed()): its sum per
cold render, and each query's own time under its function's name (opening a warehouse file under
warehouse.OPENING). `measure()` returns them for other benchmarks (`bluelight bench`) to call.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

APP = Path(__file__).with_name("app.py")
# Page, and the filters set before it renders (the rest at their defaults: every area, service
# and year). Response times draws most for one service: fire adds categories and its split.
PAGES = {
    "Overview": ("views/overview.py", {}),
    "National picture": ("views/national.py", {}),
    "Bid": ("views/bid.py", {}),
    "Response times": ("views/response_times.py", {}),
    "Response, fire": ("views/response_times.py", {"service": "fire"}),
    "Estates": ("views/estates.py", {}),
    "Staffing": ("views/staffing.py", {}),
    "Data health": ("views/data_health.py", {}),
    "Method": ("views/method.py", {}),
}
BUDGET_SECONDS = 1.0  # a whole page render
QUERY_BUDGET_SECONDS = 0.2  # a page's queries together, so a page answers at once


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(path: Path | str, repeats: int = 5) -> dict[str, dict]:
    """Per page: median and 95th percentile seconds of the render, cold (cache cleared) and warm,
    and of its queries' time per cold render (`queries_median`, `queries_p95`); `query_seconds`
    holds each query's times ({name: [seconds, ...]}, every call of every cold render)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    logging.disable(logging.WARNING)  # AppTest has no server, which Streamlit notes at every run
    from dashboard import warehouse

    warehouse.pin(path)
    results = {}
    try:
        for name, (page, filters) in PAGES.items():
            cold, warm, in_queries, per_query = [], [], [], {}
            for _ in range(repeats):
                at = AppTest.from_file(str(APP), default_timeout=60)
                at.run()  # a page switch needs one run first
                for key, value in filters.items():
                    at.session_state[f"filter.{key}"] = value
                at.switch_page(page)
                st.cache_data.clear()
                warehouse.forget()
                with warehouse.timed() as timings:
                    start = time.perf_counter()
                    at.run()
                    cold.append(time.perf_counter() - start)
                in_queries.append(sum(seconds for _, seconds in timings))
                for query, seconds in timings:
                    per_query.setdefault(query, []).append(seconds)
                start = time.perf_counter()
                at.run()
                warm.append(time.perf_counter() - start)
                if at.exception:
                    raise RuntimeError(f"{name}: {at.exception[0].value}")
            results[name] = {
                "cold_median": statistics.median(cold),
                "cold_p95": _p95(cold),
                "warm_median": statistics.median(warm),
                "warm_p95": _p95(warm),
                "queries_median": statistics.median(in_queries),
                "queries_p95": _p95(in_queries),
                "query_seconds": per_query,
            }
    finally:
        warehouse.pin(None)
        warehouse.forget()  # let go of the benchmark's file
        logging.disable(logging.NOTSET)
    return results


def query_stats(results: dict[str, dict]) -> dict[str, tuple[int, float, float]]:
    """Each query over every page of `measure()`'s results: calls, median and 95th percentile
    seconds; slowest first."""
    merged: dict[str, list[float]] = {}
    for r in results.values():
        for query, seconds in r["query_seconds"].items():
            merged.setdefault(query, []).extend(seconds)
    stats = {q: (len(s), statistics.median(s), _p95(s)) for q, s in merged.items()}
    return dict(sorted(stats.items(), key=lambda item: item[1][2], reverse=True))


def main(argv: list[str] | None = None) -> int:
    from flows.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m dashboard.bench", description=__doc__)
    parser.add_argument(
        "warehouse",
        nargs="?",
        type=Path,
        default=None,
        help="warehouse file (default: the published warehouse of BLUELIGHT_HOME)",
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    path = args.warehouse or Settings.from_env().published_db
    if not path.exists():
        parser.error(f"no warehouse at {path}")
    size = path.stat().st_size / 1e6
    print(f"Dashboard page renders on {path} ({size:,.1f} MB), {args.repeats} times each")
    results = measure(path, args.repeats)
    print(
        f"{'page':<16}{'cold median':>12}{'cold p95':>10}{'warm median':>13}{'warm p95':>10}"
        f"{'queries median':>16}{'queries p95':>13}"
    )
    for name, r in results.items():
        print(
            f"{name:<16}{r['cold_median']:>11.3f}s{r['cold_p95']:>9.3f}s"
            f"{r['warm_median']:>12.3f}s{r['warm_p95']:>9.3f}s"
            f"{r['queries_median']:>15.3f}s{r['queries_p95']:>12.3f}s"
        )
    print("\nEach query (every page's cold renders), slowest first")
    print(f"{'query':<28}{'calls':>7}{'median':>10}{'p95':>10}")
    for query, (calls, median, p95) in query_stats(results).items():
        print(f"{query:<28}{calls:>7}{median:>9.3f}s{p95:>9.3f}s")
    slow = [n for n, r in results.items() if r["cold_p95"] >= BUDGET_SECONDS]
    print(
        f"Every page under {BUDGET_SECONDS:.0f} s cold (95th percentile)"
        if not slow
        else f"Over {BUDGET_SECONDS:.0f} s cold: {', '.join(slow)}"
    )
    slow = [n for n, r in results.items() if r["queries_p95"] >= QUERY_BUDGET_SECONDS]
    budget = f"{QUERY_BUDGET_SECONDS * 1000:.0f} ms"
    print(
        f"Every page's queries under {budget} cold (95th percentile)"
        if not slow
        else f"Queries over {budget} cold: {', '.join(slow)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
