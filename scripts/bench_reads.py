#!/usr/bin/env python3
"""API reads while a run charges: `make bench-reads` (or `python3 scripts/bench_reads.py`).

For each store (SQLite, and PostgreSQL on a cluster of the script's own, initdb with autovacuum
on as production runs it; see bench_postgres.py), on a fresh database seeded with
INVOICES due invoices (default 1,000,000, one per customer), it starts `antaeus serve` on a free
port (simulated provider at L = 50 ± 10 ms, C = 1024, no scheduler), starts a run with
`POST /rest/v1/billing/runs`, and while the run is RUNNING:
- READERS threads (default 2) each read `GET /rest/v1/invoices/{id}` of random invoices on a
  kept-alive connection, READS_PER_SECOND of them in all (default 200, paced by a pause after
  each read; 0: one after another, which saturates the two cores and slows the run);
- one thread reads the console's overview (`GET /console`) every 500 ms.
It prints each read's count, p50, p99 and maximum in milliseconds, with the run's duration.
Latencies are measured by this client (Python, standard library), so they include its own
overhead, a fraction of a millisecond.

Not run by CI: it takes minutes. Standard library only (psql for PostgreSQL).

Environment:
  ANTAEUS_BIN (default target/release/antaeus, built if missing)
  ANTAEUS_BENCH_POSTGRES_URL (a server to use instead of a cluster of its own; set it empty for
      SQLite alone)
  INVOICES (1000000), READERS (2), READS_PER_SECOND (200), STORES (sqlite,postgres)
"""

import contextlib
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_common import ROOT, database_url, free_port, psql, release_binary
from bench_postgres import OwnCluster

TOKEN = "bench-reads-token-0123456789"
OUT = ROOT / "target" / "bench-reads"


def quantile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Reader(threading.Thread):
    """Reads `path_of()` on one kept-alive connection until stopped, every `pause` seconds,
    with `headers` (the console's session cookie)."""

    def __init__(self, port, path_of, pause, stop, headers=None):
        super().__init__(daemon=True)
        self.port, self.path_of, self.pause, self.stop = port, path_of, pause, stop
        self.headers = headers or {}
        self.latencies, self.errors = [], 0

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            path = self.path_of()
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=self.headers)
                response = conn.getresponse()
                response.read()
                took = (time.perf_counter() - started) * 1000
                if response.status == 200:
                    self.latencies.append(took)
                else:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            if self.pause:
                self.stop.wait(self.pause)


