"""The permission matrix's scene: built once per test module, rolled back after its last cell."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import transaction

from pheu.accounts.tests.matrix import Scene, build_scene


@pytest.fixture(scope="module")
def scene(django_db_setup, django_db_blocker) -> Iterator[Scene]:
    """The matrix's people and records, shared by the cells of a module.

    Built inside a transaction that is rolled back at the end (as ``TestCase.setUpTestData`` does); each
    cell runs in a savepoint on top of it (``django_db``), so what one cell changes the next never sees.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_scene()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            cache.clear()  # nothing cached from the scene outlives it
