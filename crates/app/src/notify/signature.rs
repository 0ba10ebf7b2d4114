//! Webhook signatures. (Being written: see the helper's task.)
