"""Service errors as API answers: 403 for every refusal of permission, 400 for the rest."""

from __future__ import annotations

from pheu.activities.exceptions import ActivityError
from pheu.api.errors import exception_handler
from pheu.core.exceptions import PermissionDeniedError, PheuError


def test_a_refusal_of_any_service_is_403_and_other_service_errors_are_400():
    refused = ActivityError("You may not work on this record.", code=PheuError.Code.FORBIDDEN)
    assert exception_handler(refused, {}).status_code == 403
    assert exception_handler(PermissionDeniedError("No."), {}).status_code == 403
    invalid = exception_handler(PheuError(field_errors={"name": ["Required."]}), {})
    assert (invalid.status_code, invalid.data) == (400, {"name": ["Required."]})
