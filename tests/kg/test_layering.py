"""kg imports neither Beam nor TensorFlow (the layering in STYLE.md)."""

import subprocess
import sys
from pathlib import Path


def test_kg_imports_no_beam_or_tensorflow():
    code = ("import sys; import kgpipe.kg.builder, kgpipe.kg.validate, kgpipe.kg.graph, kgpipe.kg.report, "
            "kgpipe.kg.export.convert, kgpipe.kg.local, kgpipe.kg.manifest; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('apache_beam', 'tensorflow', 'keras')); print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
