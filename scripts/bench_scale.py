#!/usr/bin/env python3
"""Scale-out on one PostgreSQL: `make bench-scale` (or `python3 scripts/bench_scale.py`).

For each instance count N (default 1, 2 and 3), on a fresh PostgreSQL database seeded with the
same due invoices, N `antaeus bill` processes start together, each an instance with its own run
(claims are shared through `FOR UPDATE SKIP LOCKED`), against the simulated provider at latency L
(default 50 ms, jitter 10 ms) with C call slots each (default 1024). The time is from the start
to the last process's exit; the figure is due invoices per second. Counts alternate
(1, 2, 3, 1, 2, 3, ...) and the medians of one sitting are compared with one instance's.

Every run is checked in the database, where every provider call is recorded: no invoice charged
twice (two charged attempts), none left CHARGING, none due that was due at the start, every
process exited 0. A failed check fails the script. Events the processes left in the outbox at
exit are reported (`antaeus bill` delivers for 5 s after its run, then leaves the rest to a
server).

Not run by CI: it takes minutes. Standard library only; needs `psql`.

Environment:
  ANTAEUS_BIN (default target/release/antaeus, built if missing)
  ANTAEUS_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test): a server where
      the user may create databases
  INVOICES (default 200000), INSTANCES (default 1,2,3), RUNS (default 2), LATENCY_MS (50),
  JITTER_MS (10), CONCURRENCY (1024)
"""

import os
import statistics
import subprocess
import sys
import time

from bench_common import database_url, psql, release_binary


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value else default


def antaeus(binary, db_url, args, **kwargs):
    env = {
        **os.environ,
        "ANTAEUS_DATABASE_URL": db_url,
        "ANTAEUS_PAYMENT_PROVIDER": "simulated",
        "RUST_LOG": "error",
    }
    env.pop("ANTAEUS_WEBHOOK_URL", None)
    env.update(kwargs.pop("env", {}))
    return subprocess.Popen([str(binary), *args], env=env, **kwargs)


def fresh_database(binary, server, name, invoices):
    """A new database named `name` with `invoices` due invoices, one per customer."""
    psql(server, f'DROP DATABASE IF EXISTS "{name}"')
    psql(server, f'CREATE DATABASE "{name}"')
    url = database_url(server, name)
    seed = antaeus(
        binary,
        url,
        ["seed", "--customers", str(invoices), "--invoices-per-customer", "1", "--seed", "11"],
        stdout=subprocess.DEVNULL,
    )
    if seed.wait() != 0:
        sys.exit("bench-scale: antaeus seed failed")
    # Statistics for the planner, as a database that has been live for a while has them.
    psql(url, "VACUUM ANALYZE")
    return url


def bill_together(binary, url, instances, settings, tag):
    """N `antaeus bill` at once; returns (seconds, failures)."""
    env = {
        "ANTAEUS_CONCURRENCY": str(settings["concurrency"]),
        "ANTAEUS_SIMULATED_LATENCY_MS": str(settings["latency_ms"]),
        "ANTAEUS_SIMULATED_JITTER_MS": str(settings["jitter_ms"]),
    }
    started_at = psql(url, "SELECT now()")
    started = time.monotonic()
    processes = [
        antaeus(
            binary,
            url,
            ["bill", "--idempotency-key", f"scale-{tag}-{i}"],
            env={**env, "ANTAEUS_SIMULATED_SEED": str(100 + i)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(instances)
    ]
    outputs = [p.communicate()[0] for p in processes]
    seconds = time.monotonic() - started
    failures = [
        f"instance {i} exited {p.returncode}: {out.strip().splitlines()[-1:] }"
        for i, (p, out) in enumerate(zip(processes, outputs))
        if p.returncode != 0
    ]
    twice = psql(
        url,
        "SELECT count(*) FROM (SELECT invoice_id FROM charge_attempts "
        "WHERE outcome = 'charged' GROUP BY invoice_id HAVING count(*) > 1) AS t",
    )
    if twice != "0":
        failures.append(f"{twice} invoices charged twice")
    charging = psql(url, "SELECT count(*) FROM invoices WHERE status = 'CHARGING'")
    if charging != "0":
        failures.append(f"{charging} invoices left CHARGING")
    due = psql(
        url,
        "SELECT count(*) FROM invoices WHERE status = 'PENDING' AND next_attempt_at IS NULL "
        f"AND due_at <= '{started_at}'::timestamptz AT TIME ZONE 'UTC'",
    )
    if due != "0":
        failures.append(f"{due} invoices due at the start are still due")
    left = psql(url, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
    share = psql(
        url,
        "SELECT string_agg(n::text, '/' ORDER BY instance_id) FROM (SELECT instance_id, "
        "count(*) AS n FROM charge_attempts GROUP BY instance_id) AS t",
    )
    return seconds, failures, int(left), share


def main():
    binary = release_binary()
    server = os.environ.get("ANTAEUS_BENCH_POSTGRES_URL") or "postgres://postgres@127.0.0.1:5432/test"
    invoices = env_int("INVOICES", 200_000)
    counts = [int(n) for n in os.environ.get("INSTANCES", "1,2,3").split(",")]
    runs = env_int("RUNS", 2)
    settings = {
        "latency_ms": env_int("LATENCY_MS", 50),
        "jitter_ms": env_int("JITTER_MS", 10),
        "concurrency": env_int("CONCURRENCY", 1024),
    }
    print(
        f"bench-scale: {invoices} invoices, instances {counts}, {runs} runs each, "
        f"L = {settings['latency_ms']} ± {settings['jitter_ms']} ms, C = {settings['concurrency']}",
        flush=True,
    )
    rates = {n: [] for n in counts}
    failed = []
    name = f"antaeus_scale_{os.getpid()}"
    for run in range(runs):
        for n in counts:
            url = fresh_database(binary, server, name, invoices)
            seconds, failures, left, share = bill_together(
                binary, url, n, settings, f"{run}-{n}"
            )
            rate = invoices / seconds
            rates[n].append(rate)
            print(
                f"run {run + 1}, {n} instance(s): {seconds:.1f} s, {rate:,.0f} invoices/s, "
                f"calls per instance {share}, events left in the outbox {left:,}"
                + (f", FAILED: {'; '.join(failures)}" if failures else ""),
                flush=True,
            )
            failed.extend(f"{n} instance(s), run {run + 1}: {f}" for f in failures)
    psql(server, f'DROP DATABASE IF EXISTS "{name}"')
    base = statistics.median(rates[counts[0]])
    print()
    print("| instances | invoices/s (median) | runs | × one instance |")
    print("| --- | --- | --- | --- |")
    for n in counts:
        median = statistics.median(rates[n])
        each = ", ".join(f"{r:,.0f}" for r in rates[n])
        print(f"| {n} | {median:,.0f} | {each} | {median / base:.2f} |")
    if failed:
        sys.exit("bench-scale: checks failed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
