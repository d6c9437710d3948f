from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class LeadError(PheuError):
    """A lead or opportunity cannot be written as asked; ``field_errors`` say why per field."""

    class Code(StrEnum):
        INVALID = "invalid"
        STAGE_REQUIREMENTS = "stage_requirements"
        FORBIDDEN_ASSIGNMENT = "forbidden_assignment"


class SavedFilterError(PheuError):
    """A saved lead filter cannot be written as asked."""

    class Code(StrEnum):
        INVALID = "invalid"
        FORBIDDEN = "forbidden"
