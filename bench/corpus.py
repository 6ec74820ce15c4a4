"""The benchmark's audio: labelled stereo calls from the repository, plus generated ones.

    from bench.corpus import labelled_calls, generated_calls, scaling_calls

- `labelled_calls()`: every stereo call in data/samples, data/eval/audio and data/eval/audio_hvb
  with its `labels.json` entry (layout and expected item outcomes), and the shared real call
  (/work/shared/realaudio/lca_auto_repairs_40_{agent,caller}.wav joined as stereo, when present).
  Dialogues listed in /work/shared/eval/hidden-ids.txt are never read.
- `generated_calls()`: talk-dense calls with holds, each three labelled calls back to back with a
  hold (tone melody on the agent's side, the customer silent) between them; unlabelled, for speed.
- `scaling_calls()`: calls of 1, 10 and 60 minutes, and 1-minute calls for the count series.
- `card_calls()`: short card payments where the customer reads out a test card number and a
  security code (tests/data/pii_call.flac and espeak-ng variants: other voices, numbers, 8 kHz
  telephone audio, "oh" for zero), for the redaction check of a decoding setting.

Generated audio goes to a cache folder ($CALLQA_BENCH_CACHE, default ~/.cache/callqa/bench), never
into git; it is written once and reused.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RATE = 16_000
LABELLED_FOLDERS = (ROOT / "data" / "samples", ROOT / "data" / "eval" / "audio", ROOT / "data" / "eval" / "audio_hvb")
SHARED_REAL = Path("/work/shared/realaudio")
HIDDEN_IDS = Path("/work/shared/eval/hidden-ids.txt")
HOLD_S = 40.0


@dataclass(frozen=True)
class BenchCall:
    """One recording of the benchmark: its file, layout, and labels (empty: speed only)."""

    call_id: str
    path: str
    layout: str = "agent_left"
    labels: dict | None = None
    group: str = ""


def cache_dir() -> Path:
    path = Path(os.environ.get("CALLQA_BENCH_CACHE") or Path.home() / ".cache" / "callqa" / "bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _hidden() -> set[str]:
    """Ids held back from everyone: never read, whatever folder they turn up in."""
    if not HIDDEN_IDS.exists():
        return set()
    return {word for line in HIDDEN_IDS.read_text().splitlines() if not line.startswith("#") for word in line.split()[1:]}


def labelled_calls() -> list[BenchCall]:
    """Every labelled stereo call of the repository (mono ones are left out: the baseline has no
    way to tell two voices on one channel apart), and the shared real call."""
    hidden, calls = _hidden(), []
    for folder in LABELLED_FOLDERS:
        entries = json.loads((folder / "labels.json").read_text()) if (folder / "labels.json").exists() else []
        for entry in entries:
            layout = entry.get("channel_layout") or "agent_left"
            if layout == "mono" or any(h in entry["call_id"] or h in entry["file"] for h in hidden):
                continue
            calls.append(BenchCall(entry["call_id"], str(folder / entry["file"]), layout,
                                   entry.get("expected_items") or {}, folder.name))
    real = _shared_real_call()
    if real is not None:
        labels = next((c.labels for c in calls if c.call_id == "real_auto_repairs_40"), None)
        calls.append(BenchCall("lca_auto_repairs_40", str(real), "agent_left", labels, "realaudio"))
    return calls


def _shared_real_call() -> Path | None:
    agent, caller = SHARED_REAL / "lca_auto_repairs_40_agent.wav", SHARED_REAL / "lca_auto_repairs_40_caller.wav"
    if not (agent.exists() and caller.exists()):
        return None
    target = cache_dir() / "lca_auto_repairs_40.flac"
    if not target.exists():
        _ffmpeg("-i", str(agent), "-i", str(caller), "-filter_complex", "[0:a][1:a]join=inputs=2:channel_layout=stereo[a]",
                "-map", "[a]", str(target))
    return target


def _ffmpeg(*args: str, stdin: bytes | None = None) -> bytes:
    quiet = ["-nostdin"] if stdin is None else []
    done = subprocess.run(["ffmpeg", "-v", "error", "-y", *quiet, *args],
                          input=stdin, capture_output=True, check=True)
    return done.stdout


def read_stereo(path: str | Path, seconds: float | None = None) -> np.ndarray:
    """(n, 2) int16 at 16 kHz."""
    limit = ["-t", str(seconds)] if seconds else []
    raw = _ffmpeg(*limit, "-i", str(path), "-ac", "2", "-ar", str(RATE), "-f", "s16le", "-")
    return np.frombuffer(raw, "<i2").reshape(-1, 2)


def write_flac(path: Path, stereo: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp.flac")
    _ffmpeg("-f", "s16le", "-ar", str(RATE), "-ac", "2", "-i", "-", str(tmp), stdin=stereo.astype("<i2").tobytes())
    tmp.rename(path)


def hold(seconds: float, layout: str = "agent_left") -> np.ndarray:
    """A hold: a tone melody on the agent's side (Silero must not call it speech), the customer silent."""
    t = np.arange(int(seconds * RATE)) / RATE
    notes = 330 * 2 ** (np.floor(t * 2) % 8 / 12)
    music = (0.1 * np.sin(2 * np.pi * notes * t) * 32767).astype(np.int16)
    out = np.zeros((music.size, 2), np.int16)
    out[:, 0 if layout == "agent_left" else 1] = music
    return out


def _agent_left(call: BenchCall) -> np.ndarray:
    audio = read_stereo(call.path)
    return audio if call.layout == "agent_left" else audio[:, ::-1]


