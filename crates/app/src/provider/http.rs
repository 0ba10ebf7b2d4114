//! The `http` payment provider: ../shared/payment-provider-http.md over reqwest.
//! (Being written: see the helper's task.)
