"""bench/bench.py's arithmetic and options, without audio: the capacity table, --set parsing."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_capacity_is_audio_hours_per_wall_hour_and_workers_round_up(bench, capsys):
    bench.capacity([("slow", 10.0), ("fast", 12.5), ("faster", 30.0)], nightly_h=100, window_h=8)
    out = capsys.readouterr().out
    assert "nightly 100 h of audio in a 8 h window (12.5 audio-h per wall-h in all)" in out
    rows = {line.split()[0]: line.split()[-2:] for line in out.strip().splitlines()[2:]}
    assert rows == {"slow": ["10.0", "2"], "fast": ["12.5", "1"], "faster": ["30.0", "1"]}


def test_set_overrides_become_typed_transcribe_options(bench):
    options = bench._transcribe_options(5, bench._pairs(["customer_beam_size=1", "max_gap_s=2", "language=en"]))
    assert (options.beam_size, options.customer_beam_size, options.max_gap_s, options.language) == (5, 1, 2.0, "en")
    assert bench._transcribe_options(1, {"customer_beam_size": "none"}).customer_beam_size is None
    with pytest.raises(SystemExit, match="not a TranscribeOptions field"):
        bench._transcribe_options(5, {"beam": "1"})
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        bench._pairs(["beam_size"])
