"""ContractError: a file that breaks its source's contract, located by file, row and column.

Raised by the readers in flows/sources/ and by the load; caught where a file is refused
(flows/load/inbox.py `reject`) or judged (flows/load/validate.py).
"""

from __future__ import annotations


class ContractError(Exception):
    """A file breaks its source's contract; names the file, row and column."""

    def __init__(self, file: str, reason: str, row: int | None = None, column: str | None = None):
        self.file, self.reason, self.row, self.column = file, reason, row, column
        super().__init__(f"{file}: {self.located}")

    @property
    def located(self) -> str:
        """The reason with its row and column, without the file name."""
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row else "",
                f"column {self.column!r}" if self.column else "",
            )
            if part
        )
        return f"{where + ': ' if where else ''}{self.reason}"
