"""Forms of the scoring pages: they parse input into the values the scoring services take."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pheu.core.forms import BootstrapFormMixin, DomainField, DomainWidget, form_field
from pheu.core.models import PREDICTIVE_FIELDS
from pheu.scoring.models import ScoringRule
from pheu.scoring.services import MAX_POINTS, RULE_FIELDS
from pheu.scoring.services.prediction import VARIABLE_LABELS


class ScoringRuleForm(BootstrapFormMixin, forms.ModelForm):
    """A scoring rule: name, the leads it selects (domain field with live preview), points, decay window,
    active and sequence. The service checks again (and re-scores)."""

    domain = DomainField(
        required=False,
        label=_("Rule"),
        help_text=_("The leads that get the points; empty: all of them."),
    )
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MAX_POINTS,
        max_value=MAX_POINTS,
        help_text=_("Negative to take points away."),
    )

    class Meta:
        model = ScoringRule
        fields = list(RULE_FIELDS)
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "window_days": forms.NumberInput(attrs={"min": 1, "placeholder": _("all")}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The domain's own preview (reading, count, sample); the page's impact panel follows the whole form.
        self.fields["domain"].widget = DomainWidget(attrs={"rows": 3}, preview_on_load=not self.errors)
        form_field(self, "window_days", forms.IntegerField).min_value = 1

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in RULE_FIELDS}


class ImpactForm(forms.Form):
    """What the impact preview reads from the rule form as it is being typed (nothing is saved)."""

    domain = forms.CharField(required=False, strip=True)
    points = forms.IntegerField(required=False, min_value=-MAX_POINTS, max_value=MAX_POINTS)
    window_days = forms.IntegerField(required=False, min_value=1)
    active = forms.BooleanField(required=False)


class PredictionSettingsForm(BootstrapFormMixin, forms.Form):
    predictive_fields = forms.MultipleChoiceField(
        label=_("Variables the model learns from"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, VARIABLE_LABELS[name]) for name in PREDICTIVE_FIELDS],
    )
    probability_follows_prediction = forms.BooleanField(
        label=_("The probability follows the prediction"),
        required=False,
        help_text=_(
            "Records whose probability is automatic take the predicted probability instead of their stage's."
        ),
    )
