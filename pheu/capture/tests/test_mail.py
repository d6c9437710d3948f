"""E-mail to lead without a server: reading messages, new leads, replies, attachments, .eml uploads."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pheu.capture.mail import parse_message
from pheu.capture.models import Attachment, MailMessage
from pheu.capture.services import import_message
from pheu.capture.testing import build_message
from pheu.core.history import history_of
from pheu.core.models import HistoryKind, PheuSettings
from pheu.leads.models import Lead, Source
from pheu.testing import make_lead, make_partner

SUBJECT = "Hỏi giá phần mềm quản lý khách hàng"


def b_word(text: str) -> str:
    return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="


def q_word(text: str) -> str:
    encoded = "".join(
        chr(byte) if byte < 128 and chr(byte).isalnum() else "_" if byte == 32 else f"={byte:02X}"
        for byte in text.encode()
    )
    return f"=?UTF-8?Q?{encoded}?="


@pytest.mark.parametrize(
    "raw_subject",
    [None, b_word(SUBJECT), q_word(SUBJECT)],
    ids=["utf8", "encoded-word-B", "encoded-word-Q"],
)
def test_vietnamese_subjects_in_every_encoding(raw_subject):
    mail = parse_message(build_message(subject=SUBJECT, raw_subject=raw_subject))
    assert mail.subject == SUBJECT
    assert (mail.sender_name, mail.sender_email) == ("Nguyễn Văn An", "an.nguyen@congty.vn")


def test_encoded_sender_name_and_latin1_body():
    raw = (
        b"From: =?UTF-8?Q?Tr=E1=BA=A7n_Th=E1=BB=8B_B=C3=ADch?= <bich@example.vn>\r\n"
        b"Subject: Caf\xe9\r\nMessage-ID: <latin@example.vn>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nCaf\xe9 cr\xe8me\r\n"
    )
    mail = parse_message(raw)
    assert mail.sender_name == "Trần Thị Bích"
    assert mail.text == "Café crème"


def test_html_body_is_sanitised_and_text_kept():
    raw = build_message(
        text=None,
        html='<p onclick="x()">Xin <b>chào</b></p><script>alert(1)</script><img src="http://t/p.gif">',
    )
    mail = parse_message(raw)
    assert mail.description == "<p>Xin <b>chào</b></p>"
    assert mail.text == "Xin chào"


def test_message_without_message_id_gets_a_stable_one():
    raw = b"From: a@example.vn\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse_message(raw).message_id == parse_message(raw).message_id
    assert parse_message(raw).message_id.endswith("@pheu.generated>")


@pytest.mark.django_db
def test_new_message_becomes_a_lead(actors):
    # The lead waits for a run: real-time assignment (on by default) is the assignment app's.
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": False})
    partner = make_partner("Công ty Đông Á", email="AN.NGUYEN@congty.vn")
    raw = build_message(
        subject=SUBJECT,
        html="<p>Chúng tôi cần <b>20</b> tài khoản.</p>",
        attachments=[("yêu cầu.pdf", "application/pdf", b"%PDF-1.4 test")],
    )
    result = import_message(raw=raw, team=actors.south)
    assert result.created and not result.reply and not result.duplicate
    lead = Lead.objects.get()
    assert (lead.name, lead.contact_name, lead.email, lead.partner, lead.team) == (
        SUBJECT,
        "Nguyễn Văn An",
        "an.nguyen@congty.vn",
        partner,
        actors.south,
    )
    assert lead.source == Source.objects.get(name="E-mail")
    assert lead.description == "<p>Chúng tôi cần <b>20</b> tài khoản.</p>"
    assert lead.user is None
    kinds = sorted(entry.kind for entry in history_of(lead))
    assert kinds == sorted([HistoryKind.CREATED, HistoryKind.EMAIL])
    attachment = lead.attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "yêu cầu.pdf",
        "application/pdf",
        13,
    )
    with attachment.file.open("rb") as handle:
        assert handle.read() == b"%PDF-1.4 test"
    assert MailMessage.objects.get().kind == MailMessage.Kind.NEW_LEAD


@pytest.mark.django_db
def test_team_by_alias(actors):
    actors.north.email_alias = "mienbac@pheu.test"
    actors.north.save()
    import_message(raw=build_message(to="Bán hàng <MienBac@pheu.test>"))
    assert Lead.objects.get().team == actors.north


@pytest.mark.django_db
def test_same_message_twice_is_imported_once(actors):
    raw = build_message(message_id="<once@congty.vn>")
    import_message(raw=raw)
    again = import_message(raw=raw)
    assert again.duplicate and not again.created
    assert Lead.objects.count() == 1 and MailMessage.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["in-reply-to", "references", "subject-tag"])
def test_reply_goes_to_the_history_of_its_lead(actors, how):
    first = import_message(raw=build_message(message_id="<first@congty.vn>"))
    lead = first.lead
    headers_of: dict[str, dict[str, Any]] = {
        "in-reply-to": {"in_reply_to": "<first@congty.vn>"},
        "references": {"references": ["<unknown@x>", "<first@congty.vn>"]},
        "subject-tag": {"subject": f"Re: báo giá [#{lead.pk}]"},
    }
    headers = headers_of[how]
    reply = import_message(
        raw=build_message(
            text="Cảm ơn, chúng tôi đồng ý.",
            attachments=[("hợp đồng.docx", "application/octet-stream", b"DOCX")],
            **{"subject": "Re: Cần báo giá", **headers},
        )
    )
    assert reply.reply and reply.lead == lead
    assert Lead.objects.count() == 1
    emails = [entry for entry in history_of(lead) if entry.kind == HistoryKind.EMAIL]
    assert len(emails) == 2 and "Cảm ơn, chúng tôi đồng ý." in emails[0].body
    assert sorted(lead.attachments.values_list("filename", flat=True)) == ["hợp đồng.docx"]


@pytest.mark.django_db
def test_reply_to_a_merged_lead_goes_to_the_survivor(actors):
    survivor = make_lead("Survivor")
    first = import_message(raw=build_message(message_id="<m1@congty.vn>")).lead
    Lead.objects.filter(pk=first.pk).update(active=False, merged_into=survivor)
    reply = import_message(raw=build_message(in_reply_to="<m1@congty.vn>"))
    assert reply.lead == survivor


@pytest.mark.django_db
def test_a_failing_message_leaves_nothing(actors, monkeypatch):
    from django.db import DatabaseError

    from pheu.capture.services import mail as mail_services

    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(mail_services, "_store_attachments", broken)
    with pytest.raises(DatabaseError):
        import_message(raw=build_message())
    assert not Lead.objects.exists() and not MailMessage.objects.exists()


@pytest.mark.django_db
def test_eml_upload_page_creates_a_lead_of_the_uploader(client, actors, english):
    client.force_login(actors.sales1)
    upload = SimpleUploadedFile("hoi-gia.eml", build_message(subject=SUBJECT), content_type="message/rfc822")
    response = client.post("/capture/eml/", {"file": upload})
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert (lead.user, lead.team, lead.name) == (actors.sales1, actors.north, SUBJECT)
    assert lead.created_by == actors.sales1


@pytest.mark.django_db
def test_eml_upload_of_an_empty_file_shows_the_error(client, actors, english):
    client.force_login(actors.sales1)
    upload = SimpleUploadedFile("empty.eml", b"  \r\n", content_type="message/rfc822")
    response = client.post("/capture/eml/", {"file": upload})
    assert response.status_code == 400
    assert "The file is empty." in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_uploaded_reply_only_threads_into_leads_the_uploader_sees(actors):
    hidden = import_message(raw=build_message(message_id="<hidden@x>"), team=actors.south).lead
    result = import_message(raw=build_message(in_reply_to="<hidden@x>"), actor=actors.sales1)
    assert result.created and result.lead != hidden


@pytest.mark.django_db
def test_attachments_panel_and_download_follow_the_lead_visibility(client, actors, english):
    # Unassigned, so that sales1 of the team sees it (real-time assignment is on by default).
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": False})
    lead = import_message(
        raw=build_message(attachments=[("báo giá.xlsx", "application/vnd.ms-excel", b"XLSX")]),
        team=actors.north,
    ).lead
    attachment = Attachment.objects.get()
    client.force_login(actors.sales1)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'id="lead-attachments"' in page and "báo giá.xlsx" in page
    response = client.get(f"/capture/attachments/{attachment.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"XLSX"
    client.force_login(actors.sales3)
    assert client.get(f"/capture/attachments/{attachment.pk}/").status_code == 404
