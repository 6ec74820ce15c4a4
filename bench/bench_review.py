"""The review app on a big database: generate 10,000+ synthetic scored calls (with reviews),
then time its pages through the real app (in-process HTTP client, signed in).

    .venv/bin/python bench/bench_review.py [--calls 10000] [--db /tmp/callqa-bench.duckdb] [--repeat 5]

Prints the median and worst time of each page. Rows are made directly (no audio, no Whisper):
8 utterances, 0-2 holds, every item of the default scorecard with findings, a score and flags
as `score_call` would give them, spread over 40 agents, 4 departments and 60 days; 8 % of
calls reviewed by one reviewer and 2 % by two (with some disagreement), for calibration.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.records import ItemResult  # noqa: E402
from pipeline.scoring.score import weighted_score  # noqa: E402
from pipeline.scoring.scorecard import load_scorecard  # noqa: E402
from pipeline.store import writes  # noqa: E402
from pipeline.store.database import Store  # noqa: E402

LINES = [
    ("agent", "Good morning, you've reached Contoso Bank, my name is {name}. How can I help?"),
    ("customer", "Hi, my card was declined at a shop this morning."),
    ("agent", "I'm sorry about that. Let me check what happened, please hold the line."),
    ("agent", "Thanks for waiting. The card was locked by our fraud checks."),
    ("customer", "Oh, right, that was me buying a laptop."),
    ("agent", "I've removed the block and you'll get a text in the next two minutes."),
    ("customer", "Brilliant, thank you."),
    ("agent", "Thank you for banking with Contoso. Bye!"),
]


def generate(db: Path, calls: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    card = load_scorecard()
    items = card.items
    agents = [(f"a{i:03d}", f"Agent {i}") for i in range(1, 41)]
    departments = ["billing", "support", "sales", "retention"]
    start = datetime(2025, 1, 6, 8, 0)
    now = datetime.now()
    rows = {t: [] for t in ("calls", "utterances", "holds", "metrics", "findings", "item_results", "call_scores", "item_reviews")}
    for n in range(calls):
        call_id = f"gen-{n:06d}"
        agent, name = agents[n % len(agents)]
        when = start + timedelta(days=rng.randrange(60), seconds=rng.randrange(9 * 3600))
        duration = rng.uniform(60, 420)
        rows["calls"].append({"call_id": call_id, "source_path": f"/srv/recordings/{call_id}.wav", "agent_id": agent,
                              "agent_name": name, "department": rng.choice(departments), "started_at": when,
                              "channel_layout": "agent_left", "language": "en", "duration_s": duration, "model": "base",
                              "status": "scored", "attempts": 1, "processed_at": now, "run_id": "bench"})
        t = 1.0
        for idx, (speaker, text) in enumerate(LINES):
            length = rng.uniform(2, 8)
            rows["utterances"].append({"call_id": call_id, "idx": idx, "speaker": speaker, "start_s": t, "end_s": t + length,
                                       "text": text.format(name=name.split()[0]), "confidence": 0.9, "words": "[]"})
            t += length + rng.uniform(0.3, 3)
        hold = rng.random() < 0.4
        hold_len = rng.choice([25, 40, 55, 75, 95]) if hold else 0
        if hold:
            rows["holds"].append({"call_id": call_id, "hold_idx": 0, "start_s": 20.0, "end_s": 20.0 + hold_len, "duration_s": hold_len})
        rows["metrics"].append({"call_id": call_id, "duration_s": duration, "time_to_answer_s": 1.0, "handle_time_s": duration - 1,
                                "hold_count": int(hold), "hold_total_s": float(hold_len), "longest_hold_s": float(hold_len)})
        results = []
        for item in items:
            roll = rng.random()
            if item.id.startswith("hold") and not hold:
                outcome = "na"
            elif item.id == "hold_within_standard":
                outcome = "fail" if hold_len > 60 else "pass"
            else:
                outcome = "pass" if roll < 0.86 else ("fail" if roll < 0.95 else "uncertain")
            results.append(ItemResult(item.id, card.section_of(item.id), outcome, item.weight, item.auto_fail, f"generated {outcome}", item.bonus))
            rows["item_results"].append({"call_id": call_id, "scorecard_id": card.id, "scorecard_version": card.version,
                                         "item_id": item.id, "section": card.section_of(item.id), "outcome": outcome,
                                         "weight": item.weight, "auto_fail": item.auto_fail, "bonus": item.bonus,
                                         "reason": f"generated {outcome}"})
            if outcome in ("pass", "uncertain"):
                rows["findings"].append({"call_id": call_id, "scorecard_id": card.id, "scorecard_version": card.version,
                                         "item_id": item.id, "rule": "phrases", "speaker": "agent", "text": "you've reached",
                                         "start_s": 1.5, "end_s": 2.5, "confidence": 0.45 if outcome == "uncertain" else 0.9})
        score = weighted_score(results)
        flags = [f"{r.item_id}: generated fail" for r in results if r.outcome == "fail" and r.item_id == "hold_within_standard"]
        uncertain = [r.item_id for r in results if r.outcome == "uncertain"]
        if uncertain:
            flags.append(f"uncertain, a person should decide: {', '.join(uncertain)}")
        if score is not None and score < card.pass_score:
            flags.append(f"score {score:g} below {card.pass_score:g}")
        rows["call_scores"].append({"call_id": call_id, "scorecard_id": card.id, "scorecard_version": card.version, "score": score,
                                    "flagged": bool(flags), "flag_reasons": flags, "scored_at": now})
        reviewers = ["rita"] if rng.random() < 0.08 else (["rita", "rob"] if rng.random() < 0.02 / 0.92 else [])
        for reviewer in reviewers:
            for r in results:
                human = r.outcome if r.outcome != "uncertain" else rng.choice(["pass", "fail"])
                if rng.random() < 0.07:
                    human = rng.choice([o for o in ("pass", "fail", "na") if o != human])
                rows["item_reviews"].append({"review_id": uuid.uuid4().hex, "call_id": call_id, "scorecard_id": card.id,
                                             "scorecard_version": card.version, "item_id": r.item_id,
                                             "machine_outcome": r.outcome, "outcome": human, "comment": None,
                                             "reviewer": reviewer, "reviewer_role": "reviewer", "reviewed_at": now})
    store = Store(db)
    with store.transaction() as con:  # the one write path, one transaction for the whole batch
        for table, table_rows in rows.items():
            if table_rows:
                writes._insert(con, table, pd.DataFrame(table_rows))
    from pipeline.web.security import hash_password

    for name in ("rita", "rob"):
        writes.add_user(store, name, hash_password(f"bench-{name}-password"), "reviewer")


def reviews_from_labels(db: Path, labels: Path, reviewer: str = "labels") -> None:
    """Record a labels file (data/samples/labels.json) as one reviewer's verdicts on a scored
    database (e.g. the demo's), then print machine-vs-reviewer agreement per item."""
    from pipeline.scoring.evaluate import agreement_by_item, load_labels
    from pipeline.store import reads

    store = Store(db)
    latest = store.query("SELECT call_id, scorecard_id, scorecard_version FROM latest_scores WHERE scorecard_id = 'aidet'")
    versions = {r.call_id: r.scorecard_version for r in latest.itertuples()}
    for call_id, items in load_labels(labels).items():
        if call_id in versions:
            writes.save_item_reviews(store, call_id, "aidet", versions[call_id],
                                     {i: (o, "from labels.json") for i, o in items.items()}, reviewer)
    pairs = reads.machine_review_pairs(store, "aidet")
    stats = agreement_by_item(pairs[["item_id", "machine_outcome", "outcome"]].itertuples(index=False))
    print(f"{'item':22} {'pairs':>5} {'agree':>5} {'percent':>8} {'kappa':>6}")
    for item, a in sorted(stats.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        kappa = "-" if a.kappa is None else f"{a.kappa:.2f}"
        print(f"{item:22} {a.n:5} {a.agree:5} {a.percent:7.1f}% {kappa:>6}")


def timed(client, path: str, repeat: int) -> tuple[float, float, int]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return statistics.median(times), max(times), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/callqa-bench/callqa.duckdb"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Reuse the database at --db if it is there.")
    parser.add_argument("--reviews-from-labels", type=Path, metavar="LABELS",
                        help="Instead: record LABELS as a reviewer's verdicts in --db (a scored database) and print agreement.")
    args = parser.parse_args()
    if args.reviews_from_labels:
        reviews_from_labels(args.db, args.reviews_from_labels)
        return
    if not (args.keep and args.db.is_file()):
        for suffix in ("", ".wal", ".access", ".lock", ".secret"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
        args.db.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate(args.db, args.calls)
        print(f"generated {args.calls} calls in {time.perf_counter() - started:.1f} s -> {args.db} "
              f"({args.db.stat().st_size / 1e6:.0f} MB)")
    from fastapi.testclient import TestClient

    from pipeline.web import create_app
    client = TestClient(create_app(args.db, secret_key="bench" * 10))
    login = client.get("/login").text
    token = login.split('name="csrf_token" value="')[1].split('"')[0]
    signed = client.post("/login", data={"username": "rita", "password": "bench-rita-password", "csrf_token": token},
                         follow_redirects=False)
    assert signed.status_code == 303, signed.text[:300]
    pages = [
        ("queue (default: flagged, not reviewed)", "/queue"),
        ("queue, page 20", "/queue?page=20"),
        ("queue, all calls by score", "/queue?show=all&sort=score"),
        ("queue, agent + reason + dates", "/queue?agent=a007&reason=uncertain&date_from=2025-01-20&date_to=2025-02-20"),
        ("queue, item not passed", "/queue?item=hold_within_standard&reviewed="),
        ("call page", "/calls/gen-004242"),
        ("calibration", "/calibration"),
        ("agent scorecards (week)", "/scorecards"),
    ]
    print(f"{'page':42} {'median ms':>10} {'worst ms':>9} {'KB':>6}")
    for label, path in pages:
        median, worst, size = timed(client, path, args.repeat)
        print(f"{label:42} {median * 1000:10.0f} {worst * 1000:9.0f} {size / 1000:6.0f}")


if __name__ == "__main__":
    main()
