"""Which recordings to score, and what is known about each (manifest CSV or file name).

The manifest is optional: a recording with no row is still scored, with agent `unknown`.
Without a manifest, a file name like `20261123T101500_a001_inv-4471.wav` gives the start time,
the agent id and the call id (FILENAME_PATTERN); any other name gives just the call id. A
phone number in a name (a long digit run that is not a date) is replaced in the call id by a
stable pseudonym (`pipeline.privacy.names`), so it shows in no log, task name or page.

A bad manifest never stops a batch. A bad row (a date that is not a date, an unknown channel
layout) fails that call with the row's problem, so it is fixed and re-run rather than scored
under the wrong agent; a manifest that cannot be read at all fails every call it would describe.
Unknown columns are ignored and reported.

Nothing outside the recordings folder is read. A manifest row whose `file` is an absolute path
outside the folder, climbs out of it (`../x.wav`), or names something that is not a regular file
(a device such as /dev/zero, a pipe, a folder) is refused for that row alone: with a `call_id`
it becomes a failed call saying why, without one it is a warning. An absolute path inside the
folder is taken as the same file given relative, and `./b.wav` is `b.wav`. A recording that is a
symbolic link is read only when its target is inside the folder too.
"""
from __future__ import annotations

import csv
import os
import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.audio.decode import SUPPORTED_SUFFIXES
from pipeline.privacy.names import pseudonymize_numbers
from pipeline.records import CallMeta

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("file", "call_id", "agent_id", "agent_name", "department", "queue", "call_type", "started_at",
                    "channel_layout", "language")
FILENAME_PATTERN = re.compile(r"^(?P<started_at>\d{8}T\d{6})_(?P<agent_id>[A-Za-z0-9-]+)_(?P<call_id>.+)$")
LAYOUTS = ("agent_left", "agent_right", "mono")


class ManifestError(ValueError):
    """The manifest cannot be read; the message names the file, the row and the field."""


class RefusedPath(ValueError):
    """A manifest row's file that callqa will not open (outside the folder, not a regular file)."""


@dataclass
class Manifest:
    """Rows by file name, the problem of each bad row, and notes for the run summary.

    `rows` and `problems` are keyed by the file's path relative to the recordings folder, in
    normal form (`./b.wav` and `/abs/folder/b.wav` are both `b.wav`). `refused` holds the rows
    whose file is refused, each with the reason (row line and file included).
    """

    rows: dict[str, dict] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    refused: list[tuple[dict, str]] = field(default_factory=list)


def _folder_forms(root: Path) -> list[str]:
    """The folder as written (absolute, normalised) and with its links resolved."""
    forms = [os.path.normpath(os.path.abspath(root))]
    try:
        forms.append(str(root.resolve()))
    except OSError:
        pass
    return forms


def _within(path: str, folder: str) -> str | None:
    """`path` relative to `folder` when it lies inside it (both absolute and normalised)."""
    prefix = folder if folder.endswith("/") else folder + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def manifest_key(name: str, root: Path) -> str:
    """The manifest's `file` as a path relative to the recordings folder, in normal form.

    Lexical, so nothing is opened: raises RefusedPath for a path that leaves the folder.
    """
    if "\x00" in name:
        raise RefusedPath("the file name contains a NUL character")
    if name.startswith("/"):
        absolute = os.path.normpath(name)
        for folder in _folder_forms(root):
            if absolute == folder:
                raise RefusedPath(f"'{name}' names the recordings folder itself, not a recording")
            inside = _within(absolute, folder)
            if inside:
                return inside
        raise RefusedPath(f"'{name}' is an absolute path outside the recordings folder {root}")
    key = posixpath.normpath(name)
    if key == ".":
        raise RefusedPath(f"'{name}' names the recordings folder itself, not a recording")
    if key == ".." or key.startswith("../"):
        raise RefusedPath(f"'{name}' points outside the recordings folder {root}")
    return key


