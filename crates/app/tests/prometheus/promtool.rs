//! `promtool check rules`, `promtool test rules` (the unit tests in `alerts_test.yml`: each
//! alert firing on a made-up series and quiet on a healthy one) and `promtool check config` on
//! the example scrape configuration.

use std::process::Command;

use crate::tools::{find, observability_dir};

/// Runs `promtool` with `args` in `deploy/observability/` and asserts it succeeded; `None` when
/// it is missing (and not required).
fn promtool(test: &str, args: &[&str]) -> Option<String> {
    let promtool = find("promtool", test)?;
    let output = Command::new(promtool)
        .args(args)
        .current_dir(observability_dir())
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    Some(text)
}

#[test]
fn the_alert_rules_pass_promtool_check_rules() {
    if let Some(out) = promtool("promtool check rules", &["check", "rules", "alerts.yml"]) {
        assert!(out.contains("SUCCESS: 12 rules found"), "{out}");
    }
}

#[test]
fn each_alert_fires_on_its_trouble_and_stays_quiet_when_healthy_in_promtool_unit_tests() {
    if let Some(out) = promtool("promtool test rules", &["test", "rules", "alerts_test.yml"]) {
        assert!(out.contains("SUCCESS"), "{out}");
    }
}

#[test]
fn the_example_scrape_configuration_passes_promtool_check_config() {
    promtool(
        "promtool check config",
        &["check", "config", "prometheus.yml"],
    );
}
