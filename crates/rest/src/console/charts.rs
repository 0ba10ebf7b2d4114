//! SVG charts drawn on the server: they show with JavaScript off and need no script source.
//! Colours come from the stylesheet (a class per outcome), so the CSP needs no inline style.

use antaeus_models::{AttemptOutcome, CallCounts, RunCounts, RunMinute};
use chrono::{DateTime, Utc};
use maud::{Markup, html};

const BAR_WIDTH: f64 = 300.0;
const BAR_HEIGHT: f64 = 14.0;

/// A run's results in the order they are stacked.
pub fn run_segments(counts: &RunCounts) -> [(&'static str, u64); 5] {
    [
        ("paid", counts.paid),
        ("declined", counts.declined),
        ("failed", counts.failed),
        ("retry_scheduled", counts.retry_scheduled),
        ("released", counts.released),
    ]
}

/// What a chart says, for screen readers: `paid 3, declined 1`.
fn describe(parts: &[(&str, u64)]) -> String {
    let said: Vec<String> = parts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{} {n}", name.replace('_', " ")))
        .collect();
    if said.is_empty() {
        "no results yet".to_owned()
    } else {
        said.join(", ")
    }
}

/// One horizontal bar with a segment per result, widths proportional to the counts.
pub fn stacked_bar(parts: &[(&'static str, u64)]) -> Markup {
    let total: u64 = parts.iter().map(|(_, n)| n).sum();
    let mut x = 0.0;
    let mut segments = Vec::new();
    for (name, n) in parts.iter().filter(|(_, n)| *n > 0) {
        let w = BAR_WIDTH * (*n as f64) / (total as f64);
        segments.push((*name, *n, x, w));
        x += w;
    }
    html! {
        svg.bar width=(BAR_WIDTH) height=(BAR_HEIGHT) viewBox={ "0 0 " (BAR_WIDTH) " " (BAR_HEIGHT) }
            role="img" aria-label=(describe(parts)) {
            @if total == 0 {
                rect.c-empty x="0" y="0" width=(BAR_WIDTH) height=(BAR_HEIGHT) {}
            }
            @for (name, n, x, w) in &segments {
                rect class={ "c-" (name) } x=(fmt(*x)) y="0" width=(fmt(*w)) height=(BAR_HEIGHT) {
                    title { (name.replace('_', " ")) ": " (n) }
                }
            }
        }
    }
}

/// A legend for the outcome classes `names`.
pub fn legend(names: &[&str]) -> Markup {
    html! {
        ul.legend aria-hidden="true" {
            @for name in names {
                li { span class={ "c-" (name) } {} (name.replace('_', " ")) }
            }
        }
    }
}

const CHART_WIDTH: f64 = 640.0;
const CHART_HEIGHT: f64 = 180.0;
const AXIS: f64 = 18.0;

/// One minute's calls by outcome.
type Column = (DateTime<Utc>, Vec<(AttemptOutcome, u64)>);

/// A rectangle of the run chart: its outcome class, geometry and tooltip.
struct Block {
    class: &'static str,
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    title: String,
}

/// A run's calls over its duration: one column per minute, stacked by outcome.
pub fn run_chart(minutes: &[RunMinute], calls: &CallCounts) -> Markup {
    let mut columns: Vec<Column> = Vec::new();
    for m in minutes {
        match columns.last_mut() {
            Some((minute, calls)) if *minute == m.minute => calls.push((m.outcome, m.calls)),
            _ => columns.push((m.minute, vec![(m.outcome, m.calls)])),
        }
    }
    let peak = columns
        .iter()
        .map(|(_, calls)| calls.iter().map(|(_, n)| n).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let totals: Vec<(&'static str, u64)> = calls
        .by_outcome
        .iter()
        .map(|(o, n)| (o.as_str(), *n))
        .collect();
    let label = format!(
        "Provider calls per minute over {} minute(s): {}",
        columns.len(),
        describe(&totals)
    );
    let plot = CHART_HEIGHT - AXIS;
    let slot = CHART_WIDTH / (columns.len().max(1) as f64);
    // A short run is one or two minutes: its columns stay bars, not blocks.
    let width = (slot * 0.8).clamp(1.0, 48.0);
    let mut blocks = Vec::new();
    let mut ticks = Vec::new();
    for (i, (minute, calls)) in columns.iter().enumerate() {
        let x = slot * (i as f64) + (slot - width) / 2.0;
        let mut y = plot;
        for (outcome, n) in calls {
            let height = plot * (*n as f64) / (peak as f64);
            y -= height;
            blocks.push(Block {
                class: outcome.as_str(),
                x,
                y,
                width,
                height,
                title: format!(
                    "{} {}: {n}",
                    minute.format("%H:%M"),
                    outcome.as_str().replace('_', " ")
                ),
            });
        }
        if i == 0 || i + 1 == columns.len() {
            ticks.push((x, minute.format("%H:%M").to_string()));
        }
    }
    html! {
        svg #run-chart role="img" aria-label=(label) width=(CHART_WIDTH) height=(CHART_HEIGHT)
            viewBox={ "0 0 " (CHART_WIDTH) " " (CHART_HEIGHT) } {
            line x1="0" y1=(plot) x2=(CHART_WIDTH) y2=(plot) stroke="#8a939f" {}
            @for b in &blocks {
                rect class={ "c-" (b.class) } x=(fmt(b.x)) y=(fmt(b.y)) width=(fmt(b.width)) height=(fmt(b.height)) {
                    title { (b.title) }
                }
            }
            @for (x, text) in &ticks {
                text x=(fmt(*x)) y=(CHART_HEIGHT - 4.0) font-size="11" { (text) }
            }
            @if columns.is_empty() {
                text x="8" y=(plot / 2.0) font-size="13" { "No provider calls yet." }
            }
        }
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_bar_has_a_segment_per_result_and_says_what_it_shows() {
        let svg = stacked_bar(&[("paid", 3), ("declined", 1), ("failed", 0)]).into_string();
        assert!(svg.contains(r#"aria-label="paid 3, declined 1""#), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(
            svg.contains(r#"width="225.0""#),
            "3 of 4 is three quarters: {svg}"
        );
    }

    #[test]
    fn the_run_chart_stacks_each_minute() {
        let at = |m| Utc.with_ymd_and_hms(2026, 12, 1, 10, m, 0).unwrap();
        let minutes = [
            RunMinute {
                minute: at(0),
                outcome: AttemptOutcome::Charged,
                calls: 4,
            },
            RunMinute {
                minute: at(0),
                outcome: AttemptOutcome::Declined,
                calls: 4,
            },
            RunMinute {
                minute: at(1),
                outcome: AttemptOutcome::Charged,
                calls: 2,
            },
        ];
        let calls = CallCounts {
            by_outcome: vec![(AttemptOutcome::Charged, 6), (AttemptOutcome::Declined, 4)],
            in_flight: 0,
        };
        let svg = run_chart(&minutes, &calls).into_string();
        assert!(svg.contains(r#"id="run-chart""#));
        assert!(
            svg.contains("over 2 minute(s): charged 6, declined 4"),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(
            run_chart(&[], &CallCounts::default())
                .into_string()
                .contains("No provider calls yet.")
        );
    }
}
