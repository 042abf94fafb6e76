"""Peak memory of ``kgpipe run`` against corpus size: 1k, 3k and 10k distinct news documents.

Documents come from ``../shared/data/news/thucnews_1000.tsv`` (1,000 articles): the N-th
thousand is a copy of the file with ids ``c<N>-<line>`` (distinct documents, same texts),
written as JSON Lines under ``runs/``. Each size runs ``kgpipe run`` in a fresh process; the
resident memory of its whole process tree (``/proc``, sampled every 0.2 s) gives the peak.
Prints one Markdown row per size for BENCHMARKS.md, with the load average before and after
(the machine is shared).

    .venv/bin/python bench/pipeline_memory.py [--sizes 1000,3000,10000] [--extra "--provenance full"]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "data" / "news" / "thucnews_1000.tsv"
PAGE = os.sysconf("SC_PAGE_SIZE")


def make_corpus(size: int, folder: Path) -> Path:
    """Writes ``size`` documents (copies of the news file with distinct ids) as JSON Lines."""
    path = folder / f"news_{size}.jsonl"
    if path.exists():
        return path
    rows = [line.rstrip("\n").split("\t", 1) for line in NEWS.open(encoding="utf-8") if line.strip()]
    with path.open("w", encoding="utf-8") as f:
        for n in range(size):
            copy, line = divmod(n, len(rows))
            category, text = rows[line]
            f.write(json.dumps({"id": f"c{copy}-{line + 1}", "text": text, "category": category},
                               ensure_ascii=False) + "\n")
    return path


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    tree, todo, total = _children(), [pid], 0
    while todo:
        current = todo.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * PAGE
        except OSError:
            pass
        todo.extend(tree.get(current, ()))
    return total


def measure(corpus: Path, out: Path, extra: list[str]) -> dict:
    """Runs ``kgpipe run`` on ``corpus``; returns peak tree RSS, wall time and the summary."""
    command = [str(Path(sys.executable).parent / "kgpipe"), "run", "--input", str(corpus), "--output", str(out),
               "--no_progress", *extra]
    shutil.rmtree(out, ignore_errors=True)
    started, peak = time.monotonic(), 0
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.2)
    wall = time.monotonic() - started
    if process.returncode:
        sys.exit(f"kgpipe run failed ({process.returncode}): {process.stderr.read()[-2000:]}")
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    return {"peak": peak, "wall": wall, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--extra", default="", help="More `kgpipe run` flags, e.g. '--provenance full'.")
    parser.add_argument("--workdir", default=str(ROOT / "runs" / "pipeline_memory"))
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; load average before: {os.getloadavg()}; flags: {args.extra or '-'}")
    print("| documents | characters | wall s | peak RSS (process tree) | peak / 1k peak | triples | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|")
    first = None
    for size in map(int, args.sizes.split(",")):
        corpus = make_corpus(size, work)
        result = measure(corpus, work / f"out_{size}", shlex.split(args.extra))
        first = first or result["peak"]
        counts = result["summary"]["counts"]
        print(f"| {counts.get('documents', 0):,} | {counts.get('ner_chars', 0):,} | {result['wall']:.1f} | "
              f"{result['peak'] / 2**30:.2f} GiB | {result['peak'] / first:.2f}x | {counts.get('triples', 0):,} | "
              f"{os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