def request(port, method, path, body=None, headers=None, want=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    header = response.getheader(want) if want else None
    conn.close()
    return (response.status, data, header) if want else (response.status, data)


def console_session(port):
    """Signs in to the console with the API token; returns the session cookie."""
    status, _, cookie = request(
        port,
        "POST",
        "/console/sign-in",
        body=f"token={TOKEN}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        want="Set-Cookie",
    )
    if not cookie:
        sys.exit(f"bench-reads: signing in to the console answered {status} without a session")
    return cookie.split(";", 1)[0]


def measure(binary, store, db_url, invoices, readers, rate):
    env = {
        **os.environ,
        "ANTAEUS_DATABASE_URL": db_url,
        "ANTAEUS_PAYMENT_PROVIDER": "simulated",
        "ANTAEUS_SIMULATED_LATENCY_MS": "50",
        "ANTAEUS_SIMULATED_JITTER_MS": "10",
        "ANTAEUS_CONCURRENCY": "1024",
        "ANTAEUS_SCHEDULER": "off",
        "ANTAEUS_SEED_DEMO_DATA": "off",
        "ANTAEUS_API_TOKEN": TOKEN,
        "RUST_LOG": "error",
    }
    for name in ("ANTAEUS_READ_TOKEN", "ANTAEUS_WEBHOOK_URL"):
        env.pop(name, None)
    seeding = subprocess.run(
        [str(binary), "seed", "--customers", str(invoices), "--invoices-per-customer", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    if seeding.returncode != 0:
        sys.exit("bench-reads: antaeus seed failed")
    port = free_port()
    env["ANTAEUS_HTTP_ADDR"] = f"127.0.0.1:{port}"
    server = subprocess.Popen([str(binary), "serve"], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(port, "GET", "/rest/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("bench-reads: antaeus serve did not become ready")
            time.sleep(0.2)
        stop = threading.Event()
        pause = readers / rate if rate else 0
        threads = [
            Reader(port, lambda: f"/rest/v1/invoices/{random.randint(1, invoices)}", pause, stop)
            for _ in range(readers)
        ]
        overview = Reader(
            port, lambda: "/console", 0.5, stop, headers={"Cookie": console_session(port)}
        )
        status, body = request(
            port,
            "POST",
            "/rest/v1/billing/runs",
            body=b"{}",
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Idempotency-Key": f"bench-reads-{os.getpid()}",
                "Content-Type": "application/json",
            },
        )
        if status != 202:
            sys.exit(f"bench-reads: starting the run answered {status}: {body[:200]!r}")
        run = json.loads(body)
        started = time.monotonic()
        for t in [*threads, overview]:
            t.start()
        while True:
            time.sleep(0.5)
            status, body = request(port, "GET", f"/rest/v1/billing/runs/{run['id']}")
            if status == 200 and json.loads(body).get("status") != "RUNNING":
                break
        seconds = time.monotonic() - started
        stop.set()
        for t in [*threads, overview]:
            t.join()
        final = json.loads(body)
    finally:
        server.terminate()
        server.wait()
    api = [x for t in threads for x in t.latencies]
    errors = sum(t.errors for t in threads) + overview.errors
    print(
        f"{store}: run {final['status']} in {seconds:.1f} s ({invoices / seconds:,.0f} invoices/s); "
        f"read errors {errors}",
        flush=True,
    )
    for label, values in (("GET /rest/v1/invoices/{id}", api), ("GET /console", overview.latencies)):
        print(
            f"  {label:<28} {len(values):>7} reads  p50 {statistics.median(values) if values else float('nan'):7.1f} ms"
            f"  p99 {quantile(values, 0.99):7.1f} ms  max {max(values) if values else float('nan'):7.1f} ms",
            flush=True,
        )


def main():
    binary = release_binary()
    invoices = int(os.environ.get("INVOICES") or 1_000_000)
    readers = int(os.environ.get("READERS") or 2)
    rate = float(os.environ.get("READS_PER_SECOND") or 200)
    print(
        f"bench-reads: {invoices} due invoices, {readers} API readers (about {rate:.0f} reads/s "
        "in all; 0: as fast as they go) and the console overview"
    )
    stores = (os.environ.get("STORES") or "sqlite,postgres").split(",")
    if "sqlite" in stores:
        scratch = Path(tempfile.mkdtemp(prefix="antaeus-bench-reads-"))
        try:
            measure(binary, "sqlite", f"sqlite://{scratch}/reads.db", invoices, readers, rate)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    given = os.environ.get("ANTAEUS_BENCH_POSTGRES_URL")
    if "postgres" not in stores or given == "":
        return
    with contextlib.ExitStack() as stack:
        # Production runs autovacuum (the README requires it); a server without it lets the run's
        # dead rows pile up under the reads, so by default the reads are measured on a cluster
        # of the script's own.
        server = given or stack.enter_context(OwnCluster(OUT / "postgres", "bench-reads"))
        name = f"antaeus_reads_{os.getpid()}"
        psql(server, f'DROP DATABASE IF EXISTS "{name}"')
        psql(server, f'CREATE DATABASE "{name}"')
        try:
            measure(binary, "postgres", database_url(server, name), invoices, readers, rate)
        finally:
            psql(server, f'DROP DATABASE IF EXISTS "{name}"')

if __name__ == "__main__":
    main()
