"""API of duplicates, conversion and merge of leads (SPEC section 12).

- ``GET leads/{id}/duplicates/``: the similar records with the reason of each match;
- ``POST leads/{id}/convert/``: lead → opportunity, with a customer, optionally merging duplicates;
- ``POST leads/merge/`` (``{"ids": [...]}``) → the survivor with ``merge_id``; ``POST leads/unmerge/``.

Records are found through ``Lead.objects.visible_to(user)``: one the user may not see is a 404 in the path and
"unknown" in a body, so that the API never tells that it exists. Writes go through the services.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.accounts.models import User
from pheu.contacts.models import Partner
from pheu.leads.api.serializers import LeadSerializer
from pheu.leads.duplicates import DuplicateMatch, Reason, find_duplicates
from pheu.leads.matching import Field
from pheu.leads.models import Lead, Merge
from pheu.leads.services.convert import CustomerChoice, convert_lead
from pheu.leads.services.merge import MergeError, merge_leads, merge_warnings, unmerge
from pheu.teams.models import Team


def _visible(request: Request) -> QuerySet[Lead]:
    return Lead.objects.visible_to(request.user)


def _resolve(request: Request, ids: list[int], field: str) -> list[Lead]:
    """The records of ``ids`` in the given order (repeats kept: the service names them), or a 400 naming
    the ids the user does not know."""
    found = _visible(request).in_bulk(set(ids))
    unknown = [pk for pk in dict.fromkeys(ids) if pk not in found]
    if unknown:
        message = _("Unknown record: %(ids)s.") % {"ids": ", ".join(f"#{pk}" for pk in unknown)}
        raise MergeError(message, code=MergeError.Code.NOT_FOUND, field_errors={field: [message]})
    return [found[pk] for pk in ids]


# --- serializers ----------------------------------------------------------------------------------------
# An id as the database holds it (a 64-bit integer): found by the schema fuzzer, a larger one reached SQLite
# ("Python int too large to convert to SQLite INTEGER", a 500); now it is a 400 naming the field.
MAX_ID = 2**63 - 1


def record_id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class MatchReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[r.value for r in Reason])
    label = serializers.CharField(help_text="The reason in words, in the request's language.")  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields
    score = serializers.IntegerField(
        help_text="100 for an exact key; the similarity (0–100) for a name; the probability for `similar`."
    )
    value = serializers.CharField(help_text="The shared key (e-mail, number, customer id, domain), if any.")


class EvidenceSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=[f.value for f in Field])
    level = serializers.CharField(help_text="same, close, fair, partial, different… (per field).")
    similarity = serializers.FloatField(help_text="0–1, for the levels compared by similarity.")
    weight = serializers.FloatField(help_text="Its match weight (log2 odds): positive for, negative against.")
    label = serializers.CharField(help_text="The comparison in words, in the request's language.")  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields


class DuplicateMatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="lead_id")
    name = serializers.CharField()
    score = serializers.IntegerField(help_text="The match probability in percent.")
    probability = serializers.FloatField(help_text="The match probability (0–1).")
    lost = serializers.BooleanField(help_text="A lost record: listed, never proposed for merge.")
    propose_merge = serializers.BooleanField(
        help_text="The probability reaches the installation's “propose merge” threshold."
    )
    reasons = MatchReasonSerializer(many=True)
    evidence = EvidenceSerializer(many=True, help_text="Each comparison of the two records, strongest first.")


class DuplicatesSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = DuplicateMatchSerializer(many=True)


class ConvertSerializer(serializers.Serializer):
    customer = serializers.ChoiceField(
        choices=[c.value for c in CustomerChoice],
        default=CustomerChoice.NONE,
        help_text="create: a company and/or contact from the lead's fields; link: `partner`; none.",
    )
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(), required=False, allow_null=True
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, help_text="Default: the lead's team."
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="The salesperson. Default: the lead's, else the requesting user.",
    )
    merge = serializers.ListField(
        child=record_id(), required=False, default=list, help_text="Records to merge into it."
    )
    confirm_different_customers = serializers.BooleanField(default=False)


class MergeSerializer(serializers.Serializer):
    ids = serializers.ListField(child=record_id(), help_text="Two or more records.")
    confirm_different_customers = serializers.BooleanField(
        default=False, help_text="Needed when the records belong to different customers."
    )
    survivor = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The record kept (one of `ids`). Default: the most trustworthy.",
    )
    values = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        default=dict,
        help_text="Field → id of the record whose value the survivor takes, for fields the records disagree "
        'on (`"address"` for the address block), e.g. `{"email": 12, "address": 14}`. Default: the '
        "survivor's value, else the first found.",
    )


class MergeResultSerializer(serializers.Serializer):
    merge_id = serializers.IntegerField()
    merged_ids = serializers.ListField(child=serializers.IntegerField())
    warnings = serializers.ListField(child=serializers.CharField(), help_text="E.g. a won record was merged.")
    survivor = LeadSerializer()


class UnmergeSerializer(serializers.Serializer):
    merge_id = record_id()


class UnmergeResultSerializer(serializers.Serializer):
    merge_id = serializers.IntegerField()
    lead_ids = serializers.ListField(child=serializers.IntegerField(), help_text="The records restored.")
    kept_fields = serializers.ListField(
        child=serializers.CharField(), help_text="Fields of the survivor edited since the merge: kept."
    )


def match_data(match: DuplicateMatch) -> dict[str, Any]:
    return {
        "lead_id": match.lead_id,
        "name": match.name,
        "score": match.score,
        "probability": round(match.probability, 4),
        "lost": match.lost,
        "propose_merge": match.propose,
        "reasons": [{**r.as_dict(), "label": r.label} for r in match.reasons],
        "evidence": [e.as_dict() for e in match.evidence],
    }


# --- views ----------------------------------------------------------------------------------------------
class LeadDuplicatesView(APIView):
    @extend_schema(
        operation_id="leads_duplicates",
        tags=["leads"],
        summary="The records similar to this one, with the reason and evidence of each match",
        description="Same e-mail, same phone (phone or mobile), same customer or company, same company "
        "e-mail domain (never a public provider's), same company name, or a match probability at the "
        "installation's “show as similar” threshold (a Fellegi–Sunter model over names, e-mail, phones, "
        "company and address; `evidence` gives the weight of each comparison). Active and lost records "
        "the user may see, likeliest first.",
        responses={200: DuplicatesSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        lead = get_object_or_404(_visible(request), pk=pk)
        matches = find_duplicates(lead, queryset=_visible(request))
        data = {"count": len(matches), "results": [match_data(m) for m in matches]}
        return Response(DuplicatesSerializer(data).data)


class LeadConvertView(APIView):
    @extend_schema(
        operation_id="leads_convert",
        tags=["leads"],
        summary="Convert a lead into an opportunity",
        description="Team and salesperson default to the lead's; the opportunity enters its team's first "
        "stage. `merge` lists duplicates merged into it (the survivor is returned).",
        request=ConvertSerializer,
        responses={200: LeadSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = get_object_or_404(_visible(request), pk=pk)
        params = ConvertSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        values = dict(params.validated_data)
        merge = _resolve(request, values.pop("merge"), "merge")
        result = convert_lead(actor=request.user, lead=lead, merge=merge, **values)
        return Response(LeadSerializer(Lead.objects.prefetch_related("tags").get(pk=result.pk)).data)


class LeadMergeView(APIView):
    @extend_schema(
        operation_id="leads_merge",
        tags=["leads"],
        summary="Merge two or more records into the most trustworthy of them",
        description="The survivor is chosen by confidence (active, opportunity, stage, probability, "
        "earliest created), unless `survivor` names it; `values` chooses, per field, the record whose "
        "value it keeps. "
        "Nothing is lost and the merge can be undone with `leads/unmerge/`.",
        request=MergeSerializer,
        responses={200: MergeResultSerializer},
    )
    def post(self, request: Request) -> Response:
        params = MergeSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        leads = _resolve(request, params.validated_data["ids"], "ids")
        merge = merge_leads(
            actor=request.user,
            leads=leads,
            confirm_different_customers=params.validated_data["confirm_different_customers"],
            survivor_id=params.validated_data["survivor"],
            values=params.validated_data["values"],
        )
        data = {
            "merge_id": merge.pk,
            "merged_ids": merge.merged_ids,
            "warnings": [w.message() for w in merge_warnings(merge)],
            "survivor": Lead.objects.prefetch_related("tags").get(pk=merge.survivor_id),
        }
        return Response(MergeResultSerializer(data).data)


class LeadUnmergeView(APIView):
    @extend_schema(
        operation_id="leads_unmerge",
        tags=["leads"],
        summary="Undo a merge: every record, field, link and history entry back as before",
        request=UnmergeSerializer,
        responses={200: UnmergeResultSerializer},
    )
    def post(self, request: Request) -> Response:
        params = UnmergeSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        merge_id = params.validated_data["merge_id"]
        if not Merge.objects.filter(pk=merge_id, survivor__in=_visible(request)).exists():
            # A merge of records the user may not see is unknown to them, as on the page (never a 403
            # that would tell it exists).
            message = _("Unknown merge: #%(id)s.") % {"id": merge_id}
            raise MergeError(message, code=MergeError.Code.NOT_FOUND, field_errors={"merge_id": [message]})
        result = unmerge(actor=request.user, merge_id=merge_id)
        data = {"merge_id": result.merge.pk, "lead_ids": result.lead_ids, "kept_fields": result.kept_fields}
        return Response(UnmergeResultSerializer(data).data, status=status.HTTP_200_OK)
