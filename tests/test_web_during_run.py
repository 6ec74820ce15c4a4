"""Reviews while the nightly run writes the same database: a real `callqa score` (Whisper
tiny.en, one short clip) in another process, reviewers saving through the app all the while.
Nothing lost, no error page, the run unharmed. Slow (a Prefect start and a transcription)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import copy_samples, settle
from pipeline.store import reads
from pipeline.store.database import Store, StoreBusy
from pipeline.web import create_app
from web_helpers import add_accounts, csrf, sign_in

CLIP = "c07_no_closing_thanks"  # 68 s, not in the fast batch: the run adds it
REVIEWED = "c01_model_call"


@pytest.mark.slow
def test_reviews_saved_during_a_scoring_run_are_all_kept(fast_batch, tmp_path):
    db = tmp_path / "callqa.duckdb"
    shutil.copy(fast_batch[1], db)
    add_accounts(db)
    recordings = tmp_path / "recordings"
    copy_samples(recordings, [CLIP])
    settle(recordings)
    app = create_app(db, secret_key="during-run-key" * 3, wait_s=120)
    clients = {name: TestClient(app) for name in ("rita", "rob")}
    for name, client in clients.items():
        assert sign_in(client, name).status_code == 303
    page = clients["rita"].get(f"/calls/{REVIEWED}").text
    version = page.split('name="scorecard_version" value="')[1].split('"')[0]
    items = sorted(set(page.split('name="outcome__')[i].split('"')[0] for i in range(1, page.count('name="outcome__') + 1)))

    run = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "score", str(recordings), "--db", str(db), "--model", "tiny.en"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=Path(__file__).resolve().parent.parent)
    saved = during_run = 0
    statuses = []
    store = Store(db)
    deadline = time.monotonic() + 600
    while run.poll() is None and time.monotonic() < deadline:
        try:
            with store.run_lock():
                held = False
        except StoreBusy:
            held = True
        name = ("rita", "rob")[saved % 2]
        client = clients[name]
        form = {"csrf_token": csrf(client.get("/disputes").text), "scorecard_id": "aidet", "scorecard_version": version}
        for item in items:
            form[f"outcome__{item}"] = ("pass", "fail")[saved % 2]
            form[f"comment__{item}"] = f"save {saved}"
        response = client.post(f"/reviews/{REVIEWED}", data=form, follow_redirects=False)
        statuses.append(response.status_code)
        statuses.append(client.get("/queue").status_code)
        if response.status_code == 303:
            saved += 1
            during_run += held
        time.sleep(0.2)
    output = run.communicate(timeout=60)[0]
    assert run.returncode == 0, output
    assert set(statuses) <= {200, 303}, statuses
    assert during_run >= 3, f"only {during_run} reviews were saved while the run held its lock"
    # nothing lost: every save is there, and the run's call is scored
    rows = store.query("SELECT comment, count(*) AS n FROM item_reviews WHERE call_id = ? GROUP BY ALL", [REVIEWED])
    assert sorted(rows.comment) == sorted(f"save {i}" for i in range(saved)) and set(rows.n) == {len(items)}
    assert CLIP in reads.scored_call_ids(store)
    final = store.query("SELECT reviewer, outcome FROM latest_item_reviews WHERE call_id = ? LIMIT 1", [REVIEWED]).iloc[0]
    assert final.reviewer == ("rita", "rob")[(saved - 1) % 2]
