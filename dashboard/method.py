"""Where the method is written down (docs/method.md), and links from a figure to its section on
the dashboard's Method page."""

from __future__ import annotations

from flows.settings import PROJECT_ROOT

METHOD_DOC = PROJECT_ROOT / "docs" / "method.md"


def link(section: str, text: str = "How it is worked out") -> str:
    """A Markdown link to a section of the Method page (its heading's anchor)."""
    return f"[{text}](/method#{section})"


def anchor(heading: str) -> str:
    """The anchor Streamlit gives a Markdown heading: lower case, letters, digits and hyphens,
    spaces as hyphens (e.g. "Money: real terms" -> "money-real-terms")."""
    kept = "".join(c for c in heading.lower() if c.isalnum() or c in " -")
    return "-".join(kept.split())


def sections() -> list[str]:
    """The anchors of docs/method.md's second-level headings, in order."""
    lines = METHOD_DOC.read_text(encoding="utf-8").splitlines()
    return [anchor(line[3:]) for line in lines if line.startswith("## ")]
