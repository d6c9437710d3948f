import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files go to the test's temporary directory, not to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _messages_in_english():
    """Tests read the English messages (Pheu's default language is Vietnamese)."""
    from django.utils import translation

    with translation.override("en"):
        yield
