"""Pages of the pipeline's configuration, for sales managers and administrators: stages (list, create, edit,
reorder by drag and drop) and lost reasons. Writes go through the services; others get a 403."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pheu.core.exceptions import PheuError
from pheu.core.fields import model_field
from pheu.core.forms import BootstrapFormMixin, add_service_errors, form_field
from pheu.core.views import manager_required
from pheu.leads.models import Lead, LostReason, Stage
from pheu.leads.services import create_stage, update_stage
from pheu.leads.services.pipeline import create_lost_reason, reorder_stages, update_lost_reason
from pheu.leads.services.records import REQUIRABLE_FIELDS
from pheu.teams.models import Team


class StageForm(BootstrapFormMixin, forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Required fields"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Fields that must be filled before a record enters this stage."),
    )

    class Meta:
        model = Stage
        fields = [
            "name",
            "team",
            "sequence",
            "probability",
            "is_won",
            "folded",
            "rotting_days",
            "required_fields",
            "requirements",
        ]
        widgets = {"requirements": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "required_fields", forms.ChoiceField).choices = [
            (name, str(model_field(Lead, name).verbose_name).capitalize()) for name in REQUIRABLE_FIELDS
        ]
        team = form_field(self, "team", forms.ModelChoiceField)
        team.queryset = Team.objects.filter(active=True)
        team.empty_label = _("Shared by all teams")


class LostReasonForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = LostReason
        fields = ["name", "active"]

    def validate_unique(self) -> None:  # the service checks, whatever the case
        pass


@manager_required
def stage_list(request: HttpRequest) -> HttpResponse:
    stages = Stage.objects.select_related("team").order_by("team__name", "sequence", "id")
    return render(request, "leads/pipeline/stages.html", {"stages": stages})


def _stage_form(request: HttpRequest, stage: Stage | None) -> HttpResponse:
    form = StageForm(request.POST or None, instance=stage)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in StageForm.Meta.fields}
        try:
            if stage is None:
                saved = create_stage(actor=request.user, values=values)
            else:
                saved = update_stage(actor=request.user, stage=stage, values=values)
        except PheuError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The stage “%(name)s” was saved.") % {"name": saved.name})
            return redirect("leads:stage_list")
    return render(request, "leads/pipeline/stage_form.html", {"form": form, "stage": stage})


@manager_required
def stage_create(request: HttpRequest) -> HttpResponse:
    return _stage_form(request, None)


@manager_required
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _stage_form(request, get_object_or_404(Stage, pk=pk))


@manager_required
@require_POST
def stage_reorder(request: HttpRequest) -> HttpResponse:
    """The stages' new order after a drag and drop: ``stages`` = ids in order (a JSON list or repeated)."""
    raw = request.POST.getlist("stages")
    try:
        ids = [int(pk) for pk in (json.loads(raw[0]) if len(raw) == 1 and raw[0].startswith("[") else raw)]
        reorder_stages(actor=request.user, stage_ids=ids)
    except (ValueError, TypeError, PheuError):
        return HttpResponse(_("The order could not be saved; reload the page."), status=422)
    return HttpResponse(status=204)


@manager_required
def lost_reason_list(request: HttpRequest) -> HttpResponse:
    reasons = LostReason.objects.order_by("-active", "name")
    return render(request, "leads/pipeline/lost_reasons.html", {"reasons": reasons})


def _lost_reason_form(request: HttpRequest, reason: LostReason | None) -> HttpResponse:
    form = LostReasonForm(request.POST or None, instance=reason)
    if request.method == "POST" and form.is_valid():
        values = {"name": form.cleaned_data["name"], "active": form.cleaned_data["active"]}
        try:
            if reason is None:
                saved = create_lost_reason(actor=request.user, values=values)
            else:
                saved = update_lost_reason(actor=request.user, lost_reason=reason, values=values)
        except PheuError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The lost reason “%(name)s” was saved.") % {"name": saved.name})
            return redirect("leads:lost_reason_list")
    return render(request, "leads/pipeline/lost_reason_form.html", {"form": form, "reason": reason})


@manager_required
def lost_reason_create(request: HttpRequest) -> HttpResponse:
    return _lost_reason_form(request, None)


@manager_required
def lost_reason_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _lost_reason_form(request, get_object_or_404(LostReason, pk=pk))
