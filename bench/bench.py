"""Benchmark: callqa against plain faster-whisper as a careful user runs it, same machine, same
parallelism, same audio, back to back.

    .venv/bin/python bench/bench.py              # the full corpus: about 2 hours of stereo calls
    .venv/bin/python bench/bench.py --quick      # a few calls: a check in two or three minutes
    .venv/bin/python bench/bench.py --scaling [--model tiny.en]   # linear cost and flat memory
    .venv/bin/python bench/bench.py --models tiny.en base base+tiny.en   # speed against detection
    options: --model base  --workers N  --threads T  --beam 5  --set customer_beam_size=1 (any
             TranscribeOptions field, the pipeline only)  --nightly-hours 100 --window-hours 8

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
bought with accuracy. Then the capacity: hours of audio per hour of wall time for one worker
(a machine like this one running the flow: the measured rate of all its cores) and the workers
a nightly volume needs (`--nightly-hours` of audio in a `--window-hours` night); and the
redaction check: spoken card payments (`corpus.card_calls`: customers reading test card
numbers and security codes) through the pipeline as set, and with beam 5 on both channels, and
the baseline's words through the same redaction: no card number may survive.

`--models tiny.en base base+tiny.en` runs the pipeline alone with each model that installs
offline ("base+tiny.en": base, tiny.en on the customer's channel), on the labelled calls: speed
(audio-s per wall-s and per CPU-s) against detection agreement and F1 on the labels, the workers
the nightly volume needs, and the recommended default (the most accurate single model; of equals
the faster; an English-only model only where every call is English; a second model on the
customer's channel is printed beside it as an option). `--scaling` runs the pipeline on 1, 10
and 50 one-minute calls and on one call of 1, 10 and 60 minutes, each in its own process: wall
time per audio minute, peak memory, and the capacity each rate gives.

Both sides' Whisper encoder runs (one per 30 s window, language detection included) are counted:
the work that does not move with a shared machine's load.
"""
from __future__ import annotations

import argparse
import math
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
from corpus import BenchCall, call_of_length, card_calls, generated_calls, labelled_calls, one_minute_calls  # noqa: E402
from pipeline.settings import DEFAULT_MODEL, apply_quiet_environment, cpu_cores, parallelism  # noqa: E402

apply_quiet_environment()

STAGES = ("decode", "activity", "transcribe", "redact", "detect", "score", "store")


def _peak_mb() -> float:
    """This process's own peak resident memory (VmHWM). Not ru_maxrss: on Linux a spawned child
    starts with the RSS its parent had when it forked (kept through exec), so a child measured
    after the parent generated a two-hour call reported 1.8 GB for a one-minute call."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process (every thread) and of its finished children (ffmpeg): on a
    machine shared with other work, a steadier measure than wall time."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _count_encoder_runs() -> dict[str, int]:
    """Count Whisper's encoder runs (one per 30 s window, whatever it holds) in this process: the
    work that does not move with the machine's load."""
    from faster_whisper import WhisperModel

    counts, encode = {"windows": 0}, WhisperModel.encode

    def counted(self, features):
        counts["windows"] += 1 if features.ndim == 2 else features.shape[0]
        return encode(self, features)

    WhisperModel.encode = counted
    return counts


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

    encoder = _count_encoder_runs()
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
    return {"audio_s": sum(d[1] for d in done), "wall_s": wall, "cpu_s": cpu, "peak_mb": _peak_mb(), "outcomes": outcomes,
            "windows": encoder["windows"]}


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


def _transcribe_options(beam: int, overrides: dict[str, str] | None):
    """The pipeline's TranscribeOptions: its defaults, `beam`, then --set KEY=VALUE overrides."""
    from dataclasses import fields, replace

    from pipeline.audio.transcribe import TranscribeOptions

    options = replace(TranscribeOptions(), beam_size=beam)
    types = {f.name: f.type for f in fields(TranscribeOptions)}
    for key, value in (overrides or {}).items():
        if key not in types:
            raise SystemExit(f"--set {key}: not a TranscribeOptions field ({', '.join(types)})")
        kind = str(types[key])
        parsed = None if value.lower() == "none" else \
            int(value) if kind.startswith("int") else float(value) if kind.startswith("float") else \
            value.lower() in ("1", "true", "yes") if kind.startswith("bool") else value
        options = replace(options, **{key: parsed})
    return options


