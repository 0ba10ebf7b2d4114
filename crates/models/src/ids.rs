use std::fmt;
use std::str::FromStr;

use crate::ModelError;

macro_rules! positive_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw id; ids are positive.
            pub fn new(raw: i64) -> Result<Self, ModelError> {
                if raw > 0 {
                    Ok(Self(raw))
                } else {
                    Err(ModelError::InvalidId(raw.to_string()))
                }
            }

            /// The raw database id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ModelError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                // Only plain decimal digits: no sign, no whitespace, no leading '+'.
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ModelError::InvalidId(s.to_owned()));
                }
                let raw: i64 = s.parse().map_err(|_| ModelError::InvalidId(s.to_owned()))?;
                Self::new(raw).map_err(|_| ModelError::InvalidId(s.to_owned()))
            }
        }
    };
}

positive_id!(
    /// Identifies a customer.
    CustomerId
);
positive_id!(
    /// Identifies an invoice.
    InvoiceId
);
positive_id!(
    /// Identifies a billing run.
    RunId
);
positive_id!(
    /// Identifies a refund.
    RefundId
);
positive_id!(
    /// An event's position in the outbox: the order events were written in.
    EventSeq
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_positive_decimal_ids_only() {
        assert_eq!("17".parse::<InvoiceId>().unwrap().get(), 17);
        assert_eq!(
            "9223372036854775807".parse::<CustomerId>().unwrap().get(),
            i64::MAX
        );
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            " 1",
            "1.0",
            "abc",
            "9223372036854775808",
            "1e3",
        ] {
            assert!(
                bad.parse::<InvoiceId>().is_err(),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn new_rejects_zero_and_negative() {
        assert!(CustomerId::new(0).is_err());
        assert!(CustomerId::new(-5).is_err());
        assert_eq!(CustomerId::new(5).unwrap().to_string(), "5");
    }
}
