"""Which recordings to score, and what is known about each (manifest CSV or file name).

The manifest is optional: a recording with no row is still scored, with agent `unknown`.
Without a manifest, a file name like `20261123T101500_a001_inv-4471.wav` gives the start time,
the agent id and the call id (FILENAME_PATTERN); any other name gives just the call id.
"""
from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

from .audio import SUPPORTED_SUFFIXES
from .records import CallMeta

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("file", "call_id", "agent_id", "agent_name", "department", "started_at", "channel_layout", "language")
FILENAME_PATTERN = re.compile(r"^(?P<started_at>\d{8}T\d{6})_(?P<agent_id>[A-Za-z0-9-]+)_(?P<call_id>.+)$")
LAYOUTS = ("agent_left", "agent_right", "mono")


class ManifestError(ValueError):
    """The manifest cannot be read; the message names the file, the row and the field."""


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


def read_manifest(path: Path) -> dict[str, dict]:
    """Rows of the manifest by file name (relative to the recordings folder)."""
    rows: dict[str, dict] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "file" not in reader.fieldnames:
            raise ManifestError(f"{path}: needs a 'file' column (columns: {', '.join(MANIFEST_COLUMNS)})")
        unknown = [c for c in reader.fieldnames if c not in MANIFEST_COLUMNS]
        if unknown:
            raise ManifestError(f"{path}: unknown column(s) {', '.join(unknown)} (known: {', '.join(MANIFEST_COLUMNS)})")
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            row = {k: (v or "").strip() for k, v in row.items() if k}
            if not row.get("file"):
                raise ManifestError(f"{where}: 'file' is empty")
            layout = row.get("channel_layout", "")
            if layout and layout not in LAYOUTS:
                raise ManifestError(f"{where}: channel_layout '{layout}' is not one of {', '.join(LAYOUTS)}")
            row["started_at"] = _parse_time(row.get("started_at", ""), where)
            rows[row["file"]] = row
    return rows


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


def discover(recordings: str | Path, manifest: str | Path | None = None) -> list[CallMeta]:
    """Every recording under the folder (audio suffixes, plus any file the manifest names)."""
    root = Path(recordings)
    if not root.is_dir():
        raise FileNotFoundError(f"recordings folder not found: {root}")
    manifest_path = Path(manifest) if manifest else root / MANIFEST_NAME
    rows = read_manifest(manifest_path) if manifest_path.exists() else {}
    files = {p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES}
    files |= {root / name for name in rows}  # a listed file that is missing fails with its reason
    calls = []
    for path in sorted(files):
        relative = path.relative_to(root).as_posix()
        row = rows.get(relative, {})
        fields = {**_meta_from_name(path, root), **{k: v for k, v in row.items() if v and k != "file"}}
        calls.append(
            CallMeta(
                call_id=fields["call_id"],
                path=str(path),
                agent_id=fields.get("agent_id", "unknown"),
                agent_name=fields.get("agent_name", ""),
                department=fields.get("department", ""),
                started_at=fields.get("started_at"),
                channel_layout=fields.get("channel_layout") or None,
                language=fields.get("language") or None,
            )
        )
    return calls
