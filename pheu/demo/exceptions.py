from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class DemoError(PheuError):
    """The demo data cannot be loaded as asked."""

    class Code(StrEnum):
        ALREADY_LOADED = "already_loaded"
        CONFLICT = "conflict"  # records with the demo's names exist already
        INVALID = "invalid"
