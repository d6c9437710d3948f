from __future__ import annotations

from enum import StrEnum

from pheu.core.exceptions import PheuError


class SalesError(PheuError):
    """A product, quotation or order cannot be written as asked; ``field_errors`` say why per field."""

    class Code(StrEnum):
        INVALID = "invalid"
        FORBIDDEN = "forbidden"
        NO_CUSTOMER = "no_customer"
        NOT_AN_OPPORTUNITY = "not_an_opportunity"
        NO_LINES = "no_lines"
        WRONG_STATE = "wrong_state"
