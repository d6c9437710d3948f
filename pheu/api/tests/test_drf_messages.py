"""The REST framework's own messages speak the session's language (Pheu's catalogue translates them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import rest_framework

from pheu.api.drf_messages import MESSAGES


def _drf_msgids() -> set[str]:
    found: set[str] = set()
    for path in Path(rest_framework.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "gettext_lazy"):
                found.update(
                    a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
    return found


def test_each_listed_message_is_exactly_one_of_drf():
    assert set(MESSAGES) - _drf_msgids() == set()


@pytest.mark.django_db
def test_a_vietnamese_session_reads_drf_messages_in_vietnamese(client, actors):
    client.force_login(actors.sales1)  # Vietnamese is the default language and the user's
    response = client.post(
        "/api/v1/leads/",
        {"name": "Máy lọc", "company_size": "nhiều", "stage": 999999},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "company_size": ["Cần một số nguyên hợp lệ."],
        "stage": ["Mã “999999” không hợp lệ: bản ghi không tồn tại."],
    }
    assert client.get("/api/v1/leads/?page=99").json() == {"detail": "Trang không hợp lệ."}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "detail"),
    [
        ("vi", "Chưa có thông tin xác thực (hãy đăng nhập hoặc gửi token)."),
        ("en-US,en;q=0.9", "Authentication credentials were not provided."),
        ("", "Chưa có thông tin xác thực (hãy đăng nhập hoặc gửi token)."),  # Pheu's default language
    ],
)
def test_an_api_client_gets_the_language_it_accepts(client, accept, detail):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    response = client.get("/api/v1/leads/", **headers)
    assert response.status_code in (401, 403) and response.json()["detail"] == detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "headers", "detail"),
    [
        ("en", {}, "Not found."),  # the token's user's language
        ("vi", {}, "Không tìm thấy."),
        ("en", {"HTTP_ACCEPT_LANGUAGE": "vi"}, "Không tìm thấy."),  # a language asked for wins
    ],
)
def test_a_token_client_reads_its_users_language_unless_it_asks_for_one(
    api_client, actors, language, headers, detail
):
    actors.sales1.language = language
    actors.sales1.save(update_fields=["language"])
    response = api_client(actors.sales1).get("/api/v1/leads/999999/", **headers)
    assert response.status_code == 404 and response.json()["detail"] == detail
