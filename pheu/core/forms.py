"""Form helpers shared by every page: Bootstrap styling, service errors onto fields, the note form, the
domain field."""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.urls import reverse_lazy
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from pheu.core.exceptions import PheuError
from pheu.core.fields import model_field
from pheu.core.models import PREDICTIVE_FIELD_LABELS, PREDICTIVE_FIELDS, HistoryEntry, PheuSettings
from pheu.core.services import SETTINGS_FIELDS, add_note
from pheu.lib.emails import with_display_name
from pheu.lib.phones import region_choices
from pheu.rules import DomainError
from pheu.rules.clean import clean_domain

FieldT = TypeVar("FieldT", bound=forms.Field)


def form_field(form: forms.BaseForm, name: str, kind: type[FieldT]) -> FieldT:
    """``form.fields[name]`` as the ``kind`` of field it is, e.g. a ``ModelChoiceField`` whose queryset is
    set per request (``form.fields`` holds plain ``Field``s)."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{type(form).__name__}.{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field


def _text(value: Any) -> str:
    """``value`` as HTML text, as the template language writes it (safe strings as they are)."""
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))


class PlainSelect(forms.Select):
    """A single-choice select written in Python, with the markup of Django's ``Select``.

    List filters offer every salesperson and tag: Django renders each option through two templates
    (≈ 0.2 ms an option), most of a list page's filter form. Selects that choose several values are left
    to Django.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        if self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        wanted = self.format_value(value)
        chosen = False
        parts = [f'<select name="{_text(name)}"{_attributes(self.build_attrs(self.attrs, attrs))}>']
        for group_value, group_label in self.choices:
            grouped = isinstance(group_label, list | tuple)
            if grouped:
                parts.append(f'<optgroup label="{_text(group_value)}">')
            for option_value, label in group_label if grouped else [(group_value, group_label)]:
                text = "" if option_value is None else str(option_value)
                selected = not chosen and text in wanted
                chosen = chosen or selected
                parts.append(
                    f'<option value="{_text(text)}"{" selected" if selected else ""}>{_text(label)}</option>'
                )
            if grouped:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # every value is escaped by _text


def _attributes(attrs: dict[str, Any]) -> str:
    return "".join(
        f" {name}" if value is True else f' {name}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def plain_selects(fields: Iterable[forms.Field]) -> None:
    """Write the fields' single selects with :class:`PlainSelect` (same markup, no templates)."""
    for field in fields:
        widget = field.widget
        if type(widget) is forms.Select:
            plain = PlainSelect(attrs=widget.attrs)
            plain.choices = widget.choices
            plain.is_required = widget.is_required
            field.widget = plain


def _css_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
        return "form-check-input"
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "form-select"
    return "form-control"


def style_fields(fields: Iterable[forms.Field]) -> None:
    """Give each field's widget its Bootstrap class (also used on forms built elsewhere, e.g. FilterSets)."""
    for field in fields:
        css = _css_class(field.widget)
        classes = field.widget.attrs.get("class", "").split()
        if css not in classes:
            field.widget.attrs["class"] = " ".join([*classes, css])


class BootstrapFormMixin:
    """Give widgets Bootstrap classes, and mark the fields with errors ``is-invalid``.

    Errors added after validation (``add_service_errors``) go through ``add_error`` as well, so a field
    refused by a service is highlighted exactly like one refused by the form.
    """

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self.fields.values())

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]  # a mixin: super() is the form it is mixed into
        for name in self.errors:  # type: ignore[attr-defined]  # a mixin: self is a form
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", "").split():
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()


class DisplayNameEmailMixin:
    """A form whose e-mail may be typed with its display name, ``Tên <x@y.vn>`` (as mail programs copy
    it): the form reads the address, and the name into ``display_name_field`` when that is empty."""

    display_name_field = "contact_name"

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None:
            instance = kwargs.get("instance")
            current = str(getattr(instance, self.display_name_field, "") or "") if instance else ""
            data = with_display_name(data, name=self.display_name_field, current=current)
        super().__init__(data, *args, **kwargs)  # type: ignore[call-arg]  # a mixin: super() is the form it is mixed into


# An e-mail input that takes ``Tên <x@y.vn>``: a browser refuses that in ``type="email"``.
def email_text_input() -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", "inputmode": "email"})


def add_service_errors(form: forms.BaseForm, error: PheuError) -> None:
    """Show a service's refusal on the form: each message next to its field, the rest above the form.

    A message about a field the form does not show (e.g. a stage requiring the expected revenue in the
    quick-create form) is shown above the form, prefixed with the field's label.
    """
    model: type[models.Model] | None = getattr(getattr(form, "_meta", None), "model", None)
    for name, messages in error.field_errors.items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
                continue
            label: Any = name
            if model is not None:
                with contextlib.suppress(FieldDoesNotExist):
                    label = model_field(model, name).verbose_name
            text = str(label)
            form.add_error(None, f"{text[:1].upper()}{text[1:]}: {message}")
    if not error.field_errors:
        form.add_error(None, error.message or str(error))


