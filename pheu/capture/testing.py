"""Factories for capture's tests, and a real IMAP server (Debian's dovecot) run for them."""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from django.utils import timezone

from pheu.capture.models import Mailbox, WebForm
from pheu.teams.models import Team

DOVECOT = os.environ.get("PHEU_DOVECOT", "/usr/sbin/dovecot")
_seq = itertools.count(1)


def make_web_form(*, team: Team, key: str | None = None, **kw: Any) -> WebForm:
    """The team's form settings, and a form key (``key`` or a fresh one)."""
    team.form_key = key or f"test-key-{team.pk}-{next(_seq)}"
    Team.objects.filter(pk=team.pk).update(form_key=team.form_key)
    return WebForm.objects.update_or_create(team=team, defaults=kw)[0]


def make_mailbox(*, password: str = "secret-pass", **kw: Any) -> Mailbox:
    kw.setdefault("name", f"Mailbox {next(_seq)}")
    kw.setdefault("host", "127.0.0.1")
    kw.setdefault("port", 993)
    kw.setdefault("username", "crm")
    mailbox = Mailbox(**kw)
    mailbox.set_password(password)
    mailbox.save()
    return mailbox


def build_message(
    *,
    subject: str = "Cần báo giá phần mềm CRM",
    sender: str = "Nguyễn Văn An <an.nguyen@congty.vn>",
    to: str = "sales@pheu.test",
    text: str | None = "Xin chào,\nChúng tôi cần báo giá cho 20 người dùng.",
    html: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    attachments: Sequence[tuple[str, str, bytes]] = (),
    raw_subject: str | None = None,
) -> bytes:
    """An RFC 5322 message as bytes. ``raw_subject`` puts the Subject header in as given (e.g. an
    encoded word ``=?UTF-8?B?…?=``) instead of letting the library encode ``subject``."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or f"<test-{next(_seq)}-{time.time_ns()}@mail.congty.vn>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    if raw_subject is None:
        msg["Subject"] = subject
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, _slash, subtype = content_type.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    raw = msg.as_bytes()
    if raw_subject is not None:
        raw = f"Subject: {raw_subject}\r\n".encode("ascii") + raw
    return raw


# --- a real IMAP server -----------------------------------------------------------------------------
@dataclass
class ImapServer:
    host: str
    port: int
    username: str
    password: str

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.username, self.password)
        return conn

    def new_folder(self) -> str:
        """A fresh, empty folder (each test its own: the server is shared by the session)."""
        name = f"t{next(_seq)}x{time.time_ns()}"
        conn = self.client()
        try:
            status, data = conn.create(name)
            assert status == "OK", data
        finally:
            conn.logout()
        return name

    def deliver(self, folder: str, raw: bytes) -> None:
        """APPEND a message, unseen."""
        conn = self.client()
        try:
            # imaplib returns (status, data) like every command
            answer: tuple[str, list[Any]] = conn.append(  # type: ignore[assignment]  # typeshed: -> str
                f'"{folder}"', "", imaplib.Time2Internaldate(time.time()), raw
            )
            status, data = answer
            assert status == "OK", data
        finally:
            conn.logout()

    def unseen(self, folder: str) -> int:
        conn = self.client()
        try:
            conn.select(f'"{folder}"', readonly=True)
            status, data = conn.uid("SEARCH", "UNSEEN")
            assert status == "OK", data
            return len(data[0].split())
        finally:
            conn.logout()

    def count(self, folder: str) -> int:
        conn = self.client()
        try:
            status, data = conn.select(f'"{folder}"', readonly=True)
            assert status == "OK", data
            return int(data[0])
        finally:
            conn.logout()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mail_owner() -> tuple[str, int, int]:
    """(login user, uid, gid) for the server's processes and mail files: the current user; as root, the
    ``dovecot`` system user of Debian's package (dovecot refuses to keep mail as root, and its login
    process refuses to run as root)."""
    if os.getuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return me.pw_name, me.pw_uid, me.pw_gid
    for name in ("dovecot", "dovenull"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return name, entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root, and no 'dovecot' system user to run the IMAP server as")


@contextlib.contextmanager
def run_dovecot() -> Iterator[ImapServer]:
    """Start dovecot on 127.0.0.1 at a free port with a temporary configuration, a passwd-file user and a
    maildir in a temporary directory; stop it and remove everything afterwards."""
    root = Path(tempfile.mkdtemp(prefix="pheu-dovecot-"))
    root.chmod(0o755)  # the server's unprivileged processes read the configuration and passwd file here
    user, uid, gid = _mail_owner()
    login_user = "dovenull" if os.getuid() == 0 else user
    port = _free_port()
    server = ImapServer(host="127.0.0.1", port=port, username="crm", password="imap-test-pass")
    (root / "run").mkdir()
    home = root / "mail" / server.username
    home.mkdir(parents=True)
    if os.getuid() == 0:
        for path in (root / "mail", home):
            os.chown(path, uid, gid)
    (root / "passwd").write_text(f"{server.username}:{{PLAIN}}{server.password}:{uid}:{gid}::{home}::\n")
    (root / "passwd").chmod(0o644)
    group = user if os.getuid() != 0 else "dovecot"
    config = f"""
base_dir = {root}/run
state_dir = {root}/run/state
instance_name = pheu-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
log_path = {root}/run/dovecot.log
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    (root / "dovecot.conf").write_text(config)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error) as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (root / "run" / "dovecot.log").read_text()
                        if (root / "run" / "dovecot.log").exists()
                        else ""
                    )
                    raise RuntimeError(f"dovecot did not start: {exc}\n{log}") from exc
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
