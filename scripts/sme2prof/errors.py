"""The one exception type for problems a user can fix.

Entry points print it as two lines (what is wrong, how to fix it) and exit 2; any
other exception is a bug and keeps its traceback so that bugs stay visible.
"""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix: bad input, a missing file, a missing tool."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message
