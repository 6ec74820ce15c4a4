"""Which recordings to score, and what is known about each (manifest CSV or file name).

The manifest is optional: a recording with no row is still scored, with agent `unknown`.
Without a manifest, a file name like `20261123T101500_a001_inv-4471.wav` gives the start time,
the agent id and the call id (FILENAME_PATTERN); any other name gives just the call id.

A bad manifest never stops a batch. A bad row (a date that is not a date, an unknown channel
layout) fails that call with the row's problem, so it is fixed and re-run rather than scored
under the wrong agent; a manifest that cannot be read at all fails every call it would describe.
Unknown columns are ignored and reported.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.audio.decode import SUPPORTED_SUFFIXES
from pipeline.records import CallMeta

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("file", "call_id", "agent_id", "agent_name", "department", "queue", "call_type", "started_at",
                    "channel_layout", "language")
FILENAME_PATTERN = re.compile(r"^(?P<started_at>\d{8}T\d{6})_(?P<agent_id>[A-Za-z0-9-]+)_(?P<call_id>.+)$")
LAYOUTS = ("agent_left", "agent_right", "mono")


class ManifestError(ValueError):
    """The manifest cannot be read; the message names the file, the row and the field."""


@dataclass
class Manifest:
    """Rows by file name, the problem of each bad row, and notes for the run summary."""

    rows: dict[str, dict] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


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


def read_manifest(path: Path) -> Manifest:
    """Read the manifest; raises ManifestError only when the file as a whole is unusable."""
    manifest = Manifest()
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "file" not in reader.fieldnames:
                raise ManifestError(f"{path}: needs a 'file' column (columns: {', '.join(MANIFEST_COLUMNS)})")
            unknown = [c for c in reader.fieldnames if c not in MANIFEST_COLUMNS]
            if unknown:
                manifest.warnings.append(f"{path}: ignored unknown column(s) {', '.join(unknown)}")
            for line, row in enumerate(reader, start=2):
                _read_row(manifest, row, f"{path}:{line}")
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"{path}: not a readable CSV file ({exc})") from None
    return manifest


def _read_row(manifest: Manifest, row: dict, where: str) -> None:
    if None in row:
        row.pop(None)  # more cells than columns: keep what the columns name
    row = {k: (v or "").strip() for k, v in row.items() if k in MANIFEST_COLUMNS}
    name = row.get("file", "")
    if not name:
        manifest.warnings.append(f"{where}: row without a file name skipped")
        return
    try:
        layout = row.get("channel_layout", "")
        if layout and layout not in LAYOUTS:
            raise ManifestError(f"{where}: channel_layout '{layout}' is not one of {', '.join(LAYOUTS)}")
        row["started_at"] = _parse_time(row.get("started_at", ""), where)
    except ManifestError as exc:
        manifest.problems[name] = str(exc)
    if name in manifest.rows:
        manifest.problems[name] = f"{where}: '{name}' is listed twice"
    manifest.rows[name] = row


def _meta_from_name(path: Path, root: Path) -> dict:
    relative = path.relative_to(root).with_suffix("").as_posix()
    match = FILENAME_PATTERN.match(path.stem)
    if not match:
        return {"call_id": relative}
    return {
        "call_id": match["call_id"],
        "agent_id": match["agent_id"],
        "started_at": datetime.strptime(match["started_at"], "%Y%m%dT%H%M%S"),
    }


def discover(recordings: str | Path, manifest: str | Path | None = None, warnings: list[str] | None = None) -> list[CallMeta]:
    """Every recording under the folder (audio suffixes, plus any file the manifest names)."""
    root = Path(recordings)
    if not root.is_dir():
        raise FileNotFoundError(f"recordings folder not found: {root}")
    manifest_path = Path(manifest) if manifest else root / MANIFEST_NAME
    unusable = None
    parsed = Manifest()
    if manifest_path.exists():
        try:
            parsed = read_manifest(manifest_path)
        except ManifestError as exc:
            unusable = f"manifest unusable, fix it and run again: {exc}"
    if warnings is not None:
        warnings.extend(parsed.warnings + ([unusable] if unusable else []))
    files = {p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES}
    files |= {root / name for name in parsed.rows}  # a listed file that is missing fails with its reason
    calls = []
    for path in sorted(files):
        relative = path.relative_to(root).as_posix()
        row = parsed.rows.get(relative, {})
        fields = {**_meta_from_name(path, root), **{k: v for k, v in row.items() if v and k != "file"}}
        calls.append(
            CallMeta(
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
                problem=unusable or parsed.problems.get(relative),
            )
        )
    return calls
