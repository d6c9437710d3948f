"""Writes of saved lead filters.

A saved filter is private: only its owner lists, opens or deletes it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.utils.translation import gettext as _

from pheu.accounts.models import User
from pheu.leads.exceptions import SavedFilterError
from pheu.leads.models import SavedFilter

NAME_MAX_LENGTH = SavedFilter._meta.get_field("name").max_length or 100
QUERY_MAX_LENGTH = 4000
# Parameters that say where the user is in the list, not what is filtered.
_NOT_SAVED = frozenset({"page"})


def normalize_query_string(query_string: str) -> str:
    """The query string to store: without a leading "?", the page number and empty parameters."""
    pairs = parse_qsl(query_string.lstrip("?"), keep_blank_values=True)
    return urlencode([(key, value) for key, value in pairs if value.strip() and key not in _NOT_SAVED])


def create_saved_filter(*, actor: User, name: str, query_string: str) -> SavedFilter:
    """Save the list's ``query_string`` as ``actor``'s filter ``name``.

    Saving under a name the actor already uses replaces that filter's query string (one name, one filter).
    Raises :class:`SavedFilterError` (``INVALID``, field errors on ``name``/``query_string``).
    """
    name = " ".join(name.split())
    query = normalize_query_string(query_string)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the filter a name.")]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [_("At most %(max)d characters.") % {"max": NAME_MAX_LENGTH}]
    if len(query) > QUERY_MAX_LENGTH:
        errors["query_string"] = [_("This filter is too long to save.")]
    if errors:
        raise SavedFilterError(code=SavedFilterError.Code.INVALID, field_errors=errors)
    with transaction.atomic():
        saved, _created = SavedFilter.objects.update_or_create(
            user=actor, name=name, defaults={"query_string": query}
        )
    return saved


def delete_saved_filter(*, actor: User, saved_filter: SavedFilter) -> None:
    """Delete one of ``actor``'s saved filters; :class:`SavedFilterError` (``FORBIDDEN``) for another's."""
    if saved_filter.user_id != actor.pk:
        raise SavedFilterError(_("This saved filter is not yours."), code=SavedFilterError.Code.FORBIDDEN)
    with transaction.atomic():
        saved_filter.delete()
