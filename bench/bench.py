"""Benchmark: the callqa pipeline against plain faster-whisper on the same audio, same run.

    .venv/bin/python bench/bench.py [FILES or a folder] [--model base] [--threads 2] [--flow]

Prints audio-seconds per wall-second for
  - baseline: plain faster-whisper (same model, int8, VAD, word timestamps) on each file as
    given (stereo files mixed down to mono, which is what faster-whisper does with them);
  - pipeline: `pipeline.process.process_call` (decode, speech activity per channel, holds,
    per-channel transcription, detection, scoring) without Prefect;
  - flow (with --flow): the Prefect nightly flow into a fresh DuckDB, orchestration included;
  - scoring alone: detection + scoring of the stored utterances (what a re-score costs), calls/s;
with time per stage and peak memory (each measured in its own process, so peaks don't mix).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pipeline.settings import DEFAULT_MODEL, apply_quiet_environment  # noqa: E402

apply_quiet_environment()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_baseline(files: list[str], model: str, threads: int) -> dict:
    from faster_whisper import WhisperModel

    from pipeline.audio.models import resolve_model

    whisper = WhisperModel(resolve_model(model), device="cpu", compute_type="int8", cpu_threads=threads)
    started = time.perf_counter()
    audio = 0.0
    for path in files:
        segments, info = whisper.transcribe(path, vad_filter=True, word_timestamps=True, beam_size=5)
        list(segments)
        audio += info.duration
    return {"audio_s": audio, "wall_s": time.perf_counter() - started, "peak_mb": _peak_mb()}


def run_pipeline(files: list[str], model: str, threads: int) -> dict:
    from pipeline.scoring.detect import Detector
    from pipeline.audio.models import load_model
    from pipeline.process import process_call
    from pipeline.records import CallMeta
    from pipeline.privacy.redact import Redactor
    from pipeline.scoring.score import score_call
    from pipeline.scoring.scorecard import load_scorecard

    whisper = load_model(model, cpu_threads=threads)
    card = load_scorecard()
    detector, redactor = Detector(card), Redactor()
    stages: dict[str, float] = {}
    results = []
    started = time.perf_counter()
    for path in files:
        result = process_call(CallMeta(Path(path).stem, path), whisper, card, detector=detector, redactor=redactor)
        if result.error:
            print(f"  {path}: {result.error}", file=sys.stderr)
            continue
        results.append(result)
        for stage, seconds in result.stage_seconds.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    wall = time.perf_counter() - started
    audio = sum(r.metrics.duration_s for r in results)
    # Scoring alone, as a re-score of stored transcripts would run it.
    rounds, rescore_started = 0, time.perf_counter()
    while time.perf_counter() - rescore_started < 3.0:
        for r in results:
            score_call(card, r.utterances, r.holds, r.metrics, r.metrics.duration_s, r.language, detector=detector)
        rounds += 1
    rescore_s = (time.perf_counter() - rescore_started) / (rounds * max(len(results), 1))
    return {"audio_s": audio, "wall_s": wall, "peak_mb": _peak_mb(), "stages": stages,
            "rescore_calls_per_s": 1 / rescore_s if rescore_s else 0.0}


def run_flow(folder: str, model: str, threads: int) -> dict:
    from prefect.testing.utilities import prefect_test_harness

    from flows.nightly import nightly_scoring

    from pipeline.rescore import rescore
    from pipeline.scoring.scorecard import load_scorecard
    from pipeline.store.database import Store

    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
        started = time.perf_counter()
        db = Path(tmp) / "bench.duckdb"
        outcome = nightly_scoring(recordings=folder, db=str(db), model=model, concurrency=threads)
        wall = time.perf_counter() - started
        # Re-scoring from the database (load transcripts, detect, score, write), several rounds.
        store, card, calls, seconds = Store(db), load_scorecard(), 0, 0.0
        while seconds < 5.0:
            done = rescore(store, card)
            calls, seconds = calls + done.calls, seconds + done.seconds
    audio = sum(c["audio_s"] for c in outcome["calls"])
    return {"audio_s": audio, "wall_s": wall, "peak_mb": _peak_mb(), "rescore_calls_per_s": calls / seconds}


def _in_child(target, *args) -> dict:
    """Run one measurement in a fresh process (spawned: nothing inherited, peaks kept apart)."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(target, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", default=[str(ROOT / "data" / "samples")])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--flow", action="store_true", help="also time the Prefect flow (a folder only)")
    args = parser.parse_args()

    from pipeline.audio.decode import SUPPORTED_SUFFIXES

    files: list[str] = []
    for item in args.inputs:
        path = Path(item)
        files += sorted(str(p) for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES) if path.is_dir() else [str(path)]
    print(f"{len(files)} file(s), model {args.model}, {args.threads} CPU thread(s)\n")

    base = _in_child(run_baseline, files, args.model, args.threads)
    pipe = _in_child(run_pipeline, files, args.model, args.threads)
    rows = [("plain faster-whisper (mono mix)", base), ("callqa pipeline (no Prefect)", pipe)]
    if args.flow and len(args.inputs) == 1 and Path(args.inputs[0]).is_dir():
        rows.append((f"callqa Prefect flow ({args.threads} at once)", _in_child(run_flow, args.inputs[0], args.model, args.threads)))

    base_speed = base["audio_s"] / base["wall_s"]
    print(f"{'run':38s} {'audio s':>8s} {'wall s':>8s} {'audio-s/wall-s':>15s} {'vs baseline':>12s} {'peak MB':>8s} {'MB vs baseline':>15s}")
    for name, r in rows:
        speed = r["audio_s"] / r["wall_s"]
        print(f"{name:38s} {r['audio_s']:8.1f} {r['wall_s']:8.1f} {speed:15.1f} {speed / base_speed:11.2f}x "
              f"{r['peak_mb']:8.0f} {r['peak_mb'] / base['peak_mb']:14.2f}x")
    print("\npipeline time per stage:")
    total = sum(pipe["stages"].values())
    for stage, seconds in pipe["stages"].items():
        print(f"  {stage:12s} {seconds:7.2f} s  {100 * seconds / total:5.1f} %  ({pipe['audio_s'] / seconds:8.0f} audio-s per s)")
    print(f"\nscoring alone, in memory (detection + scoring): {pipe['rescore_calls_per_s']:.0f} calls/s on one core")
    if len(rows) > 2:
        print(f"callqa rescore from the database (load, detect, score, write): {rows[2][1]['rescore_calls_per_s']:.0f} calls/s")


if __name__ == "__main__":
    main()
