"""NER in a child process: the model loads there once and tags batches while this process goes on.

``NerModelProcess.submit(batch)`` returns at once with a future, so the stages after NER
(linking, triples, writing) keep working on this process's core, and its GIL, while the child
tags the next batch: NER and the Python stages run side by side in one in-process run
(``pipeline.transforms.TagMentions``). The child starts with ``spawn``, as this process may hold
threads, and imports Beam only after its logging is set up, so it prints what this process would.
This module imports nothing heavy: the child imports it first.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

_CHILD: dict[str, Any] = {}  # In the child: the handler, its model and the load time.


def _start(payload: bytes, verbose: bool) -> None:
    from kgpipe.pipeline.cli import quiet_start_up

    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="kgpipe-parent-watch",
                     daemon=True).start()
    quiet_start_up(verbose)
    started = time.perf_counter()
    handler = pickle.loads(payload)  # Imports Beam and the model code, now quietly.
    _CHILD.update(handler=handler, model=handler.load_model(), load_seconds=time.perf_counter() - started)


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """Ends the child once its parent is gone (killed, say): the child holds both ends of its task
    pipe, so it would otherwise wait for work forever, holding the model's memory."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)


def _tag(batch: list) -> tuple[list, Any, float | None]:
    results, stats = _CHILD["handler"].tag(batch, _CHILD["model"])
    return results, stats, _CHILD.pop("load_seconds", None)  # The load time rides on the first result.


class NerModelProcess:
    """A child process that loads ``handler``'s model once and tags batches of documents for this one.

    ``submit(batch)`` returns a future of ``(results, stats, load seconds or None)`` (see
    ``NerModelHandler.tag``). The child starts, and loads the model, when the object is made.
    """

    def __init__(self, handler):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        verbose = logging.getLogger("kgpipe").getEffectiveLevel() <= logging.INFO
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                                         initargs=(pickle.dumps(handler), verbose))
        with _main_script_hidden():  # The child starts here (and loads the model), not at the first batch.
            self._pool.submit(int)
        # Shut down before interpreter teardown: a pool collected during it prints a traceback.
        atexit.register(_shutdown, weakref.ref(self._pool))

    def submit(self, batch: Sequence):
        with _explained():
            return self._pool.submit(_tag, list(batch))

    @staticmethod
    def result(future) -> tuple[list, Any, float | None]:
        with _explained():
            return future.result()


def _shutdown(pool_ref) -> None:
    pool = pool_ref()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _explained():
    """A child that died becomes one error saying what to do."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield
    except BrokenProcessPool as error:
        raise RuntimeError("The NER model process ended unexpectedly (its error is printed above); "
                           "--ner_process off tags in this process instead.") from error


@contextlib.contextmanager
def _main_script_hidden():
    """Keeps a spawned child from importing this process's main script.

    ``spawn`` re-imports the parent's ``__main__`` in the child, which runs a script's unguarded
    top-level code (a script calling kgpipe without ``if __name__ == "__main__":`` would start
    again in the child). The child needs nothing from it: it unpickles kgpipe objects only.
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__} if main else {}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                del main.__spec__
