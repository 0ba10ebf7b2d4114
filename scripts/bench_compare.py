#!/usr/bin/env python3
"""Benchmarks a commit against the working tree: `make bench-compare REV=<commit>`.

Builds `antaeus` (release) from REV in a git worktree and from the working tree, runs
`antaeus bench` with each build alternately (REV first, RUNS times each), and prints, for every
store and scenario, each run's invoices/s, the medians and the ratio working tree / REV.

Not run by CI: it takes minutes per run. The machines are shared and noisy, so the runs
alternate and only medians of one sitting are compared. Standard library only.

Environment:
  RUNS (default 2, at least 2)            runs of each build
  BENCH_ARGS (default --invoices 100000)  passed to `antaeus bench`
  ANTAEUS_BENCH_POSTGRES_URL              PostgreSQL too (default: the local test server when
                                          it answers; set it empty for SQLite alone)
"""

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import bench_common

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench-compare"


def run(cmd, **kwargs):
    print("+", " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


def resolve(rev):
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        sys.exit(f"bench-compare: {rev!r} is not a commit of this repository")
    return out.stdout.strip()


def build(tree, target_dir, dest):
    """Builds the release binary of `tree` into `target_dir`, copied to `dest`."""
    run(
        ["cargo", "build", "--release", "--locked", "-p", "antaeus-app", "--bin", "antaeus"],
        cwd=tree,
        env={**os.environ, "CARGO_TARGET_DIR": str(target_dir)},
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(target_dir / "release" / "antaeus", dest)
    return dest


def build_rev(sha):
    binary = WORK / "bin" / sha / "antaeus"
    if binary.exists():
        print(f"bench-compare: reusing {binary}")
        return binary
    tree = WORK / "worktree"
    if tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)])
    run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), sha])
    try:
        # Its own target directory, kept between comparisons so dependencies build once.
        return build(tree, WORK / "target-rev", binary)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)])


def postgres_url():
    return bench_common.postgres_url("bench-compare")


def bench(binary, out_dir, args, pg):
    """Runs one benchmark; returns its JSON lines (one per store)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = out_dir / "results.jsonl"
    before = results.read_text().splitlines() if results.exists() else []
    env = {k: v for k, v in os.environ.items() if k != "ANTAEUS_BENCH_POSTGRES_URL"}
    if pg:
        env["ANTAEUS_BENCH_POSTGRES_URL"] = pg
    run([str(binary), "bench", *args, "--out-dir", str(out_dir)], env=env, cwd=out_dir)
    lines = results.read_text().splitlines()[len(before):]
    return [json.loads(line) for line in lines if line.strip()]


def figures(reports):
    """{(store, scenario): invoices/s} of one run."""
    found = {}
    for report in reports:
        for s in report["scenarios"]:
            names = {"storage": "storage ceiling", "by_hand": "by hand"}
            name = names.get(s["mode"]) or f"{s['mode']}, L = {s['latency_ms']} ms"
            found[(report["store"], name)] = s["invoices_per_second"]
            if s["mode"] == "engine":
                found[(report["store"], f"{name}, peak RSS MB")] = s["peak_rss_mb"]
    return found


def main():
    if len(sys.argv) != 2 or not sys.argv[1]:
        sys.exit("usage: make bench-compare REV=<commit>  (RUNS=2 BENCH_ARGS='--invoices 100000')")
    sha = resolve(sys.argv[1])
    runs = int(os.environ.get("RUNS", "2"))
    if runs < 2:
        sys.exit("bench-compare: RUNS must be at least 2")
    args = shlex.split(os.environ.get("BENCH_ARGS") or "--invoices 100000")
    pg = postgres_url()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    head = resolve("HEAD")[:12] + (" with uncommitted changes" if dirty else "")

    base = build_rev(sha)
    current = build(ROOT, ROOT / "target", WORK / "bin" / "working-tree" / "antaeus")

    samples = {"rev": [], "tree": []}
    for i in range(runs):
        for label, binary in (("rev", base), ("tree", current)):
            print(f"bench-compare: run {i + 1} of {runs}, {label}", flush=True)
            samples[label].append(figures(bench(binary, WORK / "results" / label, args, pg)))

    keys = sorted({k for run_ in samples["rev"] + samples["tree"] for k in run_})
    print()
    print(f"REV {sha[:12]} against the working tree ({head}); {runs} alternating runs each;")
    print(f"`antaeus bench {' '.join(args)}`; invoices/s unless named; ratio = tree / REV medians")
    print(f"{'store':<9} {'figure':<32} {'REV runs':<24} {'tree runs':<24} {'REV':>8} {'tree':>8} {'ratio':>6}")
    for key in keys:
        a = [r[key] for r in samples["rev"] if key in r]
        b = [r[key] for r in samples["tree"] if key in r]
        if not a or not b:
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        show = lambda xs: ", ".join(f"{x:.0f}" if x >= 100 else f"{x:.1f}" for x in xs)
        ratio = f"{mb / ma:.2f}" if ma else "-"
        print(f"{key[0]:<9} {key[1]:<32} {show(a):<24} {show(b):<24} {ma:>8.1f} {mb:>8.1f} {ratio:>6}")


if __name__ == "__main__":
    main()
