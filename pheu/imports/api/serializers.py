"""API representations of imports."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pheu.core.api.serializers import COUNT
from pheu.imports.choices import ImportKind
from pheu.imports.models import Import, ImportIssue
from pheu.imports.services import progress_counters, progress_of, unmapped_columns
from pheu.teams.models import Team


class ImportCountersSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    total = serializers.IntegerField()
    phase = serializers.CharField()
    rows_per_second = serializers.FloatField()
    seconds_left = serializers.FloatField(allow_null=True)


class ImportSerializer(serializers.ModelSerializer):
    # Plain strings in the schema: "kind" names other choice sets elsewhere in the API.
    kind = serializers.CharField(read_only=True, help_text=_("leads | opportunities"))
    status = serializers.CharField(
        read_only=True, help_text=_("uploaded | queued | running | done | failed | reverted")
    )
    progress = serializers.SerializerMethodField(help_text=_("Rows read so far."))
    counters = serializers.SerializerMethodField(
        help_text=_(
            "While it runs: rows read, rows the file holds (estimated until read), the step (read, write, "
            "duplicates, scoring, assignment), rows per second and seconds left (null when unknown)."
        )
    )
    not_imported = serializers.SerializerMethodField(
        help_text=_("Headers of the columns mapped to no field: they are not imported.")
    )
    message = serializers.CharField(
        read_only=True,
        help_text=_(
            "Why the import failed or wrote nothing, in the language of the request; empty: all went well."
        ),
    )
    message_code = serializers.CharField(
        read_only=True,
        help_text=_(
            "The message as a code (e.g. nothing_imported, database_stopped, wrong_encoding); empty "
            "when there is no message, or for imports run before codes."
        ),
    )

    class Meta:
        model = Import
        fields = [
            "id",
            "kind",
            "status",
            "file_name",
            "file_format",
            "encoding",
            "delimiter",
            "headers",
            "mapping",
            "not_imported",
            "team",
            "dry_run",
            "atomic",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "reverted_at",
            "total_rows",
            "progress",
            "counters",
            "created_count",
            "updated_count",
            "error_count",
            "warning_count",
            "duplicate_count",
            "message",
            "message_code",
        ]
        read_only_fields = fields

    def get_progress(self, run: Import) -> int:
        return progress_of(run)

    @extend_schema_field(ImportCountersSerializer)
    def get_counters(self, run: Import) -> dict[str, Any]:
        return progress_counters(run).as_dict()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_not_imported(self, run: Import) -> list[str]:
        return unmapped_columns(run)


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV (any delimiter; UTF-8, UTF-16, Windows-1258) or XLSX."))
    kind = serializers.CharField(default=ImportKind.LEADS, help_text=_("leads | opportunities"))

    def validate_kind(self, value: str) -> str:
        if value not in ImportKind.values:
            raise serializers.ValidationError(_("Expected leads or opportunities."))
        return value

    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, help_text=_("For rows without a team.")
    )
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text=_("Column position → field name; guessed from the headers when absent."),
    )
    dry_run = serializers.BooleanField(default=False)
    atomic = serializers.BooleanField(default=False, help_text=_("Import nothing if any row has an error."))
    start = serializers.BooleanField(
        default=True, help_text=_("Start at once; with false the import waits (see its headers and mapping).")
    )


class ImportStartSerializer(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    dry_run = serializers.BooleanField(default=False)
    atomic = serializers.BooleanField(default=False)


class ImportIssueSerializer(serializers.ModelSerializer):
    level = serializers.CharField(
        read_only=True,
        help_text=_(
            "error (the row was not imported) | warning (imported; the value kept as typed or left out)"
        ),
    )
    reason = serializers.CharField(read_only=True, help_text=_("Why, in the language of the request."))
    code = serializers.CharField(
        read_only=True,
        help_text=_(
            "Why, as a code (e.g. unknown_user, invalid_email, not_a_choice); empty for errors reported "
            "before codes."
        ),
    )
    params = serializers.DictField(
        read_only=True, help_text=_("The code's parameters (e.g. the row an external id is already on).")
    )

    class Meta:
        model = ImportIssue
        fields = ["level", "row", "column", "value", "reason", "code", "params"]
        extra_kwargs = {"row": COUNT}
