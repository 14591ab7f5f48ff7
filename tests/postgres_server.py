"""A throwaway PostgreSQL cluster a test starts on a free port, stops mid-test and starts again.

STYLE "Tests": an outage is a real one; never stop the shared server on 5432. ``initdb`` into a
temporary folder (as the ``postgres`` user when the tests run as root, since PostgreSQL refuses
to run as root), its own port, its socket in that folder, ``fsync`` off (a test cluster).
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bindir() -> Path:
    """The newest installed server's binaries (Debian keeps them in
    ``/usr/lib/postgresql/<version>/bin``, not on ``PATH``); ``PG_BINDIR`` overrides."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL's initdb is not installed; the outage tests need it (package postgresql).")
    return Path(found[-1]).parent


def _as_postgres(command: list) -> list:
    return ["runuser", "-u", "postgres", "--", *map(str, command)] if os.geteuid() == 0 else list(map(str, command))


class PostgresCluster:
    def __init__(self, folder: Path, port: int):
        self.folder = folder
        self.port = port
        self.bindir = _bindir()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([self.bindir / "pg_ctl", "-D", self.folder / "data", "-w", "-t", "30", *args]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections (``pg_ctl -w``)."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.folder / "server.log"), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: open connections are cut, as in an outage) and wait."""
        self._pg_ctl("-m", mode, "stop")

    @property
    def running(self) -> bool:
        return (self.folder / "data" / "postmaster.pid").exists()


@contextmanager
def postgres_cluster():
    """``initdb`` a cluster in a temporary folder, start it on a free port, yield a
    ``PostgresCluster``; always stop it and remove the folder afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    cluster = PostgresCluster(folder, _free_port())
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [cluster.bindir / "initdb", "-D", folder / "data", "-A", "trust", "-U", "postgres", "-E", "UTF8"]
                + ["--locale=C.UTF-8", "--no-sync"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )
        cluster.start()
        yield cluster
    finally:
        if cluster.running:
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
