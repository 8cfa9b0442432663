"""`finsent dashboard`: run the Streamlit dashboard, and its helper commands.

    finsent dashboard                      # serve on FINSENT_DASHBOARD_ADDRESS:FINSENT_DASHBOARD_PORT, headless
    finsent dashboard hash-password        # print a value for FINSENT_DASHBOARD_PASSWORD_HASH
    finsent dashboard grant-role [--print] # create the least-privilege finsent_dashboard role
    finsent dashboard bench --articles 1000000 --json   # seed a bench database, time each page

The `bench` subcommand is added by the command shell (finsent/dashboard_commands.py): the
benchmark lives in benchmarks/dashboard.py, outside the serving path.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from kernel.settings import get_settings

APP_PATH = Path(__file__).resolve().parent / "app.py"


def streamlit_command(address: str, port: int, dev: bool = False) -> list[str]:
    """The `streamlit run` argv for the dashboard, headless and without usage statistics."""
    return [sys.executable, "-m", "streamlit", "run", str(APP_PATH),
            "--server.address", address, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "auto" if dev else "none",
            "--theme.base", "light", "--client.toolbarMode", "minimal"]


@click.group(invoke_without_command=True)
@click.option("--address", default=None, help="Bind address (default: FINSENT_DASHBOARD_ADDRESS).")
@click.option("--port", type=int, default=None, help="Port (default: FINSENT_DASHBOARD_PORT).")
@click.option("--dev", is_flag=True, help="Reload pages when their files change.")
@click.pass_context
def dashboard(ctx: click.Context, address: str | None, port: int | None, dev: bool) -> None:
    """Serve the analysts' dashboard (Streamlit) until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
    argv = streamlit_command(address or settings.dashboard_address, port or settings.dashboard_port, dev)
    click.echo(f"dashboard on http://{address or settings.dashboard_address}:{port or settings.dashboard_port}",
               err=True)
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # streamlit gets our pid, so signals reach it directly


@dashboard.command("hash-password")
@click.password_option("--password", help="The shared password (prompted for when omitted).")
def hash_password_command(password: str) -> None:
    """Print a hash to put in FINSENT_DASHBOARD_PASSWORD_HASH."""
    from dashboards.auth import hash_password

    click.echo(hash_password(password))


@dashboard.command("grant-role")
@click.option("--role", default="finsent_dashboard", show_default=True)
@click.option("--password", default=None, help="Set the role's login password (else leave it unchanged).")
@click.option("--print", "print_only", is_flag=True, help="Print the SQL instead of running it.")
@click.option("--revoke", is_flag=True, help="Take the grants back instead (then `DROP ROLE` works).")
@click.option("--database-url", default=None, help="Database to grant on (default: FINSENT_DATABASE_URL).")
def grant_role(role: str, password: str | None, print_only: bool, revoke: bool, database_url: str | None) -> None:
    """Create a role that can read everything and write only labels, silences and acknowledgements."""
    from sqlalchemy.engine import make_url

    from dashboards import grants
    from monitor.storage.db import make_engine

    url = database_url or get_settings().database_url
    database = make_url(url).database or "finsent"
    statements = (grants.revoke_statements(role, database) if revoke
                  else grants.grant_statements(role, database, password))
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if print_only:
                click.echo(grants.render(statements, connection))
                return
            grants.apply(statements, connection)
    finally:
        engine.dispose()
    click.echo(f"role {role}: grants revoked" if revoke else
               f"role {role} can now read the finsent tables and write labels, silences and acknowledgements")
