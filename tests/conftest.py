"""Shared fixtures. Tests use the real parts: real audio, faster-whisper, spaCy, DuckDB, Prefect."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Offline and quiet, before Prefect or faster-whisper are imported by any test module.
_PREFECT_HOME = tempfile.mkdtemp(prefix="callqa-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="session")
def scorecard():
    from pipeline.scoring.scorecard import load_scorecard

    return load_scorecard()


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (starting one costs ~10 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
