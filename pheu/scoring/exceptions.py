from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class ScoringError(PheuError):
    """A scoring rule, a page view or a model rebuild cannot be done as asked; ``field_errors`` say why."""

    class Code(StrEnum):
        INVALID = "invalid"
        FORBIDDEN = "forbidden"
