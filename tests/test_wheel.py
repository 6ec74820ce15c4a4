"""callqa installs as a wheel and runs from anywhere, with its schema and default scorecards.

The wheel is built offline from a copy of the sources (`pip wheel --no-build-isolation`, with the
setuptools the test extra installs), then installed into a fresh venv that cannot see this
checkout. To stay fast and offline the venv gets no pip and no downloads: the project's
dependencies come from this venv's site-packages through a .pth line (a path, so the editable
callqa's finder there is never activated), added only after the wheel is installed.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES

SOURCES = ["pyproject.toml", "README.md", "pipeline", "flows", "scorecards"]


def _setuptools_new_enough() -> bool:
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return False
    return major >= 77


def _source_packages() -> set[str]:
    """Every folder of .py files under pipeline/ and flows/, as a dotted package name."""
    found = set()
    for top in ("pipeline", "flows"):
        for path in (ROOT / top).rglob("*.py"):
            if "__pycache__" not in path.parts:
                found.add(".".join(path.parent.relative_to(ROOT).parts))
    return found


def test_every_package_is_listed_for_the_wheel():
    """pyproject.toml lists the packages (the scorecards need a package-dir mapping, which
    `find` cannot express): a new sub-package missing from the list would not be installed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert _source_packages() <= listed, f"add to [tool.setuptools] packages: {sorted(_source_packages() - listed)}"
    assert config["package-dir"]["callqa_scorecards"] == "scorecards"


def test_checkout_uses_its_own_scorecards():
    from pipeline.settings import scorecard_dir

    assert scorecard_dir() == ROOT / "scorecards"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, wheel): the wheel built from a copy of the sources and installed in a fresh venv."""
    if not _setuptools_new_enough():
        pytest.skip("needs setuptools>=77 in this venv to build offline: pip install -e '.[test]'")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:  # a copy: no build/ or egg-info left in the checkout, no stale build/lib
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, src / name)
    dist = tmp / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(dist)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    wheel = next(dist.glob("callqa-*.whl"))

    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert install.returncode == 0, install.stdout + install.stderr
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "_callqa_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv, wheel


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CALLQA_DB", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(HOME=str(tmp / "home"), PREFECT_HOME=str(tmp / "prefect"), COLUMNS="250",
               XDG_DATA_HOME=str(tmp / "xdg"))
    return env


def test_wheel_holds_the_schema_the_scorecards_and_every_package(installed):
    _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"pipeline/store/schema.sql", "callqa_scorecards/aidet.yaml", "callqa_scorecards/sop.yaml",
            "pipeline/web/templates/call.html", "pipeline/web/static/app.js", "pipeline/web/static/app.css"} <= names
    packages = {str(Path(n).parent).replace("/", ".") for n in names if n.endswith(".py")}
    assert _source_packages() <= packages
    assert not [n for n in names if n.startswith(("tests/", "data/", "bench/"))]


def test_installed_package_imports_from_the_venv_not_the_checkout(installed, tmp_path):
    venv, _ = installed
    probe = ("import json, pipeline, flows\n"
             "from pipeline.settings import scorecard_dir\n"
             "from pipeline.scoring.scorecard import DEFAULT_SCORECARD\n"
             "from pipeline.store.database import schema_sql\n"
             "print(json.dumps({'pipeline': pipeline.__file__, 'flows': flows.__file__, 'cards': str(scorecard_dir()),"
             " 'default': str(DEFAULT_SCORECARD), 'schema': len(schema_sql())}))")
    run = subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, env=_env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    where = json.loads(run.stdout)
    for key in ("pipeline", "flows", "cards", "default"):
        assert where[key].startswith(str(venv)), where
        assert not where[key].startswith(str(ROOT) + os.sep), where
    assert Path(where["default"]).name == "aidet.yaml" and Path(where["default"]).is_file()
    assert where["schema"] > 1000


def test_installed_callqa_checks_its_own_scorecards(installed, tmp_path):
    venv, _ = installed
    callqa = str(venv / "bin" / "callqa")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = _env(tmp_path)
    cards = json.loads(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import json; from pipeline.settings import scorecard_dir; "
         "print(json.dumps(sorted(str(p) for p in scorecard_dir().glob('*.yaml'))))"],
        cwd=run_dir, env=env, capture_output=True, text=True, check=True, timeout=120).stdout)
    assert [Path(c).name for c in cards] == ["aidet.yaml", "sop.yaml"]
    for card in cards:
        check = subprocess.run([callqa, "scorecard", "check", card], cwd=run_dir, env=env,
                               capture_output=True, text=True, timeout=120)
        assert check.returncode == 0 and "OK" in check.stdout, check.stdout + check.stderr
    assert list(run_dir.iterdir()) == []


@pytest.mark.slow  # a flow run of its own (about 35 s): the fast tier has one end-to-end batch
def test_installed_callqa_scores_a_call_from_elsewhere(installed, tmp_path):
    venv, _ = installed
    callqa = str(venv / "bin" / "callqa")
    run_dir, recordings = tmp_path / "run", tmp_path / "recordings"
    run_dir.mkdir()
    recordings.mkdir()
    shutil.copy(SAMPLES / "c02_no_name.mp3", recordings / "c02_no_name.mp3")
    env = _env(tmp_path)
    db = tmp_path / "x.duckdb"
    score = subprocess.run([callqa, "score", str(recordings), "--db", str(db), "--model", "tiny.en"],
                           cwd=run_dir, env=env, capture_output=True, text=True, timeout=300)
    assert score.returncode == 0, score.stdout[-3000:] + score.stderr[-3000:]
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT c.call_id, c.status, s.scorecard_id FROM calls c "
                           "JOIN call_scores s USING (call_id)").fetchall()
    assert rows == [("c02_no_name", "scored", "aidet")]
    assert list(run_dir.iterdir()) == []  # nothing written where it was run
