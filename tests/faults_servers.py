"""Servers the fault tests start and stop themselves: a PostgreSQL of their own (initdb,
pg_ctl) and gunicorn. Each is stopped, and its files removed, even when the test fails."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import requests

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PROJECT = Path(__file__).resolve().parents[1]


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the `postgres` OS user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class OwnPostgres:
    """A PostgreSQL server in a temporary directory, on its own port, trusting local logins."""

    def __init__(self, port: int):
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="vouch-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(_as_postgres(*args), check=True, capture_output=True, timeout=timeout)

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), action, "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", "30", *extra,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def create_database(self, name: str) -> str:
        self._run(
            str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            name,
        )  # fmt: skip
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class Gunicorn:
    """`gunicorn -w N wsgi:app` on 127.0.0.1:port, with the given environment."""

    def __init__(self, port: int, env: dict[str, str], workers: int = 3):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        handle, name = tempfile.mkstemp(prefix="vouch-faults-gunicorn-", suffix=".log")
        self.log = Path(name)
        command = [
            str(PROJECT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--timeout", "30", "--no-control-socket", "--graceful-timeout", "2", "wsgi:app",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT,
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        os.close(handle)  # gunicorn has its own copy

    def wait_until_up(self, workers: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.output()}")
            try:
                if (
                    requests.get(f"{self.base}/healthz", timeout=2).ok
                    and len(self.workers()) == workers
                ):
                    return
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            time.sleep(0.2)
        raise TimeoutError(f"gunicorn did not come up:\n{self.output()}")

    def workers(self) -> list[int]:
        """The worker processes: the master's children."""
        listed = subprocess.run(
            ["ps", "--ppid", str(self.process.pid), "-o", "pid="],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(pid) for pid in listed.split()]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_deaths(self) -> int:
        return len(re.findall(r"Worker \(pid:\d+\) was sent SIGKILL", self.output()))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # a quick shutdown: the test is over
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.unlink(missing_ok=True)


class _HiddenInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.fields.setdefault(attributes["name"], attributes.get("value") or "")


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page (the CSRF token, a form's request key), as a browser
    would send them back."""
    parser = _HiddenInputs()
    parser.feed(html)
    return parser.fields


def owner_of_local_port(port: int) -> int | None:
    """The process whose TCP connection has this local port (a database client's side)."""
    listed = subprocess.run(
        ["ss", "-tnpH", "state", "established", "sport", "=", f":{port}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = re.search(r"pid=(\d+)", listed)
    return int(found.group(1)) if found else None
