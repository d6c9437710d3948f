"""Why a cell could not be imported, or why a run failed: a code and its parameters, worded when read.

An import stores its problems as :class:`Reason` codes, never as text: whoever reads them — on the page, in
the API (``Accept-Language``, else the user's language), at the command line (``--lang``/``LANG``), in the
error report — reads them in their own language, not in the language of the one who ran the import.
``word`` turns a code and its parameters into a sentence in the active language. A parameter may itself be
a reason (``{"code": …, "params": …}``), worded in the same language ("Tag left out: At most 60
characters."). A code this version does not know is worded as the text stored with it (reports written
before the codes), else shown as the code itself: a report never fails to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from pheu.leads.choices import CustomerType, LeadPriority, LeadRating, LeadType
from pheu.lib.text import text_key

# The choice columns of an import: the names a cell may hold (code or label, in either language).
CHOICE_FIELDS: dict[str, Any] = {
    "type": LeadType,
    "rating": LeadRating,
    "customer_type": CustomerType,
    "priority": LeadPriority,
}

# Code → sentence. The parameters are those of the sentence, except ``not_a_choice``'s ``field`` (a key of
# CHOICE_FIELDS: the values are listed in the reader's language). Codes are stored: never rename one.
REASONS: dict[str, Promise] = {
    # a cell (ImportIssue)
    "name_required": _("Name is required."),
    "duplicate_external_id": _("Already on row %(row)s."),
    "too_long": _("At most %(n)s characters."),
    "cut": _("At most %(n)s characters: the rest was left out."),
    "invalid_email": _("Not a valid e-mail address: kept as typed, not used to find duplicates."),
    "invalid_phone": _("Not a valid phone number: kept as typed, not used to find duplicates."),
    "not_a_choice": _("Expected one of: %(values)s. Left out."),
    "unknown_language": _("Expected a language code such as vi or en. Left out."),
    "unknown_country": _("No country of this code or name. Left out."),
    "unknown_team": _("No sales team of this name: the default team was given."),
    "unknown_user": _("No active user of this login or name."),
    "unknown_stage": _("No stage of this name."),
    "not_a_number": _("Not a number."),
    "not_a_date": _("Not a date (use YYYY-MM-DD or DD/MM/YYYY)."),
    "not_employees": _("Expected a whole number of employees."),
    "probability_range": _("The probability is between 0 and 100."),
    "negative": _("Must not be negative."),
    "too_large": _("Too large."),
    "left_out": _("%(reason)s Left out."),
    "tag_left_out": _("Tag left out: %(reason)s"),
    # a run (Import.message)
    "nothing_imported": _("Nothing was imported: %(n)s rows have errors (all or nothing)."),
    "database_stopped": _("The database stopped the import; nothing was imported. Run it again. (%(error)s)"),
    # a file that cannot be read (readers)
    "empty_file": _("The file is empty."),
    "line_too_long": _(
        "Line %(line)s is longer than %(max)s characters: the file is not a CSV file of records."
    ),
    "wrong_encoding": _(
        "The file is not in %(encoding)s after row %(row)s; save it as UTF-8 and import it again."
    ),
    "unreadable_row": _("Row %(row)s cannot be read: %(error)s."),
    "not_a_spreadsheet": _("The file is neither CSV nor a readable XLSX workbook."),
    "no_header_row": _("The file has no header row."),
}


@dataclass(frozen=True)
class Reason:
    """A code of :data:`REASONS` and its parameters (JSON values, or reasons). ``str()`` words it in the
    active language."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.code in REASONS, self.code  # a typo in a code would be shown to users as the code

    def as_json(self) -> dict[str, Any]:
        """The parameters as stored (nested reasons as ``{"code": …, "params": …}``)."""
        return {
            k: {"code": v.code, "params": v.as_json()} if isinstance(v, Reason) else v
            for k, v in self.params.items()
        }

    def __str__(self) -> str:
        return word(self.code, self.as_json())


def choice_list(choices: Any) -> str:
    """The values a choice column takes, as the reader names them, with the code after a name that is not
    the code itself: "Lạnh (cold), Ấm (warm), Nóng (hot)" in Vietnamese, "Cold, Warm, Hot" in English."""
    return ", ".join(
        str(label) if text_key(str(label)) == text_key(str(value)) else f"{label} ({value})"
        for value, label in choices.choices
    )


def word(code: str, params: Mapping[str, Any] | None = None, *, fallback: str = "") -> str:
    """The sentence of ``code`` with ``params``, in the active language; ``fallback`` (the text stored
    before codes) when there is no code, or one this version cannot word."""
    template = REASONS.get(code) if code else None
    if template is None:
        return fallback or code
    values: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if isinstance(value, Mapping) and "code" in value:
            value = word(str(value["code"]), value.get("params"), fallback=str(value.get("text", "")))
        values[name] = value
    try:
        if code == "not_a_choice":
            values["values"] = choice_list(CHOICE_FIELDS[values["field"]])
        return str(template) % values
    except (KeyError, TypeError, ValueError):  # parameters of another version: never fail a report
        return fallback or str(template)
