"""A small IMAP client over ``imaplib``: log in, list the unseen messages of a folder, read one without
marking it seen (``BODY.PEEK``), mark it seen. Errors are ``ImapError`` with the server's words."""

from __future__ import annotations

import base64
import imaplib
import ssl
from types import TracebackType


class ImapError(Exception):
    """The server refused, or could not be reached (the message says which)."""


def encode_folder(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3), e.g. "Khách" → "Kh&AOE-ch"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quote(folder: str) -> str:
    return '"' + encode_folder(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: object) -> str:
    if isinstance(data, list | tuple):
        return " ".join(_text(item) for item in data if item)
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return str(data)


class ImapSession:
    """``with ImapSession(...) as session:`` — connected, logged in and the folder selected."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        use_tls: bool,
        username: str,
        password: str,
        folder: str,
        timeout: float,
    ) -> None:
        self.host, self.port, self.use_tls = host, port, use_tls
        self.username, self.password, self.folder, self.timeout = username, password, folder, timeout
        self.conn: imaplib.IMAP4 | None = None

    def __enter__(self) -> ImapSession:
        try:
            if self.use_tls:
                context = ssl.create_default_context()
                self.conn = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=self.timeout)
            else:
                self.conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
            self.conn.login(self.username, self.password)
            status, data = self.conn.select(_quote(self.folder))
        except (imaplib.IMAP4.error, OSError, UnicodeError) as exc:
            self.close()
            raise ImapError(f"{self.host}:{self.port}: {exc}") from exc
        if status != "OK":
            self.close()
            raise ImapError(f"{self.folder}: {_text(data)}")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            if self.conn.state == "SELECTED":
                self.conn.close()
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
        self.conn = None

    def _command(self, *args: str) -> list[object]:
        assert self.conn is not None
        try:
            status, data = self.conn.uid(*args)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise ImapError(f"UID {args[0]}: {exc}") from exc
        if status != "OK":
            raise ImapError(f"UID {args[0]}: {_text(data)}")
        return list(data)

    def unseen_uids(self) -> list[str]:
        """UIDs of the messages not yet seen, oldest first."""
        data = self._command("SEARCH", "UNSEEN")
        return [uid for uid in _text(data[0] if data else b"").split() if uid.isdigit()]

    def fetch(self, uid: str) -> bytes:
        """The whole message, leaving its \\Seen flag as it is."""
        for item in self._command("FETCH", uid, "(BODY.PEEK[])"):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        raise ImapError(f"UID FETCH {uid}: no message")

    def mark_seen(self, uid: str) -> None:
        self._command("STORE", uid, "+FLAGS", "(\\Seen)")
