"""Benchmark: callqa against plain faster-whisper as a careful user runs it, same machine, same
parallelism, same audio, back to back.

    .venv/bin/python bench/bench.py              # the full corpus: about 2 hours of stereo calls
    .venv/bin/python bench/bench.py --quick      # a few calls: a check in a minute or two
    .venv/bin/python bench/bench.py --scaling [--model tiny.en]   # linear cost and flat memory
    options: --model base  --workers N  --threads T  --beam 5

The corpus (`bench/corpus.py`): every labelled stereo call of data/samples, data/eval/audio and
data/eval/audio_hvb, the shared real call, and generated talk-dense calls with holds (in a cache
folder, not in git).

- **baseline**: plain faster-whisper, as a careful user would run it: the model loaded once,
  int8, the same beam size, each channel decoded with `decode_audio(split_stereo=True)` and
  transcribed with `vad_filter=True` and `word_timestamps=True`, as many files at once as the
  pipeline runs (`num_workers`, threads shared out the same way).
- **pipeline**: what the nightly flow does per call, without Prefect: `process_call` (decode,
  speech activity, holds, transcription, redaction, detection, scoring) and `save_call` into a
  fresh DuckDB, on a thread pool of the same size, one model loaded once.

Printed: audio-s per wall-s of each and the ratio; time per stage (summed over calls) and the
share outside ASR; peak memory of each (each side runs in its own fresh process); and the
detection results of both against the labels (the baseline's words go through the same
redaction, detection and scoring, its holds taken from the gaps in its words), so speed is never
bought with accuracy. `--scaling` runs the pipeline on 1, 10 and 50 one-minute calls and on one
call of 1, 10 and 60 minutes, each in its own process: wall time per audio minute and peak memory.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the repository, and bench/corpus.py beside this script
from corpus import BenchCall, call_of_length, generated_calls, labelled_calls, one_minute_calls  # noqa: E402
from pipeline.settings import DEFAULT_MODEL, apply_quiet_environment, cpu_cores, parallelism  # noqa: E402

apply_quiet_environment()

STAGES = ("decode", "activity", "transcribe", "redact", "detect", "score", "store")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process (every thread) and of its finished children (ffmpeg): on a
    machine shared with other work, a steadier measure than wall time."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _in_child(target, *args):
    """Run one measurement in a fresh spawned process: nothing inherited, peaks kept apart."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(target, args)


# --- the two sides ----------------------------------------------------------------------------

def run_baseline(calls: list[dict], model: str, workers: int, threads: int, beam: int) -> dict:
    """Plain faster-whisper on each channel, `workers` files at once; scored afterwards (untimed)."""
    from faster_whisper import WhisperModel, decode_audio

    from pipeline.audio.models import resolve_model
    from pipeline.records import Word

    whisper = WhisperModel(resolve_model(model), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=workers)

    def one(call: dict):
        left, right = decode_audio(call["path"], split_stereo=True)
        agent, customer = (left, right) if call["layout"] == "agent_left" else (right, left)
        words, language = {}, "en"
        for speaker, samples in (("agent", agent), ("customer", customer)):
            segments, info = whisper.transcribe(samples, beam_size=beam, vad_filter=True, word_timestamps=True)
            words[speaker] = [Word(w.word.strip(), round(w.start, 2), round(w.end, 2), round(w.probability, 3))
                              for s in segments for w in (s.words or []) if w.word.strip()]
            language = language if speaker == "customer" else info.language
        return call, left.size / 16000, words, language

    started, cpu = time.perf_counter(), _cpu_s()
    with ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(one, calls))
    wall, cpu = time.perf_counter() - started, _cpu_s() - cpu
    outcomes = _score_words(done)
    return {"audio_s": sum(d[1] for d in done), "wall_s": wall, "cpu_s": cpu, "peak_mb": _peak_mb(), "outcomes": outcomes}


