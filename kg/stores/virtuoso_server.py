"""A throwaway Virtuoso server: a temporary database on loopback ports (tests, benchmarks, trying it out).

``VirtuosoServer`` writes its own ``virtuoso.ini`` into a fresh directory,
starts Debian's ``virtuoso-t`` in the foreground bound to ``127.0.0.1`` only,
waits until isql answers and shuts it down on exit::

    with VirtuosoServer(tmp_dir, dirs_allowed=[run_dir]) as server:
        load(run_dir, server.config)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from kgpipe.kg.stores.runs import StoreError
from kgpipe.kg.stores.virtuoso import VirtuosoConfig, isql

SERVER_BINARY = "virtuoso-t"
VSP_ROOT = "/var/lib/virtuoso-opensource-7/vsp"

_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{port}
DisableUnixSocket = 1
DirsAllowed = {dirs}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
CheckpointInterval = 0
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
ServerThreads = 4
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 600
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_binary() -> str | None:
    """The path of ``virtuoso-t``, or ``None`` if Virtuoso is not installed."""
    return shutil.which(SERVER_BINARY)


class VirtuosoServer:
    """A Virtuoso server on a temporary database in ``directory``, on free loopback ports.

    Args:
        directory: An empty or missing directory for the database files and the log.
        dirs_allowed: Folders added to ``DirsAllowed`` (where the server may read and write files).
        buffers: ``NumberOfBuffers`` (8 KiB pages held in memory); 20000 is ~160 MB.
        start_timeout: Seconds to wait for the server to answer.
    """

    def __init__(self, directory: str | os.PathLike[str], dirs_allowed: Sequence[str | os.PathLike[str]] = (),
                 buffers: int = 20_000, start_timeout: float = 90.0) -> None:
        if buffers < 1000:
            raise ValueError(f"`buffers` must be at least 1000. Received: buffers={buffers!r}")
        self.directory = Path(directory).resolve()
        self.dirs_allowed = [str(Path(d).resolve()) for d in dirs_allowed]
        self.buffers = buffers
        self.start_timeout = start_timeout
        self.config = VirtuosoConfig(port=free_port(), http_port=free_port())
        self._process: subprocess.Popen | None = None

    def _write_ini(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        ini = self.directory / "virtuoso.ini"
        ini.write_text(_INI.format(d=self.directory, port=self.config.port, http_port=self.config.http_port,
                                   dirs=", ".join([".", *self.dirs_allowed]), buffers=self.buffers,
                                   dirty=self.buffers * 3 // 4, vsp=VSP_ROOT), "utf-8")
        return ini

    def start(self) -> VirtuosoConfig:
        """Starts the server and waits until it answers; returns how to reach it.

        Raises:
            StoreError: If ``virtuoso-t`` is missing, exits, or does not answer in time.
        """
        binary = server_binary()
        if binary is None:
            raise StoreError(f"virtuoso: {SERVER_BINARY} is not installed (Debian: apt-get install virtuoso-opensource)")
        ini = self._write_ini()
        log = open(self.directory / "server.out", "wb")
        self._process = subprocess.Popen([binary, "+configfile", str(ini), "+foreground"], cwd=self.directory,
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        try:
            return self._wait()
        except BaseException:  # Interrupted or failed: never leave a server behind.
            self.stop()
            raise

    def _wait(self) -> VirtuosoConfig:
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._process.poll() is not None:
                raise StoreError(f"virtuoso: the server exited with {self._process.returncode}; "
                                 f"see {self.directory / 'virtuoso.log'}")
            try:
                isql(self.config, "select 1;")
                return self.config
            except StoreError:
                if time.monotonic() > deadline:
                    raise StoreError(f"virtuoso: no answer on 127.0.0.1:{self.config.port} "
                                     f"after {self.start_timeout:.0f}s") from None
                time.sleep(0.5)

    def stop(self) -> None:
        """Shuts the server down (``shutdown``, else SIGTERM; killed if it does not exit in 30 s)."""
        if self._process is None or self._process.poll() is not None:
            return
        try:
            isql(self.config, "shutdown;")
        except StoreError:  # Not answering (yet): SIGTERM, which Virtuoso also handles.
            self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> VirtuosoConfig:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kgpipe.kg.stores.virtuoso_server DIR --allow RUN_DIR``: a throwaway server until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(description="Start Virtuoso on a temporary database, loopback only.")
    parser.add_argument("directory", help="empty folder for the database files")
    parser.add_argument("--allow", action="append", default=[], metavar="DIR", help="folder the loader may read")
    args = parser.parse_args(argv)
    server = VirtuosoServer(args.directory, dirs_allowed=args.allow)
    try:
        config = server.start()
    except StoreError as error:
        print(f"error: {error}")
        return 1
    print(f"virtuoso: --port {config.port} --http_port {config.http_port}; SPARQL at {config.endpoint}; Ctrl-C stops it",
          flush=True)
    try:
        server._process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
