//! A Prometheus process on a free port, scraping one target every second and evaluating the
//! alert rules of `deploy/observability/` every second, and its HTTP API.

use std::path::Path;

use serde_json::Value;

use crate::tools::{free_port, observability_dir, wait_until_ok};

/// A running Prometheus; killed when dropped.
pub struct Prometheus {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    client: reqwest::Client,
    _process: tokio::process::Child,
}

/// `rules` (a rule file) with each `for:` duration set to 0s and nothing else changed.
fn without_waits(rules: &str) -> String {
    let mut waits = 0;
    let changed: Vec<String> = rules
        .lines()
        .map(|line| match line.trim_start().strip_prefix("for:") {
            Some(_) => {
                waits += 1;
                let indent = &line[..line.len() - line.trim_start().len()];
                format!("{indent}for: 0s")
            }
            None => line.to_owned(),
        })
        .collect();
    assert!(waits > 0, "the shipped rules have `for:` durations to set");
    changed.join("\n") + "\n"
}

impl Prometheus {
    /// Starts `binary` with a configuration written to `dir` that scrapes `target`
    /// (`host:port`) as job `antaeus`; returns once it is ready. It evaluates the shipped alert
    /// rules with every `for:` set to 0s ([`without_waits`]).
    pub async fn start(binary: &Path, dir: &Path, target: &str) -> Self {
        let shipped = std::fs::read_to_string(observability_dir().join("alerts.yml")).unwrap();
        let rules = dir.join("alerts.yml");
        std::fs::write(&rules, without_waits(&shipped)).unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {}\n\
                 scrape_configs:\n  - job_name: antaeus\n    static_configs:\n      - targets: [\"{target}\"]\n",
                rules.display()
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let process = tokio::process::Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start prometheus");
        let prometheus = Self {
            address: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            _process: process,
        };
        let ready = format!("{}/-/ready", prometheus.address);
        wait_until_ok(&prometheus.client, &ready, &dir.join("prometheus.log")).await;
        prometheus
    }

    /// GETs `path` of the HTTP API with `query` and returns its `data`, asserting success.
    pub async fn api(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let body: Value = self
            .client
            .get(format!("{}{path}", self.address))
            .query(query)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["status"], "success", "{path} {query:?}: {body}");
        body["data"].clone()
    }

    /// The result of the instant query `expr`, now.
    pub async fn query(&self, expr: &str) -> Vec<Value> {
        let data = self.api("/api/v1/query", &[("query", expr)]).await;
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// Every rule Prometheus loaded: (name, health, last error).
    pub async fn rules(&self) -> Vec<(String, String, String)> {
        let data = self.api("/api/v1/rules", &[]).await;
        data["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap().clone())
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default().to_owned(),
                    r["health"].as_str().unwrap_or_default().to_owned(),
                    r["lastError"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// The active alerts: (name, state `pending` or `firing`).
    pub async fn alerts(&self) -> Vec<(String, String)> {
        let data = self.api("/api/v1/alerts", &[]).await;
        data["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["labels"]["alertname"].as_str().unwrap().to_owned(),
                    a["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}
