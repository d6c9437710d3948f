"""A real HTTP receiver for webhook tests and the bench: ``http.server`` in a thread, on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pheu.webhooks.models import WebhookEndpoint


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived


@dataclass
class Receiver:
    """Answers each POST with the next code of ``codes`` (200 once they run out) and keeps what came."""

    url: str
    codes: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
        return list(self.received)


@contextmanager
def run_receiver() -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.arrived:  # kept before answering: the sender's next step may read it
                receiver.received.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                code = receiver.codes.pop(0) if receiver.codes else 200
                receiver.arrived.notify_all()
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def make_endpoint(url: str, events: list[str], **kw: Any) -> WebhookEndpoint:
    """An endpoint made through the service (so that the settings know what is listened to)."""
    from pheu.webhooks.services import create_endpoint

    values = {"name": kw.pop("name", "Hook"), "url": url, "events": events, **kw}
    return create_endpoint(actor=None, values=values)