def _score_words(done) -> dict:
    """The baseline's words through callqa's redaction, detection and scoring (holds from the
    gaps in the agent's words), to compare detection results on equal terms."""
    from pipeline.audio import activity
    from pipeline.audio.transcribe import split_at_pauses
    from pipeline.privacy.redact import Redactor
    from pipeline.records import Span, Utterance
    from pipeline.scoring.detect import Detector
    from pipeline.scoring.score import score_call
    from pipeline.scoring.scorecard import load_scorecard

    card = load_scorecard()
    detector, redactor, outcomes = Detector(card), Redactor(), {}
    for call, duration, words, language in done:
        utterances, spans = [], {}
        for speaker, said in words.items():
            runs = split_at_pauses(said)
            utterances += [Utterance(speaker, r[0].start, r[-1].end, " ".join(w.text for w in r), tuple(r)) for r in runs]
            spans[speaker] = [Span(r[0].start, r[-1].end) for r in runs]
        utterances.sort(key=lambda u: u.start)
        utterances, _ = redactor.redact(utterances, language or "en")
        holds = activity.find_holds(spans["agent"], spans["customer"])
        metrics = activity.measure(duration, spans["agent"], spans["customer"], holds, utterances)
        score = score_call(card, utterances, holds, metrics, duration, language or "en", detector=detector)
        outcomes[call["call_id"]] = {i.item_id: i.outcome for i in score.items}
    return outcomes


def run_pipeline(calls: list[dict], model: str, workers: int, threads: int, beam: int) -> dict:
    """The nightly flow's work per call (process_call + save_call), `workers` calls at once."""
    from dataclasses import replace

    from pipeline.audio.models import load_model
    from pipeline.privacy.redact import Redactor
    from pipeline.process import PipelineOptions, process_call
    from pipeline.records import CallMeta
    from pipeline.scoring.detect import Detector
    from pipeline.scoring.scorecard import load_scorecard
    from pipeline.store.database import Store
    from pipeline.store.writes import save_call

    whisper = load_model(model, cpu_threads=threads, num_workers=workers)
    card = load_scorecard()
    detector, redactor = Detector(card), Redactor()
    options = PipelineOptions(model=model)
    options = replace(options, transcribe=replace(options.transcribe, beam_size=beam))
    writes = threading.Lock()  # one writer at a time, as the flow's run lock does
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")

        def one(call: dict):
            meta = CallMeta(call["call_id"], call["path"], channel_layout=call["layout"])
            result = process_call(meta, whisper, card, options, detector, redactor)
            started = time.perf_counter()
            with writes:
                save_call(store, result, "bench")
            result.stage_seconds["store"] = time.perf_counter() - started
            return result

        started, cpu = time.perf_counter(), _cpu_s()
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, calls))
        wall, cpu = time.perf_counter() - started, _cpu_s() - cpu
    stages = dict.fromkeys(STAGES, 0.0)
    for result in results:
        if result.error:
            print(f"  {result.meta.call_id}: {result.error}", file=sys.stderr)
            continue
        # Detection runs inside scoring: time it again alone to split the two.
        t = time.perf_counter()
        detector.find(result.utterances, result.language or "en")
        detect = time.perf_counter() - t
        for stage, seconds in result.stage_seconds.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
        stages["detect"] += detect
        stages["score"] -= detect
    ok = [r for r in results if not r.error]
    return {"audio_s": sum(r.metrics.duration_s for r in ok), "wall_s": wall, "cpu_s": cpu, "peak_mb": _peak_mb(), "stages": stages,
            "outcomes": {r.meta.call_id: {i.item_id: i.outcome for i in r.score.items} for r in ok},
            "failed": [r.meta.call_id for r in results if r.error]}


# --- reports ----------------------------------------------------------------------------------

def _agreement(outcomes: dict, calls: list[BenchCall]) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """(items equal to their label, items labelled, per item (equal, labelled))."""
    per_item: dict[str, list[int]] = {}
    for call in calls:
        for item, label in (call.labels or {}).items():
            got = outcomes.get(call.call_id, {}).get(item, "missing")
            cell = per_item.setdefault(item, [0, 0])
            cell[0] += got == label
            cell[1] += 1
    equal, labelled = sum(c[0] for c in per_item.values()), sum(c[1] for c in per_item.values())
    return equal, labelled, {k: (v[0], v[1]) for k, v in sorted(per_item.items())}


