"""Forms of the lead pages: they parse input into the values the lead services take."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ChoiceIterator

from pheu.accounts.models import User
from pheu.accounts.permissions import assignable_users
from pheu.contacts.models import Country, Partner, Tag
from pheu.core.forms import (
    BootstrapFormMixin,
    DisplayNameEmailMixin,
    DomainWidget,
    email_text_input,
    form_field,
    plain_selects,
    style_fields,
)
from pheu.core.models import PheuSettings
from pheu.leads.choices import CustomerType, LeadType
from pheu.leads.models import Campaign, Lead, Medium, Source, Stage
from pheu.teams.models import Team
from pheu.teams.services import first_team_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The full form, in the order and groups the page shows it.
FORM_GROUPS = (
    (
        _("Contact"),
        ("type", "name", "contact_name", "job_title", "email", "phone", "mobile", "website", "language"),
    ),
    (
        _("Company and address"),
        (
            "company_name",
            "partner",
            "street",
            "city",
            "state",
            "zip",
            "country",
            "company_size",
            "industry",
        ),
    ),
    (
        _("Pipeline and money"),
        (
            "team",
            "user",
            "stage",
            "probability",
            "auto_probability",
            "expected_revenue",
            "amount",
            "expected_close_date",
            "rating",
            "priority",
            "customer_type",
            "tags",
        ),
    ),
    (_("Marketing"), ("campaign", "source", "medium")),
    (_("Description"), ("description",)),
)
FORM_FIELDS: tuple[str, ...] = tuple(name for _title, names in FORM_GROUPS for name in names)
# A change of one of these alone must not override what the service derives (stage probability).
_DERIVED_UNLESS_CHANGED = ("probability", "auto_probability")


def _with_current(queryset: QuerySet[Any], current_id: Any) -> QuerySet[Any]:
    """``queryset`` plus the record's current value, so that editing never silently drops it."""
    if current_id in (None, ""):
        return queryset
    return queryset.model.objects.filter(Q(pk__in=queryset.values("pk")) | Q(pk=current_id))


def _pk_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def countries_by_name() -> QuerySet[Country]:
    """Countries sorted by their name in the active language."""
    return Country.objects.order_by("name_vi" if translation.get_language() == "vi" else "name_en")


class CountryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Country) -> str:
        return obj.name


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return f"{obj.name} ({obj.team.name})" if obj.team is not None else obj.name


