"""Problems found in a user's site, reported all together.

Stages never raise on a user's mistake: they return `Diagnostic` objects,
the builder collects every one of them, and the CLI prints them and sets the
exit status. `SiteError` is only raised at the end, to stop a build after
everything has been reported.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .pickling import quick_pickle


@quick_pickle
@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One problem in one file, at a line and column when known (1-based)."""

    path: str
    line: int
    column: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.severity}: {self.message}"


def error(path: str | Path, message: str, line: int = 0, column: int = 0) -> Diagnostic:
    """Make an error diagnostic."""
    return Diagnostic(str(path), line, column, message, "error")


def warning(path: str | Path, message: str, line: int = 0, column: int = 0) -> Diagnostic:
    """Make a warning diagnostic."""
    return Diagnostic(str(path), line, column, message, "warning")


def did_you_mean(value: str, choices: Iterable[str], n: int = 3) -> str:
    """Return " (did you mean 'x'?)" for the closest choices, or an empty string."""
    matches = difflib.get_close_matches(value, list(choices), n=n, cutoff=0.6)
    if not matches:
        return ""
    quoted = " or ".join(f"'{m}'" for m in matches)
    return f" (did you mean {quoted}?)"


class SiteError(Exception):
    """A build or check stopped because of problems in the user's files."""

    def __init__(self, diagnostics: list[Diagnostic] | None = None, message: str = "") -> None:
        self.diagnostics = sorted(diagnostics or [])
        self.message = message or f"{len(self.errors)} error(s)"
        super().__init__(self.message)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]
