#!/usr/bin/env python
"""Render labelled transcripts as stereo audio calls: the 25 hand-written synthetic ones into
data/eval/audio/, or a real set's human transcripts (`--hvb`) into data/eval/audio_hvb/.

Run from the repository root (needs espeak-ng, sox, ffmpeg, pydub, numpy):

    .venv/bin/python data/eval/make_audio.py [CALL_ID ...]
    .venv/bin/python data/eval/make_audio.py --hvb [CALL_ID ...]

The real sets are spoken the same way: 8 kHz and 16 kHz, several voices and
speeds, some calls with an inserted 35 s hold (see `real_plan`); their labels are the set's own.

For each call in synthetic_transcripts.jsonl every turn is spoken with espeak-ng (the TTS,
resampling, trimming and hold-music helpers are shared with data/make_samples.py), agent and
customer in clearly different voices, voices varied between calls. Turns are placed on a
timeline that keeps the transcript's timing: each turn starts the transcript's gap after the
speech before it (so a quick reply stays quick and overlaps stay overlaps), and a stretch of
20 s+ without agent speech keeps exactly its transcript length (a hold: soft hold music on the
agent channel for some, low noise only for the others). Only the words' own length changes
(espeak speaks about 2.5 words/s, the transcripts assume 2.6). Stereo, agent LEFT, customer
RIGHT, 16 kHz, mp3 at 32 kbps, into data/eval/audio/<call_id>.mp3.

labels.json there has the format of data/samples/labels.json: `expected_items` copied
unchanged from synthetic_labels.json (the QA lead's judgement of the wording, never edited to
suit the detector), `expected_holds` from the timeline (start = end of the agent's speech,
duration = until the agent speaks again), `script` with the placed start times.

Voices: male espeak voices for agents who announce or mention holds (with the female variants
Whisper tends to hear "hold" as "gold"); the voice pairs are the ones that transcribed well in
data/make_samples.py. VOICE_OVERRIDES pins a call's voices where Whisper misheard a key phrase
because of the TTS (the wording itself is never changed).
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent              # data/eval/
sys.path.insert(0, str(HERE.parent))                # data/, for make_samples
import make_samples as ms  # noqa: E402  (tts, hold_music, db, to_segment, _seed)

OUT = HERE / "audio"
SR = 16000
BITRATE = "32k"
MIN_HOLD_S = 20.0          # agent silence this long (customer mostly quiet) is a hold
MAX_CUSTOMER_SHARE = 0.3   # more customer speech than this inside it: listening, not a hold
SAME_CHANNEL_GAP_S = 0.15  # a speaker's next turn never starts before their last one ends
MUSIC_PEAK_DBFS = -22.0    # soft hold music

# (espeak voice, words per minute, pitch); pairs that Whisper transcribed well in make_samples
AGENT_MALE = [("en-us+m2", 150, 45), ("en-us+m1", 150, 45), ("en-us+robert", 152, 45)]
AGENT_FEMALE = [("en-us+Annie", 150, 50), ("en-gb-x-rp+f2", 155, 60), ("en-us+f5", 150, 50),
                ("en-gb+f4", 148, 50), ("en-us+f4", 154, 70)]
CUSTOMER_MALE = [("en-gb+m3", 158, 40), ("en-us+m5", 150, 45), ("en-gb+m4", 150, 35),
                 ("en-gb-scotland+m2", 152, 40), ("en-us+m3", 156, 40), ("en-gb+m6", 152, 35),
                 ("en-gb+m1", 150, 30), ("en-gb+m5", 152, 45)]
CUSTOMER_FEMALE = [("en-gb+f4", 155, 60), ("en-gb+f3", 156, 60), ("en-us+f5", 158, 60)]

# call id -> {"agent"|"customer": voice}: set after listening to Whisper's transcript of a call
# (first run with Whisper base: company or agent names misheard because of the voice, e.g.
# "Brightline ... I'm Kwame" -> "right line ... I'm quaint", "Atlas Electronics" -> "selectronic's")
_M1, _M2, _ANNIE = ("en-us+m1", 140, 45), ("en-us+m2", 140, 45), ("en-us+Annie", 140, 50)
_F3, _F4, _F5 = ("en-gb+f3", 156, 60), ("en-gb+f4", 155, 60), ("en-us+f5", 158, 60)
VOICE_OVERRIDES: dict[str, dict[str, tuple]] = {
    "s01_model_mobile": {"agent": _M1},
    "s06_thanks_for_holding_at_end": {"agent": _M1},
    "s07_company_only_no_name": {"agent": _ANNIE},
    "s09_lowercase_asr": {"agent": _ANNIE},
    "s12_long_unannounced_hold": {"agent": _M2, "customer": _F3},
    "s21_patience_closing_no_hold": {"agent": _M2, "customer": _F5},
    "s24_customer_care_customer_names_company": {"agent": _ANNIE},
    "s25_gday_mick_here": {"agent": _M2, "customer": _F4},
}


def voices_for(n: int, call: dict, used: dict) -> dict[str, tuple]:
    """Agents who speak of holds get a male voice; the others alternate; each pool is cycled."""
    agent_text = " ".join(t["text"] for t in call["turns"] if t["speaker"] == "agent")
    holdish = re.search(r"\bhold", agent_text, re.I) is not None
    male = holdish or n % 3 == 1
    a_pool, c_pool = (AGENT_MALE, CUSTOMER_FEMALE) if male else (AGENT_FEMALE, CUSTOMER_MALE)
    k = used[a_pool is AGENT_MALE] = used.get(a_pool is AGENT_MALE, -1) + 1
    voices = {"agent": a_pool[k % len(a_pool)], "customer": c_pool[(k + n) % len(c_pool)]}
    return {**voices, **VOICE_OVERRIDES.get(call["id"], {})}


def place(call: dict, voices: dict, tmp: Path, sr: int = SR):
    """Speak every turn and place it; returns (tracks, script, holds, duration_s, spans)."""
    SR = sr  # noqa: N806  (the module default, or 8 kHz for telephone-band calls)
    placed = []                              # (speaker, start_sample, array)
    cursor_o = cursor_n = 0.0                # end of the latest speech: transcript / new timeline
    last_end = {"agent": None, "customer": None}      # new timeline, per speaker
    last_end_o = {"agent": None, "customer": None}    # transcript, per speaker
    script = []
    for i, t in enumerate(call["turns"]):
        sp, text = t["speaker"], t["text"]
        s_o, d_o = t["start_ms"] / 1000, t["duration_ms"] / 1000
        x = ms.tts(text, voices[sp], SR, tmp) * ms.db(ms.AGENT_PEAK_DBFS if sp == "agent"
                                                        else ms.CUSTOMER_PEAK_DBFS)
        if i == 0:
            start = s_o
        else:
            start = cursor_n + (s_o - cursor_o)
            if (sp == "agent" and last_end_o["agent"] is not None
                    and s_o - last_end_o["agent"] >= MIN_HOLD_S):
                # a long agent silence (hold or listening) keeps its transcript length exactly
                start = last_end["agent"] + (s_o - last_end_o["agent"])
        if last_end[sp] is not None:
            start = max(start, last_end[sp] + SAME_CHANNEL_GAP_S)
        start = round(max(start, 0.0) * SR) / SR
        end = start + len(x) / SR
        placed.append((sp, int(round(start * SR)), x))
        script.append([sp, text, round(start, 3)])
        cursor_o = max(cursor_o, s_o + d_o)
        cursor_n = max(cursor_n, end)
        last_end[sp], last_end_o[sp] = end, s_o + d_o
    spans = sorted((s / SR, s / SR + len(x) / SR, sp) for sp, s, x in placed)
    # holds: agent silences of 20 s+ with the customer mostly quiet
    agent = [(a, b) for a, b, sp in spans if sp == "agent"]
    cust = [(a, b) for a, b, sp in spans if sp == "customer"]
    holds = []
    for (_, e0), (s1, _) in zip(agent, agent[1:]):
        gap = s1 - e0
        if gap < MIN_HOLD_S:
            continue
        talk = sum(max(0.0, min(b, s1) - max(a, e0)) for a, b in cust)
        if talk <= MAX_CUSTOMER_SHARE * gap:
            holds.append({"start_s": round(e0, 3), "duration_s": round(gap, 3)})
    total = int(round((cursor_n + 1.0) * SR))
    tracks = {k: np.zeros(total, dtype=np.float32) for k in ("agent", "customer")}
    for sp, s, x in placed:
        tracks[sp][s:s + len(x)] += x
    return tracks, script, holds, total / SR, spans


def check(call_id: str, spans: list, holds: list):
    """Outside holds, never 20 s+ with neither party speaking."""
    end = 0.0
    for a, b, _ in spans:
        gap = a - end
        if gap >= MIN_HOLD_S and not any(abs(h["start_s"] - end) < 0.01 for h in holds):
            raise AssertionError(f"{call_id}: {gap:.1f} s of quiet at {end:.1f} s is not a hold")
        end = max(end, b)


def make(n: int, call: dict, label: dict, voices: dict, tmp: Path, out: Path = OUT, sr: int = SR,
         bitrate: str = BITRATE, source: str = "", strict: bool = True) -> dict:
    """Speak, place and export one call; returns its labels.json entry. `strict` checks that no
    quiet stretch but a hold is 20 s or longer (the synthetic calls are written so; a real call
    may have real dead air, which stays as it was)."""
    SR = sr  # noqa: N806
    cid = call["id"]
    tracks, script, holds, duration, spans = place(call, voices, tmp, sr)
    for k, h in enumerate(holds):
        if (n + k) % 2 == 0:   # about half the holds have soft music, the rest low noise only
            s, m = int(h["start_s"] * SR), int(h["duration_s"] * SR)
            m0, m1 = s + int(0.8 * SR), s + m - int(1.0 * SR)
            mus = ms.hold_music(m1 - m0, SR, ms._seed(cid + f"music{k}"))
            fade = int(0.5 * SR)
            mus[:fade] *= np.linspace(0, 1, fade)
            mus[-fade:] *= np.linspace(1, 0, fade)
            tracks["agent"][m0:m1] += mus * ms.db(MUSIC_PEAK_DBFS)
            script.append(["hold", "music", h["start_s"], h["duration_s"]])
        else:
            script.append(["hold", "silence", h["start_s"], h["duration_s"]])
    script.sort(key=lambda r: r[2])
    if strict:
        check(cid, spans, holds)
    rng = np.random.default_rng(ms._seed(cid + "noise"))
    noise = lambda: rng.normal(0, ms.db(ms.NOISE_DBFS), len(tracks["agent"])).astype(np.float32)
    seg = ms.to_segment([tracks["agent"] + noise(), tracks["customer"] + noise()], SR)
    fname = f"{cid}.mp3"
    seg.export(str(out / fname), format="mp3", bitrate=bitrate)
    return {
        "call_id": cid, "file": fname, "channel_layout": "agent_left",
        "description": call.get("description") or label.get("notes", ""), "script": script,
        "expected_items": label["expected_items"], "expected_holds": holds,
        "duration_s": round(duration, 3), "sample_rate": SR, "format": "mp3",
        "voices": {k: " ".join(map(str, v)) for k, v in voices.items()},
        "source": source or "data/eval/synthetic_transcripts.jsonl (callqa synthetic, Apache-2.0)",
    }


REAL_SETS = {  # spoken versions of real dialogues: name -> (transcripts, labels, folder)
    "hvb": ("hvb_transcripts.jsonl", "hvb_labels.json", HERE / "audio_hvb"),
}
REAL_HOLD_S = 35.0      # an inserted hold: 15 s from both the 20 s threshold and the 60 s limit
SPEED_STEPS = (0, -15, 20)   # words per minute added to a voice, cycled: several speeds


def with_hold(call: dict, after_agent_turn: int = 2, hold_s: float = REAL_HOLD_S) -> dict:
    """The call with `hold_s` of quiet inserted after the agent's `after_agent_turn`-th turn (1-based):
    every later turn moves later, so the agent's channel is silent for the hold and the customer's
    too. The words are unchanged; only the timeline gets a hold to exercise the hold path."""
    agent_turns = [i for i, t in enumerate(call["turns"]) if t["speaker"] == "agent"]
    if len(agent_turns) <= after_agent_turn:
        return call
    cut = agent_turns[after_agent_turn - 1]
    end = call["turns"][cut]["start_ms"] + call["turns"][cut]["duration_ms"]
    turns = [dict(t, start_ms=t["start_ms"] + (int(hold_s * 1000) if i > cut and t["start_ms"] >= end else 0))
             for i, t in enumerate(call["turns"])]
    return {**call, "turns": turns}


def _load(transcripts: str, labels_file: str) -> tuple[list[dict], dict[str, dict]]:
    calls = [json.loads(line) for line in (HERE / transcripts).read_text().splitlines() if line.strip()]
    labels = {lb["call_id"]: lb for lb in json.loads((HERE / labels_file).read_text())}
    assert set(labels) == {c["id"] for c in calls}, "labels and transcripts differ"
    return calls, labels


def render(calls: list[dict], labels: dict[str, dict], out: Path, only: set[str], plan) -> None:
    """Speak `calls` into `out` and write its labels.json. `plan(n, call, used)` gives the call as
    spoken, its voices and `make`'s settings; it runs for every call in order (voices are cycled),
    so rendering `only` some calls gives them the voices a full run would; the others keep their
    labels.json entries."""
    out.mkdir(parents=True, exist_ok=True)
    labels_path = out / "labels.json"
    old = {lb["call_id"]: lb for lb in json.loads(labels_path.read_text())} if labels_path.exists() else {}
    used: dict = {}
    planned = [plan(n, call, used) for n, call in enumerate(calls)]
    result = []
    with tempfile.TemporaryDirectory() as d:
        for n, (call, (spoken, voices, settings)) in enumerate(zip(calls, planned)):
            if only and call["id"] not in only:
                if call["id"] in old:
                    result.append(old[call["id"]])
                continue
            lb = make(n, spoken, labels[call["id"]], voices, Path(d), out=out, **settings)
            result.append(lb)
            print(f"{lb['file']:44s} {lb['duration_s']:6.1f} s {lb['sample_rate']:5d} Hz agent={lb['voices']['agent']:22s} "
                  f"customer={lb['voices']['customer']:24s} holds={lb['expected_holds']}")
    labels_path.write_text(json.dumps(result, indent=1) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out.relative_to(HERE.parent.parent)}: {len(result)} calls, "
          f"{sum(lb['duration_s'] for lb in result):.0f} s, {total / 1e6:.1f} MB")


def synthetic_plan(n: int, call: dict, used: dict):
    """The hand-written calls: as written, 16 kHz, voices by `voices_for`."""
    return call, voices_for(n, call, used), {}


def real_plan(n: int, call: dict, used: dict):
    """A real set's calls: every other call at 8 kHz (telephone band) and the rest at 16 kHz,
    voices and speeds varied, every fourth call with an inserted hold. The AIDET labels are the
    set's own, unchanged: the agent's words are the same, only the voice is a machine's."""
    step = SPEED_STEPS[n % len(SPEED_STEPS)]
    voices = {k: (v[0], v[1] + step, v[2]) for k, v in voices_for(n, call, used).items()}
    sr, bitrate = (8000, "16k") if n % 2 == 0 else (16000, "24k")
    return (with_hold(call) if n % 4 == 3 else call), voices, dict(
        sr=sr, bitrate=bitrate, strict=False,
        source=f"{call['source']}, spoken by espeak-ng ({call.get('licence', '')})")


def main():
    for tool in ("espeak-ng", "sox", "ffmpeg"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found on PATH")
    if sys.argv[1:2] and sys.argv[1].startswith("--"):
        name = sys.argv[1][2:]
        if name not in REAL_SETS:
            sys.exit(f"unknown set {sys.argv[1]}: one of " + ", ".join("--" + k for k in REAL_SETS))
        transcripts, labels_file, out = REAL_SETS[name]
        return render(*_load(transcripts, labels_file), out, set(sys.argv[2:]), real_plan)
    render(*_load("synthetic_transcripts.jsonl", "synthetic_labels.json"), OUT, set(sys.argv[1:]), synthetic_plan)


if __name__ == "__main__":
    main()
