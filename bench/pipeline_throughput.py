"""End-to-end pipeline throughput on real news text.

Runs ``kgpipe run`` on the THUCNews sample (1,000 articles, 1.01M characters) with the
bundled model and KB, and prints one Markdown row per runner configuration for BENCHMARKS.md:
documents/s, characters/s end to end, NER-only characters/s, their ratio (both from the run's
own summary.json, as the issue asks), model load time, padding waste and counts. Each
configuration runs as its own ``kgpipe run`` process, so start-up (imports, model and KB load)
counts as a user sees it.

    .venv/bin/python bench/pipeline_throughput.py [--limit N] [--configs inprocess,threads,multiprocess]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import platform
import tempfile
import time
from pathlib import Path

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "news" / "thucnews_1000.tsv"
CONFIGS = {
    "inprocess": [],
    "threads": ["--direct_running_mode", "multi_threading", "--direct_num_workers", "2"],
    "multiprocess": ["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", default=str(NEWS))
    parser.add_argument("--limit", type=int, default=0, help="Use only the first N articles.")
    parser.add_argument("--configs", default="inprocess")
    parser.add_argument("--batch_tokens", type=int, default=4096)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
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
        for name in args.configs.split(","):
            out = Path(tmp) / name
            started = time.perf_counter()
            subprocess.run([str(kgpipe), "run", "--input", str(source), "--output", str(out), "--tsv_columns",
                            "category,text", "--batch_tokens", str(args.batch_tokens), "--no_progress",
                            *CONFIGS[name]], check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - started
            summary = json.loads((out / "summary.json").read_text())
            c, t = summary["counts"], summary["throughput"]
            print(f"| {name} | {c.get('documents', 0):,} | {c.get('ner_chars', 0):,} | {wall:.1f} | "
                  f"{summary['seconds']:.1f} | {t['pipeline_chars_per_second']:,.0f} | "
                  f"{t['ner_chars_per_second'] or 0:,.0f} | "
                  f"{t['pipeline_chars_per_second'] / (t['ner_chars_per_second'] or 1):.2f} | "
                  f"{summary['ner']['model_load_seconds']:.1f} | {summary['padding_waste']:.1%} | "
                  f"{c.get('links', 0):,} | {c.get('triples', 0):,} |", flush=True)


if __name__ == "__main__":
    main()
