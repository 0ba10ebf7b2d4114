//! Progress bars for commands that take a while (`import`, `bill`, `seed`): drawn on stderr
//! when it is a terminal; otherwise nothing is drawn and the command's plain summary is all
//! that is printed, so scripts and logs see the same output as before.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a shown bar redraws on its own (its spinner and elapsed time keep moving).
const TICK: Duration = Duration::from_millis(100);

/// A progress bar on stderr, or nothing when stderr is not a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar towards `total` (a spinner when the total is unknown), shown only when stderr is
    /// a terminal.
    pub fn on_terminal(total: Option<u64>) -> Self {
        if std::io::stderr().is_terminal() {
            Self::shown(total, ProgressDrawTarget::stderr())
        } else {
            Self::hidden()
        }
    }

    /// A progress that draws nothing.
    pub fn hidden() -> Self {
        Self { bar: None }
    }

    fn shown(total: Option<u64>, target: ProgressDrawTarget) -> Self {
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), target).with_style(
                // The message takes what is left of the line (cut, never wrapped).
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{bar:20}] {percent:>3}% {wide_msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, target).with_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {wide_msg}")
                    .expect("a valid template"),
            ),
        };
        bar.enable_steady_tick(TICK);
        Self { bar: Some(bar) }
    }

    /// Whether a bar is drawn.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Moves the bar to `position` and shows `message()` beside it (not even computed when
    /// nothing is drawn).
    pub fn update(&self, position: u64, message: impl FnOnce() -> String) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(message());
        }
    }

    /// Removes the bar, so that the summary printed next stands alone.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // An error line printed after an early return must not land on a half-drawn bar.
        self.finish();
    }
}

/// `count` per second over `elapsed`, for summaries and bar messages.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_progress_never_computes_its_message() {
        let progress = Progress::hidden();
        assert!(!progress.is_shown());
        progress.update(5, || unreachable!("nothing is drawn"));
        progress.finish();
    }

    #[test]
    fn a_shown_bar_moves_and_is_cleared_when_finished() {
        let progress = Progress::shown(Some(10), ProgressDrawTarget::hidden());
        progress.update(4, || "4 rows".into());
        let bar = progress.bar.clone().unwrap();
        assert_eq!(bar.position(), 4);
        assert_eq!(bar.message(), "4 rows");
        progress.finish();
        assert!(bar.is_finished());
    }

    #[test]
    fn rates_are_per_second() {
        assert_eq!(per_second(300, Duration::from_secs(2)), 150.0);
        assert!(per_second(1, Duration::ZERO).is_finite());
    }
}
