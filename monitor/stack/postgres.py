"""A real local PostgreSQL server with its data under the project's state dir.

Uses the server binaries of Debian's `postgresql` package
(/usr/lib/postgresql/<major>/bin). PostgreSQL refuses to run as root, so when
finsent runs as root the server runs as the `postgres` system user that the
package creates. Nothing is started when FINSENT_DATABASE_URL already points
at a server that answers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from kernel.settings import Settings
from monitor.stack.processes import StackError, ensure_port_free, log_tail, read_pid

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SERVER_USER = "postgres"


def bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin directory."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if candidates:
        return candidates[-1].parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise StackError("PostgreSQL server not found: install it (apt-get install postgresql) "
                     "or point FINSENT_DATABASE_URL at a running server")


def _pg_root(settings: Settings) -> Path:
    return settings.state_dir / "postgres"


def _as_server_user(command: list[str]) -> list[str]:
    """Wrap a command so it runs as the postgres user when we are root."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise StackError("running as root needs the 'postgres' system user "
                         "(apt-get install postgresql creates it)") from None
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _chown_for_server(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def database_answers(url: str, timeout_s: int = 3) -> bool:
    """True when a connection to the URL's database succeeds."""
    import psycopg2

    parsed = make_url(url)
    try:
        connection = psycopg2.connect(
            host=parsed.host or "127.0.0.1", port=parsed.port or 5432, user=parsed.username,
            password=parsed.password, dbname=parsed.database, connect_timeout=timeout_s,
        )
    except psycopg2.OperationalError:
        return False
    connection.close()
    return True


def _ensure_role_and_database(settings: Settings, port: int) -> None:
    """Create the URL's role and database in the local cluster when missing."""
    import psycopg2
    from psycopg2 import sql

    parsed = make_url(settings.database_url)
    role, database = parsed.username or "finsent", parsed.database or "finsent"
    connection = psycopg2.connect(host="127.0.0.1", port=port, user=SERVER_USER, dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if cursor.fetchone() is None:
            # CREATEDB: the test suite makes a throw-away database per run.
            # CREATEROLE: migrations create the read-mostly dashboard role.
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE").format(sql.Identifier(role)))
            if parsed.password:
                cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(role)), (parsed.password,))
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database),
                                                                         sql.Identifier(role)))
    connection.close()


def _local_port(settings: Settings) -> int:
    parsed = make_url(settings.database_url)
    if (parsed.host or "127.0.0.1") not in LOCAL_HOSTS:
        raise StackError(f"FINSENT_DATABASE_URL points at {parsed.host}:{parsed.port}, which does not answer; "
                         "start that server or unset the variable to use a local one")
    return parsed.port or settings.postgres_port


def start(settings: Settings) -> str:
    """Start the local server unless the configured database already answers."""
    root = _pg_root(settings)
    data, run_dir, log_file = root / "data", root / "run", root / "server.log"
    if read_pid(data / "postmaster.pid") is None and database_answers(settings.database_url):
        return f"postgres: using the server at {make_url(settings.database_url).render_as_string(hide_password=True)}"
    port = _local_port(settings)
    pid = read_pid(data / "postmaster.pid")
    if pid is not None:
        _ensure_role_and_database(settings, port)
        return f"postgres: already running (pid {pid}) on 127.0.0.1:{port}"
    ensure_port_free(port, "PostgreSQL", "FINSENT_POSTGRES_PORT (and the port in FINSENT_DATABASE_URL)")
    binaries = bin_dir()
    for directory in (root, run_dir):
        directory.mkdir(parents=True, exist_ok=True)
        _chown_for_server(directory)
    if not (data / "PG_VERSION").exists():
        result = subprocess.run(
            _as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", SERVER_USER, "--auth=trust",
                             "-E", "UTF8", "--locale=C.UTF-8"]),
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise StackError(f"initdb failed:\n{result.stdout}{result.stderr}")
    options = f"-p {port} -k {run_dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
    result = subprocess.run(
        _as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log_file), "-o", options,
                         "-w", "-t", "60", "start"]),
        capture_output=True, text=True, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    if result.returncode != 0:
        raise StackError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{log_tail(log_file)}")
    _ensure_role_and_database(settings, port)
    return f"postgres: started (pid {read_pid(data / 'postmaster.pid')}) on 127.0.0.1:{port}"


def stop(settings: Settings) -> str:
    """Stop the local server (fast shutdown); harmless when it is not running."""
    data = _pg_root(settings) / "data"
    pid = read_pid(data / "postmaster.pid")
    if pid is None:
        return "postgres: not running (local)"
    result = subprocess.run(_as_server_user([str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"pg_ctl stop failed:\n{result.stdout}{result.stderr}")
    return f"postgres: stopped (pid {pid})"


def status(settings: Settings) -> str:
    data = _pg_root(settings) / "data"
    pid = read_pid(data / "postmaster.pid")
    answers = database_answers(settings.database_url)
    where = "local" if pid is not None else "external" if answers else "none"
    state = "answering" if answers else "not answering"
    return f"postgres: {where}{f' (pid {pid})' if pid else ''}, {state}"
