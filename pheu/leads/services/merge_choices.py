"""A person's choices in a merge: which record survives, and which record's value the survivor takes for a
field the records disagree on (issue 27). :func:`pheu.leads.services.merge.merge_leads` calls these two
functions; without choices the merge is the automatic one (SPEC section 6).

Nothing is lost: the merged-away records keep every value (inactive, never deleted), the survivor's history
lists each of their values, and a value of the survivor replaced by a chosen one is listed there too; the
merge's snapshot holds every row as it was, so an unmerge restores them whatever was chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from pheu.core.exceptions import PheuError
from pheu.leads.models import Lead
from pheu.leads.services.merge import ADDRESS_FIELDS, FILLED_FIELDS, MergeError
from pheu.leads.services.merge_snapshot import encode

# The address is chosen as one block, as the automatic merge moves it.
ADDRESS = "address"
# What a person may choose: the name, every field filled from the others, and the address.
CHOOSABLE_FIELDS: tuple[str, ...] = ("name", *FILLED_FIELDS, ADDRESS)


def _attname(field: str) -> str:
    concrete = Lead._meta.get_field(field)
    assert isinstance(concrete, models.Field)  # the choosable fields are concrete columns
    return concrete.attname


def _attnames(name: str) -> tuple[str, ...]:
    return tuple(_attname(field) for field in (ADDRESS_FIELDS if name == ADDRESS else (name,)))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def value_of(lead: Lead, name: str) -> tuple[Any, ...]:
    """The raw value(s) of choosable field ``name`` on ``lead`` (the address: its five parts)."""
    return tuple(getattr(lead, attname) for attname in _attnames(name))


def has_value(lead: Lead, name: str) -> bool:
    return not all(_empty(part) for part in value_of(lead, name))


def survivor_first(ordered: Sequence[Lead], survivor_id: int | None) -> list[Lead]:
    """``ordered`` (the automatic merge order) with the chosen survivor first, the others in their order;
    unchanged when none is chosen. Refused (MergeError) when the survivor is not one of the records."""
    if survivor_id is None:
        return list(ordered)
    chosen = [lead for lead in ordered if lead.pk == survivor_id]
    if not chosen:
        message = _("The record kept must be one of the records merged.")
        raise MergeError(message, code=MergeError.Code.NOT_FOUND, field_errors={"survivor": [message]})
    return [chosen[0], *(lead for lead in ordered if lead.pk != survivor_id)]


def check_value_choices(records: Sequence[Lead], choices: Mapping[str, int]) -> None:
    """Raise MergeError (``values`` field errors, nothing changed) for a field that cannot be chosen, a
    record that is not merged, or a record with no value for the field (its choice would empty it)."""
    by_id = {lead.pk: lead for lead in records}
    problems: list[str] = []
    for name, lead_id in choices.items():
        if name not in CHOOSABLE_FIELDS:
            problems.append(_("“%(field)s” cannot be chosen in a merge.") % {"field": name})
        elif lead_id not in by_id:
            problems.append(_("#%(id)s is not one of the records merged.") % {"id": lead_id})
        elif not has_value(by_id[lead_id], name):
            problems.append(
                _("#%(id)s has no value for “%(field)s”.") % {"id": lead_id, "field": _label(name)}
            )
    if problems:
        raise MergeError(problems[0], code=PheuError.Code.INVALID, field_errors={"values": problems})


def apply_value_choices(
    *, survivor: Lead, records: Sequence[Lead], choices: Mapping[str, int], display: Any
) -> list[dict[str, Any]]:
    """Give ``survivor`` the value of the record chosen for each field of ``choices`` (checked by
    :func:`check_value_choices`), after the automatic merge filled it and before it is saved. Returns, for
    its history, one change per value of the survivor's own that a choice replaced (``display(lead, field)``
    words a value), so that the history still shows it."""
    if not choices:
        return []
    by_id = {lead.pk: lead for lead in records}
    # The survivor as stored (not saved yet): its own values, not those the automatic merge gave it.
    own = Lead.objects.select_related(*(n for n in choices if n in _RELATIONS)).get(pk=survivor.pk)
    for name, lead_id in choices.items():
        donor = by_id[lead_id]
        for attname in _attnames(name):
            setattr(survivor, attname, getattr(donor, attname))
        if name == "user":
            survivor.assigned_at = donor.assigned_at
    rows = []
    for name in choices:
        for field in ADDRESS_FIELDS if name == ADDRESS else (name,):
            old, new = display(own, field), display(survivor, field)
            if _empty(old) or old == new:
                continue
            attname = _attname(field)
            rows.append({"field": field, "old": old, "new": new, "old_id": encode(getattr(own, attname)),
                         "new_id": encode(getattr(survivor, attname)), "record": survivor.pk})  # fmt: skip
    return rows


_RELATIONS = frozenset(
    field.name for field in Lead._meta.concrete_fields if isinstance(field, models.ForeignKey)
)


# --- the choices a merge page offers (read only) ----------------------------------------------------------
@dataclass(frozen=True)
class ValueOption:
    lead_id: int
    text: str  # the value as the page shows it


@dataclass(frozen=True)
class FieldChoice:
    """A field the records disagree on: the distinct values, each from the first record holding it, and
    the record whose value the automatic merge keeps (``default``)."""

    name: str
    label: str
    options: tuple[ValueOption, ...]
    default: int


def _shown(lead: Lead, name: str) -> str:
    if name == ADDRESS:
        return ", ".join(str(_shown(lead, part)) for part in ADDRESS_FIELDS if has_value(lead, part))
    field = Lead._meta.get_field(name)
    value = getattr(lead, name)
    if value is None:
        return ""
    if isinstance(field, models.Field) and field.choices and not isinstance(field, models.ForeignKey):
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _label(name: str) -> str:
    if name == ADDRESS:
        return _("Address")
    field = Lead._meta.get_field(name)
    return capfirst(str(getattr(field, "verbose_name", name)))


def _automatic(ordered: Sequence[Lead], name: str) -> int:
    if name == ADDRESS:  # the most complete address; max() keeps the first of equals
        return max(ordered, key=lambda lead: sum(has_value(lead, part) for part in ADDRESS_FIELDS)).pk
    return next((lead.pk for lead in ordered if has_value(lead, name)), ordered[0].pk)


def conflicting_fields(ordered: Sequence[Lead]) -> list[FieldChoice]:
    """The choosable fields on which ``ordered`` (survivor first) hold two or more different values."""
    choices = []
    for name in CHOOSABLE_FIELDS:
        options: dict[tuple[Any, ...], ValueOption] = {}
        for lead in ordered:
            if has_value(lead, name):
                options.setdefault(value_of(lead, name), ValueOption(lead.pk, _shown(lead, name)))
        if len(options) > 1:
            automatic = _automatic(ordered, name)
            kept = next(
                o.lead_id for key, o in options.items() if key == value_of(_by_id(ordered, automatic), name)
            )
            choices.append(FieldChoice(name, _label(name), tuple(options.values()), kept))
    return choices


def _by_id(leads: Sequence[Lead], pk: int) -> Lead:
    return next(lead for lead in leads if lead.pk == pk)