def compare(calls: list[BenchCall], model: str, workers: int, threads: int, beam: int) -> None:
    plain = [asdict(c) for c in calls]
    print(f"{len(calls)} stereo calls ({sum(bool(c.labels) for c in calls)} labelled), model {model} int8, beam {beam}, "
          f"{workers} call(s) at once x {threads} thread(s), {cpu_cores()} core(s)", flush=True)
    base = _in_child(run_baseline, plain, model, workers, threads, beam)
    pipe = _in_child(run_pipeline, plain, model, workers, threads, beam)
    audio_min = base["audio_s"] / 60
    print(f"audio: {audio_min:.1f} minutes of stereo calls; the two sides ran back to back in fresh processes\n")
    base_speed, base_cpu = base["audio_s"] / base["wall_s"], base["audio_s"] / base["cpu_s"]
    print(f"{'run':52s} {'audio s':>7s} {'wall s':>7s} {'audio-s/wall-s':>14s} {'ratio':>6s} "
          f"{'CPU s':>7s} {'audio-s/CPU-s':>13s} {'ratio':>6s} {'peak MB':>7s}")
    for name, r in ((f"plain faster-whisper, each channel, VAD, words ({workers} at once)", base),
                    (f"callqa pipeline, decode to storage ({workers} at once)", pipe)):
        speed, per_cpu = r["audio_s"] / r["wall_s"], r["audio_s"] / r["cpu_s"]
        print(f"{name:52s} {r['audio_s']:7.0f} {r['wall_s']:7.1f} {speed:14.1f} {speed / base_speed:5.2f}x "
              f"{r['cpu_s']:7.1f} {per_cpu:13.1f} {per_cpu / base_cpu:5.2f}x {r['peak_mb']:7.0f}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {cpu_cores()} core(s) "
          "(over the core count: the machine was shared and wall times are noisy; CPU time is steadier)")
    if pipe["failed"]:
        print(f"pipeline failures: {', '.join(pipe['failed'])}")

    total = sum(pipe["stages"].values()) or 1.0
    print("\npipeline time per stage (summed over calls; with several calls at once the sum exceeds wall time):")
    for stage in STAGES:
        seconds = pipe["stages"].get(stage, 0.0)
        print(f"  {stage:11s} {seconds:8.2f} s {100 * seconds / total:6.1f} %")
    print(f"  outside ASR: {100 * (1 - pipe['stages'].get('transcribe', 0.0) / total):.1f} % of the pipeline's time")

    labelled = [c for c in calls if c.labels]
    b_eq, n, b_items = _agreement(base["outcomes"], labelled)
    p_eq, _, p_items = _agreement(pipe["outcomes"], labelled)
    print(f"\ndetection against the labels ({len(labelled)} calls, {n} labelled items): "
          f"baseline {b_eq}/{n} ({100 * b_eq / max(n, 1):.1f} %), pipeline {p_eq}/{n} ({100 * p_eq / max(n, 1):.1f} %)")
    print(f"  {'item':28s} {'baseline':>10s} {'pipeline':>10s}")
    for item, (equal, count) in p_items.items():
        print(f"  {item:28s} {b_items.get(item, (0, count))[0]:>5d}/{count:<4d} {equal:>5d}/{count:<4d}")


def scaling(model: str, workers: int | None, counts: list[int], minutes: list[float], beam: int) -> None:
    print(f"linear cost: the pipeline alone (model {model}, beam {beam}), each run in its own process\n")
    print(f"{'run':22s} {'calls':>5s} {'audio min':>9s} {'wall s':>8s} {'wall s per audio min':>21s} "
          f"{'CPU s per audio min':>20s} {'peak MB':>8s}")
    series = [(f"{n} one-minute call(s)", one_minute_calls(n)) for n in counts]
    series += [(f"one {m:g}-minute call", [call_of_length(m)]) for m in minutes]
    for name, calls in series:
        w, t = parallelism(len(calls), workers)
        r = _in_child(run_pipeline, [asdict(c) for c in calls], model, w, t, beam)
        minutes = r["audio_s"] / 60 or 1
        print(f"{name:22s} {len(calls):5d} {minutes:9.1f} {r['wall_s']:8.1f} {r['wall_s'] / minutes:21.2f} "
              f"{r['cpu_s'] / minutes:20.2f} {r['peak_mb']:8.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--workers", type=int, default=None, help="calls at once (default: settings.parallelism)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per call (default: cores / workers)")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a few calls (a short check)")
    parser.add_argument("--scaling", action="store_true", help="1/10/50 calls and 1/10/60-minute calls")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    args = parser.parse_args()
    if args.scaling:
        scaling(args.model, args.workers, args.counts, args.minutes, args.beam)
        return
    calls = labelled_calls()
    if args.quick:
        calls = [c for group in ("samples", "audio", "audio_hvb") for c in [c for c in calls if c.group == group][:2]]
        calls += generated_calls(count=1)
    else:
        calls += generated_calls()
    workers, threads = parallelism(len(calls), args.workers)
    compare(calls, args.model, workers, args.threads or threads, args.beam)


if __name__ == "__main__":
    main()
