//! How the simulated provider behaves: outcome rates, latency and seed.

use std::fmt;
use std::time::Duration;

use crate::settings::{Env, SettingsError};

/// What one simulated provider call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Charges the customer and answers "charged".
    Charged,
    /// Answers "declined" (insufficient balance).
    Declined,
    /// Answers "customer not found".
    CustomerNotFound,
    /// Answers "currency mismatch".
    CurrencyMismatch,
    /// The request is lost before the provider sees it: nothing happens, a network error.
    NetworkErrorBefore,
    /// The provider processes the request (charging on a new key) but the answer is lost.
    NetworkErrorAfter,
    /// The provider processes the request (charging on a new key) but answers too late.
    Timeout,
}

impl Outcome {
    /// Every outcome, in the order of [`OutcomeMix`]'s table.
    pub const ALL: [Outcome; 7] = [
        Outcome::Charged,
        Outcome::Declined,
        Outcome::CustomerNotFound,
        Outcome::CurrencyMismatch,
        Outcome::NetworkErrorBefore,
        Outcome::NetworkErrorAfter,
        Outcome::Timeout,
    ];

    /// The name used in `ANTAEUS_SIMULATED_OUTCOMES`.
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Charged => "charged",
            Outcome::Declined => "declined",
            Outcome::CustomerNotFound => "customer_not_found",
            Outcome::CurrencyMismatch => "currency_mismatch",
            Outcome::NetworkErrorBefore => "network_error_before",
            Outcome::NetworkErrorAfter => "network_error_after",
            Outcome::Timeout => "timeout",
        }
    }
}

/// Relative weights of the outcomes; they need not sum to anything in particular.
#[derive(Clone, Copy, PartialEq)]
pub struct OutcomeMix {
    weights: [f64; 7],
}

impl OutcomeMix {
    /// The default mix: 80% charged, 12% declined, 5% network error before charging, 2% after
    /// charging, 1% permanent failure (customer not found).
    pub const DEFAULT_SPEC: &'static str =
        "charged=80,declined=12,network_error_before=5,network_error_after=2,customer_not_found=1";

    /// Every call ends in `outcome`.
    pub fn always(outcome: Outcome) -> Self {
        let mut weights = [0.0; 7];
        weights[outcome as usize] = 1.0;
        Self { weights }
    }

    /// Parses `name=weight,...`, e.g. [`Self::DEFAULT_SPEC`]; names not given weigh 0.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut weights = [0.0; 7];
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not name=weight"))?;
            let outcome = Outcome::ALL
                .into_iter()
                .find(|o| o.name() == name.trim())
                .ok_or_else(|| {
                    let names: Vec<_> = Outcome::ALL.iter().map(|o| o.name()).collect();
                    format!(
                        "unknown outcome {name:?}: expected one of {}",
                        names.join(", ")
                    )
                })?;
            let weight: f64 = weight
                .trim()
                .parse()
                .ok()
                .filter(|w: &f64| w.is_finite() && *w >= 0.0)
                .ok_or_else(|| format!("weight of {name} must be a non-negative number"))?;
            weights[outcome as usize] = weight;
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            return Err("at least one outcome needs a positive weight".into());
        }
        Ok(Self { weights })
    }

    /// The outcome at `point`, a uniform draw from `[0, 1)`.
    pub fn pick(&self, point: f64) -> Outcome {
        let total: f64 = self.weights.iter().sum();
        let mut target = point * total;
        for outcome in Outcome::ALL {
            let w = self.weights[outcome as usize];
            if target < w {
                return outcome;
            }
            target -= w;
        }
        // Rounding at the top end: the last outcome with any weight.
        Outcome::ALL
            .into_iter()
            .rev()
            .find(|o| self.weights[*o as usize] > 0.0)
            .unwrap_or(Outcome::Charged)
    }

    /// The share of calls drawn as `outcome`, from 0 to 1.
    pub fn weight(&self, outcome: Outcome) -> f64 {
        self.weights[outcome as usize] / self.weights.iter().sum::<f64>()
    }
}

impl fmt::Debug for OutcomeMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = Outcome::ALL
            .iter()
            .filter(|o| self.weights[**o as usize] > 0.0)
            .map(|o| format!("{}={}", o.name(), self.weights[*o as usize]))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// The simulated provider's behaviour, from `ANTAEUS_SIMULATED_*`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulationProfile {
    /// `ANTAEUS_SIMULATED_OUTCOMES`: the outcome mix.
    pub outcomes: OutcomeMix,
    /// `ANTAEUS_SIMULATED_LATENCY_MS`: the mean time a call takes.
    pub latency: Duration,
    /// `ANTAEUS_SIMULATED_JITTER_MS`: latency varies uniformly by up to this much either way.
    pub jitter: Duration,
    /// `ANTAEUS_SIMULATED_SEED`: makes outcomes and latencies reproducible (random when unset).
    pub seed: u64,
}

impl SimulationProfile {
    /// Reads the profile from `ANTAEUS_SIMULATED_*`, with defaults for what is unset.
    pub fn from_env(env: &Env<'_>) -> Result<Self, SettingsError> {
        let outcomes =
            OutcomeMix::parse(&env.string("ANTAEUS_SIMULATED_OUTCOMES", OutcomeMix::DEFAULT_SPEC))
                .map_err(|reason| SettingsError {
                    var: "ANTAEUS_SIMULATED_OUTCOMES",
                    reason,
                })?;
        let latency = env.millis("ANTAEUS_SIMULATED_LATENCY_MS", 50, 0, 60_000)?;
        let jitter = env.millis("ANTAEUS_SIMULATED_JITTER_MS", 10, 0, 60_000)?;
        let seed = match env.optional("ANTAEUS_SIMULATED_SEED") {
            Some(_) => env.integer("ANTAEUS_SIMULATED_SEED", 0, 0, u64::MAX)?,
            None => rand::random(),
        };
        Ok(Self {
            outcomes,
            latency,
            jitter: jitter.min(latency),
            seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_mix_has_the_documented_rates() {
        let mix = OutcomeMix::parse(OutcomeMix::DEFAULT_SPEC).unwrap();
        assert_eq!(mix.weight(Outcome::Charged), 0.80);
        assert_eq!(mix.weight(Outcome::Declined), 0.12);
        assert_eq!(mix.weight(Outcome::Timeout), 0.0);
        assert_eq!(mix.pick(0.0), Outcome::Charged);
        assert_eq!(mix.pick(0.8), Outcome::Declined);
        assert_eq!(mix.pick(0.999_999), Outcome::NetworkErrorAfter);
    }

    #[test]
    fn bad_specs_are_refused() {
        for spec in [
            "",
            "charged",
            "charged=-1",
            "charged=x",
            "won=1",
            "charged=0",
        ] {
            assert!(OutcomeMix::parse(spec).is_err(), "{spec:?}");
        }
    }

    #[test]
    fn always_picks_one_outcome() {
        let mix = OutcomeMix::always(Outcome::Timeout);
        for p in [0.0, 0.3, 0.999] {
            assert_eq!(mix.pick(p), Outcome::Timeout);
        }
    }
}
