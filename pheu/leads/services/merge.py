"""Merge of leads/opportunities, and its undo (SPEC section 6: nothing is lost, a merge can be undone).

The survivor is the most trustworthy record: active before inactive, opportunity before lead, the most
advanced stage (a won stage first, then the higher sequence), the higher probability, then the earliest
created (the lowest id breaks a tie). The records are ordered so, and each field of the survivor keeps its
value or takes the first non-empty value in that order; the address moves as one block from the record with
the most complete address; descriptions are concatenated under a header naming each source; tags are
unioned; priority is the highest; the survivor keeps its own status, stage, probability and lost reason.

Everything that points to a merged-away record moves to the survivor, found GENERICALLY: every foreign key
to ``Lead`` (``Lead._meta.related_objects``: activities, quotations, orders, page views… whatever the apps
add), every many-to-many (tags, and those of other apps: the survivor gets the union, the merged-away
records keep theirs) and every generic foreign key whose content type is ``Lead`` (history entries,
attachments). Rows whose foreign key is part of a uniqueness constraint stay where they are (moving them
could collide; the merged-away record keeps them, nothing is lost) and are named in the snapshot.

The ``Merge`` row stores a snapshot of every row changed, as it was, and the survivor's values right after
the merge. :func:`unmerge` puts every row back; a field of the survivor edited after the merge keeps the
later edit (it is reported, not overwritten).

Concurrency: the records are locked in id order (``SELECT … FOR UPDATE``) before anything is read, so two
merges of overlapping records run one after the other, and the second sees the first's result (a record
already merged away is refused).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from pheu.contacts.models import Partner
from pheu.core.exceptions import PermissionDeniedError, PheuError
from pheu.core.models import HistoryKind
from pheu.core.services import log_entry
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import EDITABLE_FIELDS, Lead, Merge, Stage
from pheu.leads.services.merge_snapshot import (
    AddedRows,
    KeptRows,
    LeadRow,
    MergeSnapshot,
    MovedRows,
    encode,
    lead_fields,
    lead_row,
)
from pheu.leads.services.steps import leads_changed
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.services import emit_event


class MergeError(PheuError):
    """Records cannot be merged (or a merge undone) as asked; ``code`` says why."""

    class Code(StrEnum):
        TOO_FEW = "too_few"
        SAME_RECORD = "same_record"
        NOT_FOUND = "not_found"
        ALREADY_MERGED = "already_merged"
        DIFFERENT_CUSTOMERS = "different_customers"
        ALREADY_UNDONE = "already_undone"
        LATER_MERGE = "later_merge"


# Fields that keep the survivor's value or take the first non-empty one, in the records' order.
FILLED_FIELDS: tuple[str, ...] = (
    "contact_name",
    "company_name",
    "partner",
    "email",
    "phone",
    "mobile",
    "website",
    "job_title",
    "language",
    "company_size",
    "industry",
    "team",
    "user",
    "amount",
    "expected_revenue",
    "expected_close_date",
    "rating",
    "campaign",
    "source",
    "medium",
)
# The address moves as one block.
ADDRESS_FIELDS: tuple[str, ...] = ("street", "street2", "city", "state", "zip", "country")
# What the survivor's history lists of each merged record (every field a person can see or set): the fields a
# person sets (EDITABLE_FIELDS, so a new editable field is logged without a list to update) but the switch
# ``auto_probability`` (a setting of the record, not its data), and the outcome Pheu sets that a person reads.
LOGGED_FIELDS: tuple[str, ...] = (
    *(name for name in EDITABLE_FIELDS if name != "auto_probability"),
    "won_status",
    "lost_reason",
)


@dataclass(frozen=True)
class MergeWarning:
    code: str  # "won": a won record was merged
    lead_id: int
    name: str

    def message(self) -> str:
        return _("“%(name)s” (#%(id)s) is won; it was merged too.") % {"name": self.name, "id": self.lead_id}

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "lead_id": self.lead_id, "name": self.name}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MergeWarning:
        return cls(data["code"], data["lead_id"], data["name"])


def merge_warnings(merge: Merge) -> list[MergeWarning]:
    return [MergeWarning.from_json(w) for w in merge.warnings]


# --- relations to Lead ------------------------------------------------------------------------------
def _attname(name: str) -> str:
    return _lead_field(name).attname


def _lead_field(name: str) -> models.Field[Any, Any]:
    field = Lead._meta.get_field(name)
    assert isinstance(field, models.Field)  # the names above are the lead's own concrete fields
    return field


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class _Link:
    """A foreign key to Lead on some model (or a generic one, ``content_type`` set)."""

    model: type[models.Model]
    attname: str  # the column holding the lead's id
    unique: bool  # part of a uniqueness constraint: rows are not moved
    content_type_attname: str = ""

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.attname}"


@dataclass(frozen=True)
class _ManyLink:
    """A many-to-many with Lead, by its through model."""

    through: type[models.Model]
    lead_attname: str
    other_attname: str

    @property
    def label(self) -> str:
        return f"{self.through._meta.label}.{self.lead_attname}"


def _in_unique(model: type[models.Model], field: models.Field[Any, Any]) -> bool:
    if field.unique:
        return True
    for names in model._meta.unique_together:
        if field.name in names:
            return True
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and field.name in (constraint.fields or ()):
            return True
    return False


@cache
def _links() -> tuple[tuple[_Link, ...], tuple[_ManyLink, ...]]:
    """Every relation to Lead in the project, found once from the app registry."""
    links: list[_Link] = []
    many: list[_ManyLink] = []
    rel: Any  # django-stubs type the relations' fields loosely (ForeignObject has no m2m_* names)
    for rel in Lead._meta.related_objects:
        if rel.related_model is Merge:
            continue  # the merge log keeps its records
        field: Any = rel.field  # on the other model
        if rel.many_to_many:
            many.append(
                _ManyLink(field.remote_field.through, field.m2m_reverse_name(), field.m2m_column_name())
            )
            continue
        model = rel.related_model
        links.append(_Link(model, field.attname, rel.one_to_one or _in_unique(model, field)))
    for m2m in Lead._meta.many_to_many:
        through: Any = m2m.remote_field.through
        many.append(_ManyLink(through, m2m.m2m_column_name(), m2m.m2m_reverse_name()))
    for model in apps.get_models():
        for private in model._meta.private_fields:
            if isinstance(private, GenericForeignKey):
                ct_field = model._meta.get_field(private.ct_field)
                assert isinstance(ct_field, models.ForeignKey)
                links.append(_Link(model, private.fk_field, False, content_type_attname=ct_field.attname))
    return tuple(links), tuple(many)


def _link_rows(link: _Link, lead_ids: Sequence[int], lead_ct: ContentType) -> models.QuerySet[models.Model]:
    rows = link.model._base_manager.filter(**{f"{link.attname}__in": list(lead_ids)})
    if link.content_type_attname:
        rows = rows.filter(**{link.content_type_attname: lead_ct.pk})
    return rows


# --- ordering -------------------------------------------------------------------------------------------
def _confidence_order(leads: Sequence[Lead], stages: dict[int, Stage]) -> list[Lead]:
    def key(lead: Lead) -> tuple[Any, ...]:
        stage = stages.get(lead.stage_id) if lead.stage_id else None
        stage_rank = (1, stage.is_won, stage.sequence) if stage else (0, False, 0)
        return (
            not lead.active,
            lead.type != LeadType.OPPORTUNITY,
            tuple(-x for x in stage_rank),
            -lead.probability,
            lead.created_at,
            lead.pk,
        )

    return sorted(leads, key=key)


def order_for_merge(leads: Sequence[Lead]) -> list[Lead]:
    """``leads`` in merge order: the survivor first, then the others by confidence (one query for stages)."""
    stage_ids = {lead.stage_id for lead in leads if lead.stage_id}
    stages = Stage.objects.in_bulk(stage_ids) if stage_ids else {}
    return _confidence_order(leads, stages)


def _partner_families(leads: Sequence[Lead]) -> set[int]:
    """The customers of ``leads``, a contact counted as its company."""
    partner_ids = {lead.partner_id for lead in leads if lead.partner_id}
    if not partner_ids:
        return set()
    return {
        parent_id or pk
        for pk, parent_id in Partner.objects.filter(pk__in=partner_ids).values_list("pk", "parent_id")
    }


def of_different_customers(leads: Sequence[Lead]) -> bool:
    """Whether merging ``leads`` needs the confirmation that they belong to different customers."""
    return len(_partner_families(leads)) > 1


# --- merge ----------------------------------------------------------------------------------------------
def _check_ids(ids: Sequence[int]) -> None:
    if len(set(ids)) != len(ids):
        raise MergeError(
            _("A record cannot be merged with itself."),
            code=MergeError.Code.SAME_RECORD,
            field_errors={"ids": [_("A record cannot be merged with itself.")]},
        )
    if len(ids) < 2:
        raise MergeError(
            _("Choose at least two records to merge."),
            code=MergeError.Code.TOO_FEW,
            field_errors={"ids": [_("Choose at least two records to merge.")]},
        )


# The largest id a record can have on either database: a larger one (`pheu merge` reads any integer) is no
# record's, and SQLite refuses to compare with it rather than find nothing.
MAX_ID = 2**63 - 1


def _lock(ids: Sequence[int]) -> list[Lead]:
    """The records, locked in id order (so that concurrent merges of overlapping records never deadlock)."""
    storable = [pk for pk in ids if 0 < pk <= MAX_ID]
    locked = list(Lead.objects.select_for_update().filter(pk__in=storable).order_by("pk"))
    missing = sorted(set(ids) - {lead.pk for lead in locked})
    if missing:
        message = _("Unknown record: %(ids)s.") % {"ids": ", ".join(f"#{pk}" for pk in missing)}
        raise MergeError(message, code=MergeError.Code.NOT_FOUND, field_errors={"ids": [message]})
    return locked


def _check_visible(actor: Any, ids: Sequence[int]) -> None:
    if actor is None:  # the system (assignment, CLI) acts for the installation
        return
    visible = set(Lead.objects.visible_to(actor).filter(pk__in=list(ids)).values_list("pk", flat=True))
    if visible != set(ids):
        raise PermissionDeniedError(_("You may not merge records you cannot edit."))


def check_merge(*, actor: Any, leads: Sequence[Lead], confirm_different_customers: bool = False) -> None:
    """Raise the :class:`MergeError` (or permission error) that :func:`merge_leads` would raise; read only.

    For previews: the merge page shows the problem before the user confirms."""
    ids = [lead.pk for lead in leads]
    _check_ids(ids)
    _check_visible(actor, ids)
    _check_mergeable(list(leads), confirm_different_customers)


def _check_mergeable(leads: list[Lead], confirm_different_customers: bool) -> None:
    merged_away = [lead for lead in leads if lead.merged_into_id is not None]
    if merged_away:
        message = _("“%(name)s” (#%(id)s) was already merged into #%(into)s.") % {
            "name": merged_away[0].name,
            "id": merged_away[0].pk,
            "into": merged_away[0].merged_into_id,
        }
        raise MergeError(message, code=MergeError.Code.ALREADY_MERGED, field_errors={"ids": [message]})
    if not confirm_different_customers and of_different_customers(leads):
        message = _("These records belong to different customers; confirm to merge them anyway.")
        raise MergeError(
            message,
            code=MergeError.Code.DIFFERENT_CUSTOMERS,
            field_errors={"confirm_different_customers": [message]},
        )


def _description(ordered: Sequence[Lead]) -> str | None:
    """The survivor's new description, or None when it keeps its own (no other record has one)."""
    parts = [lead for lead in ordered if lead.description and lead.description.strip()]
    if not any(lead.pk != ordered[0].pk for lead in parts):
        return None
    return "".join(
        format_html(
            '<p class="merge-source"><strong>{}</strong></p>{}',
            _("From “%(name)s” (#%(id)s)") % {"name": lead.name, "id": lead.pk},
            SafeString(lead.description),  # sanitised when it was stored (pheu.leads.services.records)
        )
        for lead in parts
    )


