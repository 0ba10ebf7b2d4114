use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{CustomerId, InvoiceId, ModelError, Money};

/// Where an invoice is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvoiceStatus {
    /// Not paid yet; due for charging.
    Pending,
    /// Charged successfully; never charged again.
    Paid,
}

impl InvoiceStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [InvoiceStatus; 2] = [InvoiceStatus::Pending, InvoiceStatus::Paid];

    /// The wire and storage names of [`InvoiceStatus::ALL`].
    pub const NAMES: [&'static str; 2] = ["PENDING", "PAID"];

    /// The wire and storage name, e.g. `"PENDING"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Pending => "PENDING",
            InvoiceStatus::Paid => "PAID",
        }
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvoiceStatus {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InvoiceStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| ModelError::UnknownStatus(s.to_owned()))
    }
}

/// A bill to one customer for one amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// The invoice's id.
    pub id: InvoiceId,
    /// Who owes the amount.
    pub customer_id: CustomerId,
    /// What is owed, in the invoice's currency.
    pub amount: Money,
    /// Where the invoice is in its life.
    pub status: InvoiceStatus,
}

/// Which invoices a listing returns; `None` fields do not filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    /// Only invoices in this status.
    pub status: Option<InvoiceStatus>,
    /// Only this customer's invoices.
    pub customer_id: Option<CustomerId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip_and_match_the_names_table() {
        for (st, name) in InvoiceStatus::ALL.into_iter().zip(InvoiceStatus::NAMES) {
            assert_eq!(st.as_str(), name);
            assert_eq!(name.parse::<InvoiceStatus>(), Ok(st));
        }
        assert!("pending".parse::<InvoiceStatus>().is_err());
    }
}
