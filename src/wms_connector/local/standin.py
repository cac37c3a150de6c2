"""The STAND-IN source: a local PostgreSQL holding the four waiver tables.

Oracle cannot run here, so everything downstream of LogMiner (Debezium's event shape, topics,
converters, heartbeats, Connect workers, the agent) is exercised against Debezium's PostgreSQL
connector reading this database instead. It is labelled a STAND-IN wherever it shows.

The server runs from Debian's PostgreSQL binaries (``/usr/lib/postgresql/<v>/bin``; ``make setup``
installs ``postgresql`` with apt-get when they are missing and it runs as root). Its data directory
lives under the caller's state directory, it listens on 127.0.0.1 on a free port only (no Unix
socket), with ``wal_level=logical``. PostgreSQL refuses to run as root: when we are root the server
runs as the unprivileged ``postgres`` user (or ``nobody``) through ``runuser``, and the data
directory is handed to that user.

The schemas are quoted uppercase (``"WMS"``, ``"MMDL"``) so Debezium's topic names are exactly the
product's (``wms.MMDL.PLAN_BASE_WVR_TBL``). Tables use ``REPLICA IDENTITY FULL`` so updates and
deletes carry before images, as Oracle's supplemental logging (ALL columns) gives.

The columns carry what a lossless feed must keep (issue 15): microsecond timestamps with and
without a time zone (``timestamp(6)``, like Oracle's default ``TIMESTAMP(6)``; ``timestamptz``, like
``TIMESTAMP WITH TIME ZONE``), a 38-digit decimal with 18 decimals (``NUMBER(38,18)``) and an
unconstrained ``numeric`` (Oracle's ``NUMBER`` without precision and scale).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import psycopg

from wms_connector.errors import WmsError
from wms_connector.local.procs import free_port
from wms_connector.naming import CAPTURED_TABLES, SCHEMAS, TableId

LABEL: Final = "STAND-IN (local PostgreSQL, not Oracle)"
DB_NAME: Final = "wms"
DB_USER: Final = "wms"
PG_ROOT: Final = Path("/usr/lib/postgresql")
#: Unprivileged users the server may run as when we are root, in order of preference.
SERVER_USERS: Final = ("postgres", "nobody")

#: Primary key column of each table.
KEY_COLUMN: Final = {"PLAN_BASE_WVR_TBL": "PLAN_BASE_WVR_ID", "PLAN_WVR_RVSN_TBL": "PLAN_WVR_RVSN_ID"}

_DDL: Final = {
    "PLAN_BASE_WVR_TBL": """
        "PLAN_BASE_WVR_ID" bigint PRIMARY KEY,
        "WVR_NUM" varchar(20) NOT NULL,
        "STATE_CD" char(2) NOT NULL,
        "WVR_STATUS_CD" varchar(10) NOT NULL,
        "WVR_TYPE_CD" varchar(10),
        "EFF_DT" date,
        "END_DT" date,
        "WVR_AMT" numeric(14, 2),
        "SLOT_CNT" integer,
        "CREATED_BY" varchar(30),
        "WVR_RATE" numeric(38, 18),
        "SBMT_TS" timestamp(6) with time zone,
        "LAST_UPDT_TS" timestamp(6) NOT NULL DEFAULT localtimestamp
    """,
    "PLAN_WVR_RVSN_TBL": """
        "PLAN_WVR_RVSN_ID" bigint PRIMARY KEY,
        "PLAN_BASE_WVR_ID" bigint NOT NULL,
        "WVR_NUM" varchar(20) NOT NULL,
        "RVSN_NUM" integer NOT NULL,
        "RVSN_TYPE_CD" varchar(10),
        "RVSN_STATUS_CD" varchar(10) NOT NULL,
        "RVSN_EFF_DT" date,
        "APRVL_DT" date,
        "RVSN_AMT" numeric(14, 2),
        "CMNT_TXT" varchar(400),
        "RVSN_FACTOR" numeric,
        "APRVL_TS" timestamp(6),
        "LAST_UPDT_TS" timestamp(6) NOT NULL DEFAULT localtimestamp
    """,
}


def quoted(table: TableId) -> str:
    return f'"{table.schema}"."{table.table}"'


def flat_quoted(table: TableId) -> str:
    """The table in one schema, named ``<SCHEMA>_<TABLE>`` (how sinks that flatten
    ``schema.table`` topic names, such as Debezium's JDBC sink, name it)."""
    return f'"public"."{table.schema}_{table.table}"'


def copy_sql() -> list[str]:
    """The DDL of a copy of the four tables in one schema, named by :func:`flat_quoted` (pure)."""
    return [f"CREATE TABLE IF NOT EXISTS {flat_quoted(t)} ({_DDL[t.table]})" for t in CAPTURED_TABLES]


def schema_sql() -> list[str]:
    """The DDL of the stand-in schemas and tables (pure)."""
    # pg_walinspect (read-only WAL inspection) lets the audit prove, on a quiet database, that no
    # captured change lies between the connector's last commit and its snapshot (audit/standin.py).
    statements = ["CREATE EXTENSION IF NOT EXISTS pg_walinspect"]
    statements += [f'CREATE SCHEMA IF NOT EXISTS "{schema}"' for schema in SCHEMAS]
    for table in CAPTURED_TABLES:
        statements.append(f"CREATE TABLE IF NOT EXISTS {quoted(table)} ({_DDL[table.table]})")
        statements.append(f"ALTER TABLE {quoted(table)} REPLICA IDENTITY FULL")
    return statements


def find_bindir(root: Path = PG_ROOT) -> Path:
    """The newest ``/usr/lib/postgresql/<v>/bin`` holding initdb, else the one on PATH."""
    candidates = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").is_file() and p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
    )
    if candidates:
        return candidates[-1]
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise WmsError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found for the STAND-IN source: run `make setup` "
        "as root (it runs `apt-get install postgresql`), or install Debian's `postgresql` package yourself"
    )


