"""E-mail addresses: syntax validation (no DNS look-up) and the normalised matching key."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidEmailError(ValueError):
    """The text is not a syntactically valid e-mail address; ``reason`` says why (in English)."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(raw)
        self.reason = reason


def clean_email(raw: str) -> str:
    """Return ``raw`` trimmed and checked, or raise :class:`InvalidEmailError`."""
    text = raw.strip()
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmailError(raw, str(exc)) from exc
    return text


def email_key(raw: str | None) -> str:
    """The matching key of an address: trimmed and lower-cased ("" for none)."""
    return (raw or "").strip().lower()


def email_domain(raw: str | None) -> str:
    """The domain part of an address, lower-cased ("" for none)."""
    key = email_key(raw)
    return key.rpartition("@")[2] if "@" in key else ""
