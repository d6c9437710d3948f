"""Forms of capture: the public web form (also reading the JSON endpoint's body), the team's form
settings, mailboxes and the .eml upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import linebreaks
from django.utils.translation import gettext_lazy as _

from pheu.capture.models import Mailbox
from pheu.capture.services import HONEYPOT_FIELD, VISITOR_FIELD
from pheu.capture.services.mail import MAX_MESSAGE_BYTES
from pheu.contacts.countries import find_country
from pheu.contacts.models import Country
from pheu.core.forms import BootstrapFormMixin, form_field
from pheu.lib.emails import with_display_name
from pheu.teams.models import Team


class WebLeadForm(BootstrapFormMixin, forms.Form):
    """What a visitor sends. Every field is optional here; the service asks for a name and a way to answer.
    ``country``: an ISO code (``VN``) or a name in Vietnamese or English; ``description``: plain text."""

    contact_name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Your message"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    # The need, which names the lead ("Báo giá 50 máy lọc nước"); without it the lead takes the person's name.
    name = forms.CharField(label=_("What do you need?"), max_length=200, required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=40, required=False)
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    street = forms.CharField(label=_("Street"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    state = forms.CharField(label=_("State / province"), max_length=100, required=False)
    zip = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    country = forms.CharField(label=_("Country"), max_length=100, required=False)

    # The fields the hosted page and the snippet show; the others are accepted from custom forms.
    SHOWN = ("contact_name", "email", "phone", "company_name", "name", "description")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.input_type = "email"
        self.fields["phone"].widget.input_type = "tel"

    def clean_country(self) -> Country | None:
        text = self.cleaned_data["country"].strip()
        if not text:
            return None
        found = find_country(text)
        if found is None:
            raise forms.ValidationError(_("Unknown country: write its name or its code, e.g. VN."))
        return found

    def clean_description(self) -> str:
        text = self.cleaned_data["description"].strip()
        return linebreaks(text, autoescape=True) if text else ""

    def shown_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.SHOWN]


def web_form_data(data: Any) -> tuple[dict[str, Any], str, str]:
    """(the form's data, the visitor id, the honeypot) from a posted QueryDict or a decoded JSON object;
    values that are not text (numbers, lists) are given as text so that the form reports them."""
    if hasattr(data, "dict"):
        data = data.dict()
    if not isinstance(data, dict):
        return {}, "", ""
    values = {str(k): v if isinstance(v, str) else ("" if v is None else str(v)) for k, v in data.items()}
    values = dict(with_display_name(values))  # "Tên <x@y.vn>": the address, and the name when none is given
    return values, values.pop(VISITOR_FIELD, ""), values.pop(HONEYPOT_FIELD, "")


class WebFormSettingsForm(BootstrapFormMixin, forms.Form):
    allowed_origins = forms.CharField(
        label=_("Sites allowed to post with JavaScript"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.example.vn"}),
        help_text=_("One address a line. A plain HTML form works from any site without this."),
    )
    redirect_url = forms.CharField(
        label=_("Thank-you page"),
        max_length=500,
        required=False,
        help_text=_("Where visitors go after sending the form. Empty: Pheu's own thank-you page."),
    )


class MailboxForm(BootstrapFormMixin, forms.ModelForm):
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted. Leave empty to keep the current one."),
    )

    class Meta:
        model = Mailbox
        fields = ["name", "team", "host", "port", "use_tls", "username", "password", "folder", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "team", forms.ModelChoiceField).queryset = Team.objects.filter(active=True)

    def values(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name in self.Meta.fields}


class EmlUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("E-mail file (.eml)"))
    team = forms.ModelChoiceField(
        label=_("Sales team"),
        queryset=Team.objects.filter(active=True),
        required=False,
        help_text=_("Empty: your team, or the team whose alias received the e-mail."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_MESSAGE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": MAX_MESSAGE_BYTES >> 20}
            )
        return upload
