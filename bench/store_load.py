"""Load throughput of each graph store for one run, measured interleaved, and a check that they agree.

Rounds go store by store in turn (oxigraph, virtuoso, ladybug, kuzu, neo4j CSV),
each load in a fresh child process into an empty target (Virtuoso: one
temporary server for the whole bench, the run's graph deleted before each
round, untimed). After the last round the README's questions are asked of
Oxigraph and Virtuoso (SPARQL) and LadybugDB (Cypher) and the answers compared.
Kuzu (archived in 2025; LadybugDB is its continuation) loads through the same
code with the ``kuzu`` module in place of ``real_ladybug``.

Usage: python bench/store_load.py --run out/news1k [--rounds 3] [--output runs/store_load.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STORES = ("oxigraph", "virtuoso", "ladybug", "kuzu", "neo4j-csv")


def one(store: str, run: str, target: str, virtuoso_ports: str) -> dict:
    """One load in this process; returns its counts and seconds."""
    from kgpipe.kg.stores import ladybug, oxigraph, virtuoso

    if store in ("ladybug", "kuzu"):
        __import__("real_ladybug" if store == "ladybug" else "kuzu")  # Imports (seconds) are not load time.
    started = time.perf_counter()
    if store == "oxigraph":
        result = oxigraph.load(run, oxigraph.OxigraphConfig(target))
    elif store == "virtuoso":
        port, http_port = (int(p) for p in virtuoso_ports.split(","))
        result = virtuoso.load(run, virtuoso.VirtuosoConfig(port=port, http_port=http_port))
    elif store in ("ladybug", "kuzu"):
        if store == "kuzu":
            import kuzu

            ladybug._import = lambda: kuzu  # Same API; the bench's comparison only.
        result = ladybug.load(run, ladybug.LadybugConfig(target))
    else:
        from kgpipe.kg.export.neo4j import export_neo4j

        written = export_neo4j(run, target)
        return {"rows": written["nodes"] + written["relationships"], "seconds": time.perf_counter() - started}
    return {"rows": result.rows, "counts": result.counts, "seconds": time.perf_counter() - started}


def _child(store: str, run: str, target: str, ports: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--one", store, "--run", run, "--target", target,
                           "--virtuoso_ports", ports], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{store} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _answers(run: str, scratch: Path, config) -> dict:
    import pyoxigraph as ox

    from kgpipe.kg.stores import ladybug, virtuoso
    from kgpipe.kg.stores.runs import find_runs
    from tests.stores.questions import CYPHER, SPARQL, normalise

    graph = find_runs(run)[0].graph_iri
    store = ox.Store.read_only(str(scratch / "oxigraph"))
    out = {}
    for name in ("brands", "orgs_people_by_statement"):  # The README's order of patterns stalls Oxigraph.
        timings, answers = {}, {}
        for kind in ("oxigraph", "virtuoso", "ladybug"):
            started = time.perf_counter()
            if kind == "oxigraph":
                rows = [tuple(t.value for t in r) for r in store.query(SPARQL[name], default_graph=ox.NamedNode(graph))]
            elif kind == "virtuoso":
                rows = virtuoso.sparql_select(config, SPARQL[name], default_graph=graph)
            else:
                rows = ladybug.cypher(scratch / "ladybug.lbug", CYPHER[name])
            timings[kind] = round(time.perf_counter() - started, 3)
            answers[kind] = sorted(set(normalise(rows)))
        out[name] = {"rows": {k: len(v) for k, v in answers.items()}, "seconds": timings,
                     "agree": answers["oxigraph"] == answers["virtuoso"] == answers["ladybug"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default="runs/store_load.json")
    parser.add_argument("--one", choices=STORES)
    parser.add_argument("--target")
    parser.add_argument("--virtuoso_ports", default="")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.run, args.target, args.virtuoso_ports)))
        return
    from kgpipe.kg.stores import virtuoso
    from kgpipe.kg.stores.runs import find_runs
    from kgpipe.kg.stores.virtuoso_server import VirtuosoServer

    run = str(Path(args.run).resolve())
    lines = sum(sum(1 for _ in open(p, "rb")) for r in find_runs(run) for p in r.paths)
    results: dict[str, list[dict]] = {s: [] for s in STORES}
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        scratch = Path(tmp)
        server = VirtuosoServer(scratch / "virtuoso", dirs_allowed=[run], buffers=100_000)
        config = server.start()
        ports = f"{config.port},{config.http_port}"
        try:
            for round_ in range(args.rounds):
                for store in STORES:
                    target = {"oxigraph": scratch / "oxigraph", "ladybug": scratch / "ladybug.lbug",
                              "kuzu": scratch / "kuzu.db", "neo4j-csv": scratch / "neo4j"}.get(store, scratch)
                    subprocess.run(["rm", "-rf", str(target)] if store != "virtuoso" else ["true"], check=True)
                    if store == "virtuoso":
                        for r in find_runs(run):
                            virtuoso.isql(config, f"delete from DB.DBA.RDF_QUAD where G = iri_to_id('{r.graph_iri}');")
                    results[store].append(_child(store, run, str(target), ports))
                    print(f"round {round_ + 1} {store}: {results[store][-1]['seconds']:.2f}s", flush=True)
            report = _report(args, run, lines, results)
            _write(args.output, report)  # The loads, before the (slower) answer check.
            report["answers"] = _answers(run, scratch, config)
        finally:
            server.stop()
    _write(args.output, report)
    print(json.dumps({s: (v["rows"], v["median_seconds"], v["rows_per_second"]) for s, v in report["stores"].items()}))
    print(json.dumps(report["answers"], ensure_ascii=False))


def _report(args: argparse.Namespace, run: str, lines: int, results: dict[str, list[dict]]) -> dict:
    report = {"run": args.run, "ntriples_lines": lines, "rounds": args.rounds, "cpus": os.cpu_count(),
              "load_average_end": os.getloadavg(), "stores": {}}
    for store, rounds in results.items():
        median = statistics.median(r["seconds"] for r in rounds)
        report["stores"][store] = {"rows": rounds[-1]["rows"], "counts": rounds[-1].get("counts"),
                                   "seconds": [round(r["seconds"], 2) for r in rounds], "median_seconds": round(median, 2),
                                   "rows_per_second": round(rounds[-1]["rows"] / median)}
    return report


def _write(path: str, report: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
