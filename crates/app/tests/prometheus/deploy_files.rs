//! The files of `deploy/observability/` agree with each other and with the runbook: each alert
//! links an existing section of `docs/runbook.md` and has unit tests that fire it and keep it
//! quiet, and the dashboard takes its datasource from a variable.

use std::collections::BTreeSet;

use crate::tools::{observability_dir, repository_root};

/// The alert names of `alerts.yml` and their `runbook_url`s, in order.
fn alerts() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(observability_dir().join("alerts.yml")).unwrap();
    let mut alerts = Vec::new();
    let mut name = None;
    for line in text.lines().map(str::trim) {
        if let Some(alert) = line.strip_prefix("- alert: ") {
            name = Some(alert.trim().to_owned());
        } else if let Some(url) = line.strip_prefix("runbook_url: ") {
            let alert = name
                .take()
                .expect("a runbook_url belongs to the alert above it");
            alerts.push((alert, url.trim().to_owned()));
        }
    }
    alerts
}

/// GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as dashes.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_alert_links_its_own_section_of_the_runbook() {
    let runbook = std::fs::read_to_string(repository_root().join("docs/runbook.md")).unwrap();
    let anchors: BTreeSet<String> = runbook
        .lines()
        .filter_map(|l| l.strip_prefix("## ").or_else(|| l.strip_prefix("### ")))
        .map(anchor)
        .collect();
    let alerts = alerts();
    assert_eq!(alerts.len(), 12, "{alerts:?}");
    for (alert, url) in &alerts {
        let target = url
            .strip_prefix("docs/runbook.md#")
            .unwrap_or_else(|| panic!("{alert}: {url} is not a section of docs/runbook.md"));
        assert_eq!(
            target,
            anchor(alert),
            "{alert} links another alert's section"
        );
        assert!(
            anchors.contains(target),
            "{alert}: docs/runbook.md has no section #{target}"
        );
    }
}

#[test]
fn every_alert_has_a_unit_test_that_fires_it_and_one_that_keeps_it_quiet() {
    let tests = std::fs::read_to_string(observability_dir().join("alerts_test.yml")).unwrap();
    for (alert, _) in alerts() {
        for kind in ["fires", "stays quiet"] {
            assert!(
                tests.contains(&format!("name: '{alert} {kind}:")),
                "alerts_test.yml has no test in which {alert} {kind}"
            );
        }
    }
}

#[test]
fn the_dashboard_takes_its_datasource_from_a_variable_in_every_panel_and_query() {
    let text = std::fs::read_to_string(observability_dir().join("dashboard.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables.iter().any(|v| v["name"] == "datasource"
            && v["type"] == "datasource"
            && v["query"] == "prometheus"),
        "no datasource variable: {variables:?}"
    );
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 8, "{} panels", panels.len());
    for panel in panels {
        let title = &panel["title"];
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has no query");
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${datasource}", "{title}");
            assert!(
                target["expr"].as_str().is_some_and(|e| !e.is_empty()),
                "{title}"
            );
        }
    }
}

/// Every query of the dashboard, with its panel's title, its variables substituted as a
/// Prometheus of one job named `antaeus` needs them.
pub fn dashboard_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(observability_dir().join("dashboard.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$__rate_interval", "1m")
                .replace("$job", "antaeus");
            assert!(!expr.contains('$'), "an unknown variable in {expr}");
            queries.push((panel["title"].as_str().unwrap().to_owned(), expr));
        }
    }
    queries
}
