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

import csv
import io
import json
import os
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Iterator, NoReturn, Optional, Sequence

import numpy as np
import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperCommand

from pipeline.scoring.rules import clock
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


def open_writer(db: Optional[Path]) -> Store:
    """The database for a short write outside a scoring run (a review, a user, a coaching
    session): no run lock, so it works while the nightly run goes; refused like `open_reader`
    (exit 2 on a missing or broken file, 3 when busy)."""
    open_reader(db)
    try:
        return Store(resolve_db(db))
    except StorageError as exc:
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


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def fmt(value, column: str = "") -> str:
    """One cell as a reviewer reads it: no NaN, no 00:00:00 on dates, yes/blank for flags, lists
    joined with "; ", and seconds (a column named ..._s) as m:ss like the transcript."""
    if _missing(value):
        return "-"
    if column.endswith("_s") and isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return clock(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _cells(frame: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    return [[fmt(v, c) for v, c in zip(row, columns)] for row in frame[columns].itertuples(index=False)]


def _narrowest(column: str, texts: list[str]) -> int:
    """The narrowest a column can be without cutting: an id's whole value, else its longest word."""
    texts = [header(column)] + texts
    if is_id_column(column):
        return max(len(t) for t in texts)
    return max(len(word) for text in texts for word in (text.split() or [""]))


GAP = 3  # between two columns: padding on either side and the separator


def _widest(column: str, texts: list[str]) -> int:
    return max(len(t) for t in [header(column)] + texts)


def needed_width(frame: pd.DataFrame, columns: Optional[list[str]] = None) -> int:
    """The terminal width `table` needs so that no id is cut and no word broken."""
    columns = columns or list(frame.columns)
    cells = _cells(frame, columns)
    return sum(_narrowest(c, [row[i] for row in cells]) for i, c in enumerate(columns)) + GAP * (len(columns) - 1)


def fit_widths(narrowest: list[int], widest: list[int], available: int) -> list[int]:
    """Column widths within `available`: each column as wide as its content, then the widest
    shrunk one character at a time, none below its narrowest (an id's whole value, a longest word)."""
    widths = list(widest)
    while sum(widths) > available:
        shrinkable = [i for i, w in enumerate(widths) if w > narrowest[i]]
        if not shrinkable:
            break
        widths[max(shrinkable, key=lambda i: widths[i])] -= 1
    return widths


def table(frame: pd.DataFrame, title: str = "", columns: Optional[list[str]] = None, width: Optional[int] = None) -> Table:
    """A DataFrame as a rich table, its columns fitted to `width` (ids whole, other cells wrapped
    between words); text is never read as markup."""
    out = Table(title=escape(title) or None, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
                show_edge=False, pad_edge=False)
    columns = columns or list(frame.columns)
    cells = _cells(frame, columns)
    texts = [[row[i] for row in cells] for i in range(len(columns))]
    narrowest = [_narrowest(c, t) for c, t in zip(columns, texts)]
    widest = [_widest(c, t) for c, t in zip(columns, texts)]
    widths = fit_widths(narrowest, widest, width - GAP * (len(columns) - 1)) if width else widest
    for column, w in zip(columns, widths):
        out.add_column(escape(header(column)), no_wrap=is_id_column(column), overflow="fold", width=w)
    for row in cells:
        out.add_row(*(escape(cell) for cell in row))
    return out


# --- output formats: one place for every read command -------------------------------------------

class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


FORMAT_HELP = ("table: for people (fitted to the terminal; plain complete rows when piped); "
               "csv or json: every row and column for other programs, nothing else on stdout.")


def format_option() -> Format:
    """The --format option of every read command."""
    return typer.Option(Format.table, "--format", help=FORMAT_HELP, case_sensitive=False)


ID_COLUMNS = {"call_id", "agent_id", "scorecard_id", "scorecard_version", "item_id", "username", "date", "day",
              "period_start", "scorecard", "version", "first_scored", "last_scored", "created_at"}


def is_id_column(column: str) -> bool:
    """Columns whose values are copied into other commands (ids, versions, dates): never wrapped or cut."""
    return column in ID_COLUMNS or column.endswith("_id")


def header(column: str) -> str:
    """A column's heading for people: words, not snake_case; seconds columns lose their _s (shown m:ss)."""
    return (column[:-2] if column.endswith("_s") else column).replace("_", " ")


def plain_rows(frame: pd.DataFrame, columns: Optional[list[str]] = None) -> str:
    """A table as plain text: every column as wide as its widest cell, nothing wrapped or cut, one
    line per row, so a pipe, `grep` or a file gets complete rows."""
    columns = columns or list(frame.columns)
    rows = [[header(c) for c in columns]]
    rows += [[fmt(v, c).replace("\n", " ") for v, c in zip(row, columns)] for row in frame[columns].itertuples(index=False)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: NaN is null, times ISO 8601, numpy values plain Python."""
    def plain(value):
        if isinstance(value, (list, tuple, np.ndarray)):
            return [plain(v) for v in value]
        if _missing(value):
            return None
        if isinstance(value, (pd.Timestamp, datetime, date)):
            return value.isoformat()
        if isinstance(value, np.generic):
            return value.item()
        return value
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def csv_text(frame: pd.DataFrame) -> str:
    """Rows as CSV: a header, then every row whole; lists joined with "; ", empty for missing."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for row in records(frame):
        writer.writerow(["" if v is None else "; ".join(map(str, v)) if isinstance(v, list) else v for v in row.values()])
    return buffer.getvalue()


def emit(frame: pd.DataFrame, out: Format, title: str = "", columns: Optional[list[str]] = None,
         empty: str = "", screen: Console | None = None, narrow: Optional[list[str]] = None) -> None:
    """Print one result in the chosen format. csv and json carry all of `frame`'s columns, raw
    (seconds as numbers); a table shows `columns` for people. Nothing but the data goes to stdout
    in csv or json (an empty result is a header, or [])."""
    if out is Format.csv:
        typer.echo(csv_text(frame), nl=False)
    elif out is Format.json:
        typer.echo(json.dumps(records(frame), ensure_ascii=False, indent=1))
    else:
        print_table(frame, title, columns, empty, screen, narrow)


def say(markup: str) -> None:
    """One line of a report for people: wrapped to a terminal's width, never folded when piped."""
    console.print(markup, soft_wrap=not console.is_terminal)


def note(message: str) -> None:
    """A hint beside the data (rows left out, other scorecards): on stderr, so pipes get data only."""
    errors.print(escape(message), soft_wrap=True, style="dim")


# --- which scorecard a read command shows -------------------------------------------------------

SCORECARD_HELP = ("Scorecard to show: its id (aidet), its YAML file, or 'all' (then a column names it). "
                  "Default: the default scorecard when this database has its results, else all.")


def scorecard_filter_option() -> Optional[str]:
    """The --scorecard option of every read command."""
    return typer.Option(None, "--scorecard", help=SCORECARD_HELP, show_default=False)


def default_scorecard_id() -> str:
    """The id inside the default scorecard file (read as YAML only: no validation needed to name it)."""
    import yaml

    from pipeline.scoring.scorecard import DEFAULT_SCORECARD

    try:
        return str(yaml.safe_load(DEFAULT_SCORECARD.read_text(encoding="utf-8"))["id"])
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return "aidet"


def pick_scorecard(store: Store, given: Optional[str]) -> Optional[str]:
    """The scorecard id a read command filters by, or None for all of them (shown as a column).

    No --scorecard: the default scorecard when the database has its results, the only one when
    there is one, else all. A scorecard with no results here is a usage mistake naming those that have."""
    from pipeline.store import reads

    available = reads.scorecard_ids(store)
    if given is None:
        if default_scorecard_id() in available:
            return default_scorecard_id()
        return available[0] if len(available) == 1 else None
    if given.lower() == "all":
        return None
    if given.endswith((".yaml", ".yml")) or Path(given).is_file():
        given = scorecard_or_exit(Path(given)).id
    if given not in available:
        fail(f"no results for scorecard '{given}' in {store.path}; scorecards here: "
             f"{', '.join(available) or 'none yet'} (or --scorecard all)")
    return given


def note_other_scorecards(store: Store, shown: Optional[str]) -> None:
    """When one scorecard is shown by default, say which others have results and how to see them."""
    from pipeline.store import reads

    others = [s for s in reads.scorecard_ids(store) if s != shown]
    if shown and others:
        note(f"scorecard {shown}; also scored with {', '.join(others)}: --scorecard {others[0]}, or --scorecard all")


def emit_document(sections: dict[str, pd.DataFrame], out: Format) -> None:
    """Several results about one thing (a call): json is one object of lists; csv is one block per
    section, each `# name`, its header and rows, blocks apart by an empty line."""
    if out is Format.json:
        typer.echo(json.dumps({name: records(frame) for name, frame in sections.items()}, ensure_ascii=False, indent=1))
        return
    typer.echo("\n".join(f"# {name}\n" + csv_text(frame) for name, frame in sections.items()), nl=False)


def print_table(frame: pd.DataFrame, title: str = "", columns: Optional[list[str]] = None, empty: str = "",
                screen: Console | None = None, narrow: Optional[list[str]] = None) -> None:
    """A table for people. On a terminal it is fitted to the width: all `columns` when they fit
    (ids whole, long text wrapped), else the `narrow` ones, else one block per row ("column:
    value"), so nothing is ever cut. Piped (not a terminal): plain complete rows of `columns`."""
    screen = screen or console
    if frame.empty:
        screen.print(escape(empty or (f"{title}: none." if title else "none.")), soft_wrap=True)
        return
    columns = columns or list(frame.columns)
    if not screen.is_terminal:
        screen.out((title + "\n" if title else "") + plain_rows(frame, columns), end="", highlight=False)
        return
    for layout in (columns, narrow):
        if layout and needed_width(frame, layout) <= screen.width:
            screen.print(table(frame, title, layout, screen.width))
            return
    if title:
        screen.print(f"[bold]{escape(title)}[/bold]")
    label = max(len(header(c)) for c in columns)
    for row in frame[columns].itertuples(index=False):
        for column, value in zip(columns, row):
            screen.print(f"{escape(header(column)).ljust(label)}  {escape(fmt(value, column))}", overflow="fold")
        screen.print()


# --- help text: every command's usage and options read plainly ----------------------------------

class _PlainHelpCommand(TyperCommand):
    """A command whose usage line names arguments as click does (RECORDINGS, [NAME]), not Typer's
    `{recordings}`, and whose flags show no `<bool>` type."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = (param.metavar or param.name or "").upper() + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def get_params(self, ctx) -> list:
        params = super().get_params(ctx)
        for param in params:
            if param.param_type_name == "option" and getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


def tidy_help(app: typer.Typer) -> None:
    """Give every command of `app` (and of its sub-apps) the plain usage line and flag display."""
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = _PlainHelpCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            tidy_help(group.typer_instance)
