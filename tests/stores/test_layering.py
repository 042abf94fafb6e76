"""kg.stores and the Neo4j export import neither Beam nor TensorFlow/Keras (STYLE.md layering)."""

import subprocess
import sys
from pathlib import Path


def test_stores_import_no_beam_or_tensorflow():
    code = ("import sys; import kgpipe.kg.stores.oxigraph, kgpipe.kg.stores.virtuoso, kgpipe.kg.stores.virtuoso_server, "
            "kgpipe.kg.stores.ladybug, kgpipe.kg.stores.tables, kgpipe.kg.export.neo4j; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('apache_beam', 'tensorflow', 'keras')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
