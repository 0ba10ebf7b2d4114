//! The simulated provider served over the HTTP protocol.
//! (Being written: see the helper's task.)
