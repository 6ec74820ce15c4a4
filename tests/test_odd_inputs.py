"""Names and text that are not what code expects: stored and shown as themselves, or refused for
that call alone with a reason; never a crash of the whole run or command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydub import AudioSegment

from conftest import SAMPLES
from pipeline.records import printable
from pipeline.store.database import Store

CALLQA = str(Path(sys.executable).with_name("callqa"))
ENV = {**os.environ, "COLUMNS": "250"}


def test_printable_keeps_valid_text_and_escapes_undecodable_bytes():
    assert printable("café [bold]x[/bold] $HOME") == "café [bold]x[/bold] $HOME"
    assert printable(os.fsdecode(b"caf\xe9")) == "caf\\xe9"


def test_odd_transcripts_fail_alone_and_markup_shows_as_text(tmp_path):
    lines = [
        '{"id": "inf", "turns": [{"speaker": "agent", "text": "hi", "start_ms": 0, "duration_ms": Infinity}]}',
        '{"id": "nan", "turns": [{"speaker": "agent", "text": "hi", "start_ms": NaN, "duration_ms": 1}]}',
        '{"id": "numlang", "language": 7, "turns": [{"speaker": "agent", "text": "hi", "start_ms": 0}]}',
        json.dumps({"id": "long", "turns": [{"speaker": "agent", "text": "thank you " * 20000}]}),
        "{not json at all",
        json.dumps({"id": "[bold red]x[/bold red]", "agent_id": "[link=http://e.vil]a1",
                    "turns": [{"speaker": "agent", "text": "[bold]Hi[/bold] <script>alert(1)</script>, thanks for calling"}]}),
    ]
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "qa.duckdb"
    done = subprocess.run([CALLQA, "import", str(path), "--db", str(db)], capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    for reason in ("finite number, got inf", "finite number, got nan", "language must be a code", "characters in one turn",
                   "not valid JSON"):
        assert reason in done.stdout, reason
    assert "[bold red]x[/bold red]" in done.stdout  # shown as itself, not read as markup
    stored = Store(db).query("SELECT call_id, agent_id FROM calls").values.tolist()
    assert stored == [["[bold red]x[/bold red]", "[link=http://e.vil]a1"]]
    shown = subprocess.run([CALLQA, "show", "[bold red]x[/bold red]", "--db", str(db)], capture_output=True, text=True,
                           env=ENV, timeout=120)
    assert shown.returncode == 0 and "<script>alert(1)</script>" in shown.stdout and "[bold]Hi[/bold]" in shown.stdout


@pytest.mark.slow
def test_names_that_are_not_utf8_or_look_like_markup_are_scored(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    names = {os.fsdecode(b"caf\xe9_call.wav"): "c07_no_closing_thanks.flac", "[bold red]boom[link=x] $x.wav": "c02_no_name.mp3"}
    for name, source in names.items():
        AudioSegment.from_file(SAMPLES / source)[:12000].export(str(folder / name), format="wav")
        past = time.time() - 3600
        os.utime(folder / name, (past, past))
    (folder / "two.wav").write_bytes(b"")  # and one bad file beside them
    db = tmp_path / "qa.duckdb"
    done = subprocess.run([CALLQA, "score", str(folder), "--db", str(db), "--model", "tiny.en", "--concurrency", "1"],
                          capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    calls = Store(db).query("SELECT call_id, status FROM calls ORDER BY call_id").values.tolist()
    assert calls == [["[bold red]boom[link=x] $x", "scored"], ["caf\\xe9_call", "scored"], ["two", "failed"]]
    assert "[bold red]boom[link=x] $x" in done.stdout


def test_a_phone_number_in_a_file_name_never_becomes_the_call_id(tmp_path):
    from pipeline.ingest.recordings import discover
    from pipeline.privacy.names import pseudonymize_numbers

    assert pseudonymize_numbers("20261123T101500_a001_inv-4471") == "20261123T101500_a001_inv-4471"
    assert pseudonymize_numbers("rec_20261123_101500") == "rec_20261123_101500"
    for phone in ("+4791234567", "0044-20-7946-0018", "+47 912 34 567", "0612345678"):
        hidden = pseudonymize_numbers(f"20261123_{phone}_in")
        assert hidden.startswith("20261123_n") and not any(run in hidden for run in ("912", "7946", "612345"))
        assert hidden == pseudonymize_numbers(f"20261123_{phone}_in")  # stable night after night
    (tmp_path / "20261123_+4791234567_in.wav").write_bytes(b"RIFF")
    (tmp_path / "20261123T101500_a001_+4791234567.wav").write_bytes(b"RIFF")
    ids = {c.call_id for c in discover(tmp_path)}
    assert not any("4791234567" in i for i in ids) and len(ids) == 2


def test_a_recording_over_the_length_limit_fails_before_it_is_decoded(tmp_path, monkeypatch):
    """Decoding holds a call in memory: an overlong one fails once, clearly, before decoding."""
    import wave

    from pipeline.audio.decode import AudioError, load_call

    path = tmp_path / "long.wav"
    with wave.open(str(path), "wb") as out:  # a header promising 3 hours; only a little audio behind it
        out.setnchannels(2), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(b"\0" * 32000)
    with open(path, "r+b") as fh:  # write the header's sizes for 3 hours, as a recorder would
        import struct
        frames = 3 * 3600 * 8000
        fh.seek(4), fh.write(struct.pack("<I", 36 + frames * 4)), fh.seek(40), fh.write(struct.pack("<I", frames * 4))
    with pytest.raises(AudioError, match="180 minutes long, over the 90-minute limit") as error:
        load_call(path)
    assert error.value.permanent
    short = AudioSegment.from_file(SAMPLES / "c07_no_closing_thanks.flac")[:3000]
    short.export(tmp_path / "short.mp3", format="mp3")
    monkeypatch.setenv("CALLQA_MAX_CALL_MINUTES", "0.01")  # 0.6 s: the probe reads the length of compressed files too
    with pytest.raises(AudioError, match="over the 0.01-minute limit"):
        load_call(tmp_path / "short.mp3")