class NoteForm(BootstrapFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("Log a note…")}),
    )

    def submit(self, *, record: models.Model, author: Any) -> HistoryEntry | None:
        """Add the note to ``record``'s history; ``None`` (with errors on the form) when refused."""
        if not self.is_valid():
            return None
        try:
            return add_note(record=record, author=author, body=self.cleaned_data["body"])
        except PheuError as exc:
            add_service_errors(self, exc)
            return None


class FollowSettingSelect(forms.NullBooleanSelect):
    """A team's override of an installation setting: "Follow the general setting" (None), "Yes", "No"."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [
            ("unknown", _("Follow the general setting")),
            ("true", _("Yes")),
            ("false", _("No")),
        ]


def follow_setting_field(*, label: Any, general: bool, help_text: Any = "") -> forms.NullBooleanField:
    """The form field of a team's override; its help says what the general setting is now."""
    now = _("Yes") if general else _("No")
    note = _("General setting now: %(value)s.") % {"value": now}
    return forms.NullBooleanField(
        label=label,
        required=False,
        widget=FollowSettingSelect(attrs={"class": "form-select"}),
        help_text=f"{help_text} {note}".strip() if help_text else note,
    )


class SettingsForm(BootstrapFormMixin, forms.ModelForm):
    """The installation's settings page (managers and administrators); ``update_settings`` decides."""

    predictive_fields = forms.MultipleChoiceField(
        label=_("Variables of the predictive probability"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, PREDICTIVE_FIELD_LABELS[name]) for name in PREDICTIVE_FIELDS],
    )
    # The countries with phone numbers, named in the reader's language (a callable: read when shown).
    phone_region = forms.ChoiceField(
        label=_("Default phone region"),
        choices=region_choices,
        help_text=_(
            "Phone numbers typed without a country code (0912 345 678) are read as numbers of this country. "
            "Records keep the numbers they have; a change applies to those typed afterwards."
        ),
    )

    class Meta:
        model = PheuSettings
        fields = SETTINGS_FIELDS  # what the settings service changes

    GROUPS = (
        (_("Leads and assignment"), ("use_leads", "realtime_assignment", "merge_duplicates_on_assignment")),
        (_("Sales"), ("confirm_marks_won", "currency")),
        (_("Phone numbers"), ("phone_region",)),
        (_("Predictive probability"), ("predictive_fields", "probability_follows_prediction")),
        (_("Duplicates"), ("duplicate_show_threshold", "duplicate_merge_threshold")),
    )

    def grouped_fields(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


# --- the domain field ----------------------------------------------------------------------------------
# A rule typed as text, checked against a schema, with a live preview below it:
#
#     assignment_domain = DomainField(required=False)        # leads by default
#     DomainField(schema="lead")                              # a schema by its name (pheu.rules.registry)
#
# The widget is a monospace textarea that posts what is typed to ``leads:domain_preview`` (htmx, 400 ms after
# the last keystroke) and shows the answer in the panel under it: the problems, each naming its term and
# field, or the rule in words, how many of the leads the user may see match it, and a sample of them. The
# preview view reads the textarea by the name htmx sends (``HX-Trigger-Name``), so the widget works under any
# form prefix (admin inlines included). Pages need htmx and the CSRF header (``base.html`` sets both; the
# admin form adds them through its ``Media``). It lives here, below every app, because teams, scoring and
# assignment store rules too; the preview is named by its URL, so core imports no app.


class DomainWidget(forms.Textarea):
    """A monospace textarea with a live preview panel below it (see above)."""

    template_name = "core/widgets/domain.html"

    def __init__(
        self, attrs: dict[str, Any] | None = None, *, preview_url: Any = None, preview_on_load: bool = True
    ) -> None:
        defaults = {
            "rows": 3,
            "class": "form-control font-monospace domain-input",
            "spellcheck": "false",
            "autocomplete": "off",
            "autocapitalize": "off",
            "placeholder": "[['country_id', 'in', ['United States', 'Canada']]]",
        }
        super().__init__({**defaults, **(attrs or {})})
        self.preview_url = preview_url or reverse_lazy("leads:domain_preview")
        # A stored rule is previewed when the page opens (unless the page shows its problems already).
        self.preview_on_load = preview_on_load

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["preview_url"] = str(self.preview_url)
        context["widget"]["preview_on_load"] = self.preview_on_load and bool(str(value or "").strip())
        return context


class DomainField(forms.CharField):
    """A domain typed as JSON or a Python literal, checked against the schema registered as ``schema``.

    ``clean()`` returns the text to store (``pheu.rules.clean``: as typed, stripped; "" for the empty rule,
    which every record satisfies) and refuses a rule with problems, each problem's message on the field.
    """

    widget = DomainWidget

    def __init__(self, *, schema: str = "lead", **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Rule"))
        super().__init__(strip=True, **kwargs)
        self.schema = schema

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not text:
            return ""
        try:
            return clean_domain(text, self.schema).text
        except DomainError as exc:
            raise ValidationError(
                # Lazy messages: they render in the language of the page that shows them.
                [
                    # A lazy string, typed Promise by pheu.rules (django-stubs wants its _StrPromise).
                    ValidationError(problem.message, code=str(problem.code))
                    for problem in exc.problems
                ]
            ) from exc
