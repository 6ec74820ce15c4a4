"""`callqa review` (the reviewer workbench) and `callqa users add/list/disable` (its accounts).

    callqa review [--db PATH] [--host 127.0.0.1] [--port 8000]
    callqa users add NAME --role reviewer|lead|agent [--agent-id ID] [--name "Full Name"] [--password-stdin]
    callqa users list
    callqa users disable NAME

Registered on the main app by `pipeline.cli.main` with `register(app)`.
"""
from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from pipeline.cli.common import EXIT_BUSY, open_writer, Format, console, db_option, emit, errors, fail, format_option, open_reader
from pipeline.store import reads
from pipeline.store.database import NoDatabase, StorageError, StoreBusy

users_app = typer.Typer(help="Accounts of the review app (callqa review).", no_args_is_help=True)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="The sign-in name."),
    role: str = typer.Option(..., "--role", help="reviewer, lead (also resolves disputes) or agent (sees only their own calls)."),
    agent_id: Optional[str] = typer.Option(None, "--agent-id", help="For --role agent: the agent id of their calls."),
    name: Optional[str] = typer.Option(None, "--name", help="Name shown in the app."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
    db: Optional[Path] = db_option(),
) -> None:
    """Add an account (or reset its password, role and agent, and enable it again)."""
    from pipeline.store.writes import ReviewError, add_user
    from pipeline.web.security import MIN_PASSWORD_LENGTH, hash_password

    if role not in ("reviewer", "lead", "agent"):
        fail(f"--role must be reviewer, lead or agent, not {role!r}")
    if role == "agent" and not agent_id:
        fail("an agent account needs --agent-id (the agent whose calls it may see)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        fail(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    store = open_writer(db)
    try:
        add_user(store, username.strip(), hash_password(password), role, agent_id, name)
    except ReviewError as exc:
        fail(str(exc))
    except StoreBusy as exc:
        fail(str(exc), EXIT_BUSY)
    console.print(f"user {escape(username)} ({role}{' ' + escape(agent_id) if agent_id else ''}) saved in {escape(str(store.path))}")


@users_app.command("list")
def users_list(db: Optional[Path] = db_option(), out: Format = format_option()) -> None:
    """The accounts: name, role, agent, disabled."""
    frame = reads.user_accounts(open_reader(db))
    emit(frame, out, "Users", empty="No users yet: add one with `callqa users add NAME --role reviewer`.")


@users_app.command("disable")
def users_disable(username: str = typer.Argument(..., help="The account to disable."), db: Optional[Path] = db_option()) -> None:
    """Disable an account: its sessions end at their next request. `users add` enables it again."""
    from pipeline.store.writes import set_user_disabled

    store = open_writer(db)
    try:
        found = set_user_disabled(store, username, True)
    except StoreBusy as exc:
        fail(str(exc), EXIT_BUSY)
    if not found:
        fail(f"no user {username!r}")
    console.print(f"user {escape(username)} disabled")


def register(app: typer.Typer) -> None:
    """Add `review` and `users` to the main `callqa` app."""
    app.add_typer(users_app, name="users")

    @app.command("review")
    def review_cmd(
        db: Optional[Path] = db_option(),
        host: str = typer.Option("127.0.0.1", help="Address to listen on. Keep 127.0.0.1 (use `ssh -L` from elsewhere)."),
        port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    ) -> None:
        """Start the reviewer workbench (web app) on http://HOST:PORT; sign-in needed for every page."""
        import uvicorn

        from pipeline.web import create_app

        store = open_reader(db)
        try:
            app_ = create_app(store.path)
        except (NoDatabase, StorageError) as exc:
            fail(str(exc))
        except StoreBusy as exc:
            fail(str(exc), EXIT_BUSY)
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            errors.print(f"[yellow]warning:[/yellow] listening on {escape(host)}: anyone who can reach this machine can "
                         "try to sign in, over plain http")
        if reads.user_accounts(store).empty:
            errors.print("[yellow]no users yet:[/yellow] add one with `callqa users add NAME --role reviewer`")
        console.print(f"callqa review: http://{escape(host)}:{port}  (database {escape(str(store.path))}; Ctrl-C stops)", soft_wrap=True)
        uvicorn.run(app_, host=host, port=port, log_level="warning", proxy_headers=False)
