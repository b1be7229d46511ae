"""A throwaway local PostgreSQL server on loopback (slow tests, ``benchmarks/ledger_write.py``, README).

Conventions:

* ``LocalPostgres(data_dir)`` owns ``data_dir``: ``instance.json`` (home, port, url), ``postgres.log``
  and — normally — the cluster itself in ``data_dir/pgdata`` (``initdb`` runs when that holds no
  cluster yet; a second ``start()`` on the same dir reuses it).
* The server listens only on ``127.0.0.1`` (a free port, or the one given), trusts every loopback
  connection and has the superuser ``driftgate``; its unix socket lies in the cluster's home (none
  when that path is too long for a socket). ``url`` is
  ``postgresql+psycopg2://driftgate@127.0.0.1:PORT/<db>``.
* Root: postgres refuses to run as root, so ``initdb``/``pg_ctl`` run as the ``postgres`` system user
  (``runuser -u postgres --``, else ``su postgres -s /bin/sh -c``) and the home is chowned to it.
  When that user cannot reach ``data_dir`` (e.g. pytest's ``/tmp/pytest-of-root`` is mode 0700) no
  foreign directory is chmod-ed: the cluster lives in a fresh ``tempfile.mkdtemp(prefix="driftgate-pg-")``
  (mode 0755) instead, recorded in ``instance.json``, and ``data_dir/postgres.log`` is a symlink to its
  log. Directories this module creates itself get mode 0755.
* ``stop()`` keeps the data (``pg_ctl stop -m fast``); ``destroy()`` stops and removes the cluster.

CLI: ``python -m harness.factory.pg_local start --dir DIR [--port P]`` (prints the URL, leaves the
server running), ``stop --dir DIR``, ``url --dir DIR``.
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.errors import DriftgateError

PG_USER = "driftgate"           # the cluster's superuser (initdb -U)
SYSTEM_USER = "postgres"        # who runs the server when we are root
_STATE = "instance.json"
_LOG = "postgres.log"
_SOCKET_MAX = 100               # sun_path is 108 bytes; keep a margin for ".s.PGSQL.NNNNN"


def _version(pg_ctl: Path) -> tuple[int, ...]:
    try:
        out = subprocess.run([str(pg_ctl), "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    m = re.search(r"(\d+(?:\.\d+)*)", out)
    return tuple(int(p) for p in m.group(1).split(".")) if m else ()


def find_pg_bin() -> Path | None:
    """The directory holding ``pg_ctl``, ``initdb`` and ``postgres`` (newest version), or None.

    Candidates: the directory ``pg_ctl`` on PATH resolves to (symlinks followed) and every
    ``/usr/lib/postgresql/*/bin``.
    """
    cands: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        cands.append(Path(on_path).resolve().parent)
    cands += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    good = [d for d in dict.fromkeys(cands) if all((d / b).is_file() for b in ("pg_ctl", "initdb", "postgres"))]
    return max(good, key=lambda d: _version(d / "pg_ctl")) if good else None


def ensure_pg_installed() -> Path:
    """``find_pg_bin()``, installing Debian's ``postgresql`` package first when it is absent."""
    found = find_pg_bin()
    if found is not None:
        return found
    fix = ("fix: install the PostgreSQL server yourself (Debian/Ubuntu: `sudo apt-get install postgresql`) "
           "or put pg_ctl, initdb and postgres on PATH")
    if shutil.which("apt-get") is None:
        raise DriftgateError(f"PostgreSQL server binaries not found (PATH, /usr/lib/postgresql/*/bin) and "
                             f"apt-get is absent; {fix}")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise DriftgateError(f"PostgreSQL server binaries not found and not root (no sudo to run apt-get); {fix}")
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (prefix + ["apt-get", "update"],
                prefix + ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
        res = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if res.returncode != 0:
            tail = "\n".join((res.stdout + res.stderr).strip().splitlines()[-8:])
            raise DriftgateError(f"installing PostgreSQL: `{shlex.join(cmd)}` failed (exit {res.returncode}):\n"
                                 f"{tail}\n{fix}")
    found = find_pg_bin()
    if found is None:
        raise DriftgateError(f"apt-get installed `postgresql` but pg_ctl/initdb/postgres are still not found; {fix}")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(path: Path, n: int = 25) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:]) or "(empty log)"


