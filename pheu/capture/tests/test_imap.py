"""E-mail to lead against a real IMAP server (dovecot, started by the tests): fetch, threading, failure and
retry, server errors, the command and the periodic job."""

from __future__ import annotations

import base64
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import translation

from pheu.capture.models import Mailbox, MailMessage
from pheu.capture.services import fetch_mailbox, fetch_mailboxes
from pheu.capture.services import mail as mail_services
from pheu.capture.testing import ImapServer, build_message, make_mailbox
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.models import Lead


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages and history texts are written in the active language; these tests read them in English."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(imap_server: ImapServer, actors) -> Mailbox:
    return make_mailbox(
        name="Hộp thư bán hàng",
        team=actors.north,
        host=imap_server.host,
        port=imap_server.port,
        use_tls=False,
        username=imap_server.username,
        password=imap_server.password,
        folder=imap_server.new_folder(),
    )


def test_password_is_stored_encrypted(mailbox, imap_server):
    stored = Mailbox.objects.get(pk=mailbox.pk)
    assert imap_server.password not in stored.password_encrypted
    assert stored.get_password() == imap_server.password


def test_fetch_turns_unseen_messages_into_leads_and_marks_them_seen(mailbox, imap_server):
    subject_b = "=?UTF-8?B?" + base64.b64encode("Đặt lịch demo tuần sau".encode()).decode() + "?="
    imap_server.deliver(mailbox.folder, build_message(subject="Cần báo giá CRM cho 50 người"))
    imap_server.deliver(
        mailbox.folder,
        build_message(
            raw_subject=subject_b,
            sender="=?UTF-8?Q?L=C3=AA_V=C4=83n_C=C6=B0=E1=BB=9Dng?= <cuong@vinatex-example.vn>",
            text=None,
            html="<div>Lịch <i>thứ ba</i></div><script>steal()</script>",
            attachments=[("sơ đồ.png", "image/png", b"\x89PNG\r\n")],
        ),
    )
    result = fetch_mailbox(mailbox=mailbox)
    assert (result.new_leads, result.replies, result.failed, result.errors) == (2, 0, 0, [])
    first, second = Lead.objects.order_by("id")
    assert first.name == "Cần báo giá CRM cho 50 người" and first.team == mailbox.team
    assert (second.name, second.contact_name, second.email) == (
        "Đặt lịch demo tuần sau",
        "Lê Văn Cường",
        "cuong@vinatex-example.vn",
    )
    assert second.description == "<div>Lịch <i>thứ ba</i></div>"
    assert list(second.attachments.values_list("filename", "size")) == [("sơ đồ.png", 6)]
    assert imap_server.unseen(mailbox.folder) == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.last_fetched_at is not None
    again = fetch_mailbox(mailbox=mailbox)
    assert (again.new_leads, again.failed) == (0, 0)
    assert Lead.objects.count() == 2


def test_replies_are_threaded_into_the_history(mailbox, imap_server):
    imap_server.deliver(mailbox.folder, build_message(message_id="<q1@vinamilk-example.vn>"))
    fetch_mailbox(mailbox=mailbox)
    lead = Lead.objects.get()
    imap_server.deliver(
        mailbox.folder,
        build_message(
            subject="Re: Cần báo giá",
            in_reply_to="<q1@vinamilk-example.vn>",
            references=["<q1@vinamilk-example.vn>"],
            text="Chúng tôi đồng ý với báo giá.",
        ),
    )
    imap_server.deliver(mailbox.folder, build_message(subject=f"Fwd: hợp đồng [#{lead.pk}]", text="Gửi lại."))
    result = fetch_mailbox(mailbox=mailbox)
    assert (result.new_leads, result.replies) == (0, 2)
    assert Lead.objects.count() == 1
    bodies = [entry.body for entry in history_of(lead) if entry.kind == HistoryKind.EMAIL]
    assert len(bodies) == 3
    assert any("Chúng tôi đồng ý với báo giá." in body for body in bodies)
    assert MailMessage.objects.filter(lead=lead, kind=MailMessage.Kind.REPLY).count() == 2


def test_failure_leaves_the_message_unseen_and_the_next_fetch_imports_it_once(
    mailbox, imap_server, monkeypatch, caplog
):
    imap_server.deliver(mailbox.folder, build_message(subject="Tin nhắn hỏng giữa chừng"))
    imap_server.deliver(mailbox.folder, build_message(subject="Tin nhắn tốt", attachments=()))
    real_store = mail_services._store_attachments

    def fail_on_the_first(*, mail, lead, message):
        if mail.subject == "Tin nhắn hỏng giữa chừng":
            raise DatabaseError("could not write: disk full")  # after the lead was inserted
        real_store(mail=mail, lead=lead, message=message)

    monkeypatch.setattr(mail_services, "_store_attachments", fail_on_the_first)
    result = fetch_mailbox(mailbox=mailbox)
    assert (result.new_leads, result.failed) == (1, 1)
    assert list(Lead.objects.values_list("name", flat=True)) == ["Tin nhắn tốt"]
    assert imap_server.unseen(mailbox.folder) == 1
    mailbox.refresh_from_db()
    assert "disk full" in mailbox.last_error
    assert "could not be imported" in caplog.text

    monkeypatch.setattr(mail_services, "_store_attachments", real_store)
    retry = fetch_mailbox(mailbox=mailbox)
    assert (retry.new_leads, retry.failed) == (1, 0)
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["Tin nhắn hỏng giữa chừng", "Tin nhắn tốt"]
    assert imap_server.unseen(mailbox.folder) == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert fetch_mailbox(mailbox=mailbox).new_leads == 0
    assert Lead.objects.count() == 2


