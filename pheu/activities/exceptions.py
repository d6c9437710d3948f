from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class ActivityError(PheuError):
    """An activity or an e-mail cannot be written or sent as asked; ``field_errors`` say why per field."""

    class Code(StrEnum):
        INVALID = "invalid"
        ALREADY_DONE = "already_done"
        FORBIDDEN = "forbidden"
        SEND_FAILED = "send_failed"
