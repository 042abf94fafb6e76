"""End-to-end pipeline throughput on real news text.

Runs ``kgpipe run`` on the THUCNews sample (1,000 articles, 1.01M characters) with the
bundled model and KB, and prints one Markdown row per runner configuration for BENCHMARKS.md:
documents/s, characters/s end to end, NER-only characters/s, their ratio (both from the run's
own summary.json, as the issue asks), model load time, padding waste and counts. Each
configuration runs as its own ``kgpipe run`` process, so start-up (imports, model and KB load)
counts as a user sees it. With ``--rounds N`` the configurations run in turn N times
(interleaved, so a change of machine speed hits them alike) and a last table gives each
configuration's median.

    .venv/bin/python bench/pipeline_throughput.py [--limit N] [--rounds N]
        [--configs inprocess,inprocess-no-child,threads,multiprocess] [--baseline DIR]

``--baseline DIR`` also runs every configuration on the kgpipe code checked out in DIR (e.g.
``git worktree add /tmp/base HEAD``), interleaved with this checkout's, as ``NAME@baseline``:
a before/after comparison in one run. Both use this environment's packages.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "news" / "thucnews_1000.tsv"
CONFIGS = {
    "inprocess": [],  # The default: with 2+ cores, NER in a child process (--ner_process auto).
    "inprocess-no-child": ["--ner_process", "off"],
    "inprocess-all-heads": ["--product_heads", "off"],  # every NER head on product text too (before stop 23)
    "threads": ["--direct_running_mode", "multi_threading", "--direct_num_workers", "2"],
    "multiprocess": ["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", default=str(NEWS))
    parser.add_argument("--limit", type=int, default=0, help="Use only the first N articles.")
    parser.add_argument("--configs", default="inprocess")
    parser.add_argument("--batch_tokens", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=1, help="Run the configurations in turn this many times.")
    parser.add_argument("--baseline", help="Another kgpipe checkout to run each configuration on as well.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        environments = {"": None}
        if args.baseline:
            shadow = Path(tmp) / "baseline-path"
            shadow.mkdir()
            (shadow / "kgpipe").symlink_to(Path(args.baseline).resolve())  # Found before the editable install.
            environments["@baseline"] = {**os.environ, "PYTHONPATH": str(shadow)}
        source = Path(args.input)
        if args.limit:
            limited = Path(tmp) / source.name
            with source.open(encoding="utf-8") as f:
                limited.write_text("".join(line for _, line in zip(range(args.limit), f)), encoding="utf-8")
            source = limited
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores; input {source.name}")
        print(f"load average {os.getloadavg()[0]:.1f} at start")
        print("| runner | docs | chars | wall s (process) | run s (summary) | chars/s end to end | NER chars/s "
              "| end to end / NER | model load s | padding waste | mentions | triples |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        kgpipe = Path(sys.executable).with_name("kgpipe")
        names = [config + suffix for config in args.configs.split(",") for suffix in environments]
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        for name in [name for _ in range(args.rounds) for name in names]:
            config, _, tree = name.partition("@")
            out = Path(tmp) / name
            shutil.rmtree(out, ignore_errors=True)
            started = time.perf_counter()
            subprocess.run([str(kgpipe), "run", "--input", str(source), "--output", str(out), "--tsv_columns",
                            "category,text", "--batch_tokens", str(args.batch_tokens), "--no_progress",
                            *CONFIGS[config]], check=True, stdout=subprocess.DEVNULL,
                           env=environments["@" + tree if tree else ""])
            wall = time.perf_counter() - started
            summary = json.loads((out / "summary.json").read_text())
            c, t = summary["counts"], summary["throughput"]
            print(f"| {name} | {c.get('documents', 0):,} | {c.get('ner_chars', 0):,} | {wall:.1f} | "
                  f"{summary['seconds']:.1f} | {t['pipeline_chars_per_second']:,.0f} | "
                  f"{t['ner_chars_per_second'] or 0:,.0f} | "
                  f"{t['pipeline_chars_per_second'] / (t['ner_chars_per_second'] or 1):.2f} | "
                  f"{summary['ner']['model_load_seconds']:.1f} | {summary['padding_waste']:.1%} | "
                  f"{c.get('links', 0):,} | {c.get('triples', 0):,} |", flush=True)
            runs[name].append((summary["seconds"], t["pipeline_chars_per_second"] / (t["ner_chars_per_second"] or 1)))
        if args.rounds > 1:
            print(f"\nmedians of {args.rounds} interleaved rounds; load average {os.getloadavg()[0]:.1f} at the end")
            print("| runner | run s (summary), median | end to end / NER, median | run s, each round |")
            print("|---|---|---|---|")
            for name, rows in runs.items():
                print(f"| {name} | {statistics.median(r[0] for r in rows):.1f} | "
                      f"{statistics.median(r[1] for r in rows):.2f} | {' '.join(f'{r[0]:.1f}' for r in rows)} |")


if __name__ == "__main__":
    main()
