"""``kgpipe load``: counts and where to query on success; one clear error line and exit 1 on failure."""

import shutil

from kgpipe.pipeline.cli import main
from tests.stores.conftest import require


def test_load_oxigraph_prints_counts_and_query(store_run, tmp_path, capsys):
    assert main(["load", str(store_run), "--store", "oxigraph", "--db", str(tmp_path / "ox")]) == 0
    out = capsys.readouterr().out
    assert "loaded 1 run(s) into oxigraph" in out and "graph <https://w3id.org/kgpipe/resource/graph/run-sample>" in out
    assert "query: python -c" in out


def test_load_ladybug_default_path_under_the_run(run_copy, capsys):
    assert main(["load", str(run_copy), "--store", "ladybug"]) == 0
    assert (run_copy / "stores" / "kg.lbug").is_file()
    assert "Entity" in capsys.readouterr().out


def test_unreachable_virtuoso_is_one_line_and_exit_1(store_run, capsys):
    require(shutil.which("isql-vt") is not None, "Virtuoso's isql-vt is not installed")
    assert main(["load", str(store_run), "--store", "virtuoso", "--port", "1", "--http_port", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "127.0.0.1:1" in err and "\n" not in err


def test_not_a_run_directory(tmp_path, capsys):
    assert main(["load", str(tmp_path), "--store", "oxigraph"]) == 1
    assert "no run manifest" in capsys.readouterr().err
