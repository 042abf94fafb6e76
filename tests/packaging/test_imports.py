"""The import rules of STYLE.md, checked on every module of every package.

Imports point one way, ``schemas <- ner, linking, kg <- pipeline``; only ``pipeline``
imports Beam; only the model code (``ner``) imports TensorFlow or Keras. Every import
statement counts, including those inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("schemas", "ner", "linking", "kg", "pipeline")
# What each package may import among kgpipe's packages and the heavy frameworks.
ALLOWED = {
    "schemas": {"schemas"},
    "ner": {"schemas", "ner", "tensorflow", "keras"},
    "linking": {"schemas", "linking"},
    "kg": {"schemas", "kg"},
    "pipeline": {"schemas", "ner", "linking", "kg", "pipeline", "apache_beam"},
}
GUARDED = set(STAGES) | {"apache_beam", "tensorflow", "keras", "tf_keras"}


def _imported(path: Path) -> set[str]:
    """The guarded names (stage or framework) a module imports anywhere in its body."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        elif isinstance(node, ast.ImportFrom):  # Relative: stays inside its own package.
            continue
        else:
            continue
        for module in modules:
            parts = module.split(".")
            name = parts[1] if parts[0] == "kgpipe" and len(parts) > 1 else parts[0]
            if parts[0] == "kgpipe" or name in GUARDED:
                names.add(name)
    return names & GUARDED


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "sample" not in p.parts)


@pytest.mark.parametrize("package", STAGES)
def test_package_imports_only_what_the_layering_allows(package):
    modules = _modules(package)
    assert modules, f"no modules under {package}/"
    bad = {str(p.relative_to(ROOT)): sorted(_imported(p) - ALLOWED[package]) for p in modules}
    assert {k: v for k, v in bad.items() if v} == {}


def test_bare_stage_imports_are_caught(tmp_path):
    # The checker itself must see through `from kgpipe.x import` and bare `import x` alike.
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import apache_beam as beam\n    from kgpipe.ner.windows import split_windows\n"
                      "    import tensorflow.keras\n", "utf-8")
    assert _imported(module) == {"apache_beam", "ner", "tensorflow"}
