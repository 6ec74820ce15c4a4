"""What every `callqa` command shares: exit codes, the --db option, errors, tables.

Exit codes (documented in the README):

    0  done
    1  done, but some recordings or transcripts failed (each with its reason in the database)
    2  usage mistake: a folder or file that is not there, a bad option, an invalid scorecard;
       one line is printed and nothing is created
    3  the database is busy: another callqa run holds it
"""
from __future__ import annotations

from pathlib import Path
from typing import NoReturn, Optional

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.scoring.scorecard import Scorecard, ScorecardError, load_scorecard
from pipeline.settings import default_db
from pipeline.store.database import NoDatabase, Store

EXIT_OK, EXIT_CALLS_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

DB_HELP = "DuckDB file with the results [default: $CALLQA_DB, else ~/.local/share/callqa/callqa.duckdb]"


def db_option() -> Optional[Path]:
    """The --db option of every command; None means `pipeline.settings.default_db()`."""
    return typer.Option(None, "--db", help=DB_HELP, show_default=False)


def resolve_db(db: Optional[Path]) -> Path:
    return Path(db).expanduser() if db is not None else default_db()


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line (never a traceback) and exit with `code`."""
    errors.print(f"[red]error:[/red] {escape(str(message))}")
    raise typer.Exit(code)


def open_reader(db: Optional[Path]) -> Store:
    """The database for reading; a missing file is one line and exit 2, nothing is created."""
    try:
        return Store(resolve_db(db), read_only=True)
    except NoDatabase as exc:
        fail(str(exc))


def scorecard_or_exit(path: Path) -> Scorecard:
    try:
        return load_scorecard(path)
    except ScorecardError as exc:
        fail(str(exc))


def fmt(value) -> str:
    """One cell as a reviewer reads it: no NaN, no 00:00:00 on dates, yes/blank for flags."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def table(frame: pd.DataFrame, title: str = "", columns: Optional[list[str]] = None) -> Table:
    """A DataFrame as a rich table; cell text is shown as itself, never read as markup."""
    out = Table(title=escape(title), title_justify="left", header_style="bold")
    columns = columns or list(frame.columns)
    for column in columns:
        out.add_column(escape(column.replace("_", " ")), overflow="fold")
    for row in frame[columns].itertuples(index=False):
        out.add_row(*(escape(fmt(v)) for v in row))
    return out
