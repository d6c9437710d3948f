"""``POST /api/v1/auth/token/``: exchange a username and password for the user's API token.

The password check is the log-in page's (``pheu.accounts.services.authenticate_user``), so the failed-login
lock-out counts API attempts too; a refusal is a 400 ``{"detail", "code": "invalid" | "locked"}``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from pheu.accounts.services import authenticate_user, issue_api_token


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        read_only=True, help_text=gettext_lazy("Send it as the header “Authorization: Token …”.")
    )


class TokenThrottle(AnonRateThrottle):
    """Guessing passwords is slowed per client address (the account lock-out guards each account)."""

    scope = "auth"
    rate = getattr(settings, "PHEU_API_AUTH_RATE", "30/min")


class ObtainTokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        # 400 (a missing field, wrong credentials, a locked account) and 429 as every error: pheu.api.schema.
        responses={200: TokenSerializer},
        auth=[],
        summary="Get the API token of a user",
    )
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = authenticate_user(
            request=request._request,
            username=form.validated_data["username"],
            password=form.validated_data["password"],
        )
        return Response({"token": issue_api_token(user=user)})
