"""How well a mono call's speech is given to the right party: stereo calls mixed down, checked
against their own channels.

    .venv/bin/python bench/mono_attribution.py [--model base] [--threads 2] [--only ID ...]
                                               [--no-eval] [--json FILE]

Every stereo call of data/samples (the synthetic calls and the real call, whose two channels
are the shared recordings lca_auto_repairs_40_{agent,caller}.wav) and of data/eval/audio is
mixed to one channel (agent + customer) and scored through `pipeline.process.process_call` as a
mono recording; the stereo file is scored too. Per call it prints:

* **share right**: of the time only one party speaks (Silero VAD on each stereo channel, the
  truth), the share the mono split gives to that party after the roles are decided from the
  words; `wrong` is the share given to the other party (the rest was not heard as speech);
* **items**: how many scorecard items come out the same on the mono mix as on its stereo twin;
* **flag**: whether the mono call was flagged for its attribution (unsure roles, or voices that
  could not be told apart), with the reason.

Totals: share right over all speech time, and over the calls not flagged; item agreement.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pipeline.settings import DEFAULT_MODEL, apply_quiet_environment  # noqa: E402

apply_quiet_environment()

FOLDERS = [ROOT / "data" / "samples", ROOT / "data" / "eval" / "audio"]
HOP_S = 0.01


def stereo_calls(folders: list[Path]) -> list[tuple[str, Path, str]]:
    """(call id, file, layout) of every labelled stereo call in `folders`."""
    calls = []
    for folder in folders:
        for label in json.loads((folder / "labels.json").read_text()):
            if label.get("channel_layout") in ("agent_left", "agent_right") and (folder / label["file"]).exists():
                calls.append((label["call_id"], folder / label["file"], label["channel_layout"]))
    return calls


def write_wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def grid(spans, frames: int) -> np.ndarray:
    mask = np.zeros(frames, dtype=bool)
    for s in spans:
        mask[int(s.start / HOP_S): int(s.end / HOP_S)] = True
    return mask


def share_right(agent, customer, true_agent, true_customer, duration_s: float) -> tuple[float, float, float]:
    """(right, wrong, seconds judged): shares of the time exactly one party speaks (the truth)
    that the split gives to that party alone, or to the other party alone."""
    n = int(duration_s / HOP_S) + 1
    a, c, ta, tc = (grid(x, n) for x in (agent, customer, true_agent, true_customer))
    only_a, only_c = ta & ~tc, tc & ~ta
    judged = only_a.sum() + only_c.sum()
    right = (only_a & a & ~c).sum() + (only_c & c & ~a).sum()
    wrong = (only_a & c & ~a).sum() + (only_c & a & ~c).sum()
    return right / max(judged, 1), wrong / max(judged, 1), judged * HOP_S


def voice_roles(result, parties) -> bool:
    """Whether the pipeline swapped the split's voices: the words inside the first voice's turns
    ended up mostly as the customer's."""
    from pipeline.audio.activity import overlap

    votes = {"agent": 0.0, "customer": 0.0}
    for u in result.utterances:
        for w in u.words:
            votes[u.speaker] += overlap(parties.agent, w.start, w.end)
    return votes["customer"] > votes["agent"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=None)
    ap.add_argument("--no-eval", action="store_true", help="data/samples only")
    ap.add_argument("--json", type=Path, default=None, help="write the per-call rows here")
    ap.add_argument("--share-only", action="store_true",
                    help="only the share right: transcribe the mono mix alone (a third of the Whisper time), no stereo twin")
    ap.add_argument("--only-eval", action="store_true", help="data/eval/audio only")
    args = ap.parse_args()

    from pipeline.audio import activity
    from pipeline.audio.decode import load_call
    from pipeline.audio.diarize import split_speakers
    from pipeline.audio.models import load_model
    from pipeline.process import PipelineOptions, process_call
    from pipeline.records import CallMeta
    from pipeline.scoring.roles import attribute
    from pipeline.scoring.scorecard import load_scorecard
    from pipeline.audio.transcribe import transcribe_channel

    model = load_model(args.model, cpu_threads=args.threads)
    scorecard = load_scorecard()
    options = PipelineOptions(model=args.model, redact=False)
    calls = stereo_calls(FOLDERS[:1] if args.no_eval else FOLDERS[1:] if args.only_eval else FOLDERS)
    if args.only:
        calls = [c for c in calls if c[0] in args.only]
    rows = []
    print(f"{'call':42s} {'speech s':>8s} {'right':>6s} {'wrong':>6s} {'items same':>10s}  flag", flush=True)
    with tempfile.TemporaryDirectory(prefix="callqa-mono-") as tmp:
        for call_id, path, layout in calls:
            t0 = time.perf_counter()
            stereo = load_call(path, layout)
            mix = stereo.agent + stereo.customer
            peak = float(np.abs(mix).max()) or 1.0
            mix = mix / max(peak, 1.0)  # no clipping
            mono_path = write_wav(Path(tmp) / f"{call_id}_mono.wav", mix)
            truth_a = activity.speech_spans(stereo.agent, options.activity)
            truth_c = activity.speech_spans(stereo.customer, options.activity)
            mono_audio = load_call(mono_path, "mono")
            parties = split_speakers(mono_audio.mixed, activity.speech_spans(mono_audio.mixed, options.activity))
            if args.share_only:
                words, _ = transcribe_channel(model, mono_audio.mixed, "agent", options.transcribe)
                decided = attribute(words, parties)
                agent, customer, flags = decided.agent, decided.customer, list(decided.flags)
                items_s, same, differ = {}, [], {}
            else:
                mono = process_call(CallMeta(call_id=call_id + "_mono", path=str(mono_path), channel_layout="mono"), model, scorecard, options)
                twin = process_call(CallMeta(call_id=call_id, path=str(path), channel_layout=layout), model, scorecard, options)
                if mono.error or twin.error:
                    print(f"{call_id:42s} failed: {mono.error or twin.error}", flush=True)
                    continue
                swapped = voice_roles(mono, parties)
                agent, customer = (parties.customer, parties.agent) if swapped else (parties.agent, parties.customer)
                items_m = {i.item_id: i.outcome for i in mono.score.items}
                items_s = {i.item_id: i.outcome for i in twin.score.items}
                same = [k for k in items_s if items_m.get(k) == items_s[k]]
                differ = {k: f"{items_s[k]}->{items_m.get(k)}" for k in items_s if items_m.get(k) != items_s[k]}
                flags = [f for f in mono.score.flag_reasons if f.startswith("mono recording")]
            right, wrong, judged = share_right(agent, customer, truth_a, truth_c, stereo.duration_s)
            rows.append(dict(call=call_id, speech_s=round(judged, 1), right=round(right, 3), wrong=round(wrong, 3),
                             items_same=len(same), items=len(items_s), differ=differ, flagged=bool(flags),
                             flags=flags, seconds=round(time.perf_counter() - t0, 1)))
            print(f"{call_id:42s} {judged:8.1f} {right:6.3f} {wrong:6.3f} {len(same):>4d} / {len(items_s):<3d}  "
                  f"{'FLAGGED ' + flags[0] if flags else '-'}"
                  + (f"  differ: {differ}" if differ else ""), flush=True)
    if not rows:
        return 1
    speech = sum(r["speech_s"] for r in rows)
    overall = sum(r["right"] * r["speech_s"] for r in rows) / speech
    sure = [r for r in rows if not r["flagged"]]
    sure_speech = sum(r["speech_s"] for r in sure)
    items_same, items = sum(r["items_same"] for r in rows), sum(r["items"] for r in rows)
    print(f"\n{len(rows)} calls, {speech:.0f} s of one-party speech: share right {overall:.3f} overall; "
          f"{len(sure)} calls not flagged ({sure_speech:.0f} s): "
          + (f"{sum(r['right'] * r['speech_s'] for r in sure) / sure_speech:.3f}" if sure_speech else "n/a")
          + f"; flagged {len(rows) - len(sure)}: {', '.join(r['call'] for r in rows if r['flagged']) or 'none'}")
    if items:
        print(f"items the same on mono as on stereo: {items_same} / {items} ({items_same / max(items, 1):.3f}); "
              f"calls with every item the same: {sum(r['items_same'] == r['items'] for r in rows)} / {len(rows)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
