from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pheu.core.exceptions import PheuError
from pheu.imports.reasons import Reason


class ImportsError(PheuError):
    """A file cannot be imported, or an import cannot be run or reverted, as asked. ``reason``: the message
    as a code, when a run keeps it (``Import.message``, worded in the reader's language)."""

    class Code(StrEnum):
        INVALID = "invalid"
        UNREADABLE = "unreadable"  # not CSV/XLSX, or no header row
        NO_NAME_COLUMN = "no_name_column"
        NOT_RUNNABLE = "not_runnable"
        NOT_REVERTIBLE = "not_revertible"
        TOUCHED = "touched"  # records changed since the import: no revert
        FORBIDDEN = "forbidden"

    def __init__(
        self,
        message: str = "",
        *,
        code: str = "invalid",
        field_errors: Mapping[str, list[str]] | None = None,
        reason: Reason | None = None,
    ) -> None:
        super().__init__(message, code=code, field_errors=field_errors)
        self.reason = reason
