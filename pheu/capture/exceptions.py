from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class CaptureError(PheuError):
    """A web-form post, an e-mail or a mailbox cannot be taken as given; ``field_errors`` say why."""

    class Code(StrEnum):
        INVALID = "invalid"
        NOT_FOUND = "not_found"
        FORBIDDEN = "forbidden"
        RATE_LIMITED = "rate_limited"
        UNREADABLE = "unreadable"