def test_imported_but_not_marked_seen_is_only_marked_next_time(mailbox, imap_server, monkeypatch):
    from pheu.capture.imap import ImapError, ImapSession

    imap_server.deliver(mailbox.folder, build_message())

    def refuse(self, uid):
        raise ImapError("STORE refused")

    with monkeypatch.context() as patch:
        patch.setattr(ImapSession, "mark_seen", refuse)
        result = fetch_mailbox(mailbox=mailbox)
    assert result.errors == ["STORE refused"] and Lead.objects.count() == 1
    assert imap_server.unseen(mailbox.folder) == 1
    again = fetch_mailbox(mailbox=mailbox)
    assert (again.new_leads, again.duplicates, again.errors) == (0, 1, [])
    assert Lead.objects.count() == 1 and imap_server.unseen(mailbox.folder) == 0


def test_wrong_password_is_reported_on_the_mailbox(mailbox, imap_server):
    mailbox.set_password("wrong")
    mailbox.save()
    imap_server.deliver(mailbox.folder, build_message())
    result = fetch_mailbox(mailbox=mailbox)
    assert result.failed == 0 and len(result.errors) == 1
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "failed" in mailbox.last_error.lower()
    assert not Lead.objects.exists() and imap_server.unseen(mailbox.folder) == 1


def test_unknown_folder_and_unreachable_server(mailbox, imap_server, settings):
    mailbox.folder = "Không có"
    mailbox.save()
    assert fetch_mailbox(mailbox=mailbox).errors
    settings.PHEU_IMAP_TIMEOUT = 2
    mailbox.port = 1
    mailbox.save()
    result = fetch_mailbox(mailbox=mailbox)
    assert result.errors and "127.0.0.1:1" in result.errors[0]


def test_password_unreadable_after_a_secret_key_change(mailbox, settings):
    settings.SECRET_KEY = "another-secret-key-entirely-different-from-before"
    result = fetch_mailbox(mailbox=mailbox)
    assert result.errors == ["The password cannot be read (the secret key changed): type it again."]


def test_only_active_mailboxes_are_fetched(mailbox, imap_server):
    Mailbox.objects.filter(pk=mailbox.pk).update(active=False)
    imap_server.deliver(mailbox.folder, build_message())
    assert fetch_mailboxes() == []
    assert imap_server.unseen(mailbox.folder) == 1


def test_command_mail_fetch(mailbox, imap_server):
    imap_server.deliver(mailbox.folder, build_message())
    out = StringIO()
    call_command("mail", "fetch", "--json", stdout=out)
    assert json.loads(out.getvalue())["mailboxes"][0] == {
        "mailbox": mailbox.pk,
        "name": "Hộp thư bán hàng",
        "new_leads": 1,
        "replies": 0,
        "duplicates": 0,
        "failed": 0,
        "errors": [],
    }
    mailbox.set_password("wrong")
    mailbox.save()
    with pytest.raises(CommandError, match="Hộp thư bán hàng"):
        call_command("mail", "fetch", stdout=StringIO())
    with pytest.raises(CommandError, match="999"):
        call_command("mail", "fetch", "--mailbox", "999", stdout=StringIO())


def test_worker_polls_the_mailboxes(mailbox, imap_server):
    from pheu.core.periodic import discover_periodic_jobs

    jobs = {job.name: job for job in discover_periodic_jobs()}
    assert "fetch-mailboxes" in jobs
    imap_server.deliver(mailbox.folder, build_message())
    jobs["fetch-mailboxes"].task.enqueue()  # the immediate backend of the tests runs it now
    assert Lead.objects.count() == 1


def test_folder_with_a_vietnamese_name(mailbox, imap_server):
    from pheu.capture.imap import encode_folder

    conn = imap_server.client()
    try:
        assert conn.create(f'"{encode_folder("Khách hàng")}"')[0] == "OK"
    finally:
        conn.logout()
    imap_server.deliver(encode_folder("Khách hàng"), build_message(subject="Thư trong thư mục tiếng Việt"))
    mailbox.folder = "Khách hàng"
    mailbox.save()
    assert fetch_mailbox(mailbox=mailbox).new_leads == 1
    assert Lead.objects.get().name == "Thư trong thư mục tiếng Việt"