class LeadForm(DisplayNameEmailMixin, BootstrapFormMixin, forms.ModelForm):
    """The full lead/opportunity form (create and edit).

    ``actor`` is the person filling it in: the salesperson choices are the people they may assign
    (``assignable_users``), plus the record's current salesperson. The lead services still decide.
    The customer select renders only the chosen customer; the search box above it fetches others.
    """

    GROUPS = FORM_GROUPS

    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", "---------"), *settings.LANGUAGES]
    )

    class Meta:
        model = Lead
        fields = FORM_FIELDS
        field_classes = {"country": CountryChoiceField, "stage": StageChoiceField}
        widgets = {
            "expected_close_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
            "tags": forms.CheckboxSelectMultiple,
            "email": email_text_input(),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "mobile": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        lead = self.instance
        fields = self.fields

        def choice(name: str) -> forms.ModelChoiceField[Any]:
            return form_field(self, name, forms.ModelChoiceField)

        choice("user").queryset = _with_current(assignable_users(actor), lead.user_id)
        # A new record is the creator's (initial_for) unless they leave it to the assignment rules.
        choice("user").empty_label = _("Leave to automatic assignment")
        choice("team").queryset = _with_current(Team.objects.filter(active=True), lead.team_id)
        choice("stage").queryset = Stage.objects.select_related("team").order_by("team_id", "sequence", "id")
        choice("country").queryset = countries_by_name()
        choice("tags").queryset = Tag.objects.all()
        for name, model in (("campaign", Campaign), ("source", Source), ("medium", Medium)):
            current = getattr(lead, f"{name}_id")
            choice(name).queryset = _with_current(model.objects.filter(active=True), current)
        choice("partner").queryset = _with_current(Partner.objects.active(), lead.partner_id)
        # Render only the chosen customer: there may be many thousands (the search box fetches others).
        chosen = Q(pk=_pk_or_none(self["partner"].value()))  # pk=None: no customer chosen, no row
        fields["partner"].widget.choices = [("", "---------")] + [
            (p.pk, str(p)) for p in Partner.objects.filter(chosen).select_related("parent")
        ]

    def grouped_fields(self) -> list[tuple[StrOrPromise, list[forms.BoundField]]]:
        return [
            (title, [self[name] for name in names if name in self.fields]) for title, names in self.GROUPS
        ]

    def values_to_create(self) -> dict[str, Any]:
        """Every field as typed, except a probability left untouched (the stage gives it)."""
        data = self.cleaned_data
        return {
            name: data[name]
            for name in self.fields
            if name != "tags" and (name not in _DERIVED_UNLESS_CHANGED or name in self.changed_data)
        }

    def values_to_update(self) -> dict[str, Any]:
        """Only what the person changed, so that a concurrent edit of another field is not overwritten."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name != "tags"}

    def tags_to_update(self) -> list[Tag] | None:
        return list(self.cleaned_data["tags"]) if "tags" in self.changed_data else None

    @staticmethod
    def initial_for(*, actor: User, partner: Partner | None = None, lead_type: str = "") -> dict[str, Any]:
        """The starting values of a new record: the actor and their first team, and, when it is created
        from a customer's page, the customer's contact details."""
        team = first_team_of(actor)
        if lead_type not in LeadType.values:
            lead_type = LeadType.LEAD if PheuSettings.load().use_leads else LeadType.OPPORTUNITY
        initial: dict[str, Any] = {
            "user": actor.pk,
            "team": team.pk if team else None,
            "type": lead_type,
        }
        if partner is not None:
            company = partner if partner.is_company else partner.parent
            initial.update(
                {
                    "partner": partner.pk,
                    # Made from a customer's page: a customer already, not "New customer".
                    "customer_type": CustomerType.EXISTING,
                    "contact_name": "" if partner.is_company else partner.name,
                    "company_name": company.name if company else "",
                    "job_title": partner.job_title,
                    "language": partner.language,
                    **{
                        name: getattr(partner, name)
                        for name in (
                            "email",
                            "phone",
                            "mobile",
                            "website",
                            "street",
                            "city",
                            "state",
                            "zip",
                            "country_id",
                        )
                    },
                }
            )
            initial["country"] = initial.pop("country_id")
        return initial


class QuickLeadForm(DisplayNameEmailMixin, BootstrapFormMixin, forms.ModelForm):
    """The few fields of the "+" button; the service fills in the rest (salesperson, team, type)."""

    class Meta:
        model = Lead
        fields = ("name", "contact_name", "email", "phone", "expected_revenue")
        widgets = {
            "name": forms.TextInput(attrs={"autofocus": True}),
            "email": email_text_input(),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }


def prepare_filter_form(form: forms.Form, names: tuple[str, ...]) -> list[forms.BoundField]:
    """The list page's filters from the shared FilterSet's form: Bootstrap classes, and "All" as the
    empty choice (the API's form says "---------")."""
    style_fields(form.fields[name] for name in names)
    plain_selects(form.fields[name] for name in names)
    for name in names:
        field = form.fields[name]
        if isinstance(field, forms.ModelChoiceField):
            field.empty_label = _("All")
        elif isinstance(getattr(field, "choices", None), ChoiceIterator):
            # django-filter's ChoiceField adds its ``empty_label`` when its choices are read: relabel it, and
            # bind the choices to this copy of the field (they still point at the FilterSet's base field).
            filter_field: Any = field  # django-filter's fields are untyped
            filter_field.empty_label = _("All")
            filter_field.choices = filter_field.choices.choices
        elif isinstance(field, forms.ChoiceField):
            # django-stubs types the property by what its setter takes; read, it is the normalised list.
            choices = list(field.choices)  # type: ignore[arg-type]  # read, the choices property is the normalised list
            if choices and choices[0][0] == "":
                field.choices = [("", _("All")), *choices[1:]]
    return [form[name] for name in names]


class SavedFilterForm(BootstrapFormMixin, forms.Form):
    """The name under which the list's current filter is saved (the query string travels beside it)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Name of this filter"), "autocomplete": "off"}),
    )


def prepare_domain_filter(form: forms.Form) -> forms.BoundField:
    """The list's advanced filter: the FilterSet's ``domain`` shown with the domain widget. A rule the
    FilterSet refused is marked invalid, and not previewed on load (its problems are listed under it)."""
    invalid = "domain" in form.errors
    attrs: dict[str, Any] = {"rows": 2}
    if invalid:
        attrs["class"] = "form-control font-monospace domain-input is-invalid"
    form.fields["domain"].widget = DomainWidget(attrs=attrs, preview_on_load=not invalid)
    return form["domain"]