def _unreadable_reason(path: Path, resolved_root: str) -> str | None:
    """Why the file at `path` (inside the folder by name) must not be opened, or None."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a link loop
        return "a link that cannot be resolved (a loop?); not read"
    if target != Path(resolved_root) and _within(str(target), resolved_root) is None:
        return f"a link to {target}, outside the recordings folder; not read"
    if path.exists() and not path.is_file():
        return "not a regular file (a folder, device or pipe); not read"
    return None


def _parse_time(value: str, where: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        try:
            return datetime.strptime(value, "%Y%m%dT%H%M%S")
        except ValueError:
            raise ManifestError(f"{where}: started_at '{value}' is not a date-time (use ISO 8601)") from None


def read_manifest(path: Path, root: Path | None = None) -> Manifest:
    """Read the manifest; raises ManifestError only when the file as a whole is unusable.

    `root` is the recordings folder the rows' paths are relative to (default: the manifest's folder).
    """
    manifest = Manifest()
    root = Path(root) if root is not None else Path(path).parent
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "file" not in reader.fieldnames:
                raise ManifestError(f"{path}: needs a 'file' column (columns: {', '.join(MANIFEST_COLUMNS)})")
            unknown = [c for c in reader.fieldnames if c not in MANIFEST_COLUMNS]
            if unknown:
                manifest.warnings.append(f"{path}: ignored unknown column(s) {', '.join(unknown)}")
            for line, row in enumerate(reader, start=2):
                _read_row(manifest, row, f"{path}:{line}", root)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"{path}: not a readable CSV file ({exc})") from None
    return manifest


def _read_row(manifest: Manifest, row: dict, where: str, root: Path) -> None:
    if None in row:
        row.pop(None)  # more cells than columns: keep what the columns name
    row = {k: (v or "").strip() for k, v in row.items() if k in MANIFEST_COLUMNS}
    name = row.get("file", "")
    if not name:
        manifest.warnings.append(f"{where}: row without a file name skipped")
        return
    problem = None
    try:
        layout = row.get("channel_layout", "")
        if layout and layout not in LAYOUTS:
            raise ManifestError(f"{where}: channel_layout '{layout}' is not one of {', '.join(LAYOUTS)}")
        row["started_at"] = _parse_time(row.get("started_at", ""), where)
    except ManifestError as exc:
        row["started_at"] = None
        problem = str(exc)
    try:
        key = manifest_key(name, root)
    except RefusedPath as exc:
        reason = f"{where}: file {exc}; not read"
        if row.get("call_id"):
            manifest.refused.append((row, reason))
        else:
            manifest.warnings.append(f"{reason} (row skipped: it has no call_id)")
        return
    if key in manifest.rows:
        problem = f"{where}: '{name}' is listed twice"
    if problem:
        manifest.problems[key] = problem
    manifest.rows[key] = row


def _meta_from_name(path: Path, root: Path) -> dict:
    """Call id (and start time, agent) from the file name; a phone number in it never shows."""
    relative = path.relative_to(root).with_suffix("").as_posix()
    match = FILENAME_PATTERN.match(path.stem)
    if not match:
        return {"call_id": pseudonymize_numbers(relative)}
    return {
        "call_id": pseudonymize_numbers(match["call_id"]),
        "agent_id": match["agent_id"],
        "started_at": datetime.strptime(match["started_at"], "%Y%m%dT%H%M%S"),
    }


def _call(path: Path, fields: dict, problem: str | None) -> CallMeta:
    return CallMeta(
        call_id=fields["call_id"],
        path=str(path),
        agent_id=fields.get("agent_id", "unknown"),
        agent_name=fields.get("agent_name", ""),
        department=fields.get("department", ""),
        queue=fields.get("queue", ""),
        call_type=fields.get("call_type", ""),
        started_at=fields.get("started_at") if isinstance(fields.get("started_at"), datetime) else None,
        channel_layout=fields.get("channel_layout") if fields.get("channel_layout") in LAYOUTS else None,
        language=fields.get("language") or None,
        problem=problem,
    )


def discover(recordings: str | Path, manifest: str | Path | None = None, warnings: list[str] | None = None) -> list[CallMeta]:
    """Every recording under the folder (audio suffixes, plus any file the manifest names).

    Calls for refused manifest rows come last, so a real recording keeps its call id; their
    `path` is the recordings folder itself, so nothing reads the refused file.
    """
    root = Path(recordings)
    if not root.is_dir():
        raise FileNotFoundError(f"recordings folder not found: {root}")
    manifest_path = Path(manifest) if manifest else root / MANIFEST_NAME
    unusable = None
    parsed = Manifest()
    if manifest_path.exists() and not manifest_path.is_file():
        unusable = f"manifest unusable, fix it and run again: {manifest_path} is not a regular file"
    elif manifest_path.exists():
        try:
            parsed = read_manifest(manifest_path, root)
        except ManifestError as exc:
            unusable = f"manifest unusable, fix it and run again: {exc}"
        except OSError as exc:
            unusable = f"manifest unusable, fix it and run again: {manifest_path}: {exc.strerror or exc}"
    if warnings is not None:
        warnings.extend(parsed.warnings + ([unusable] if unusable else []))
    files = {p for p in root.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file()}
    files |= {root / name for name in parsed.rows}  # a listed file that is missing fails with its reason
    resolved_root = str(root.resolve())
    calls = []
    for path in sorted(files):
        relative = path.relative_to(root).as_posix()
        row = parsed.rows.get(relative, {})
        fields = {**_meta_from_name(path, root), **{k: v for k, v in row.items() if v and k != "file"}}
        refused = _unreadable_reason(path, resolved_root)
        problem = unusable or parsed.problems.get(relative) or (f"'{relative}' is {refused}" if refused else None)
        calls.append(_call(path, fields, problem))
    for row, reason in parsed.refused:
        fields = {k: v for k, v in row.items() if v and k != "file"}
        calls.append(_call(root, fields, unusable or reason))
    return calls