def generated_calls(count: int = 4, parts: int = 3) -> list[BenchCall]:
    """Talk-dense calls with holds: `parts` labelled calls back to back, a HOLD_S hold between."""
    sources = [c for c in labelled_calls() if c.group in ("audio", "audio_hvb")]
    out = []
    for n in range(count):
        target = cache_dir() / f"gen_dense_{n:02d}.flac"
        if not target.exists():
            pieces = []
            for part in sources[n * parts:(n + 1) * parts]:
                pieces += [_agent_left(part), hold(HOLD_S)]
            write_flac(target, np.concatenate(pieces[:-1]))
        out.append(BenchCall(target.stem, str(target), "agent_left", None, "generated"))
    return out


def call_of_length(minutes: float) -> BenchCall:
    """A stereo call of exactly `minutes`: labelled calls back to back with a hold after every third."""
    target = cache_dir() / f"len_{minutes:g}min.flac"
    if not target.exists():
        need, pieces, have = int(minutes * 60 * RATE), [], 0
        sources = [c for c in labelled_calls() if c.group in ("audio", "audio_hvb")]
        for n, source in enumerate(sources * 10):
            piece = _agent_left(source) if n % 3 else hold(HOLD_S)
            pieces.append(piece)
            have += piece.shape[0]
            if have >= need:
                break
        write_flac(target, np.concatenate(pieces)[:need])
    return BenchCall(target.stem, str(target), "agent_left", None, "length")


def one_minute_calls(count: int) -> list[BenchCall]:
    """`count` different 1-minute stereo calls: the first minute of labelled calls."""
    sources = [c for c in labelled_calls() if c.group in ("audio", "audio_hvb") and c.call_id]
    out = []
    for n in range(count):
        source = sources[n % len(sources)]
        target = cache_dir() / f"min_{n:03d}.flac"
        if not target.exists():
            audio = _agent_left(source)[: 60 * RATE]
            if audio.shape[0] < 60 * RATE:
                audio = np.concatenate([audio, hold(60 - audio.shape[0] / RATE)])
            write_flac(target, audio)
        out.append(BenchCall(target.stem, str(target), "agent_left", None, "count"))
    return out


# --- spoken card numbers ------------------------------------------------------------------------

CARD_CALL = ROOT / "tests" / "data" / "pii_call.flac"
# (call id, card number (Luhn-valid test numbers), security code, the customer's words, voice, rate)
CARD_SCRIPTS = (
    ("card_4111_8k", "4111111111111111", "123", "Sure, it's four one one one, one one one one, one one one one, one one one one.",
     "one two three", "en-us+m3", 8000),
    ("card_5555_f", "5555555555554444", "909", "Okay. Five five five five, five five five five, five five five five, four four four four.",
     "nine oh nine", "en+f3", 16000),
    ("card_amex_8k", "378282246310005", "4417", "Yes, three seven eight two, eight two two four six three, one zero zero zero five.",
     "four four one seven", "en-gb+m1", 8000),
    ("card_6011_oh", "6011000990139424", "552", "It's six oh one one, oh oh oh nine, nine oh one three, nine four two four.",
     "five five two", "en-us+f2", 16000),
)


def _spoken(text: str, voice: str, rate: int) -> np.ndarray:
    """One turn by espeak-ng at `rate` (telephone 8 kHz is resampled back to 16 kHz), as int16."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "145", "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(["sox", "-q", "-G", str(raw), "-r", str(rate), "-b", "16", "-c", "1", str(out)], check=True)
        audio = read_stereo(out)[:, 0].astype(np.float32)
    return (audio / (np.abs(audio).max() + 1) * 0.5 * 32767).astype(np.int16)


def card_calls() -> list[BenchCall]:
    """The card payment calls: the test suite's, and CARD_SCRIPTS generated once into the cache.
    `labels` carries {"card": digits, "cvv": digits} (no scorecard labels)."""
    out = []
    if CARD_CALL.exists():
        facts = json.loads(CARD_CALL.with_suffix(".json").read_text())
        out.append(BenchCall("card_payment", str(CARD_CALL), "agent_left", {"card": facts["card"], "cvv": facts["cvv"]}, "cards"))
    agent = "en-us+Annie"
    for call_id, number, cvv, said, code, voice, rate in CARD_SCRIPTS:
        target = cache_dir() / f"{call_id}.flac"
        if not target.exists():
            turns = [("agent", "Thank you for calling Northwind Energy, this is Sarah. How can I help?"),
                     ("customer", "Hello, I want to pay my bill with my card."),
                     ("agent", "Of course. Can I take the long number on the front of the card, please?"),
                     ("customer", said),
                     ("agent", "Thank you. And the security code on the back?"),
                     ("customer", f"It's {code}."),
                     ("agent", "Thank you, that payment has gone through. Anything else today?"),
                     ("customer", "No, that's everything, thanks. Bye.")]
            pieces, at = [], 0
            for speaker, text in turns:
                said_audio = _spoken(text, agent if speaker == "agent" else voice, rate)
                pieces.append((speaker, at + RATE // 2, said_audio))
                at += RATE // 2 + said_audio.size
            stereo = np.zeros((at + RATE, 2), np.int16)
            for speaker, start, piece in pieces:
                stereo[start:start + piece.size, 0 if speaker == "agent" else 1] = piece
            write_flac(target, stereo)
        out.append(BenchCall(call_id, str(target), "agent_left", {"card": number, "cvv": cvv}, "cards"))
    return out
