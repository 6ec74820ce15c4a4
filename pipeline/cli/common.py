"""What every `callqa` command shares: exit codes, the --db option, errors, tables.

Exit codes (documented in the README):

    0  done
    1  done, but some recordings or transcripts failed (each with its reason in the database)
    2  usage mistake: a folder or file that is not there, a bad option, an invalid scorecard,
       a --db that cannot be a database (a folder, not a DuckDB file, a place that cannot be
       written); one line is printed and nothing is created
    3  the database is busy: another callqa run holds it
    4  storage fault during a run: the database could not be written (disk full, file too
       large, I/O error); every call saved before it is complete, nothing is half-written
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NoReturn, Optional

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.scoring.scorecard import Scorecard, ScorecardError, load_scorecard
from pipeline.settings import default_db
from pipeline.store.database import NoDatabase, StorageError, Store, StoreBusy

EXIT_OK, EXIT_CALLS_FAILED, EXIT_USAGE, EXIT_BUSY, EXIT_STORAGE = 0, 1, 2, 3, 4

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

# No square brackets: Typer renders help as rich markup, where "[default: ...]" is a tag and vanishes.
DB_HELP = (
    "DuckDB file with the results. Default: $CALLQA_DB if set, else $XDG_DATA_HOME/callqa/callqa.duckdb "
    f"(~/.local/share/callqa/callqa.duckdb); here: {default_db()}"
)


def db_option() -> Optional[Path]:
    """The --db option of every command; None means `pipeline.settings.default_db()`."""
    return typer.Option(None, "--db", help=DB_HELP, show_default=False)


def resolve_db(db: Optional[Path]) -> Path:
    return Path(db).expanduser() if db is not None else default_db()


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line (never a traceback, never wrapped) and exit with `code`.

    A message of several lines (a scorecard's problems) is joined with "; ".
    """
    line = "; ".join(part.strip() for part in str(message).splitlines() if part.strip())
    errors.print(f"[red]error:[/red] {escape(line)}", soft_wrap=True)
    raise typer.Exit(code)


def _refuse_if_not_duckdb(path: Path) -> None:
    """Exit 2 when an existing file is not a DuckDB database (its header says "DUCK" at byte 8),
    before any lock file is made beside it."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return  # a folder or no access: told by the caller or by Store, with the reason
    if head[8:12] != b"DUCK":
        fail(f"{path} is not a DuckDB database file: pass the callqa database with --db")


def open_reader(db: Optional[Path]) -> Store:
    """The database for reading: a missing file, a folder or a file that is not a DuckDB database
    is one line and exit 2 (nothing is created); a database held too long by another program, 3."""
    path = resolve_db(db)
    if path.is_file():
        _refuse_if_not_duckdb(path)
    try:
        store = Store(path, read_only=True)
        with store.connect(read_only=True):
            pass  # opened once here, so a broken file is told now, not as a traceback mid-table
        return store
    except (NoDatabase, StorageError) as exc:
        fail(str(exc))
    except StoreBusy as exc:
        fail(str(exc), EXIT_BUSY)


def check_database_for_writing(database: Path) -> None:
    """Before a run starts anything: exit 3 if another run holds `database`, 2 if it cannot be
    one (a folder, not a DuckDB file, a folder that cannot be created or written). Creates nothing
    where no database is yet."""
    if database.is_dir():
        fail(f"{database} is a directory, not a database file: pass --db FOLDER/callqa.duckdb")
    if not database.exists():
        parent = database.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            fail(f"cannot create the database {database}: {parent} is not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            fail(f"cannot create the database {database}: no write permission in {parent}")
        return
    _refuse_if_not_duckdb(database)
    store = Store(database, read_only=True)
    try:
        with store.run_lock():
            pass  # free now; the run takes it for real once it starts
        with store.connect(read_only=True):
            pass
    except StoreBusy as exc:
        fail(str(exc), EXIT_BUSY)
    except StorageError as exc:
        fail(str(exc))


@contextmanager
def run_lock_or_exit(store: Store) -> Iterator[None]:
    """Hold the run lock for a command that changes scores; busy is exit 3, a storage fault 4.

    Calls saved before a storage fault are whole (one transaction each): the message says so.
    """
    try:
        with store.run_lock():
            yield
    except StoreBusy as exc:
        fail(str(exc), EXIT_BUSY)
    except StorageError as exc:
        fail(f"{exc}; what was saved before it is whole: run again once there is room", EXIT_STORAGE)


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
