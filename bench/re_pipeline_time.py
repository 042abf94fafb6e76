"""Pipeline wall time with and without the relation stage, runs interleaved in one process.

    python bench/re_pipeline_time.py --input pipeline/sample/sample.jsonl --repeats 2 [--relation_model DIR] [--relation_precision P]
    python bench/re_pipeline_time.py --input ../shared/data/news/thucnews_1000.tsv --tsv_columns category,text

Each repeat runs ``kgpipe run`` without relations, then with ``--relations`` (the bundled relation
model unless ``--relation_model``), into fresh folders; prints wall seconds of each, the ratio of the
medians, the load average before and after (the machine may be shared) and the relation counts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--relation_model", default=None)
    parser.add_argument("--relation_precision", default=None, help="passed to the relation runs (auto|int8|float32)")
    parser.add_argument("--tsv_columns", default=None, help="passed to kgpipe run (e.g. category,text)")
    args = parser.parse_args(argv)
    from kgpipe.pipeline.run import run

    relation_flags = ["--relation_model", args.relation_model] if args.relation_model else ["--relations"]
    relation_flags += ["--relation_precision", args.relation_precision] if args.relation_precision else []
    common = ["--tsv_columns", args.tsv_columns] if args.tsv_columns else []
    times: dict[str, list[float]] = {"without": [], "with": []}
    counts = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for name, extra in (("without", []), ("with", relation_flags)):
                started = time.perf_counter()
                summary = run(["--input", args.input, "--output", f"{folder}/{name}{repeat}", "--no_progress", *common, *extra])
                times[name].append(time.perf_counter() - started)
                counts[name] = summary["counts"]
    ratio = statistics.median(times["with"]) / statistics.median(times["without"])
    print(json.dumps({"input": args.input, "seconds": times, "ratio_with_over_without": round(ratio, 3),
                      "load_average_before": load_before, "load_average_after": os.getloadavg(),
                      "cpus": os.cpu_count(), "relations": counts["with"].get("relations"),
                      "triples": {k: v.get("triples") for k, v in counts.items()}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