def run_pipeline(calls: list[dict], model: str, workers: int, threads: int, beam: int,
                 overrides: dict[str, str] | None = None) -> dict:
    """The nightly flow's work per call (process_call + save_call), `workers` calls at once."""
    from pipeline.audio.models import load_model
    from pipeline.privacy.redact import Redactor
    from pipeline.process import PipelineOptions, process_call
    from pipeline.records import CallMeta
    from pipeline.scoring.detect import Detector
    from pipeline.scoring.scorecard import load_scorecard
    from pipeline.store.database import Store
    from pipeline.store.writes import save_call

    encoder = _count_encoder_runs()
    whisper = load_model(model, cpu_threads=threads, num_workers=workers)
    card = load_scorecard()
    detector, redactor = Detector(card), Redactor()
    options = PipelineOptions(model=model, transcribe=_transcribe_options(beam, overrides))
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
            "options": repr(options.transcribe), "windows": encoder["windows"],
            "outcomes": {r.meta.call_id: {i.item_id: i.outcome for i in r.score.items} for r in ok},
            "failed": [r.meta.call_id for r in results if r.error]}


def run_cards(calls: list[dict], model: str, threads: int, beam: int, overrides: dict[str, str] | None) -> list[dict]:
    """Spoken card payments: the pipeline as set, the pipeline with beam `beam` on both channels
    (the careful decoding), and the baseline's words, each through the same redaction. Per call
    and side: whether any card number (or 8 digits of the call's card) or the security code
    survives in the customer's words, and how many [CARD] redactions were made."""
    from dataclasses import replace

    from faster_whisper import decode_audio

    from pipeline.audio.models import load_model
    from pipeline.privacy.redact import Redactor, digit_sequences, has_card_number
    from pipeline.process import PipelineOptions, process_call
    from pipeline.records import CallMeta, Utterance, Word
    from pipeline.audio.transcribe import split_at_pauses
    from pipeline.scoring.scorecard import load_scorecard

    whisper, card, redactor = load_model(model, cpu_threads=threads), load_scorecard(), Redactor()
    chosen = _transcribe_options(beam, overrides)
    careful = replace(_transcribe_options(beam, {k: v for k, v in (overrides or {}).items()
                                                 if "beam" not in k and not k.startswith("customer")}),
                      customer_beam_size=None, customer_model=None)  # base, beam 5, on both channels
    sides = {"pipeline": chosen} if chosen == careful else {"pipeline": chosen, f"pipeline, {model} beam {beam} both": careful}

    def leaks(utterances, facts) -> tuple[bool, bool, int, str]:
        texts = [u.text for u in utterances] + [" ".join(w.text for w in u.words) for u in utterances]
        digits = [d for t in texts for d in digit_sequences(t)]
        number, cvv = facts["card"], facts["cvv"]
        card_left = any(has_card_number(t) for t in texts) or any(number[i:i + 8] in d for d in digits for i in range(len(number) - 7))
        cvv_left = any(cvv in d for d in digits)
        said = " | ".join(u.text for u in utterances if u.speaker == "customer")
        return card_left, cvv_left, said

    rows = []
    for call in calls:
        meta = CallMeta(call["call_id"], call["path"], channel_layout=call["layout"])
        for side, options in sides.items():
            result = process_call(meta, whisper, card, PipelineOptions(model=model, transcribe=options), None, redactor)
            card_left, cvv_left, said = leaks(result.utterances, call["labels"])
            rows.append({"call": call["call_id"], "side": side, "card_left": card_left, "cvv_left": cvv_left,
                         "cards": sum(r.kind == "card" for r in result.redactions), "said": said, "error": result.error})
        left, right = decode_audio(call["path"], split_stereo=True)
        utterances = []
        for speaker, samples in (("agent", left), ("customer", right)):
            segments, _ = whisper.transcribe(samples, beam_size=beam, vad_filter=True, word_timestamps=True)
            words = [Word(w.word.strip(), round(w.start, 2), round(w.end, 2), round(w.probability, 3))
                     for s in segments for w in (s.words or []) if w.word.strip()]
            utterances += [Utterance(speaker, r[0].start, r[-1].end, " ".join(w.text for w in r), tuple(r)) for r in split_at_pauses(words)]
        utterances, redactions = redactor.redact(sorted(utterances, key=lambda u: u.start), "en")
        card_left, cvv_left, said = leaks(utterances, call["labels"])
        rows.append({"call": call["call_id"], "side": "baseline", "card_left": card_left, "cvv_left": cvv_left,
                     "cards": sum(r.kind == "card" for r in redactions), "said": said, "error": None})
    return rows


