from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class TeamError(PheuError):
    """A team or team member cannot be written as asked; ``field_errors`` say why per field."""

    class Code(StrEnum):
        INVALID = "invalid"
