"""A real ``openbmd exchange serve`` process on a free loopback port, for the tests that need one
(crash durability, schemathesis over HTTP). Nothing here talks to anything but 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

CLI = [sys.executable, "-c", "import sys; from openbmd.cli import main; sys.exit(main())"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``openbmd exchange serve`` on *database_url*, restartable on the same port.

    The server's output goes to *log_path* (appended across restarts) so a failure can show it.
    """

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        start_timeout_s: float = 90.0,
        serve_args: tuple[str, ...] = (),
    ) -> None:
        self.database_url = database_url
        self.serve_args = serve_args
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start the process and wait until it answers ``GET /v1/log/checkpoint``."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        cmd = [*CLI, "exchange", "serve", "--database-url", self.database_url]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), *self.serve_args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBMD_EXCHANGE_")}
        with self.log_path.open("ab") as log_fh:
            log_fh.write(f"--- start {self.starts}\n".encode())
            log_fh.flush()
            self.proc = subprocess.Popen(cmd, stdout=log_fh, stderr=subprocess.STDOUT, env=env)
        self.starts += 1
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                httpx.get(f"{self.url}/v1/log/checkpoint", timeout=1.0).raise_for_status()
                return
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited at start:\n{self.tail()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start in time:\n{self.tail()}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the process (no shutdown handlers run) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)

    def fronts(self) -> list[int]:
        """Process ids of the front processes of ``serve --workers N`` (the server's children
        started by multiprocessing's spawn, not its resource tracker)."""
        if self.proc is None:
            return []
        kids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            try:
                kids += [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
        out = []
        for kid in kids:
            try:
                if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                    out.append(kid)
            except OSError:
                continue
        return out

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it does not exit in 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, n: int = 4000) -> str:
        """The end of the server log."""
        try:
            return self.log_path.read_text("utf-8", errors="replace")[-n:]
        except OSError:
            return ""

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
