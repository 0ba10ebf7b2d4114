//! `antaeus bench` end to end, at a size CI affords: every scenario runs, every check passes,
//! and the report reaches stdout and `results.jsonl`.

use std::path::PathBuf;
use std::process::Command;

/// A scratch directory the benchmark runs in (its SQLite files go under `target/bench/tmp`).
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("antaeus-bench-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_small_benchmark_checks_every_scenario_and_reports_each_store() {
    let dir = scratch();
    let mut command = Command::new(env!("CARGO_BIN_EXE_antaeus"));
    command
        .args([
            "bench",
            "--invoices",
            "300",
            "--latency-ms",
            "2",
            "--jitter-ms",
            "1",
            "--concurrency",
            "32",
            "--out-dir",
        ])
        .arg(dir.join("out"))
        .current_dir(&dir)
        .env_remove("ANTAEUS_BENCH_POSTGRES_URL");
    let mut stores = vec!["sqlite"];
    if let Ok(url) = std::env::var("ANTAEUS_TEST_POSTGRES_URL") {
        command.env("ANTAEUS_BENCH_POSTGRES_URL", url);
        stores.push("postgres");
    } else {
        eprintln!("ANTAEUS_TEST_POSTGRES_URL is not set: skipping the benchmark's PostgreSQL part");
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");

    for store in &stores {
        assert!(
            stdout.contains(&format!("{store} — 300 invoices, C = 32")),
            "{stdout}"
        );
    }
    for scenario in [
        "storage ceiling",
        "by hand",
        "engine, L = 0",
        "engine, L = real",
    ] {
        let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with(scenario)).collect();
        assert_eq!(rows.len(), stores.len(), "{stdout}");
        assert!(
            rows.iter().all(|r| r.trim_end().ends_with("ok")),
            "{stdout}"
        );
    }

    let jsonl = std::fs::read_to_string(dir.join("out/results.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), stores.len(), "{jsonl}");
    for (line, store) in lines.iter().zip(&stores) {
        assert_eq!(line["store"], *store);
        assert_eq!(line["invoices"], 300);
        assert_eq!(line["storage_ceiling_samples"].as_array().unwrap().len(), 3);
        let scenarios = line["scenarios"].as_array().unwrap();
        assert_eq!(scenarios.len(), 4);
        assert_eq!(scenarios[1]["mode"], "by_hand", "{line}");
        // The storage path is compared with the same writes by hand.
        assert!(line["by_hand_per_second"].as_f64().unwrap() > 0.0, "{line}");
        assert!(
            line["storage_ratio_of_by_hand"].as_f64().unwrap() > 0.0,
            "{line}"
        );
        for s in scenarios {
            assert_eq!(s["check"], "ok", "{line}");
            // Each scenario reports the size of the database it left.
            assert!(s["database_mb"].as_f64().unwrap() > 0.0, "{line}");
        }
        // Every invoice was sent to the provider at least once (the benchmark's invoices are in
        // their customers' currencies), and some were charged.
        for s in &scenarios[2..] {
            assert!(s["provider_calls"].as_u64().unwrap() >= 300, "{line}");
            assert!(s["charges"].as_u64().unwrap() > 0, "{line}");
            // The engine runs as `serve` and `bill` do: its events reach a webhook receiver,
            // `invoice.paid` for every charge at least (the check fails the run otherwise).
            assert!(
                s["events_delivered"].as_u64().unwrap() >= s["charges"].as_u64().unwrap(),
                "{line}"
            );
            assert!(s["drain_seconds"].as_f64().unwrap() >= 0.0, "{line}");
        }
        assert_eq!(scenarios[0]["events_delivered"], 0, "{line}");
        assert_eq!(scenarios[1]["events_delivered"], 0, "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
