//! The console's totals (`invoice_totals`, `monthly_stats`, `run_stats`): deltas gathered by the
//! writes that change what they count, applied in the same transaction, and the reads.

mod delta;
mod read;

pub(crate) use delta::{Parts, StatsDelta, SumColumn, apply_stats, saturating_sum};
