"""The run commit protocol: a run becomes visible only when complete.

A run writes every file into ``DIR/_staging/<run id>/`` (the same layout as
``DIR``: ``parquet/<table>/``, ``rdf/``, ``dead_letter/``, ``summary.json``).
Readers never look there: pyarrow datasets skip ``_``-prefixed folders, and
``DIR/parquet/*`` holds no staging file. Once the run is complete, ``commit``:

1. checks that every destination folder is writable (nothing moved yet);
2. writes a journal ``COMMIT.json`` (the moves, and an ``attempt`` token);
3. moves the earlier files it replaces (the same run id's files; with
   ``replace_all`` every run's) aside into ``_staging/<run id>/_previous/``;
4. moves the new files into place (``os.replace``, atomic per file);
5. writes the manifest last, atomically, holding the journal's ``attempt``;
6. deletes the staging folder (and with it the earlier files set aside).

Any error in 3-5 rolls back (new files out, earlier files back), so an earlier
complete run is never lost to a failed rerun. A process killed anywhere leaves
either an unjournaled staging folder (deleted by ``recover``) or a journal:
``recover`` then finishes the cleanup if the manifest holds the journal's
``attempt`` (step 5 happened) and rolls back otherwise. ``RunLock`` keeps two
runs out of one folder at a time (``flock``: released when a process dies).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kgpipe.kg import manifest as manifests

STAGING_DIR = "_staging"
JOURNAL = "COMMIT.json"
PREVIOUS = "_previous"
DATA_FOLDERS = ("parquet", "rdf", "dead_letter")
RUN_FILES = ("summary.json",)  # Files of the latest run at the top of DIR.


class CommitError(RuntimeError):
    """A run could not be made visible; the output folder is as it was before."""


class RunLock:
    """An exclusive lock on an output folder for the length of a run (``with RunLock(out): ...``)."""

    def __init__(self, output_dir: str | os.PathLike[str]):
        self.path = Path(output_dir) / STAGING_DIR / "lock"
        self._handle = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a")
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise CommitError(f"another kgpipe run is writing into {self.path.parents[1]} "
                              f"(lock {self.path} is held); wait for it or choose another --output") from None
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def staging_dir(output_dir: str | os.PathLike[str], run_id: str) -> Path:
    """``DIR/_staging/<run id>``: where a run writes before it is committed."""
    return Path(output_dir) / STAGING_DIR / run_id


def belongs_to(path: Path, run_id: str) -> bool:
    """Whether a data file is one of ``run_id``'s (``<run id>-*``, ``run-<run id>-*`` or under ``run=<run id>/``)."""
    return (path.name.startswith((f"{run_id}-", f"run-{run_id}-", f"{run_id}."))
            or any(part in (f"run={run_id}", f"run_id={run_id}") for part in path.parts))


def data_files(output_dir: str | os.PathLike[str]) -> list[Path]:
    """Every visible data file in ``DIR`` (Parquet, RDF shards, dead letters), relative to ``DIR``."""
    root = Path(output_dir)
    found = []
    for folder in DATA_FOLDERS:
        base = root / folder
        if base.is_dir():
            found += [p.relative_to(root) for p in base.rglob("*") if p.is_file()]
    return sorted(found)


def staged_files(staged: Path) -> list[Path]:
    skip = {JOURNAL, PREVIOUS}
    return sorted(p.relative_to(staged) for p in staged.rglob("*")
                  if p.is_file() and not skip & set(p.relative_to(staged).parts[:1]))


