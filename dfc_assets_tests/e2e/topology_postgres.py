"""A throwaway PostgreSQL cluster from the distribution's binaries (initdb + pg_ctl) on 127.0.0.1.

Tests run as root in CI and postgres refuses to run as root, so the cluster belongs to the `postgres`
system user (or `nobody`) and its commands run through `runuser`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dfc_assets_tests.e2e.topology_processes import free_port


@dataclass(frozen=True)
class PostgresCluster:
    host: str
    port: int
    user: str
    password: str
    database: str

    def environment(self) -> dict[str, str]:
        """The DAGSTER_POSTGRES_* variables the production dagster.yaml reads."""
        return {
            "DAGSTER_POSTGRES_HOST": self.host,
            "DAGSTER_POSTGRES_PORT": str(self.port),
            "DAGSTER_POSTGRES_USER": self.user,
            "DAGSTER_POSTGRES_PASSWORD": self.password,
            "DAGSTER_POSTGRES_DB": self.database,
        }


def postgres_bin_dir() -> Path | None:
    """The directory of initdb/pg_ctl/postgres: PATH first, then Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _owner() -> str | None:
    """The user that owns the cluster when we are root; None when we can run postgres ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists to own a PostgreSQL cluster")


class ThrowawayPostgres:
    def __init__(self, *, user: str = "dagster", password: str = "dfc-test-password", database: str = "dagster") -> None:
        self.bin_dir = postgres_bin_dir()
        if self.bin_dir is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's `postgresql` package")
        self.user, self.password, self.database = user, password, database
        self.owner = _owner()
        self.root = Path(tempfile.mkdtemp(prefix="dfc-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.started = False

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self.owner:
            argv = ["runuser", "-u", self.owner, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:1])} failed ({result.returncode}): {result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return result

    def start(self) -> PostgresCluster:
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n", encoding="utf-8")
        if self.owner:
            entry = pwd.getpwnam(self.owner)
            for path in (self.root, password_file):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", self.user, f"--pwfile={password_file}", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-o", options, "-w", "-t", "60", "start")
        self.started = True
        self._run("createdb", "-h", str(self.root), "-p", str(self.port), "-U", self.user, self.database)
        return PostgresCluster("127.0.0.1", self.port, self.user, self.password, self.database)

    def stop(self) -> None:
        if self.started:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def __enter__(self) -> PostgresCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def _has_c_utf8() -> bool:
    if shutil.which("locale") is None:
        return False
    result = subprocess.run(["locale", "-a"], capture_output=True, text=True)
    return any(line.lower() in ("c.utf8", "c.utf-8") for line in result.stdout.splitlines())
