"""API representations of capture: mailboxes (the password is write-only), the form key, .eml uploads."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from pheu.capture.models import Mailbox
from pheu.capture.services.mail import MAX_MESSAGE_BYTES
from pheu.teams.models import Team


class MailboxSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=500,
        help_text=_("Stored encrypted, never returned. Required on create; empty keeps the stored one."),
    )
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False)

    class Meta:
        model = Mailbox
        fields = [
            "id",
            "name",
            "team",
            "host",
            "port",
            "use_tls",
            "username",
            "password",
            "folder",
            "active",
            "last_error",
            "last_fetched_at",
            "created_at",
        ]
        read_only_fields = ["id", "last_error", "last_fetched_at", "created_at"]


class FetchResultSerializer(serializers.Serializer):
    mailbox = serializers.IntegerField()
    name = serializers.CharField()
    new_leads = serializers.IntegerField()
    replies = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields


class FormKeySerializer(serializers.Serializer):
    form_key = serializers.CharField(read_only=True)
    form_url = serializers.CharField(read_only=True, help_text=_("The address to post the form to."))


class EmlUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("The message as an .eml file (RFC 5322), at most 25 MB."))
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(active=True),
        required=False,
        allow_null=True,
        help_text=_("Team of a new lead. Absent: the uploader's, or the team whose alias received it."),
    )

    def validate_file(self, upload: Any) -> Any:
        # Refused by its size before it is read: Django keeps a large upload in a temporary file.
        if upload.size > MAX_MESSAGE_BYTES:
            raise serializers.ValidationError(
                _("The message is larger than %(mb)d MB.") % {"mb": MAX_MESSAGE_BYTES >> 20}
            )
        return upload


class EmlResultSerializer(serializers.Serializer):
    lead = serializers.IntegerField(help_text=_("The lead created, or the one the reply was added to."))
    created = serializers.BooleanField()
    reply = serializers.BooleanField()
    duplicate = serializers.BooleanField(help_text=_("The message (its Message-ID) was imported before."))
