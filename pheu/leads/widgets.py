"""The domain field: a rule typed as text, checked against a schema, with a live preview below it.

    assignment_domain = DomainField(required=False)        # leads by default
    DomainField(schema="lead")                              # a schema by its name (pheu.rules.registry)

The widget is a monospace textarea that posts what is typed to ``leads:domain_preview`` (htmx, 400 ms after
the last keystroke) and shows the answer in the panel under it: the problems, each naming its term and field,
or the rule in words, how many of the leads the user may see match it, and a sample of them. The preview
view reads the textarea by the name htmx sends (``HX-Trigger-Name``), so the widget works under any form
prefix (admin inlines included). Pages need htmx and the CSRF header (``base.html`` sets both; the admin
form adds them through its ``Media``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from pheu.rules import DomainError
from pheu.rules.clean import clean_domain


class DomainWidget(forms.Textarea):
    """A monospace textarea with a live preview panel below it (see the module docstring)."""

    template_name = "leads/widgets/domain.html"

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
                [ValidationError(problem.message, code=str(problem.code)) for problem in exc.problems]
            ) from exc
