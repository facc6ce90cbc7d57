"""A private, throwaway PostgreSQL 15 server that a test may stop and restart without disturbing anyone else."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.cluster import free_port

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# initdb refuses to run as root; as root, the server runs as this account instead.
SERVER_ACCOUNT = "postgres"


def why_unavailable() -> str | None:
    """The reason a private server cannot be started here, or None when it can."""
    if not (BIN / "initdb").exists():
        return f"no PostgreSQL binaries in {BIN} (set PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            return f"running as root and there is no {SERVER_ACCOUNT!r} account to run initdb as"
        if not shutil.which("runuser"):
            return "running as root without runuser to run initdb as another account"
    return None


class PrivatePostgres:
    """initdb into a temporary directory, serve on a free loopback port with fsync off; stop() removes it all."""

    def __init__(self, database: str = "inboxerr"):
        self.database = database
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="inboxerr-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_ACCOUNT)
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_server = ["runuser", "-u", SERVER_ACCOUNT, "--"]
        else:
            self._as_server = []

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> PrivatePostgres:
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.pg_ctl("start")
        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        return self

    def pg_ctl(self, action: str, *options: str) -> None:
        # Unix sockets live in our own directory, not /var/run/postgresql where the shared server's are.
        server_options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", action, "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", server_options, *options)

    def restart(self, mode: str) -> None:
        """pg_ctl restart -m fast (clients disconnected, clean shutdown) or -m immediate (as if it crashed)."""
        self.pg_ctl("restart", "-m", mode)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """One query on a fresh connection: the server may have restarted since the last one."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            return conn.execute(sql, params).fetchall()

    def _run(self, program: str, *args, check: bool = True) -> None:
        command = [*self._as_server, str(BIN / program), *map(str, args)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and done.returncode:
            server_log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr or done.stdout}\n{server_log}")