def _print_cards(rows: list[dict]) -> bool:
    """The redaction table; True when no card number survived on the pipeline's side."""
    calls = list(dict.fromkeys(r["call"] for r in rows))
    sides = list(dict.fromkeys(r["side"] for r in rows))
    print(f"\nredaction of spoken card numbers ({len(calls)} card payments, corpus.card_calls): "
          "card / security code left in the words (must be none), [CARD] redactions")
    print(f"  {'side':28s} {'card numbers left':>17s} {'codes left':>10s} {'[CARD]':>6s}")
    for side in sides:
        mine = [r for r in rows if r["side"] == side]
        print(f"  {side:28s} {sum(r['card_left'] for r in mine):>9d} of {len(mine):<5d} {sum(r['cvv_left'] for r in mine):>4d} of {len(mine):<3d}"
              f" {sum(r['cards'] for r in mine):>6d}")
    for r in rows:
        if r["card_left"] or r["cvv_left"] or r["error"]:
            print(f"    {r['side']}, {r['call']}: {'CARD LEFT ' if r['card_left'] else ''}{'CODE LEFT ' if r['cvv_left'] else ''}"
                  f"{r['error'] or ''} customer said: {r['said'][:160]}")
    return not any(r["card_left"] for r in rows if r["side"].startswith("pipeline"))


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


def _f1(outcomes: dict, calls: list[BenchCall]) -> float | None:
    """Detection F1 on the labels (pass as the positive class), as bench/eval_audio.py reports it."""
    from pipeline.scoring.evaluate import evaluate

    return evaluate(outcomes, {c.call_id: c.labels for c in calls if c.labels}).overall.f1


def capacity(rows: list[tuple[str, float]], nightly_h: float, window_h: float) -> None:
    """Hours of audio per hour of wall time for one worker (a machine like this one running the
    flow), and the workers `nightly_h` hours of audio need in a `window_h`-hour night."""
    need = nightly_h / window_h
    print(f"\ncapacity: one worker = one machine like this ({cpu_cores()} core(s)) running the flow; "
          f"nightly {nightly_h:g} h of audio in a {window_h:g} h window ({need:.1f} audio-h per wall-h in all)")
    print(f"  {'run':58s} {'audio-h per wall-h per worker':>29s} {'workers needed':>14s}")
    for name, rate in rows:
        print(f"  {name:58s} {rate:29.1f} {math.ceil(need / rate) if rate > 0 else 0:14d}")


