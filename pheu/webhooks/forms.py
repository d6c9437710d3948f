"""The endpoint form of the webhooks pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pheu.core.forms import BootstrapFormMixin
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.services import ENDPOINT_FIELDS


class EndpointForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https", help_text=_("Pheu sends a POST request here.")
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        label=_("Secret"),
        max_length=200,
        required=False,
        help_text=_(
            "Signs every request (X-Pheu-Signature). Empty: a new endpoint gets a random one; a saved one "
            "keeps its own."
        ),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ENDPOINT_FIELDS if name in self.cleaned_data}
