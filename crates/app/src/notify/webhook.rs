//! The webhook notifier. (Being written: see the helper's task.)
