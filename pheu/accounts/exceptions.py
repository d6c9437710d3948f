from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class LoginError(PheuError):
    """A log-in attempt is refused; ``message`` tells the person why (without saying which part was wrong)."""

    class Code(StrEnum):
        INVALID = "invalid"
        LOCKED = "locked"
