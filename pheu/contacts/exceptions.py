from __future__ import annotations

from pheu.core.exceptions import PheuError


class PartnerError(PheuError):
    """A customer cannot be written as asked; ``field_errors`` say why per field."""
