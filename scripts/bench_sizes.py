#!/usr/bin/env python3
"""How the engine holds up as invoices grow: `make bench-sizes`.

Runs the engine scenario (`antaeus bench-scenario --mode engine`) at each size in SIZES, the
sizes alternated and the round repeated ROUNDS times in one sitting, and prints for each store
the medians per size (invoices/s, peak RSS, RSS without the simulated provider's ledger, the
database's size, the drain after the run) and their ratio to the smallest size. Issue 18's goal
4 asks for ten million invoices within 10% of one million in throughput and in memory.

PostgreSQL runs on a cluster of the script's own (initdb, autovacuum on; see bench_postgres.py)
unless ANTAEUS_BENCH_POSTGRES_URL names a server. A run whose checks fail (an invoice charged
twice, left claimed or due, an event undelivered) stops the script with exit 1.

Not run by CI: ten million invoices take half an hour per run. Standard library only.

Environment:
  SIZES (default "1000000 10000000")   invoices per run, smallest first
  ROUNDS (default 2)                   times each size runs, alternated
  STORES (default "postgres")          any of sqlite, postgres
  LATENCY_MS, JITTER_MS (default 0)    the simulated provider's latency
  CONCURRENCY (default 1024)           concurrent provider calls
  ANTAEUS_BENCH_POSTGRES_URL           a server to use instead of a cluster of its own
"""

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

import bench_common
from bench_postgres import OwnCluster

OUT = bench_common.ROOT / "target" / "bench-sizes"

# (label, JSON field or function of a report, format)
FIGURES = [
    ("invoices/s", lambda r: r["invoices_per_second"], "{:,.0f}"),
    ("peak RSS MB", lambda r: r["peak_rss_mb"], "{:.1f}"),
    ("RSS without ledger MB", lambda r: r["peak_rss_mb"] - r["provider_ledger_mb"], "{:.1f}"),
    ("database MB", lambda r: r["database_mb"], "{:,.0f}"),
    ("drain s", lambda r: r["drain_seconds"], "{:.2f}"),
]


def env_list(name, default):
    return (os.environ.get(name) or default).split()


def scenario(binary, store, invoices, pg_url, log):
    """Runs one engine scenario; returns its JSON report."""
    args = [
        str(binary), "bench-scenario", "--store", store, "--mode", "engine",
        "--invoices", str(invoices),
        "--latency-ms", os.environ.get("LATENCY_MS", "0"),
        "--jitter-ms", os.environ.get("JITTER_MS", "0"),
        "--concurrency", os.environ.get("CONCURRENCY", "1024"),
    ]
    env = dict(os.environ)
    if pg_url:
        env["ANTAEUS_BENCH_POSTGRES_URL"] = pg_url
    started = time.monotonic()
    with open(log, "a") as err:
        out = subprocess.run(args, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        sys.exit(f"bench-sizes: {store} at {invoices} exited {out.returncode}; see {log}")
    report = json.loads(lines[-1])
    if report.get("check_failure"):
        sys.exit(f"bench-sizes: {store} at {invoices} failed its checks: {report['check_failure']}")
    print(
        f"bench-sizes: {store} {invoices:>11,}: {report['invoices_per_second']:,.0f}/s, "
        f"peak RSS {report['peak_rss_mb']:.1f} MB (ledger {report['provider_ledger_mb']:.1f}), "
        f"database {report['database_mb']:,.0f} MB, drain {report['drain_seconds']:.2f} s "
        f"({time.monotonic() - started:,.0f} s with seeding)",
        flush=True,
    )
    return report


def table(store, sizes, reports):
    smallest = sizes[0]
    print(f"\n{store}: medians of {len(reports[smallest])} runs per size; ratio = size / {smallest:,}")
    print(f"{'figure':<24}" + "".join(f"{n:>16,}" for n in sizes) + "".join(
        f"{'ratio ' + format(n, ','):>20}" for n in sizes[1:]))
    for label, value, fmt in FIGURES:
        medians = {n: statistics.median(value(r) for r in reports[n]) for n in sizes}
        row = f"{label:<24}" + "".join(f"{fmt.format(medians[n]):>16}" for n in sizes)
        base = medians[smallest]
        row += "".join(
            f"{(medians[n] / base if base else float('nan')):>20.2f}" for n in sizes[1:])
        print(row)
    runs = ", ".join(
        f"{n:,}: " + " / ".join(f"{r['invoices_per_second']:,.0f}" for r in reports[n])
        for n in sizes)
    print(f"invoices/s by run, in order: {runs}")


def main():
    sizes = sorted(int(n) for n in env_list("SIZES", "1000000 10000000"))
    rounds = int(os.environ.get("ROUNDS", "2"))
    stores = env_list("STORES", "postgres")
    if not sizes or rounds < 1 or not set(stores) <= {"sqlite", "postgres"}:
        sys.exit("bench-sizes: SIZES must name sizes, ROUNDS be at least 1, STORES sqlite/postgres")
    binary = bench_common.release_binary()
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / "scenarios.log"
    results = OUT / "results.jsonl"
    given = os.environ.get("ANTAEUS_BENCH_POSTGRES_URL")
    with contextlib.ExitStack() as stack:
        pg_url = None
        if "postgres" in stores:
            pg_url = given or stack.enter_context(OwnCluster(OUT / "postgres", "bench-sizes"))
        reports = {store: {n: [] for n in sizes} for store in stores}
        for round_ in range(rounds):
            for store in stores:
                for n in sizes:
                    print(f"bench-sizes: round {round_ + 1} of {rounds}, {store}, {n:,}", flush=True)
                    report = scenario(binary, store, n, pg_url if store == "postgres" else None, log)
                    with open(results, "a") as f:
                        f.write(json.dumps(report) + "\n")
                    reports[store][n].append(report)
    for store in stores:
        table(store, sizes, reports[store])


if __name__ == "__main__":
    main()
