"""The dashboard's pages, in the navigation's order, by the file in dashboard/views/ that draws
each, and the pages each role has (flows/security/roles.py says what each role is for)."""

from __future__ import annotations

from flows.security.roles import ANALYST, AUDITOR, COMMISSIONER, LOCAL, OPERATOR

PAGES = {
    "Overview": "overview.py",
    "National picture": "national.py",
    "Bid": "bid.py",
    "Response times": "response_times.py",
    "Estates": "estates.py",
    "Staffing": "staffing.py",
    "Upload": "upload.py",
    "Data health": "data_health.py",
    "Access log": "access_log.py",
    "Method": "method.py",
}
OFFICE = ("Overview", "National picture", "Bid", "Response times", "Estates", "Staffing")
# The pages each role has (flows/security/roles.py says what each role is for).
ROLE_PAGES = {
    COMMISSIONER: (*OFFICE, "Method"),
    ANALYST: (*OFFICE, "Upload", "Method"),
    AUDITOR: (*OFFICE, "Data health", "Access log", "Method"),
    OPERATOR: ("National picture", "Data health", "Access log", "Method"),
    LOCAL: tuple(PAGES),
}


def pages_for(held: frozenset[str]) -> list[str]:
    """The pages the roles `held` give together, in the navigation's order."""
    granted = {page for role in held for page in ROLE_PAGES.get(role, ())}
    return [page for page in PAGES if page in granted]
