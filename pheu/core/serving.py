"""``pheu serve``: gunicorn for pages and API and, on the embedded default, ``pheu worker`` beside it.

Both run as children of one small supervisor process, each in its own process group, so that a Ctrl-C in
the terminal reaches the supervisor alone and every child receives exactly one SIGTERM: gunicorn then
finishes its requests and the worker its current task. On Linux the children also get SIGTERM if the
supervisor dies without cleaning up (``PR_SET_PDEATHSIG``). The worker is restarted, with a growing delay, if
it exits on its own; when gunicorn exits, everything stops with its exit status.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

from django.conf import settings

logger = logging.getLogger(__name__)

WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
# Measured on 2 cores (bench ``intake_http``): see README, "Serving in production".
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 1


@dataclass(frozen=True)
class ChildSpec:
    """A child process: a label for messages, its command line, and whether to restart it when it exits."""

    label: str
    argv: tuple[str, ...]
    restart: bool = False


@dataclass(frozen=True)
class ServePlan:
    url: str
    children: tuple[ChildSpec, ...]

    @property
    def with_worker(self) -> bool:
        return any(child.label == "worker" for child in self.children)


def embedded_worker_wanted() -> bool:
    """The database task backend (the embedded default) needs a worker beside the web server."""
    return settings.PHEU_TASKS_BACKEND == "database"


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _gunicorn_has(setting: str) -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(known.name == setting for known in KNOWN_SETTINGS)


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int = 1) -> tuple[str, ...]:
    """The gunicorn command line serving ``pheu.wsgi`` (static files come through WhiteNoise). With more
    than one thread a worker is gunicorn's threaded worker, which also keeps client connections alive."""
    options = {
        "--bind": _bind(host, port),
        "--workers": str(workers),
        "--threads": str(threads),
        "--access-logfile": "-",  # requests logged on the console, with the worker's lines
        "--graceful-timeout": "15",
        "--timeout": "120",
    }
    argv = [sys.executable, "-m", "gunicorn", "pheu.wsgi:application"]
    for name, value in options.items():
        argv += [name, value]
    # Recent gunicorns open a control socket at one fixed path per user: two servers on one machine would
    # fight over it, and Pheu does not use it.
    if _gunicorn_has("control_socket_disable"):
        argv.append("--no-control-socket")
    return tuple(argv)


def worker_argv() -> tuple[str, ...]:
    """``pheu worker`` with the same interpreter (the console script need not be on PATH)."""
    return (sys.executable, "-m", "pheu.cli", "worker")


def plan_serve(*, host: str, port: int, workers: int, worker: bool, threads: int = 1) -> ServePlan:
    """What ``pheu serve`` starts: gunicorn, and ``pheu worker`` when ``worker`` is true."""
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
    url = f"http://{_bind(shown, port)}/"
    children = [ChildSpec("web", gunicorn_argv(host=host, port=port, workers=workers, threads=threads))]
    if worker:
        children.append(ChildSpec("worker", worker_argv(), restart=True))
    return ServePlan(url=url, children=tuple(children))


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when this process dies (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


@dataclass
class _Running:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    restart_at: float | None = None
    delay: float = 1.0
    started_at: float = field(default=0.0)


class Supervisor:
    """Start the children, watch them, and stop them all on SIGINT/SIGTERM or when a vital one exits."""

    max_restart_delay = 60.0

    def __init__(
        self, children: Sequence[ChildSpec], *, stop_timeout: float = 30.0, poll: float = 0.2
    ) -> None:
        self.children = [_Running(spec) for spec in children]
        self.stop_timeout = stop_timeout
        self.poll = poll
        self._signal: int | None = None
        self._preexec = _parent_death_signal()

    def run(self) -> int:
        """Run until stopped; the exit status is 0 after a signal, else the vital child's status."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                self._start(child)
            return self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._signal is None:
            self._signal = signum
        else:  # a second Ctrl-C: do not wait for the children
            for child in self.children:
                if child.process is not None and child.process.poll() is None:
                    child.process.kill()

    def _start(self, child: _Running) -> None:
        child.process = subprocess.Popen(child.spec.argv, process_group=0, preexec_fn=self._preexec)
        child.started_at = time.monotonic()
        child.restart_at = None
        logger.info("started %s (pid %s)", child.spec.label, child.process.pid)

    def _watch(self) -> int:
        while self._signal is None:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        self._start(child)
                    continue
                assert child.process is not None
                code = child.process.poll()
                if code is None:
                    continue
                if not child.spec.restart:
                    logger.error("%s exited with status %s: stopping", child.spec.label, code)
                    return code if code > 0 else 1
                # A child that ran a while before dying starts again quickly; one that keeps dying, slower.
                ran_long = now - child.started_at > 60
                child.delay = 1.0 if ran_long else min(child.delay * 2, self.max_restart_delay)
                child.restart_at = now + child.delay
                logger.warning(
                    "%s exited with status %s: restarting in %.0f s", child.spec.label, code, child.delay
                )
            time.sleep(self.poll)
        return 0

    def _stop_all(self) -> None:
        live = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in live:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for process in live:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("pid %s did not stop in %.0f s: killing it", process.pid, self.stop_timeout)
                process.kill()
                process.wait()