def server_user() -> str | None:
    """The user the server runs as: ``None`` (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise WmsError(
        "running as root, and neither user 'postgres' nor 'nobody' exists to run the STAND-IN PostgreSQL "
        "(PostgreSQL refuses root): create one with `useradd --system postgres`"
    )


def _as_user(user: str | None, argv: Sequence[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else list(argv)


def _check_traversable(path: Path, user: str) -> None:
    """The server user must reach its data directory through every parent."""
    uid = pwd.getpwnam(user).pw_uid
    for parent in path.resolve().parents:
        info = parent.stat()
        if info.st_uid != uid and not info.st_mode & 0o001:
            raise WmsError(
                f"the STAND-IN PostgreSQL runs as {user!r} (PostgreSQL refuses root) but cannot enter "
                f"{parent}: choose a state directory under a world-traversable path (chmod o+x {parent})"
            )


@dataclass
class StandInPostgres:
    """A local PostgreSQL for the stand-in connector. ``start()`` creates and starts it,
    ``stop()`` stops it and removes its data directory."""

    state_dir: Path
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    bindir: Path | None = None
    keep_data: bool = False
    _user: str | None = None
    _started: bool = False
    _bindir: Path = field(default_factory=Path)

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "postgres.log"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def dbname(self) -> str:
        return DB_NAME

    @property
    def user(self) -> str:
        return DB_USER

    def conninfo(self, dbname: str = DB_NAME) -> str:
        return f"host={self.host} port={self.port} dbname={dbname} user={DB_USER} password={self.password}"

    def connect(
        self, autocommit: bool = False, dbname: str = DB_NAME
    ) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.conninfo(dbname), autocommit=autocommit)

    def create_copy(self, dbname: str) -> None:
        """A second, empty database on this server with the same tables (columns and types), named
        by :func:`flat_quoted`: where a downstream sink replays the topics, to compare with the
        source row by row."""
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        with self.connect(dbname=dbname) as conn:
            for statement in copy_sql():
                conn.execute(statement)

    def _run(self, argv: Sequence[str], what: str) -> None:
        result = subprocess.run(_as_user(self._user, argv), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip()[-800:]
            raise WmsError(f"STAND-IN PostgreSQL: {what} failed (exit {result.returncode}): {tail}")

    def start(self) -> StandInPostgres:
        bindir = self.bindir or find_bindir()
        self._user = server_user()
        self.port = self.port or free_port()
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700)
        pwfile = self.state_dir / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        if self._user:
            _check_traversable(self.state_dir, self._user)
            entry = pwd.getpwnam(self._user)
            for path in (self.state_dir, self.data_dir, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        try:
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    DB_USER,
                    "--pwfile",
                    str(pwfile),
                    "-A",
                    "scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ],
                "initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "wal_level": "logical",
            "max_replication_slots": "10",
            "max_wal_senders": "10",
            "fsync": "off",  # a throw-away stand-in: durability is not what it demonstrates
            "shared_buffers": "32MB",
        }
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# wms-connector STAND-IN settings\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._bindir = bindir
        try:
            self._run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                f"start on 127.0.0.1:{self.port} (log: {self.log_file})",
            )
            self._started = True
            with psycopg.connect(
                f"host={self.host} port={self.port} dbname=postgres user={DB_USER} password={self.password}",
                autocommit=True,
            ) as conn:
                conn.execute(f"CREATE DATABASE {DB_NAME}")
            with self.connect() as conn:
                for statement in schema_sql():
                    conn.execute(statement)
        except BaseException:
            # The caller gets no object to stop: never leave the server running behind the error
            # (a pg_ctl start that timed out may still have a postmaster starting).
            self._abandon()
            raise
        return self

    def postmaster_pid(self) -> int | None:
        """The running server's pid, from the first line of its ``postmaster.pid``."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _abandon(self) -> None:
        """Stop the server at once if it runs, ignoring errors; then drop the data as stop() does."""
        subprocess.run(
            _as_user(
                self._user,
                [str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
            ),
            capture_output=True,
            check=False,
        )
        self._started = False
        if not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def stop(self) -> None:
        if self._started:
            self._run(
                [str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"], "stop"
            )
            self._started = False
        if not self.keep_data and self.data_dir.exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start the same server (data kept), e.g. to test recovery."""
        self.stop_server()
        self.start_server()

    def stop_server(self) -> None:
        """Stop the server and keep its data (an outage the agent must detect); see :meth:`start_server`."""
        self._run(
            [str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"], "stop"
        )

    def start_server(self) -> None:
        """Start the server stopped by :meth:`stop_server` again, same port and data."""
        self._run(
            [str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "start"],
            "start",
        )


@contextmanager
def running_standin(state_dir: Path) -> Iterator[StandInPostgres]:
    db = StandInPostgres(state_dir)
    try:
        yield db.start()
    finally:
        db.stop()