def _display(lead: Lead, name: str) -> Any:
    field = Lead._meta.get_field(name)
    if isinstance(field, models.ForeignKey):
        related = getattr(lead, name)
        return str(related) if related is not None else None
    return encode(getattr(lead, name))


def _logged_values(lead: Lead, survivor: Lead) -> list[dict[str, Any]]:
    """A merged record's non-empty fields, as history changes: "old" its value, "new" the survivor's."""
    rows = []
    for name in LOGGED_FIELDS:
        value = _display(lead, name)
        if _empty(value):
            continue
        raw = getattr(lead, _attname(name))
        kept = getattr(survivor, _attname(name))
        rows.append({"field": name, "old": value, "new": _display(survivor, name), "old_id": encode(raw),
                     "new_id": encode(kept), "record": lead.pk})  # fmt: skip
    return rows


def _lock_in_merge_order(actor: Any, leads: Sequence[Lead], confirm_different_customers: bool) -> list[Lead]:
    """Check the request, lock the records and check them: the records in merge order (survivor first)."""
    ids = [lead.pk for lead in leads]
    _check_ids(ids)
    locked = _lock(ids)
    _check_visible(actor, ids)
    _check_mergeable(locked, confirm_different_customers)
    return order_for_merge(locked)


def _fill_survivor(
    survivor: Lead, ordered: Sequence[Lead], choices: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Give the survivor the merged values (see the module's docstring), then the values a person chose
    (``choices``, :mod:`pheu.leads.services.merge_choices`), and save it; the history rows of the survivor's
    own values a choice replaced."""
    from pheu.leads.services import merge_choices  # it reads this module's field lists

    others = ordered[1:]
    for name in FILLED_FIELDS:
        attname = _attname(name)
        if not _empty(getattr(survivor, attname)):
            continue
        donor = next((lead for lead in others if not _empty(getattr(lead, attname))), None)
        if donor is not None:
            setattr(survivor, attname, getattr(donor, attname))
            if name == "user":
                survivor.assigned_at = donor.assigned_at
    address_from = max(
        ordered, key=lambda lead: sum(not _empty(getattr(lead, _attname(n))) for n in ADDRESS_FIELDS)
    )  # max() keeps the first of equals: the survivor, then the order of confidence
    for name in ADDRESS_FIELDS:
        setattr(survivor, _attname(name), getattr(address_from, _attname(name)))
    description = _description(ordered)
    if description is not None:
        survivor.description = description
    survivor.priority = max(lead.priority for lead in ordered)
    replaced = merge_choices.apply_value_choices(
        survivor=survivor, records=ordered, choices=choices, display=_display
    )
    survivor.save()
    return replaced


def _union_many_to_many(survivor: Lead, other_ids: Sequence[int]) -> tuple[AddedRows, ...]:
    """Many-to-many (tags and others): the survivor gets the union, the merged-away records keep theirs.
    Returns the rows added."""
    added = []
    for link in _links()[1]:
        manager = link.through._base_manager
        have = set(
            manager.filter(**{link.lead_attname: survivor.pk}).values_list(link.other_attname, flat=True)
        )
        wanted = set(
            manager.filter(**{f"{link.lead_attname}__in": other_ids}).values_list(
                link.other_attname, flat=True
            )
        )
        missing = sorted(wanted - have)
        if not missing:
            continue
        created = manager.bulk_create(
            [link.through(**{link.lead_attname: survivor.pk, link.other_attname: other}) for other in missing]
        )
        pks = [row.pk for row in created]
        if any(pk is None for pk in pks):  # a backend that does not return ids
            pks = list(
                manager.filter(
                    **{link.lead_attname: survivor.pk, f"{link.other_attname}__in": missing}
                ).values_list("pk", flat=True)
            )
        added.append(AddedRows(link.through._meta.label, tuple(pks)))
    return tuple(added)


def _move_links(
    survivor: Lead, ids: Sequence[int], other_ids: Sequence[int]
) -> tuple[tuple[MovedRows, ...], tuple[KeptRows, ...]]:
    """Move everything that points to a merged-away record to the survivor, but the rows a uniqueness
    constraint holds; the rows moved and those kept."""
    moved, kept = [], []
    lead_ct = ContentType.objects.get_for_model(Lead)
    for link in _links()[0]:
        rows = _link_rows(link, other_ids, lead_ct)
        if link.model is Lead:
            rows = rows.exclude(pk__in=list(ids))
        pairs = tuple((int(pk), int(old)) for pk, old in rows.values_list("pk", link.attname))
        if not pairs:
            continue
        if link.unique:
            kept.append(KeptRows(link.model._meta.label, link.attname, len(pairs)))
            continue
        moved.append(MovedRows(link.model._meta.label, link.attname, link.content_type_attname, pairs))
        link.model._base_manager.filter(pk__in=[pk for pk, _old in pairs]).update(
            **{link.attname: survivor.pk}
        )
    return tuple(moved), tuple(kept)


def _retire(survivor: Lead, other_ids: Sequence[int]) -> None:
    """The merged-away records: inactive, pointing to the survivor."""
    now = timezone.now()
    Lead.objects.filter(pk__in=list(other_ids)).update(active=False, merged_into=survivor.pk, updated_at=now)


def _record_merge(
    actor: Any, ordered: Sequence[Lead], snapshot: MergeSnapshot, logged: list[dict[str, Any]]
) -> Merge:
    """The Merge row, the history entries of every record, the scores, the webhook."""
    survivor, others = ordered[0], ordered[1:]
    other_ids = [lead.pk for lead in others]
    merge = Merge.objects.create(
        survivor=survivor,
        merged_ids=other_ids,
        snapshot=snapshot.to_json(),
        warnings=[
            MergeWarning("won", lead.pk, lead.name).to_json()
            for lead in ordered
            if lead.won_status == WonStatus.WON
        ],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    names = ", ".join(f"“{lead.name}” (#{lead.pk})" for lead in others)
    log_entry(
        record=survivor,
        kind=HistoryKind.SYSTEM,
        author=actor,
        body=_("Merged into this record: %(names)s (merge #%(merge)s).")
        % {"names": names, "merge": merge.pk},
        changes=logged,
    )
    for lead in others:
        log_entry(
            record=lead,
            kind=HistoryKind.SYSTEM,
            author=actor,
            body=_("Merged into “%(name)s” (#%(id)s) (merge #%(merge)s).")
            % {"name": survivor.name, "id": survivor.pk, "merge": merge.pk},
        )
    leads_changed(lead_ids=[lead.pk for lead in ordered])
    emit_event(
        event=WebhookEvent.LEAD_MERGED, record=survivor, context={"merge": merge.pk, "merged_ids": other_ids}
    )
    return merge


@transaction.atomic
def merge_leads(
    *,
    actor: Any,
    leads: Sequence[Lead],
    confirm_different_customers: bool = False,
    survivor_id: int | None = None,
    values: Mapping[str, int] | None = None,
) -> Merge:
    """Merge ``leads`` (2 or more) into the most trustworthy of them; return the :class:`Merge`.

    A person's choices (:mod:`pheu.leads.services.merge_choices`): ``survivor_id`` the record kept instead
    of the most trustworthy; ``values`` field → id of the record whose value the survivor takes ("address"
    for the address block), applied after the automatic merge.

    ``actor`` None is the system (no permission check). Refused, with nothing changed: fewer than two records,
    a record given twice, an unknown record, one the actor may not edit, one already merged away, and records
    of different customers unless ``confirm_different_customers``. Won records are merged; the Merge's
    ``warnings`` name them so that the user is told.
    """
    from pheu.leads.services import merge_choices  # it reads this module's field lists

    ordered = merge_choices.survivor_first(
        _lock_in_merge_order(actor, leads, confirm_different_customers), survivor_id
    )
    merge_choices.check_value_choices(ordered, values or {})
    survivor, others = ordered[0], ordered[1:]
    ids, other_ids = [lead.pk for lead in leads], [lead.pk for lead in others]
    before = tuple(LeadRow.of(lead) for lead in ordered)
    replaced = _fill_survivor(survivor, ordered, values or {})
    # Each merged record's values, next to what the survivor holds now ("its value → kept value"); first
    # the survivor's own values a person's choice replaced.
    logged = [*replaced, *(entry for lead in others for entry in _logged_values(lead, survivor))]
    added = _union_many_to_many(survivor, other_ids)
    moved, kept = _move_links(survivor, ids, other_ids)
    _retire(survivor, other_ids)
    survivor.refresh_from_db()
    snapshot = MergeSnapshot(leads=before, moved=moved, kept=kept, added=added, after=lead_row(survivor))
    return _record_merge(actor, ordered, snapshot, logged)


# --- unmerge --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unmerge:
    """What an unmerge did: the merge (now undone), the records restored, and the survivor's fields that were
    edited after the merge and so kept their later value."""

    merge: Merge
    lead_ids: tuple[int, ...]
    kept_fields: tuple[str, ...]


def _lock_for_unmerge(actor: Any, merge_id: int) -> tuple[Merge, dict[int, Lead]]:
    """The merge and its records (the survivor first), locked, once checked that it may be undone."""
    merge = Merge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None:
        message = _("Unknown merge: #%(id)s.") % {"id": merge_id}
        raise MergeError(message, code=MergeError.Code.NOT_FOUND, field_errors={"merge_id": [message]})
    if merge.is_undone:
        message = _("Merge #%(id)s was already undone.") % {"id": merge.pk}
        raise MergeError(message, code=MergeError.Code.ALREADY_UNDONE, field_errors={"merge_id": [message]})
    locked = {lead.pk: lead for lead in _lock([merge.survivor_id, *merge.merged_ids])}
    _check_visible(actor, [merge.survivor_id])
    survivor = locked[merge.survivor_id]
    later = Merge.objects.filter(survivor_id=survivor.pk, undone_at__isnull=True, pk__gt=merge.pk).first()
    if survivor.merged_into_id is not None or later is not None:
        message = _("These records were merged again since (merge #%(id)s); undo that merge first.") % {
            "id": later.pk if later else "?"
        }
        raise MergeError(message, code=MergeError.Code.LATER_MERGE, field_errors={"merge_id": [message]})
    return merge, locked


def _edited_since(snapshot: MergeSnapshot, survivor: Lead) -> list[str]:
    """The survivor's fields a person changed after the merge: they keep their later value."""
    current = lead_row(survivor)
    return [name for name in EDITABLE_FIELDS if current[_attname(name)] != snapshot.after.get(_attname(name))]


def _restore_leads(snapshot: MergeSnapshot, locked: dict[int, Lead], survivor: Lead, kept: list[str]) -> None:
    """Every record's row as before the merge, but the survivor's later edits (its keys computed again)."""
    restored = []
    for row in snapshot.leads:
        lead = row.to_lead(locked[row.lead_id])
        if lead.pk == survivor.pk:
            for name in kept:
                setattr(lead, _attname(name), getattr(survivor, _attname(name)))
            lead.normalize()
        restored.append(lead)
    Lead.objects.bulk_update(restored, [f.attname for f in lead_fields()])


def _move_back(snapshot: MergeSnapshot, survivor: Lead) -> None:
    """Delete the rows the merge added; put the rows it moved back on their records."""
    for added in snapshot.added:
        apps.get_model(added.model)._base_manager.filter(pk__in=list(added.pks)).delete()
    for moved in snapshot.moved:
        model = apps.get_model(moved.model)
        by_old: dict[int, list[int]] = defaultdict(list)
        for pk, old in moved.rows:
            by_old[old].append(pk)
        for old, pks in by_old.items():
            # Only rows still on the survivor: one moved elsewhere since stays where it was put.
            model._base_manager.filter(pk__in=pks, **{moved.field: survivor.pk}).update(**{moved.field: old})


def _record_unmerge(actor: Any, merge: Merge, locked: dict[int, Lead]) -> None:
    """The merge marked undone, the history entries of every record, the scores."""
    merge.undone_at = timezone.now()
    merge.undone_by = actor if getattr(actor, "is_authenticated", False) else None
    merge.save(update_fields=["undone_at", "undone_by"])
    log_entry(
        record=locked[merge.survivor_id],
        kind=HistoryKind.SYSTEM,
        author=actor,
        body=_("Merge #%(merge)s undone: %(names)s restored.")
        % {"merge": merge.pk, "names": ", ".join(f"#{pk}" for pk in merge.merged_ids)},
    )
    for pk in merge.merged_ids:
        log_entry(
            record=locked[pk],
            kind=HistoryKind.SYSTEM,
            author=actor,
            body=_("Restored: merge #%(merge)s into #%(id)s undone.")
            % {"merge": merge.pk, "id": merge.survivor_id},
        )
    leads_changed(lead_ids=[merge.survivor_id, *merge.merged_ids])


@transaction.atomic
def unmerge(*, actor: Any, merge_id: int) -> Unmerge:
    """Undo merge ``merge_id``: every record, field, link and history entry back as before the merge.

    Refused, with nothing changed: an unknown merge, one already undone, one whose survivor was merged again
    since (undo that merge first), or a survivor the actor may not edit. A field of the survivor edited since
    the merge keeps its later value (listed in ``kept_fields``); links moved elsewhere since stay there.
    Reads every snapshot stored so far (:class:`MergeSnapshot`).
    """
    merge, locked = _lock_for_unmerge(actor, merge_id)
    survivor = locked[merge.survivor_id]
    snapshot = MergeSnapshot.from_json(merge.snapshot)
    kept = _edited_since(snapshot, survivor)
    _restore_leads(snapshot, locked, survivor, kept)
    _move_back(snapshot, survivor)
    _record_unmerge(actor, merge, locked)
    return Unmerge(merge=merge, lead_ids=(merge.survivor_id, *merge.merged_ids), kept_fields=tuple(kept))
