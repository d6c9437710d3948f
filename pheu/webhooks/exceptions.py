from __future__ import annotations

from pheu.core.exceptions import PheuError


class WebhookError(PheuError):
    """A webhook endpoint that cannot be saved, or a change a user may not make."""
