"""Forms of the import wizard: upload, then the column mapping with the run options."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pheu.core.forms import BootstrapFormMixin
from pheu.imports.choices import ImportKind
from pheu.imports.mapping import field_choices
from pheu.teams.models import Team


class UploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"))
    kind = forms.ChoiceField(label=_("Import as"), choices=ImportKind.choices, initial=ImportKind.LEADS)
    team = forms.ModelChoiceField(
        label=_("Default sales team"),
        queryset=Team.objects.filter(active=True),
        required=False,
        help_text=_("For rows without a team."),
    )


class MappingForm(BootstrapFormMixin, forms.Form):
    """One choice per column of the file (``column_<position>``), then the run options."""

    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, help_text=_("Check everything and write nothing.")
    )
    atomic = forms.BooleanField(
        label=_("All or nothing"), required=False, help_text=_("Import nothing if any row has an error.")
    )

    def __init__(self, *args: Any, headers: list[str], mapping: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— not imported —")), *field_choices()]
        self.columns = []
        for position, header in enumerate(headers):
            name = f"column_{position}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(n)s") % {"n": position + 1},
                choices=choices,
                required=False,
                initial=mapping.get(str(position), ""),
            )
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
            self.columns.append(name)

    def column_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.columns]

    def mapping(self) -> dict[str, str]:
        return {
            name.removeprefix("column_"): self.cleaned_data[name]
            for name in self.columns
            if self.cleaned_data.get(name)
        }
