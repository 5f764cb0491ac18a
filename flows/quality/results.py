"""What a quality check says (`CheckResult`) and what follows from it: a critical failure stops
the publish (`enforce` raises GateFailed; a failed dbt test does too). Kept apart from the gate
itself, which imports Great Expectations (about 3 s): the flow and the dbt runner use these
before the gate's import has finished in the background.
"""

from __future__ import annotations

from dataclasses import dataclass


class GateFailed(RuntimeError):
    """A critical quality check or a dbt test failed; nothing is published."""


@dataclass
class CheckResult:
    suite: str
    expectation: str
    column: str | None
    level: str
    success: bool
    observed: str | None
    unexpected_count: int
    sample: list

    def describe(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        return (
            f"{self.suite}: {self.expectation}{where} failed for {self.unexpected_count} "
            f"row(s), e.g. {self.sample[:3]}"
        )


def critical_failures(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.success and r.level == "critical"]


def enforce(results: list[CheckResult], what: str) -> None:
    """Raise GateFailed when a critical check on `what` failed."""
    failures = critical_failures(results)
    if failures:
        raise GateFailed(
            f"{len(failures)} critical check(s) failed on {what}: "
            + "; ".join(f.describe() for f in failures[:5])
        )
