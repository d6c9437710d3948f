"""What views need to answer htmx requests: partial detection and the note-posting response."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string

from pheu.core.forms import NoteForm
from pheu.core.models import HistoryEntry


def is_htmx(request: HttpRequest) -> bool:
    """A request made by htmx to swap part of a page (not a history restore, which wants the whole page)."""
    headers = request.headers
    return headers.get("HX-Request") == "true" and not headers.get("HX-History-Restore-Request")


def wants_partial(request: HttpRequest, target: str) -> bool:
    """An htmx request whose answer replaces the element with id ``target``."""
    return is_htmx(request) and request.headers.get("HX-Target") == target


def note_response(
    request: HttpRequest, *, form: NoteForm, entry: HistoryEntry | None, note_url: str, record_url: str
) -> HttpResponse:
    """Answer a posted note.

    htmx: the new history line (prepended to ``#history``) with a fresh note form swapped out of band;
    refused: the form with its errors in place of the old one. Without htmx: back to the record's page.
    """
    if not is_htmx(request):
        if entry is None:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))  # an ErrorList yields its messages as text
        return redirect(record_url)
    if entry is None:
        html = render_to_string("includes/note_form.html", {"note_form": form, "note_url": note_url}, request)
        response = HttpResponse(html)
        response["HX-Retarget"] = "#note-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    html = render_to_string("includes/history_entry.html", {"entry": entry}, request)
    html += render_to_string(
        "includes/note_form.html", {"note_form": NoteForm(), "note_url": note_url, "oob": True}, request
    )
    return HttpResponse(html)
