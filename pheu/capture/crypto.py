"""Secrets stored in the database (mailbox passwords), encrypted with Fernet under a key derived from
``SECRET_KEY``: a database dump alone does not give the passwords away."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

# Key separation: the same SECRET_KEY signs sessions; this purpose string makes a key of its own.
_PURPOSE = b"pheu.capture.secrets.v1:"


class SecretUnreadableError(ValueError):
    """The stored secret was encrypted under another ``SECRET_KEY`` (or is damaged)."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(_PURPOSE + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(raw: str) -> str:
    return _fernet().encrypt(raw.encode()).decode("ascii")


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadableError(token[:8]) from exc