def compare(calls: list[BenchCall], model: str, workers: int, threads: int, beam: int,
            overrides: dict[str, str] | None = None, nightly_h: float = 100.0, window_h: float = 8.0) -> None:
    plain = [asdict(c) for c in calls]
    print(f"{len(calls)} stereo calls ({sum(bool(c.labels) for c in calls)} labelled), model {model} int8, beam {beam}, "
          f"{workers} call(s) at once x {threads} thread(s), {cpu_cores()} core(s)", flush=True)
    base = _in_child(run_baseline, plain, model, workers, threads, beam)
    pipe = _in_child(run_pipeline, plain, model, workers, threads, beam, overrides)
    print(f"pipeline options: {pipe['options']}")
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
    print(f"Whisper encoder runs (30 s windows, language detection included): baseline {base['windows']}, "
          f"pipeline {pipe['windows']} ({pipe['windows'] / max(base['windows'], 1):.2f}x)")
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
    b_f1, p_f1 = _f1(base["outcomes"], labelled), _f1(pipe["outcomes"], labelled)
    print(f"\ndetection against the labels ({len(labelled)} calls, {n} labelled items): "
          f"baseline {b_eq}/{n} ({100 * b_eq / max(n, 1):.1f} %, F1 {b_f1 or 0:.3f}), "
          f"pipeline {p_eq}/{n} ({100 * p_eq / max(n, 1):.1f} %, F1 {p_f1 or 0:.3f})")
    print(f"  {'item':28s} {'baseline':>10s} {'pipeline':>10s}")
    for item, (equal, count) in p_items.items():
        print(f"  {item:28s} {b_items.get(item, (0, count))[0]:>5d}/{count:<4d} {equal:>5d}/{count:<4d}")

    capacity([(f"plain faster-whisper ({workers} at once), measured wall", base["audio_s"] / base["wall_s"]),
              (f"callqa pipeline ({workers} at once), measured wall", pipe["audio_s"] / pipe["wall_s"]),
              ("callqa pipeline, from CPU time x cores (a machine to itself)", pipe["audio_s"] / pipe["cpu_s"] * cpu_cores())],
             nightly_h, window_h)

    rows = _in_child(run_cards, [asdict(c) for c in card_calls()], model, max(1, cpu_cores()), beam, overrides)
    _print_cards(rows)


def models(calls: list[BenchCall], names: list[str], workers: int, threads: int, beam: int,
           overrides: dict[str, str] | None, nightly_h: float, window_h: float) -> None:
    """The pipeline alone with each model, on the same calls: speed against detection."""
    labelled = [c for c in calls if c.labels]
    print(f"models: the pipeline alone on {len(calls)} stereo calls ({len(labelled)} labelled), beam {beam}, "
          f"{workers} call(s) at once x {threads} thread(s), {cpu_cores()} core(s); each model in a fresh process\n")
    print(f"{'model':13s} {'audio s':>7s} {'wall s':>7s} {'audio-s/wall-s':>14s} {'audio-s/CPU-s':>13s} {'peak MB':>7s} "
          f"{'agreement':>16s} {'F1':>6s} {'workers for ' + format(nightly_h, 'g') + ' h':>16s}")
    results = {}
    for name in names:
        # "base+tiny.en": base, with tiny.en on the customer's channel (TranscribeOptions.customer_model)
        model, _, customer = name.partition("+")
        mine = {**(overrides or {}), **({"customer_model": customer} if customer else {})}
        try:
            r = _in_child(run_pipeline, [asdict(c) for c in calls], model, workers, threads, beam, mine)
        except Exception as exc:  # a model that is not installed: say so, go on
            print(f"{name:13s} not run: {type(exc).__name__}: {exc}")
            continue
        equal, n, _ = _agreement(r["outcomes"], labelled)
        f1, speed = _f1(r["outcomes"], labelled) or 0.0, r["audio_s"] / r["wall_s"]
        results[name] = (equal, f1, speed)
        print(f"{name:13s} {r['audio_s']:7.0f} {r['wall_s']:7.1f} {speed:14.1f} {r['audio_s'] / r['cpu_s']:13.1f} "
              f"{r['peak_mb']:7.0f} {equal:>5d}/{n:<4d}{100 * equal / max(n, 1):5.1f} % {f1:6.3f} "
              f"{math.ceil(nightly_h / window_h / speed):>16d}", flush=True)
    if results:
        from pipeline.audio.language import english_only

        # A second model on the customer's channel ("base+tiny.en") is an option, never the
        # default: the customer's words are where card numbers are said, and a smaller model
        # that does not hear one leaves nothing to redact (see the redaction check).
        single = [m for m in results if "+" not in m] or list(results)
        best = max(single, key=lambda m: (results[m][0], results[m][1], results[m][2]))
        english = lambda m: english_only(m.partition("+")[0])  # noqa: E731  (base+tiny.en: base where not English)
        print(f"\nrecommended default: {best}: the most detection agreement on the labels"
              f"{' (of equals, the faster)' if sum(r[0] == results[best][0] for r in results.values()) > 1 else ''}; "
              + ("English only: the default only where every call is English" if english(best) else
                 "multilingual: calls in every scorecard language"))
        for name, (equal, f1, speed) in results.items():
            if name != best:
                print(f"  {name}: {speed / results[best][2]:.2f}x its speed, {equal - results[best][0]:+d} items agreeing, "
                      f"F1 {f1 - results[best][1]:+.3f}" + (" (English only)" if english(name) else ""))


