//! A payment provider that lives in the process: the original Antaeus mock, made honest.
//!
//! Like a real provider it honours idempotency keys (a key it has processed is answered from
//! its record, never charged again) and it can fail in the ways networks fail: before the
//! request arrives, or after it was processed. Outcomes are drawn from a seeded hash of
//! (seed, key, call number), so a run is reproducible whatever order concurrent calls take.
//! Its ledger counts every charge per invoice, which is how tests prove nobody was charged twice.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use antaeus_core::{
    ChargeDecision, ChargeRequest, PaymentProvider, ProviderError, RefundDecision, RefundRequest,
};
use antaeus_models::{IdempotencyKey, InvoiceId};
use async_trait::async_trait;

use super::{Outcome, SimulationProfile};

/// Invoice ids below this are tracked in a dense table; others in a map.
const DENSE_IDS: i64 = 1 << 26;

/// What the provider remembers about one invoice: the last key it processed and its answer.
/// Eight bytes, so that the ledger of a million invoices takes 8 MB of the benchmark's memory.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Fingerprint (32 bits of the hash) of the last key processed for this invoice; 0 when
    /// none was.
    key_print: u32,
    /// Calls received with that key, so each resend draws a fresh transport fate.
    calls_for_key: u16,
    /// The answer stored for that key, once processed.
    decision: Option<Decided>,
    /// How many times this invoice was charged (more than one is the bug we hunt).
    charges: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decided {
    Charged,
    Declined,
    CustomerNotFound,
    CurrencyMismatch,
}

#[derive(Debug, Default)]
struct Ledger {
    dense: Vec<Slot>,
    sparse: HashMap<i64, Slot>,
    calls: u64,
    charges: u64,
    double_charged: Vec<InvoiceId>,
}

impl Ledger {
    fn slot(&mut self, id: InvoiceId) -> &mut Slot {
        let raw = id.get();
        if raw < DENSE_IDS {
            let index = usize::try_from(raw).unwrap_or(0);
            if index >= self.dense.len() {
                // Grow to a power of two, whatever id came first: a million ids take 8 MB.
                let len = index + 1;
                self.dense
                    .reserve_exact(len.next_power_of_two() - self.dense.len());
                self.dense.resize(len, Slot::default());
            }
            &mut self.dense[index]
        } else {
            self.sparse.entry(raw).or_default()
        }
    }
}

/// What the ledger shows after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerSummary {
    /// Calls received, including failed and replayed ones.
    pub calls: u64,
    /// Charges made.
    pub charges: u64,
    /// Invoices charged more than once (must be empty).
    pub double_charged: Vec<InvoiceId>,
}

/// The simulated provider.
#[derive(Debug)]
pub struct SimulatedPaymentProvider {
    profile: SimulationProfile,
    ledger: Mutex<Ledger>,
}

