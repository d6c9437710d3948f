from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class AssignmentError(PheuError):
    """An assignment run or simulation cannot be done as asked; ``field_errors`` say why per field."""

    class Code(StrEnum):
        INVALID = "invalid"
        FORBIDDEN = "forbidden"
