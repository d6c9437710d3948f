"""What the API's authentication keeps on a request for the views (no import of DRF's views: the
authentication classes are imported while DRF's settings load)."""

from __future__ import annotations

from typing import Any

from pheu.core.models import PheuSettings

# Where the API's token authentication (pheu.api.authentication) keeps the settings it read with the token.
SETTINGS_ATTRIBUTE = "pheu_settings"


def request_settings(request: Any) -> PheuSettings | None:
    """The installation's settings read with the request's token, in the authentication's own statement
    (None when the request was not authenticated by a token, or there is no settings row yet: the service
    then reads them). A lead creation passes them on: one round trip fewer."""
    return getattr(request.auth, SETTINGS_ATTRIBUTE, None)
