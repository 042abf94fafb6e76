"""Run manifests, deterministic run ids and incremental-run bookkeeping.

A run directory ``DIR`` may hold several runs (``--incremental`` appends).
Each run leaves ``DIR/manifests/<seq>-<run id>.json``: its inputs with content
hashes, configuration, versions and counts. The run id is a hash of the
inputs' contents, the configuration and the versions, so rerunning the same
input with the same setup gives the same run id and hence identical triples
and identical Parquet rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

MANIFEST_DIR = "manifests"
_MANIFEST_NAME = re.compile(r"(\d{5})-(.+)\.json")
_CHUNK = 1 << 20


def file_digest(path: str | os.PathLike[str]) -> str:
    """Returns ``"sha256:<hex>"`` of a file's bytes (streamed, any size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def derive_run_id(input_digests: Sequence[str], config: Mapping[str, Any], versions: Mapping[str, str]) -> str:
    """Returns ``"run-<20 hex>"``, a hash of input contents, configuration and versions.

    Input order does not matter (digests are sorted). ``config`` should hold
    only settings that change the output (not output paths or worker counts),
    so the same data processed the same way always gets the same id.
    """
    if isinstance(input_digests, str):
        raise ValueError(f"`input_digests` must be a sequence of digests, not one string. Received: {input_digests!r}")
    payload = _canonical({"inputs": sorted(input_digests), "config": dict(config), "versions": dict(versions)})
    return "run-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


def _run_of(path: Path, root: Path) -> str | None:
    """The run id a documents file belongs to: ``<run id>-*.parquet`` or ``run[_id]=<run id>/...``."""
    for part in path.relative_to(root).parts[:-1]:
        key, _, value = part.partition("=")
        if key in ("run", "run_id") and value:
            return value
    match = re.match(r"(run-[0-9a-z]+)-", path.name)
    return match.group(1) if match else None


def completed_runs(output_dir: str | os.PathLike[str]) -> list[str]:
    """Run ids with a manifest in ``DIR`` (the pipeline writes it last), oldest first."""
    return [run_id for _, run_id, _ in _manifest_paths(Path(output_dir))]


def completed_document_files(output_dir: str | os.PathLike[str]) -> list[Path]:
    """The ``DIR/parquet/documents`` files of completed runs, skipping Beam's temporary folders."""
    root = Path(output_dir) / "parquet" / "documents"
    committed = set(completed_runs(output_dir))
    if not root.is_dir() or not committed:
        return []
    return [
        path for path in sorted(root.rglob("*.parquet"))
        if not path.name.startswith((".", "_"))
        and not any(part.startswith("beam-temp") for part in path.parts)
        and _run_of(path, root) in committed
    ]


def seen_document_ids(output_dir: str | os.PathLike[str]) -> set[str]:
    """Returns the document ids of earlier *completed* runs in ``DIR/parquet/documents``.

    A run counts once its manifest is written, so documents of a run that
    failed half-way are processed again next time. Reads only the ``id`` column.
    """
    seen: set[str] = set()
    for path in completed_document_files(output_dir):
        seen.update(pq.read_table(path, columns=["id"]).column("id").to_pylist())
    return seen


def _manifest_paths(output_dir: Path) -> list[tuple[int, str, Path]]:
    folder = output_dir / MANIFEST_DIR
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = _MANIFEST_NAME.fullmatch(path.name)
            if match:
                found.append((int(match.group(1)), match.group(2), path))
    return sorted(found)


def write_manifest(output_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Writes a run's manifest atomically; returns its path.

    The manifest must hold ``run_id``. Runs are numbered in the order first
    written; rewriting a run (a rerun) replaces its manifest in place.
    """
    run_id = manifest.get("run_id") if isinstance(manifest, Mapping) else None
    if not isinstance(run_id, str) or not run_id or "/" in run_id or os.sep in run_id:
        raise ValueError(f"A manifest needs a `run_id` usable in a file name. Received: run_id={run_id!r}")
    output_dir = Path(output_dir)
    existing = _manifest_paths(output_dir)
    same = [path for _, rid, path in existing if rid == run_id]
    seq = max((s for s, _, _ in existing), default=0) + 1
    path = same[0] if same else output_dir / MANIFEST_DIR / f"{seq:05d}-{run_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(manifest), sort_keys=True, ensure_ascii=False, indent=2, default=str) + "\n"
    tmp = path.parent / f".manifest-{uuid.uuid4().hex}.tmp"
    # os.open with 0o666, not mkstemp (0o600): the manifest gets the mode of every other output file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path


def read_manifests(output_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Returns every run's manifest in ``DIR``, oldest run first."""
    return [json.loads(path.read_text("utf-8")) for _, _, path in _manifest_paths(Path(output_dir))]
