"""Forms of the customer pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils import translation

from pheu.contacts.models import Country, Partner, Tag
from pheu.contacts.services import EDITABLE_FIELDS
from pheu.core.forms import BootstrapFormMixin, DisplayNameEmailMixin, email_text_input, form_field


class CountryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Country) -> str:
        return obj.name


class PartnerForm(DisplayNameEmailMixin, BootstrapFormMixin, forms.ModelForm):
    """A company or a person. The company select renders only the chosen one; its search box finds others.
    An e-mail typed ``Tên <x@y.vn>`` names a customer left without a name."""

    display_name_field = "name"

    class Meta:
        model = Partner
        fields = (*EDITABLE_FIELDS, "tags")
        field_classes = {"country": CountryChoiceField}
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "tags": forms.CheckboxSelectMultiple,
            "email": email_text_input(),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "mobile": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partner = self.instance
        parents = Partner.objects.companies().active()
        if partner.parent_id:
            parents = Partner.objects.filter(Q(pk__in=parents.values("pk")) | Q(pk=partner.parent_id))
        form_field(self, "parent", forms.ModelChoiceField).queryset = parents
        form_field(self, "country", forms.ModelChoiceField).queryset = Country.objects.order_by(
            "name_vi" if translation.get_language() == "vi" else "name_en"
        )
        form_field(self, "tags", forms.ModelChoiceField).queryset = Tag.objects.all()
        try:
            chosen = int(self["parent"].value())
        except (TypeError, ValueError):
            chosen = None
        # There may be many thousands of companies: render the chosen one, the search box fetches others.
        self.fields["parent"].widget.choices = [("", "---------")] + [
            (p.pk, str(p))
            for p in Partner.objects.filter(Q(pk=chosen))  # None: no row
        ]

    def values(self) -> dict[str, Any]:
        """What the person changed (all fields for a new customer), without the tags."""
        names = self.changed_data if self.instance.pk else self.fields
        return {name: self.cleaned_data[name] for name in names if name != "tags"}

    def tags(self) -> list[Tag] | None:
        if self.instance.pk and "tags" not in self.changed_data:
            return None
        return list(self.cleaned_data["tags"])
