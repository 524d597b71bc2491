"""Starting, watching and stopping one `atrium serve` process for the interop suite."""

from __future__ import annotations

import collections
import json
import os
import socket
import subprocess
import threading
import time

LISTEN = "127.0.0.1:443"
READY_TIMEOUT = 60.0
QUICKSTART_TIMEOUT = 120.0


class SetupError(Exception):
    """The server could not be started or prepared; every case that needs it fails."""


def port_443_free() -> str | None:
    """None when 127.0.0.1:443 can be listened on, else why not."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR ignores TIME_WAIT leftovers but still fails on a live listener.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 443))
        s.listen(1)
        return None
    except PermissionError as e:
        return f"no permission to listen on 127.0.0.1:443 ({e}); the suite must run as root"
    except OSError as e:
        return f"127.0.0.1:443 is busy ({e}); stop whatever listens there (ss -ltnp 'sport = :443')"
    finally:
        s.close()


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["ATRIUM_LISTEN"] = LISTEN
    env["RUST_LOG"] = "warn"
    # Never inherit a clock offset from the caller; only the restart sets it.
    env.pop("ATRIUM_DEBUG_CLOCK_OFFSET_SECONDS", None)
    if extra:
        env.update(extra)
    return env


class Server:
    def __init__(self, binary: str, data_dir: str, database_url: str | None, log_path: str):
        self.binary = binary
        self.data_dir = data_dir
        self.database_url = database_url
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.ca_path: str | None = None
        self.url: str | None = None
        # The owner's credentials, printed once by the first start (the ARM cases create
        # subscriptions as the owner, seed 003).
        self.owner: dict[str, str] = {}
        self._lines: collections.deque[str] = collections.deque(maxlen=400)
        self._ready = threading.Event()
        self._eof = threading.Event()
        self._thread: threading.Thread | None = None

    def _db_args(self) -> list[str]:
        args = ["--data-dir", self.data_dir]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        why = port_443_free()
        if why:
            raise SetupError(why)
        self._ready.clear()
        self._eof.clear()
        self.ca_path = None
        self.url = None
        cmd = [self.binary, "serve", *self._db_args()]
        log = open(self.log_path, "a", encoding="utf-8")
        log.write(f"\n===== {' '.join(cmd)} extra_env={extra_env or {}}\n")
        log.flush()
        self.proc = subprocess.Popen(
            cmd,
            env=server_env(extra_env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self._thread = threading.Thread(target=self._drain, args=(self.proc, log), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._ready.is_set():
            if self._eof.is_set() or self.proc.poll() is not None:
                self._thread.join(timeout=2)
                raise SetupError(
                    f"`atrium serve` exited (code {self.proc.poll()}) before printing 'Ready.'; "
                    f"last output:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise SetupError(f"`atrium serve` printed no 'Ready.' line within {READY_TIMEOUT:.0f} s; last output:\n{self.tail()}")
            self._ready.wait(0.1)
        if not self.ca_path:
            raise SetupError(f"`atrium serve` printed no 'CA certificate: <path>' line before 'Ready.'; output:\n{self.tail()}")

    def _drain(self, proc: subprocess.Popen, log) -> None:
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\r\n")
                self._lines.append(line)
                log.write(line + "\n")
                log.flush()
                if line.startswith("CA certificate:"):
                    self.ca_path = line.split(":", 1)[1].strip()
                elif line.startswith("Atrium is listening on"):
                    self.url = line[len("Atrium is listening on"):].strip()
                elif line.startswith(("  tenant:", "  username:", "  password:")) and len(self.owner) < 3:
                    key, value = line.strip().split(":", 1)
                    self.owner.setdefault(key, value.strip())
                elif line.startswith("Ready."):
                    self._ready.set()
        finally:
            self._eof.set()
            log.close()

    def tail(self, n: int = 40) -> str:
        lines = list(self._lines)[-n:]
        return "\n".join("    | " + l for l in lines) if lines else "    | (no output)"

    def stop(self) -> None:
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=15)
        if self._thread:
            self._thread.join(timeout=5)
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def quickstart(self) -> dict:
        # --scim also makes a directory-sync tenant with a provisioning token (scim_url,
        # scim_token); the SCIM cases check those keys, so the other cases do not depend on them.
        cmd = [self.binary, "quickstart", "--json", "--scim", *self._db_args()]
        try:
            r = subprocess.run(cmd, env=server_env(), stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=QUICKSTART_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise SetupError(f"`{' '.join(cmd)}` did not finish within {QUICKSTART_TIMEOUT:.0f} s") from None
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"\n===== {' '.join(cmd)} -> exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}\n")
        if r.returncode != 0:
            raise SetupError(f"`{' '.join(cmd)}` exited {r.returncode}\nstdout: {r.stdout.strip()}\nstderr: {r.stderr.strip()}")
        try:
            qs = json.loads(r.stdout)
        except ValueError as e:
            raise SetupError(f"`atrium quickstart --json` did not print one JSON object ({e}); stdout was:\n{r.stdout}") from None
        if not isinstance(qs, dict):
            raise SetupError(f"`atrium quickstart --json` printed {type(qs).__name__}, not an object: {r.stdout}")
        missing = [k for k in ("authority", "tenant_id", "client_id", "client_secret", "username", "password",
                               "ca_path", "redirect_uri") if not isinstance(qs.get(k), str) or not qs.get(k)]
        if missing:
            raise SetupError(f"`atrium quickstart --json` lacks non-empty string field(s) {missing}: {r.stdout}")
        return qs