impl SimulatedPaymentProvider {
    /// A provider behaving as `profile` says, with an empty ledger.
    pub fn new(profile: SimulationProfile) -> Self {
        Self {
            profile,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// Totals so far.
    pub fn summary(&self) -> LedgerSummary {
        let ledger = self.lock();
        LedgerSummary {
            calls: ledger.calls,
            charges: ledger.charges,
            double_charged: ledger.double_charged.clone(),
        }
    }

    /// Memory the ledger holds (8 bytes per invoice id up to the highest seen): the simulated
    /// provider's share of the process's resident memory, which a remote provider would not
    /// add. The dense table's slots in use, not its capacity: it grows to a power of two, and
    /// the tail it has not written yet (of an allocation that large, mapped on its own) is not
    /// resident. The map of ids beyond it counts whole: it writes across all its buckets.
    pub fn ledger_bytes(&self) -> usize {
        let ledger = self.lock();
        ledger.dense.len() * std::mem::size_of::<Slot>()
            + ledger.sparse.capacity()
                * (std::mem::size_of::<i64>() + std::mem::size_of::<Slot>() + 1)
    }

    /// How many times `invoice` has been charged.
    pub fn charges_of(&self, invoice: InvoiceId) -> u16 {
        u16::from(self.lock().slot(invoice).charges)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies one call to the ledger; returns what the caller sees and a latency draw.
    fn process(
        &self,
        invoice: InvoiceId,
        key_hash: u64,
    ) -> (Result<ChargeDecision, ProviderError>, f64) {
        let mut ledger = self.lock();
        ledger.calls += 1;
        let slot = ledger.slot(invoice);
        let key_print = fingerprint(key_hash);
        if slot.key_print != key_print {
            // A new attempt for this invoice. The record of the previous key is dropped: a
            // correct caller never sends it again, and if one does, the ledger shows it.
            slot.key_print = key_print;
            slot.calls_for_key = 0;
            slot.decision = None;
        }
        slot.calls_for_key = slot.calls_for_key.saturating_add(1);
        let call = u64::from(slot.calls_for_key);
        let draw = unit(mix(self.profile.seed, key_hash, call));
        let latency_draw = unit(mix(self.profile.seed ^ 0x5eed, key_hash, call));
        let outcome = self.profile.outcomes.pick(draw);
        if outcome == Outcome::NetworkErrorBefore {
            let lost = ProviderError::Network("connection reset (simulated)".into());
            return (Err(lost), latency_draw);
        }
        let (decided, charged_now) = match slot.decision {
            // A key processed before: replay its answer, never charge again.
            Some(decided) => (decided, false),
            None => {
                let decided = match outcome {
                    Outcome::Declined => Decided::Declined,
                    Outcome::CustomerNotFound => Decided::CustomerNotFound,
                    Outcome::CurrencyMismatch => Decided::CurrencyMismatch,
                    _ => Decided::Charged,
                };
                slot.decision = Some(decided);
                (decided, decided == Decided::Charged)
            }
        };
        if charged_now {
            slot.charges = slot.charges.saturating_add(1);
            let double = slot.charges > 1;
            ledger.charges += 1;
            if double {
                ledger.double_charged.push(invoice);
            }
        }
        let answer = match outcome {
            Outcome::NetworkErrorAfter => Err(ProviderError::Network(
                "connection reset after processing (simulated)".into(),
            )),
            Outcome::Timeout => Err(ProviderError::Timeout),
            _ => Ok(match decided {
                Decided::Charged => ChargeDecision::Charged {
                    charge_id: format!("sim_{invoice}_{key_hash:016x}"),
                },
                Decided::Declined => ChargeDecision::Declined {
                    code: Some("insufficient_funds".into()),
                    action_required: false,
                    provider_ref: None,
                },
                Decided::CustomerNotFound => ChargeDecision::CustomerNotFound,
                Decided::CurrencyMismatch => ChargeDecision::CurrencyMismatch,
            }),
        };
        (answer, latency_draw)
    }

    fn latency(&self, draw: f64) -> Duration {
        let base = self.profile.latency.as_secs_f64();
        let jitter = self.profile.jitter.as_secs_f64();
        Duration::from_secs_f64((base + jitter * (2.0 * draw - 1.0)).max(0.0))
    }
}

#[async_trait]
impl PaymentProvider for SimulatedPaymentProvider {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeDecision, ProviderError> {
        let (answer, latency_draw) = self.process(request.invoice.id, hash_key(&request.key));
        let latency = self.latency(latency_draw);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        answer
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundDecision, ProviderError> {
        // A simulated charge is refunded at once; the key names the refund, so a resend
        // answers the same refund.
        let latency = self.profile.latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        Ok(RefundDecision::Refunded {
            refund_ref: format!("simr_{:016x}", hash_key(&request.key)),
        })
    }

    fn describe(&self) -> String {
        "the simulated payment provider".to_owned()
    }
}

/// FNV-1a of the key, never 0 (0 marks "no key" in a slot).
fn hash_key(key: &IdempotencyKey) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}

/// 32 bits of a key hash, never 0 (0 marks "no key" in a slot).
fn fingerprint(key_hash: u64) -> u32 {
    ((key_hash >> 32) as u32 ^ key_hash as u32).max(1)
}

/// SplitMix64 finaliser over the three inputs: a well-spread, reproducible draw.
fn mix(seed: u64, key: u64, call: u64) -> u64 {
    let mut z = seed ^ key.rotate_left(17) ^ call.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform draw from `[0, 1)`.
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, Invoice, InvoiceStatus, Money};

    use super::*;
    use crate::provider::OutcomeMix;

    fn invoice(id: i64) -> Invoice {
        Invoice::new(
            InvoiceId::new(id).unwrap(),
            CustomerId::new(1).unwrap(),
            Money::from_minor(1_000, Currency::EUR).unwrap(),
            InvoiceStatus::Pending,
        )
    }

    fn key(s: &str) -> IdempotencyKey {
        IdempotencyKey::parse(s).unwrap()
    }

    fn provider(outcomes: OutcomeMix, seed: u64) -> SimulatedPaymentProvider {
        SimulatedPaymentProvider::new(SimulationProfile {
            outcomes,
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            seed,
        })
    }

    #[test]
    fn a_ledger_slot_takes_eight_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 8);
    }

