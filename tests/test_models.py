"""Model resolution works offline and fails fast, with a message, for what would need the hub."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.audio.models import ModelNotAvailable, resolve_model


def test_packaged_models_resolve_to_local_directories():
    for name in ("base", "tiny.en"):
        path = Path(resolve_model(name))
        assert (path / "model.bin").exists() and (path / "tokenizer.json").exists()


def test_hub_name_offline_fails_fast_and_says_what_to_do(monkeypatch):
    monkeypatch.delenv("CALLQA_ALLOW_DOWNLOAD", raising=False)
    started = time.monotonic()
    with pytest.raises(ModelNotAvailable, match="not on this machine") as error:
        resolve_model("large-v3")
    assert time.monotonic() - started < 5
    assert "CALLQA_ALLOW_DOWNLOAD" in str(error.value)


def test_directory_that_is_not_a_model(tmp_path):
    with pytest.raises(ModelNotAvailable, match="not a CTranslate2 Whisper model"):
        resolve_model(str(tmp_path))
