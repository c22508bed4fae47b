"""A throwaway PostgreSQL cluster run with the system's server binaries (Debian's postgresql package)."""

import os
import pwd
import re
import shutil
import stat
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from qlcb_devstack.procs import free_port, tail_file

SERVER_USER = "postgres"
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Static settings appended to postgresql.conf by init(). There is no Unix socket: clients use
# TCP, which also avoids the 107-byte socket path limit under deep temporary folders.
_SERVER_SETTINGS = """
# qlcb_devstack: a throwaway local cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
fsync = off
# A search counting hundreds of thousands of people hashes them in memory rather than on disk
# (ADR 0015); the default 4MB spills.
work_mem = 64MB
"""


def find_pg_bin_dir() -> Path:
    """The bin folder of the newest /usr/lib/postgresql/<version>, else of `initdb` on PATH."""
    versions = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    numbered = [p for p in versions if p.parent.name.isdigit()]
    if numbered:
        return max(numbered, key=lambda p: int(p.parent.name))
    if initdb := shutil.which("initdb"):
        return Path(initdb).resolve().parent
    raise RuntimeError("PostgreSQL server binaries (initdb) not found; run scripts/bootstrap.sh --postgres")


def _utf8_locale_flag() -> str:
    try:
        names = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "--no-locale"
    available = {n.strip().lower().replace("-", "") for n in names.splitlines()}
    return "--locale=C.UTF-8" if "c.utf8" in available else "--no-locale"


def _client_env() -> dict[str, str]:
    """The environment without libpq variables that could redirect or alter client commands."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class PostgresCluster:
    """A cluster in `<data_dir>/pgdata`, logging to `<data_dir>/postgres.log`, on 127.0.0.1:`port`.

    PostgreSQL refuses to run as root; as root, the server commands run as the `postgres`
    system user, which then owns `data_dir`. `settings` are written to postgresql.conf after the
    throwaway cluster's own, when the cluster is created.
    """

    def __init__(self, data_dir: Path, port: int | None = None, settings: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.settings = dict(settings or {})
        self.port = port if port is not None else free_port()
        self.pgdata = data_dir / "pgdata"
        self.log_path = data_dir / "postgres.log"
        self._bin_dir: Path | None = None

    @property
    def bin_dir(self) -> Path:
        """Where initdb, pg_ctl, psql, pg_dump and pg_restore of the server's version are."""
        if self._bin_dir is None:
            self._bin_dir = find_pg_bin_dir()
        return self._bin_dir

    @property
    def is_initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").is_file()

    @property
    def is_running(self) -> bool:
        if not self.is_initialized:
            return False
        return self._pg_ctl(["status"], check=False).returncode == 0

    def init(self) -> None:
        """Create the cluster (trust auth, user postgres, UTF-8) unless it exists."""
        if self.is_initialized:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._give_to_server_user()
        self._run_as_server(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.pgdata),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                _utf8_locale_flag(),
            ]
        )
        with (self.pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(_SERVER_SETTINGS)
            conf.writelines(f"{name} = '{value}'\n" for name, value in self.settings.items())

    def start(self, timeout: float = 60) -> None:
        """Initialize if needed and start; returns once the server accepts connections."""
        self.init()
        if self.is_running:
            return
        self._pg_ctl(["-l", str(self.log_path), "-t", str(int(timeout)), "-o", f"-p {self.port}", "start"])

    def stop(self, timeout: float = 60) -> None:
        """Fast shutdown: disconnect clients, checkpoint, exit."""
        if self.is_running:
            self._pg_ctl(["-m", "fast", "-t", str(int(timeout)), "stop"])

    def kill(self) -> None:
        """Immediate shutdown, as after a crash: the next start runs recovery (for fault tests)."""
        if self.is_running:
            self._pg_ctl(["-m", "immediate", "stop"])

    def destroy(self) -> None:
        """Stop the server and delete `data_dir`."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def create_database(self, name: str) -> None:
        """Create database `name` unless it exists."""
        if not _DB_NAME_RE.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
        if exists != "1":
            self._run_client([str(self.bin_dir / "createdb"), *self._conn_args(), name])

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run SQL with psql (unaligned, tuples only); returns its output."""
        return self._run_client(
            [str(self.bin_dir / "psql"), *self._conn_args(), "-d", db, "-v", "ON_ERROR_STOP=1", "-tAc", sql]
        )

    def dsn(self, db: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{db}"

    def _conn_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-w"]

    def _run_client(self, argv: Sequence[str]) -> str:
        result = subprocess.run(argv, capture_output=True, text=True, env=_client_env(), check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout

    def _pg_ctl(self, args: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run_as_server([str(self.bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-w", *args], check=check)

    def _run_as_server(self, argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, cwd=self.data_dir, env=_client_env(), check=False)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                f"\n--- last lines of {self.log_path} ---\n{tail_file(self.log_path)}"
            )
        return result

    def _give_to_server_user(self) -> None:
        """As root: let the server user own `data_dir` and reach it through its ancestors."""
        if os.geteuid() != 0:
            return
        user = _server_user()
        os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        for ancestor in self.data_dir.resolve().parents:
            mode = ancestor.stat().st_mode
            if not mode & stat.S_IXOTH:
                # Search permission only (no listing), e.g. for pytest's 0700 /tmp/pytest-of-root.
                ancestor.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=True,
        )
        return pwd.getpwnam(SERVER_USER)