    #[tokio::test]
    async fn a_million_invoices_take_eight_megabytes_of_ledger_whatever_id_comes_first() {
        let p = provider(OutcomeMix::always(Outcome::Charged), 1);
        for id in [813, 1_000, 999_999, 1_000_000] {
            p.charge(&ChargeRequest::new(
                invoice(id),
                key(&format!("antaeus-{id}-0")),
            ))
            .await
            .unwrap();
        }
        // Slots 0 to 1,000,000, eight bytes each: 8 MB, of a table of 2^20 slots.
        assert_eq!(p.ledger_bytes(), 1_000_001 * 8);
        assert_eq!(p.lock().dense.capacity(), 1 << 20);
    }

    #[tokio::test]
    async fn a_resent_key_is_answered_from_the_record_and_never_charges_twice() {
        let p = provider(OutcomeMix::always(Outcome::Charged), 1);
        for _ in 0..3 {
            let got = p
                .charge(&ChargeRequest::new(invoice(7), key("antaeus-7-0")))
                .await
                .unwrap();
            assert!(matches!(got, ChargeDecision::Charged { .. }));
        }
        assert_eq!(p.charges_of(InvoiceId::new(7).unwrap()), 1);
        assert_eq!(p.summary().calls, 3);
        assert!(p.summary().double_charged.is_empty());
    }

    #[tokio::test]
    async fn a_network_error_after_processing_has_charged_and_the_resend_says_so() {
        let p = provider(OutcomeMix::always(Outcome::NetworkErrorAfter), 1);
        let first = p.charge(&ChargeRequest::new(invoice(3), key("k-3"))).await;
        assert!(matches!(first, Err(ProviderError::Network(_))));
        assert_eq!(p.charges_of(InvoiceId::new(3).unwrap()), 1);
        // The resend also loses its answer, but it must not charge again.
        let _ = p.charge(&ChargeRequest::new(invoice(3), key("k-3"))).await;
        assert_eq!(p.charges_of(InvoiceId::new(3).unwrap()), 1);
    }

    #[tokio::test]
    async fn a_new_key_after_a_charge_is_a_double_charge_in_the_ledger() {
        let p = provider(OutcomeMix::always(Outcome::Charged), 1);
        p.charge(&ChargeRequest::new(invoice(5), key("a")))
            .await
            .unwrap();
        p.charge(&ChargeRequest::new(invoice(5), key("b")))
            .await
            .unwrap();
        assert_eq!(p.summary().double_charged, vec![InvoiceId::new(5).unwrap()]);
    }

    #[tokio::test]
    async fn a_network_error_before_processing_charges_nothing() {
        let p = provider(OutcomeMix::always(Outcome::NetworkErrorBefore), 1);
        assert!(
            p.charge(&ChargeRequest::new(invoice(9), key("k")))
                .await
                .is_err()
        );
        assert_eq!(p.summary().charges, 0);
    }

    #[tokio::test]
    async fn the_same_seed_gives_the_same_outcomes_and_rates_follow_the_mix() {
        let mix = OutcomeMix::parse(OutcomeMix::DEFAULT_SPEC).unwrap();
        let run = |seed| async move {
            let p = provider(mix, seed);
            let mut outcomes = Vec::new();
            for id in 1..=2_000 {
                let got = p
                    .charge(&ChargeRequest::new(
                        invoice(id),
                        key(&format!("antaeus-{id}-0")),
                    ))
                    .await;
                outcomes.push(format!("{got:?}"));
            }
            outcomes
        };
        let a = run(42).await;
        assert_eq!(a, run(42).await, "same seed, same outcomes");
        assert_ne!(a, run(43).await, "another seed, other outcomes");
        let charged = a.iter().filter(|o| o.starts_with("Ok(Charged")).count();
        // 80% charged outright; 2,000 draws keep it within a few points.
        assert!(
            (1_500..1_700).contains(&charged),
            "charged {charged} of 2000"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn latency_is_applied_with_bounded_jitter() {
        let p = SimulatedPaymentProvider::new(SimulationProfile {
            outcomes: OutcomeMix::always(Outcome::Charged),
            latency: Duration::from_millis(50),
            jitter: Duration::from_millis(10),
            seed: 3,
        });
        for id in 1..=20 {
            let start = tokio::time::Instant::now();
            p.charge(&ChargeRequest::new(invoice(id), key(&format!("k{id}"))))
                .await
                .unwrap();
            let took = start.elapsed();
            assert!(
                took >= Duration::from_millis(40) && took <= Duration::from_millis(61),
                "{took:?}"
            );
        }
    }
}
