"""Local server processes: start, stop, kill, log tails, polling helpers."""

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

DEFAULT_STOP_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    (port,) = free_ports(1)
    return port


EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
TRIES = 200


def _unclaimed_range() -> range:
    """Ports the kernel never hands out to outgoing connections: above its ephemeral range (or,
    when too few lie there, below it). A port taken from the ephemeral range by binding port 0 could
    be given to a client connection before the server meant for it listens, which a late-starting
    replica met in CI ("Address already in use")."""
    try:
        low, high = (int(part) for part in EPHEMERAL.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(high + 1, 65536) if 65535 - high >= 1000 else range(20000, low)


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports on 127.0.0.1 that were free a moment ago, outside the kernel's
    ephemeral range (all held while chosen, so none is handed out twice)."""
    candidates = _unclaimed_range()
    chooser = random.Random()
    with contextlib.ExitStack() as held:
        ports: list[int] = []
        for _ in range(TRIES * count):
            if len(ports) == count:
                break
            port = chooser.choice(candidates)
            if port in ports:
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            held.enter_context(sock)
            ports.append(port)
        if len(ports) < count:
            raise RuntimeError(f"no {count} free ports in {candidates.start}–{candidates.stop - 1}")
        return ports


def tail_file(path: Path, n: int = 40) -> str:
    """The last `n` lines of a text file, or "" when it does not exist."""
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return "".join(deque(f, maxlen=n))
    except FileNotFoundError:
        return ""


class ManagedProcess:
    """A server process in its own process group, its output appended to `<log_dir>/<name>.log`.

    It can be started again after it stopped (same command, same log file).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str | Path],
        *,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.log_path = log_dir / f"{name}.log"
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @property
    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen is not None else None

    def start(self) -> None:
        if self.is_running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self._close_log()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._log.write(f"\n=== {stamp} starting: {' '.join(self.argv)}\n".encode())
        self._log.flush()
        self._popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> int | None:
        """SIGTERM the process group, SIGKILL it after `timeout` seconds; returns the exit code."""
        popen = self._popen
        if popen is None:
            return None
        if popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                popen.wait()
        self._reap_group()
        self._close_log()
        return popen.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crash would (for fault tests)."""
        popen = self._popen
        if popen is None:
            return
        self._signal_group(signal.SIGKILL)
        popen.wait()
        self._close_log()

    def tail(self, n: int = 40) -> str:
        if self._log is not None:
            self._log.flush()
        return tail_file(self.log_path, n)

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._popen.pid, sig)

    def _reap_group(self) -> None:
        """Children left behind by the group leader (e.g. a JVM under a shell script) die too."""
        self._signal_group(signal.SIGKILL)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.25,
    process: ManagedProcess | None = None,
    log_path: Path | None = None,
) -> None:
    """Poll `predicate` until it is true.

    Raises `TimeoutError` after `timeout` seconds, or `RuntimeError` as soon as `process` has exited;
    either message carries the tail of the process log (or of `log_path`).
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if process is not None and not process.is_running:
            raise RuntimeError(
                f"{process.name} exited with code {process.returncode} while waiting for {what}"
                f"{_log_excerpt(process, log_path)}"
            )
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{_log_excerpt(process, log_path)}")
        time.sleep(interval)


def _log_excerpt(process: ManagedProcess | None, log_path: Path | None) -> str:
    if process is not None:
        text, path = process.tail(), process.log_path
    elif log_path is not None:
        text, path = tail_file(log_path), log_path
    else:
        return ""
    return f"\n--- last lines of {path} ---\n{text}"
