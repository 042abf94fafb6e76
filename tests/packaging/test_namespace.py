"""Installed, kgpipe claims one top-level name: the stage folders live under ``kgpipe.``."""

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("schemas", "ner", "linking", "kg", "pipeline")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of this checkout, built without dependencies or network."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True, timeout=600)
    (found,) = out.glob("kgpipe-*.whl")
    return found


def test_wheel_has_only_the_kgpipe_namespace(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"kgpipe", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    for stage in STAGES:
        assert f"kgpipe/{stage}/__init__.py" in names
    # Data files travel with their packages.
    assert "kgpipe/schemas/shapes.ttl" in names
    assert "kgpipe/ner/default_model/config.json" in names
    assert "kgpipe/ner/medical_model/weights.npz" in names
    assert "kgpipe/ner/relations/default_model/config.json" in names
    assert "kgpipe/linking/default_kb/kb.jsonl" in names
    assert "kgpipe/pipeline/sample/sample.jsonl" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "kgpipe = kgpipe.pipeline.cli:main" in archive.read(entry_points).decode()


@pytest.mark.slow
def test_install_beside_an_unrelated_pipeline_package(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "pipeline").mkdir()
    (site / "pipeline" / "__init__.py").write_text("OWNER = 'someone else'\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    probe = ("import importlib.util, pipeline; assert pipeline.OWNER == 'someone else', pipeline.OWNER; "
             "import kgpipe.schemas.records as r; print(r.__file__); "
             f"print(all(importlib.util.find_spec('kgpipe.' + s) for s in {STAGES!r}))")
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    module_file, all_found = result.stdout.split()
    assert Path(module_file).is_relative_to(site / "kgpipe")
    assert all_found == "True"