class LocalPostgres:
    """A throwaway PostgreSQL server for ``data_dir`` (see the module docstring); a context manager.

    ``fast=True`` turns off fsync/synchronous_commit/full_page_writes (tests only: a crash may lose the
    cluster; leave it False when timing commits).
    """

    def __init__(self, data_dir: Path, port: int | None = None, db: str = "driftgate", fast: bool = False) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port, self.db, self.fast = port, db, fast
        self.bin: Path | None = None
        self.home = self.data_dir
        state = self._read_state()
        if state.get("home"):
            self.home = Path(state["home"])
        if self.port is None and state.get("port") and self.running():
            self.port = int(state["port"])

    # -- paths and helpers --------------------------------------------------------------------------
    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def log_path(self) -> Path:
        return self.home / _LOG

    @property
    def url(self) -> str:
        if self.port is None:
            raise DriftgateError(f"{self.data_dir}: the local PostgreSQL server is not started; fix: call start()")
        return f"postgresql+psycopg2://{PG_USER}@127.0.0.1:{self.port}/{self.db}"

    def _read_state(self) -> dict:
        p = self.data_dir / _STATE
        try:
            return json.loads(p.read_text()) if p.is_file() else {}
        except (OSError, ValueError):
            return {}

    def _write_state(self) -> None:
        url = self.url if self.port is not None else None
        (self.data_dir / _STATE).write_text(json.dumps(
            {"home": str(self.home), "port": self.port, "db": self.db, "url": url}, indent=1) + "\n")

    def _bin(self, name: str) -> str:
        if self.bin is None:
            self.bin = ensure_pg_installed()
        return str(self.bin / name)

    @staticmethod
    def _as_server_user(cmd: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return cmd
        if shutil.which("runuser"):
            return ["runuser", "-u", SYSTEM_USER, "--", *cmd]
        return ["su", SYSTEM_USER, "-s", "/bin/sh", "-c", shlex.join(cmd)]

    def _run(self, cmd: list[str], what: str, as_server: bool = True, check: bool = True,
             timeout: float = 120) -> subprocess.CompletedProcess:
        full = self._as_server_user(cmd) if as_server else cmd
        try:
            res = subprocess.run(full, capture_output=True, text=True, cwd=str(self.home), timeout=timeout)
        except (OSError, subprocess.SubprocessError) as exc:
            raise DriftgateError(f"{self.data_dir}: {what}: `{shlex.join(full)}` could not run: {exc}") from None
        if check and res.returncode != 0:
            out = "\n".join((res.stdout + res.stderr).strip().splitlines()[-10:])
            raise DriftgateError(f"{self.data_dir}: {what} failed (exit {res.returncode}): `{shlex.join(full)}`\n"
                                 f"{out}\nlog {self.log_path}:\n{_log_tail(self.log_path)}")
        return res

    def _server_ids(self) -> tuple[int, int] | None:
        if os.geteuid() != 0:
            return None
        try:
            pw = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise DriftgateError(f"running as root needs the '{SYSTEM_USER}' system user to run PostgreSQL "
                                 "(postgres refuses root); fix: install Debian's postgresql package (it creates "
                                 "the user) or run as an unprivileged user") from None
        return pw.pw_uid, pw.pw_gid

    def _reachable(self, path: Path) -> bool:
        """Whether the server user can enter and write ``path``."""
        if os.geteuid() != 0:
            return os.access(path, os.W_OK | os.X_OK)
        return self._run(["test", "-w", str(path), "-a", "-x", str(path)], "access check",
                         check=False).returncode == 0

    def _prepare_home(self) -> None:
        """Create the home (chowned to the server user); redirect to a fresh temp dir when unreachable."""
        missing = [p for p in (self.data_dir, *self.data_dir.parents) if not p.exists()]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for p in missing:
            p.chmod(0o755)
        ids = self._server_ids()
        if self.home == self.data_dir and ids is not None:
            st = self.data_dir.stat()
            os.chown(self.data_dir, *ids)
            if not self._reachable(self.data_dir):
                os.chown(self.data_dir, st.st_uid, st.st_gid)   # not ours to give away after all
                self.home = Path(tempfile.mkdtemp(prefix="driftgate-pg-"))
                self.home.chmod(0o755)
        if ids is not None:
            self.home.mkdir(parents=True, exist_ok=True)
            os.chown(self.home, *ids)
            if not self._reachable(self.home):
                raise DriftgateError(f"{self.home}: the '{SYSTEM_USER}' user cannot enter this directory; fix: "
                                     "pass a data dir under a world-traversable parent (e.g. /var/tmp)")
        link = self.data_dir / _LOG
        if self.home != self.data_dir and not link.exists():
            link.unlink(missing_ok=True)
            link.symlink_to(self.log_path)
        if not self.running():
            self._write_state()          # records a redirected home at once: destroy() finds it after a failed start

    def _write_conf(self, port: int) -> None:
        sock = str(self.home) if len(str(self.home)) + 20 <= _SOCKET_MAX else ""
        lines = [f"listen_addresses = '127.0.0.1'", f"port = {port}", f"unix_socket_directories = '{sock}'",
                 "max_connections = 100", "logging_collector = off"]
        if self.fast:
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        conf = self.pgdata / "driftgate.conf"
        conf.write_text("# written by harness.factory.pg_local on every start\n" + "\n".join(lines) + "\n")
        ids = self._server_ids()
        if ids is not None:
            os.chown(conf, *ids)

    # -- lifecycle --------------------------------------------------------------------------------
    def running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").is_file():
            return False
        return self._run([self._bin("pg_ctl"), "status", "-D", str(self.pgdata)], "pg_ctl status",
                         check=False).returncode == 0

    def start(self) -> "LocalPostgres":
        """initdb when needed, start on 127.0.0.1, wait until it accepts connections, create the db."""
        self._prepare_home()
        if self.running():
            state = self._read_state()
            if self.port is not None and state.get("port") not in (None, self.port):
                raise DriftgateError(f"{self.data_dir}: already running on port {state['port']}, asked for "
                                     f"{self.port}; fix: stop it first or omit --port")
            self.port = int(state.get("port") or self.port)
            self._ensure_db()
            return self
        if not (self.pgdata / "PG_VERSION").is_file():
            self._run([self._bin("initdb"), "-D", str(self.pgdata), "-U", PG_USER, "-A", "trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"], "initdb")
            with (self.pgdata / "postgresql.conf").open("a") as fh:
                fh.write("\ninclude_if_exists = 'driftgate.conf'\n")
        fixed = self.port is not None
        for attempt in range(1 if fixed else 3):
            port = self.port if fixed else free_port()
            self._write_conf(port)
            res = self._run([self._bin("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.pgdata),
                             "-l", str(self.log_path)], "pg_ctl start", check=False)
            if res.returncode == 0:
                self.port = port
                break
            busy = "could not bind" in _log_tail(self.log_path, 10) or "in use" in _log_tail(self.log_path, 10)
            if fixed or not busy or attempt == 2:
                raise DriftgateError(f"{self.data_dir}: PostgreSQL did not start on 127.0.0.1:{port} (exit "
                                     f"{res.returncode}); fix: see the log {self.log_path}"
                                     f"{' and pick a free --port' if busy else ''}:\n{_log_tail(self.log_path)}")
        self._wait_ready()
        self._ensure_db()
        self._write_state()
        return self

    def _psql(self, db: str, sql: str) -> str:
        return self._run([self._bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, "-d", db,
                          "-v", "ON_ERROR_STOP=1", "-tAc", sql], f"psql {sql!r}", as_server=False).stdout.strip()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            res = self._run([self._bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER],
                            "pg_isready", as_server=False, check=False, timeout=10)
            if res.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise DriftgateError(f"{self.data_dir}: PostgreSQL on 127.0.0.1:{self.port} accepts no connections "
                                     f"after {timeout:.0f} s; fix: see the log:\n{_log_tail(self.log_path)}")
            time.sleep(0.1)

    def _ensure_db(self, name: str | None = None) -> None:
        name = name or self.db
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise DriftgateError(f"{self.data_dir}: database name {name!r} is not a plain identifier; "
                                 "fix: use letters, digits and underscores")
        if self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            self._psql("postgres", f'CREATE DATABASE "{name}"')

    def database_url(self, name: str) -> str:
        """URL of database ``name`` on this server, created when missing (isolates tests sharing it)."""
        self._ensure_db(name)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        """``pg_ctl stop -m fast`` (keeps the data); a no-op when not running."""
        if self.running():
            self._run([self._bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.pgdata)], "pg_ctl stop")

    def destroy(self) -> None:
        """Stop and remove the cluster, its log and state (a redirected temp home entirely)."""
        self.stop()
        if self.home != self.data_dir:
            shutil.rmtree(self.home, ignore_errors=True)
        else:
            shutil.rmtree(self.pgdata, ignore_errors=True)
        for name in (_LOG, _STATE):
            (self.data_dir / name).unlink(missing_ok=True)

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.factory.pg_local",
                                 description="A throwaway PostgreSQL server on 127.0.0.1 (trust auth).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, text in (("start", "start (initdb first if needed); prints the URL"),
                       ("stop", "stop the server (data kept)"), ("url", "print the URL of the running server")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--dir", required=True, type=Path, help="instance directory")
        if name == "start":
            p.add_argument("--port", type=int, default=None, help="TCP port (default: a free one)")
            p.add_argument("--db", default="driftgate", help="database to create (default: driftgate)")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "start":
            print(LocalPostgres(args.dir, args.port, args.db).start().url)
        elif args.cmd == "stop":
            LocalPostgres(args.dir).stop()
        else:
            pg = LocalPostgres(args.dir)
            if not pg.running():
                raise DriftgateError(f"{args.dir}: no PostgreSQL server running; fix: "
                                     f"python -m harness.factory.pg_local start --dir {args.dir}")
            state = pg._read_state()
            pg.db = state.get("db", pg.db)
            print(pg.url)
    except DriftgateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
