"""Score labelled audio through the real pipeline and compare with the QA labels.

    .venv/bin/python bench/eval_audio.py [FOLDERS...] [--model base] [--threads 1] [--only ID ...]
                                         [--transcripts] [--no-redact] [--vocabulary-as HOW]
                                         [--no-agent-names] [--json FILE]

FOLDERS (default: data/eval/audio and data/samples) each hold audio and a labels.json in the
format of data/samples/labels.json (`call_id`, `file`, `channel_layout`, `expected_items`).
Every labelled file goes through `pipeline.process.process_call` (decode, speech activity per
channel, holds, Whisper, redaction, detection, scoring; no Prefect, no database) with the
default scorecard, and the item outcomes are compared with the labels by
`pipeline.evaluate.evaluate`: per-item precision / recall / F1, confusion and disagreements,
for each folder and for all of them together. --transcripts prints what Whisper heard per
call, to tell an ASR slip from a detection miss.

Decoder hints: the scorecard's `vocabulary` and the agent's name (`agent_name` from the folder's
manifest.csv, when it has one) reach Whisper as the pipeline gives them; --vocabulary-as
hotwords|initial_prompt|none compares the two ways in (and none), --no-agent-names leaves the
manifest's names out. --json FILE writes each call's item outcomes, flags and speech coverage
(share of VAD speech with words on it) for before/after comparisons.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pipeline.settings import DEFAULT_MODEL, apply_quiet_environment  # noqa: E402

apply_quiet_environment()

DEFAULT_FOLDERS = [ROOT / "data" / "eval" / "audio", ROOT / "data" / "samples"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="*", type=Path, default=DEFAULT_FOLDERS)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--threads", type=int, default=1, help="Whisper CPU threads (default 1)")
    ap.add_argument("--only", nargs="+", default=None, help="score only these call ids")
    ap.add_argument("--transcripts", action="store_true", help="print Whisper's transcript per call")
    ap.add_argument("--no-redact", action="store_true", help="skip redaction (the nightly flow redacts)")
    ap.add_argument("--vocabulary", nargs="+", default=None, metavar="NAME",
                    help="names to add to the scorecard's vocabulary (a centre's company, e.g. "
                         "'Harper Valley National Bank' for data/eval/audio_hvb)")
    ap.add_argument("--vocabulary-as", choices=("hotwords", "initial_prompt", "none"), default=None,
                    help="how the scorecard's vocabulary and the agent's name reach Whisper (default: the pipeline's)")
    ap.add_argument("--no-agent-names", action="store_true", help="do not pass the manifest's agent names")
    ap.add_argument("--json", type=Path, default=None, help="write per-call outcomes, flags and coverage here")
    args = ap.parse_args()

    from pipeline.scoring.evaluate import evaluate, render_text
    from pipeline.audio.models import load_model
    from pipeline.process import PipelineOptions, process_call
    from pipeline.records import CallMeta
    from pipeline.scoring.scorecard import load_scorecard
    from pipeline.ingest.transcripts import predicted_outcomes

    t0 = time.perf_counter()
    model = load_model(args.model, cpu_threads=args.threads)
    scorecard = load_scorecard()
    redactor = None
    if not args.no_redact:
        from pipeline.privacy.redact import Redactor
        redactor = Redactor()
    options = PipelineOptions(model=args.model)
    if args.vocabulary_as or args.vocabulary:
        from dataclasses import replace

        transcribe = replace(options.transcribe, vocabulary=tuple(args.vocabulary or ()))
        transcribe = replace(transcribe, vocabulary_as=args.vocabulary_as) if args.vocabulary_as else transcribe
        options = replace(options, transcribe=transcribe)
    dump: dict[str, dict] = {}
    print(f"model {args.model} ({args.threads} thread(s)), scorecard {scorecard.id}; "
          f"loaded in {time.perf_counter() - t0:.1f} s", flush=True)

    all_pred: dict[str, dict[str, str]] = {}
    all_labels: dict[str, dict[str, str]] = {}
    audio_total = wall_total = 0.0
    sections = []
    for folder in args.folders:
        entries = json.loads((folder / "labels.json").read_text())
        if args.only:
            entries = [e for e in entries if e["call_id"] in args.only]
        if not entries:
            continue
        labels = {e["call_id"]: e["expected_items"] for e in entries}
        names = {} if args.no_agent_names else _agent_names(folder)
        results = []
        f_audio = f_wall = 0.0
        for e in entries:
            meta = CallMeta(call_id=e["call_id"], path=str(folder / e["file"]),
                            channel_layout=e.get("channel_layout"), agent_name=names.get(e["file"], ""))
            start = time.perf_counter()
            r = process_call(meta, model, scorecard, options, redactor=redactor)
            wall = time.perf_counter() - start
            results.append(r)
            dur = r.metrics.duration_s if r.metrics else 0.0
            f_audio, f_wall = f_audio + dur, f_wall + wall
            status = f"score {r.score.score:.1f}" if r.score and r.score.score is not None else (r.error or "no score")
            wrong = [i.item_id for i in (r.score.items if r.score else ())
                     if e["expected_items"].get(i.item_id, i.outcome) != i.outcome]
            print(f"  {e['call_id']:44s} {dur:6.1f} s audio {wall:6.1f} s wall  {status}"
                  + (f"  differs: {', '.join(wrong)}" if wrong else ""), flush=True)
            dump[e["call_id"]] = {
                "items": {i.item_id: i.outcome for i in (r.score.items if r.score else ())},
                "flags": list(r.score.flag_reasons) if r.score else [r.error],
                "coverage": _coverage(r), "wall_s": round(wall, 2), "audio_s": dur,
                "stages": {k: round(v, 2) for k, v in r.stage_seconds.items()},
            }
            if args.transcripts:
                for h in r.holds:
                    print(f"      [hold {h.start:.1f}-{h.end:.1f} s]")
                for u in r.utterances:
                    print(f"      {u.start:6.1f} {u.speaker:8s} {u.text}")
        pred = predicted_outcomes(results)
        report = evaluate(pred, labels)
        sections.append((folder, report, f_audio, f_wall))
        all_pred.update(pred)
        all_labels.update(labels)
        audio_total, wall_total = audio_total + f_audio, wall_total + f_wall

    for folder, report, f_audio, f_wall in sections:
        rel = folder.resolve().relative_to(ROOT) if folder.resolve().is_relative_to(ROOT) else folder
        print(f"\n=== {rel}: {f_audio:.0f} s of audio scored in {f_wall:.0f} s "
              f"({f_audio / max(f_wall, 1e-9):.1f}x real time) ===")
        print(render_text(report))
    if len(sections) > 1:
        print(f"\n=== all folders: {audio_total:.0f} s of audio in {wall_total:.0f} s ===")
        print(render_text(evaluate(all_pred, all_labels), disagreements=False))
    if args.json:
        args.json.write_text(json.dumps(dump, indent=1))
    return 0


def _agent_names(folder: Path) -> dict[str, str]:
    """file -> agent_name from the folder's manifest.csv, as a centre would export it."""
    import csv

    manifest = folder / "manifest.csv"
    if not manifest.exists():
        return {}
    with open(manifest, newline="") as fh:
        return {row["file"]: row.get("agent_name", "") for row in csv.DictReader(fh)}


def _coverage(result) -> dict[str, float] | None:
    """Share of each party's speech (by VAD, recomputed here) with words on it."""
    if not result.ok or result.channel_layout == "mono":
        return None
    from pipeline.audio import activity
    from pipeline.audio.decode import load_call

    audio = load_call(result.meta.path, result.channel_layout)
    out = {}
    for party in ("agent", "customer"):
        spans = activity.speech_spans(getattr(audio, party))
        words = [w for u in result.utterances if u.speaker == party for w in u.words]
        heard = sum(s.duration for s in spans if any(w.end >= s.start - 0.3 and w.start <= s.end + 0.3 for w in words))
        total = sum(s.duration for s in spans)
        out[party] = round(heard / total, 3) if total else 1.0
    return out


if __name__ == "__main__":
    sys.exit(main())
