"""Fixtures of the API's schema tests: Django's WSGI handler and the schema it publishes, for Schemathesis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's handler, which does not close the test's connection after each request (as its test
    client does not): requests see the test's records, in its transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def published(wsgi_app):
    """The schema ``/api/v1/schema/`` serves (in English), loaded by Schemathesis; requests go in-process."""
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?lang=en", wsgi_app)
