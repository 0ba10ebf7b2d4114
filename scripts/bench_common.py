"""What the benchmark scripts share: the release binary, PostgreSQL and a free port.
Standard library only."""

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"


def release_binary():
    """`ANTAEUS_BIN`, else target/release/antaeus, built if missing."""
    binary = Path(os.environ.get("ANTAEUS_BIN", ROOT / "target" / "release" / "antaeus"))
    if not binary.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "-p", "antaeus-app", "--bin", "antaeus"],
            cwd=ROOT,
            check=True,
        )
    return binary


def postgres_url(script):
    """`ANTAEUS_BENCH_POSTGRES_URL` (empty: none), else the local test server if it answers."""
    url = os.environ.get("ANTAEUS_BENCH_POSTGRES_URL")
    if url is not None:
        return url or None
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return LOCAL_POSTGRES
    except OSError:
        print(f"{script}: no PostgreSQL at 127.0.0.1:5432; SQLite alone", flush=True)
        return None


def database_url(server, name):
    """The URL of database `name` on the server of `server`."""
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def psql(url, sql, script="bench"):
    """Runs `sql`; returns its unaligned output; exits on an error."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        capture_output=True,
        text=True,
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
    )
    if out.returncode != 0:
        sys.exit(f"{script}: psql failed: {out.stderr.strip()}")
    return out.stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