def scaling(model: str, workers: int | None, counts: list[int], minutes: list[float], beam: int,
            overrides: dict[str, str] | None = None, nightly_h: float = 100.0, window_h: float = 8.0) -> None:
    print(f"linear cost: the pipeline alone (model {model}, beam {beam}), each run in its own process\n")
    print(f"{'run':22s} {'calls':>5s} {'audio min':>9s} {'wall s':>8s} {'wall s per audio min':>21s} "
          f"{'CPU s per audio min':>20s} {'peak MB':>8s}")
    series = [(f"{n} one-minute call(s)", one_minute_calls(n)) for n in counts]
    series += [(f"one {m:g}-minute call", [call_of_length(m)]) for m in minutes]
    rates = []
    for name, calls in series:
        w, t = parallelism(len(calls), workers)
        r = _in_child(run_pipeline, [asdict(c) for c in calls], model, w, t, beam, overrides)
        minutes = r["audio_s"] / 60 or 1
        print(f"{name:22s} {len(calls):5d} {minutes:9.1f} {r['wall_s']:8.1f} {r['wall_s'] / minutes:21.2f} "
              f"{r['cpu_s'] / minutes:20.2f} {r['peak_mb']:8.0f}", flush=True)
        rates.append((f"{name}, {w} at once, measured wall", r["audio_s"] / r["wall_s"]))
    capacity(rates, nightly_h, window_h)


def _pairs(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep:
            raise SystemExit(f"--set {value}: expected KEY=VALUE")
        out[key.strip()] = val.strip()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--workers", type=int, default=None, help="calls at once (default: settings.parallelism)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per call (default: cores / workers)")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a few calls (a short check)")
    parser.add_argument("--scaling", action="store_true", help="1/10/50 calls and 1/10/60-minute calls")
    parser.add_argument("--models", nargs="+", default=None, metavar="MODEL",
                        help="the pipeline with each model: speed against detection, and a recommended default")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a TranscribeOptions field for the pipeline (e.g. customer_beam_size=1); repeatable")
    parser.add_argument("--nightly-hours", type=float, default=100.0, help="audio hours a night (capacity table)")
    parser.add_argument("--window-hours", type=float, default=8.0, help="hours the night's window lasts")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    args = parser.parse_args()
    overrides = _pairs(args.set)
    if args.scaling:
        scaling(args.model, args.workers, args.counts, args.minutes, args.beam, overrides, args.nightly_hours, args.window_hours)
        return
    calls = labelled_calls()
    if args.quick:
        calls = [c for group in ("samples", "audio", "audio_hvb") for c in [c for c in calls if c.group == group][:2]]
        calls += generated_calls(count=1)
    else:
        calls += generated_calls()
    workers, threads = parallelism(len(calls), args.workers)
    if args.models:  # speed against the labels: the labelled calls only
        calls = [c for c in calls if c.labels]
        models(calls, args.models, workers, args.threads or threads, args.beam, overrides, args.nightly_hours, args.window_hours)
        return
    compare(calls, args.model, workers, args.threads or threads, args.beam, overrides, args.nightly_hours, args.window_hours)


if __name__ == "__main__":
    main()
