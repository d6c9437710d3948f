"""Typed errors raised by services.

Every service error carries a machine-readable ``code`` and a translated message; errors about input also
carry ``field_errors`` (field name → messages). The API turns them into HTTP 400 with field errors, forms
into messages next to their fields, and the CLI into a message naming the cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class PheuError(Exception):
    """Base of all service errors."""

    class Code(StrEnum):
        INVALID = "invalid"
        FORBIDDEN = "forbidden"
        NOT_FOUND = "not_found"

    def __init__(
        self,
        message: str = "",
        *,
        code: str = "invalid",
        field_errors: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.message = str(message)
        self.code = str(code)
        self.field_errors: dict[str, list[str]] = {
            k: [str(m) for m in v] for k, v in (field_errors or {}).items()
        }
        super().__init__(
            self.message or "; ".join(f"{k}: {' '.join(v)}" for k, v in self.field_errors.items())
        )

    def as_dict(self) -> dict[str, object]:
        """The API body: field errors, or ``detail`` and ``code`` for an error about the whole request."""
        if self.field_errors:
            return dict(self.field_errors)
        return {"detail": self.message, "code": self.code}


class PermissionDeniedError(PheuError):
    """The acting user may not do this to this record."""

    def __init__(self, message: str, *, field_errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message, code=PheuError.Code.FORBIDDEN, field_errors=field_errors)
