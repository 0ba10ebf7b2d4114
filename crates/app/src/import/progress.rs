//! An import's progress bar: how far through the file (by bytes, when its size is known), rows
//! read, created, updated, existing and rejected, and the rate.

use std::time::Instant;

use super::ImportReport;
use crate::progress::{Progress, per_second};

/// The bar of one import (drawn only on a terminal).
pub struct ImportProgress {
    progress: Progress,
    started: Instant,
    by_bytes: bool,
}

impl ImportProgress {
    /// A bar for an input of `size` bytes (a spinner for standard input).
    pub fn start(size: Option<u64>) -> Self {
        Self {
            progress: Progress::on_terminal(size),
            started: Instant::now(),
            by_bytes: size.is_some(),
        }
    }

    /// Shows `report` after `bytes` of the input.
    pub fn update(&self, report: &ImportReport, bytes: u64) {
        let position = if self.by_bytes { bytes } else { report.read };
        self.progress.update(position, || {
            format!(
                "{} rows/s: {} read, {} created, {} updated, {} existing, {} rejected",
                per_second(report.read, self.started.elapsed()).round(),
                report.read,
                report.created,
                report.updated,
                report.existing,
                report.rejected
            )
        });
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.progress.finish();
    }
}
