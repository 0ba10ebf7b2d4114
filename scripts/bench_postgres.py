"""A PostgreSQL cluster of the benchmark's own, set up as production runs one.

The machine's server may run with settings no production server has (a CI server typically
runs without autovacuum, and without it a ten-million-invoice run slows as the tables bloat).
`OwnCluster` runs `initdb` in a directory under target/, starts the server on a free port with
the defaults of the installed PostgreSQL (autovacuum on) and stops it on exit, so that figures
do not depend on how the machine's server is configured. Standard library only.
"""

import glob
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import bench_common


def postgres_bin():
    """The directory of the newest installed `initdb` (Debian's layout, else PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _major(path):
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


class OwnCluster:
    """`with OwnCluster(dir) as url:` a server of its own at `url` (user `postgres`, database
    `postgres`), its data under `dir`, removed and stopped on exit."""

    def __init__(self, directory, script="bench"):
        self.dir = Path(directory).resolve()
        self.script = script
        self.bin = postgres_bin()
        if self.bin is None:
            sys.exit(f"{script}: no initdb found (install PostgreSQL's server package)")
        # initdb refuses to run as root: the cluster then belongs to the `postgres` user.
        self.user = "postgres" if os.geteuid() == 0 else None
        self.owner = None
        if self.user:
            try:
                self.owner = pwd.getpwnam(self.user)
            except KeyError:
                sys.exit(f"{script}: running as root, and there is no `postgres` user to own "
                         "the cluster (initdb refuses root)")
        self.port = bench_common.free_port()
        self.started = False

    def _run(self, args, **kwargs):
        cmd = [str(a) for a in args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, **kwargs)

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            # A context manager whose __enter__ fails is never exited: clean up here.
            self.__exit__()
            raise

    def _start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.owner:
            os.chown(self.dir, self.owner.pw_uid, self.owner.pw_gid)
        data = self.dir / "data"
        init = self._run(
            [self.bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        if init.returncode != 0:
            sys.exit(f"{self.script}: initdb in {self.dir} failed (the cluster's user must be "
                     f"able to reach it): {init.stderr.strip()}")
        # pg_ctl hands -o to a shell: the socket directory is quoted.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories='{self.dir}' -c autovacuum=on"
        )
        self.started = True
        start = self._run(
            [self.bin / "pg_ctl", "-D", data, "-l", self.dir / "server.log", "-w", "-t", "60",
             "-o", options, "start"])
        if start.returncode != 0:
            sys.exit(f"{self.script}: the cluster did not start: {start.stderr.strip()} "
                     f"(server log: {self.dir / 'server.log'})")
        print(f"{self.script}: PostgreSQL of its own at port {self.port} "
              f"(initdb defaults, autovacuum on), data in {data}", flush=True)
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def __exit__(self, *exc):
        if self.started:
            # Immediate: the data is thrown away, and a server that pg_ctl -w gave up on
            # stops too.
            stop = self._run(
                [self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "immediate", "-w", "stop"])
            if stop.returncode != 0 and "Is server running?" not in stop.stderr:
                print(f"{self.script}: could not stop the cluster in {self.dir}, left in "
                      f"place: {stop.stderr.strip()}", file=sys.stderr)
                return False
        shutil.rmtree(self.dir, ignore_errors=True)
        return False