def _writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommitError(f"cannot create output folder {folder}: {error.strerror or error}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommitError(f"output folder {folder} is not writable")


def _move(source: Path, target: Path) -> None:
    """One forward step of a commit."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _move_back(source: Path, target: Path) -> None:
    """One step of a rollback (apart from ``_move``, so fault tests can break commits alone)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _write_journal(staged: Path, journal: Mapping[str, Any]) -> None:
    tmp = staged / f".{JOURNAL}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(journal, indent=1), "utf-8")
    os.replace(tmp, staged / JOURNAL)


def commit(output_dir: str | os.PathLike[str], run_manifest: Mapping[str, Any], *,
           replace_all: bool = False) -> Path:
    """Moves the staged run ``run_manifest["run_id"]`` into ``DIR`` and writes its manifest last.

    Args:
        output_dir: The output folder ``DIR``.
        run_manifest: The run's manifest (``run_id`` required); ``attempt`` is added.
        replace_all: Replace every earlier run in ``DIR`` (``--overwrite``), not
            only an earlier run with the same id.

    Returns:
        The manifest's path.

    Raises:
        CommitError: Nothing staged, a folder not writable, or a move failed
            (rolled back: ``DIR`` holds what it held before).
    """
    out, run_id = Path(output_dir), run_manifest["run_id"]
    staged = staging_dir(out, run_id)
    moves = [p.as_posix() for p in staged_files(staged)] if staged.is_dir() else []
    if not moves:
        raise CommitError(f"nothing staged for run {run_id} in {staged}")
    old = [p for p in data_files(out) if replace_all or belongs_to(p, run_id)]
    old += [Path(name) for name in RUN_FILES if (out / name).is_file()]
    if replace_all:
        old += [p.relative_to(out) for p in (out / manifests.MANIFEST_DIR).glob("*.json")]
    for folder in sorted({(out / m).parent for m in moves} | {out / manifests.MANIFEST_DIR}):
        _writable(folder)
    attempt = uuid.uuid4().hex
    _write_journal(staged, {"run_id": run_id, "attempt": attempt, "moves": moves,
                            "previous": [p.as_posix() for p in old]})
    try:
        for rel in old:
            _move(out / rel, staged / PREVIOUS / rel)
        for rel in moves:
            _move(staged / rel, out / rel)
        path = manifests.write_manifest(out, {**run_manifest, "attempt": attempt})
    except OSError as error:
        _roll_back(out, staged)
        raise CommitError(f"could not commit run {run_id} into {out}: {error}; "
                          "the folder holds what it held before") from error
    shutil.rmtree(staged, ignore_errors=True)
    return path


def _roll_back(out: Path, staged: Path) -> None:
    """Undoes a journaled commit: new files back into staging, earlier files back into place."""
    journal = json.loads((staged / JOURNAL).read_text("utf-8"))
    for rel in journal["moves"]:
        if not (staged / rel).exists() and (out / rel).exists():
            _move_back(out / rel, staged / rel)
    for rel in journal["previous"]:
        if (staged / PREVIOUS / rel).exists():
            _move_back(staged / PREVIOUS / rel, out / rel)
    (staged / JOURNAL).unlink()


def _committed(out: Path, journal: Mapping[str, Any]) -> bool:
    for record in manifests.read_manifests(out):
        if record.get("run_id") == journal["run_id"]:
            return record.get("attempt") == journal["attempt"]
    return False


def recover(output_dir: str | os.PathLike[str], keep: Iterable[str] = ()) -> list[str]:
    """Cleans up after killed runs; returns what it did, one line per staging folder or file.

    A journaled commit is finished (manifest written) or rolled back (earlier
    files restored); unjournaled staging folders and Beam's ``beam-temp-*``
    leftovers in ``DIR``'s data folders are deleted. Call it holding ``RunLock``.
    """
    out = Path(output_dir)
    done = []
    root = out / STAGING_DIR
    for staged in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if staged.name in keep:
            continue
        journal_path = staged / JOURNAL
        if journal_path.is_file():
            journal = json.loads(journal_path.read_text("utf-8"))
            if _committed(out, journal):
                done.append(f"finished the interrupted commit of {journal['run_id']}")
            else:
                _roll_back(out, staged)
                done.append(f"rolled back the interrupted commit of {journal['run_id']}")
        else:
            done.append(f"removed the unfinished run in {staged.relative_to(out)}")
        shutil.rmtree(staged, ignore_errors=True)
    for folder in DATA_FOLDERS:
        base = out / folder
        for temp in sorted(base.rglob("beam-temp-*")) if base.is_dir() else []:
            if temp.exists():  # Not inside a folder removed a moment ago.
                shutil.rmtree(temp, ignore_errors=True) if temp.is_dir() else temp.unlink(missing_ok=True)
                done.append(f"removed {temp.relative_to(out)}")
    return done


def discard(output_dir: str | os.PathLike[str], run_id: str) -> bool:
    """Deletes a failed run's staging folder unless a commit journal needs it (``recover`` does); True if gone."""
    staged = staging_dir(output_dir, run_id)
    if (staged / JOURNAL).exists():
        return False
    shutil.rmtree(staged, ignore_errors=True)
    return not staged.exists()


def pending(output_dir: str | os.PathLike[str]) -> list[str]:
    """Staging folders in ``DIR`` (runs in progress or killed), relative to ``DIR``."""
    root = Path(output_dir) / STAGING_DIR
    return sorted(f"{STAGING_DIR}/{p.name}" for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def other_runs(output_dir: str | os.PathLike[str], run_id: str) -> list[Mapping[str, Any]]:
    """Manifests of the complete runs in ``DIR`` with another id than ``run_id``."""
    return [m for m in manifests.read_manifests(output_dir) if m.get("run_id") != run_id]


def file_rows(staged_or_out: str | os.PathLike[str], files: Sequence[str]) -> dict[str, int]:
    """Rows per Parquet table (``parquet/<table>/...``) and dead-letter lines in ``files`` (relative paths)."""
    import pyarrow.parquet as pq

    root, rows = Path(staged_or_out), {}
    for rel in files:
        parts = Path(rel).parts
        if parts[0] == "parquet" and rel.endswith(".parquet"):
            rows[parts[1]] = rows.get(parts[1], 0) + pq.ParquetFile(root / rel).metadata.num_rows
        elif parts[0] == "dead_letter":
            with open(root / rel, "rb") as handle:
                rows["dead_letters"] = rows.get("dead_letters", 0) + sum(1 for line in handle if line.strip())
    return rows


def _actual_rows(out: Path, files: Sequence[Path]) -> dict[str, int]:
    return file_rows(out, [p.as_posix() for p in files if not p.name.endswith(".tmp")])


def _legacy_rows(record: Mapping[str, Any]) -> dict[str, int]:
    """Row counts a manifest without ``rows`` still implies (older kgpipe, ``kg.local``)."""
    counts = record.get("counts", {})
    return {key: counts[key] for key in ("documents", "mentions", "links") if isinstance(counts.get(key), int)}


def check_runs(output_dir: str | os.PathLike[str]) -> tuple[list[str], list[str]]:
    """Checks that ``DIR`` holds exactly its complete runs' files; returns (problems, notes).

    Problems: a data file of no complete run (a killed or half-written run, a
    ``.tmp`` shard), a file a manifest lists but ``DIR`` lacks, a file of a run
    its manifest does not list, and row counts (per Parquet table and dead
    letters) that differ from the manifest's.
    """
    out = Path(output_dir)
    records = manifests.read_manifests(out)
    files = data_files(out)
    by_run: dict[str, list[Path]] = {r["run_id"]: [] for r in records}
    problems, notes = [], []
    for path in files:
        owner = next((run_id for run_id in by_run if belongs_to(path, run_id)), None)
        if owner is None or path.name.endswith(".tmp"):
            problems.append(f"{path.as_posix()}: not part of any complete run (left by a killed or failed run?)")
        else:
            by_run[owner].append(path)
    for record in records:
        run_id, own = record["run_id"], by_run[record["run_id"]]
        listed = record.get("files")
        if listed is not None:
            problems += [f"{rel}: listed in the manifest of {run_id} but missing" for rel in listed
                         if not (out / rel).is_file()]
            problems += [f"{p.as_posix()}: a file of {run_id} its manifest does not list"
                         for p in own if p.as_posix() not in set(listed)]
        expected = record.get("rows") or _legacy_rows(record)
        actual = _actual_rows(out, own)
        for key, rows in sorted(expected.items()):
            if actual.get(key, 0) != rows:
                problems.append(f"{run_id}: {key} has {actual.get(key, 0):,} rows in the files, "
                                f"the manifest says {rows:,}")
    notes += [f"{rel}: a run in progress or killed (not counted; the next run removes it)" for rel in pending(out)]
    return problems, notes
