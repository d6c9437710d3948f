"""Capture's fixtures: a real IMAP server for the session, and media files under a temporary directory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pheu.capture.testing import DOVECOT, ImapServer, run_dovecot


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """Debian's dovecot on 127.0.0.1 at a free port. Missing: a failure in CI (``CI=true``), a skip here."""
    if not os.access(DOVECOT, os.X_OK):
        message = f"dovecot not found at {DOVECOT} (apt-get install dovecot-imapd)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with run_dovecot() as server:
        yield server


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_rate_limit(request, settings):
    """Each test counts web-form posts from zero (the cache outlives tests). The cache is a database table
    without Redis: a test without the database (parsing an e-mail) has nothing to clear."""
    from django.core.cache import cache

    if request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames):
        cache.clear()
    settings.PHEU_WEBFORM_RATE_LIMIT = 1000
