//! The message shown after an action: a code in the redirect's query (`?flash=voided`), mapped
//! to a fixed text here, so no text from a request is ever echoed into a page.

use maud::{Markup, html};

/// What the last action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flash {
    /// An invoice was made due again.
    Retried,
    /// An invoice was voided.
    Voided,
    /// A run was started (or resumed).
    RunStarted,
    /// The key named an existing run; nothing was started.
    RunExisting,
    /// The invoice is being charged now.
    Charging,
    /// The invoice is paid.
    Paid,
    /// The invoice is void.
    Void,
    /// The run key was used by a run of another scope.
    KeyReused,
    /// The run key is not a valid idempotency key.
    BadKey,
    /// Signed out.
    SignedOut,
    /// The invoice's last charge has no known outcome: it cannot be voided yet.
    OutcomeUnknown,
    /// A payment of the invoice may still complete: it cannot be voided.
    PaymentMayComplete,
    /// The provider refunded it.
    Refunded,
    /// The refund was asked; the provider's answer is not known yet.
    RefundPending,
    /// The provider refused the refund.
    RefundFailed,
    /// The form's refund was made already (pressed twice); nothing more was refunded.
    RefundRepeated,
    /// The form's key was used by a refund of another amount or reason.
    RefundKeyUsed,
    /// More than is left to refund.
    RefundTooMuch,
    /// Not PAID, or no payment of it is recorded: nothing to refund.
    NotRefundable,
    /// The amount or reason is not acceptable.
    RefundInvalid,
}

const ALL: [(Flash, &str); 20] = [
    (Flash::Retried, "retried"),
    (Flash::Voided, "voided"),
    (Flash::RunStarted, "run-started"),
    (Flash::RunExisting, "run-existing"),
    (Flash::Charging, "charging"),
    (Flash::Paid, "paid"),
    (Flash::Void, "void"),
    (Flash::KeyReused, "key-reused"),
    (Flash::BadKey, "bad-key"),
    (Flash::SignedOut, "signed-out"),
    (Flash::OutcomeUnknown, "outcome-unknown"),
    (Flash::PaymentMayComplete, "payment-may-complete"),
    (Flash::Refunded, "refunded"),
    (Flash::RefundPending, "refund-pending"),
    (Flash::RefundFailed, "refund-failed"),
    (Flash::RefundRepeated, "refund-repeated"),
    (Flash::RefundKeyUsed, "refund-key-used"),
    (Flash::RefundTooMuch, "refund-too-much"),
    (Flash::NotRefundable, "not-refundable"),
    (Flash::RefundInvalid, "refund-invalid"),
];

impl Flash {
    /// The code in the query string.
    pub fn code(self) -> &'static str {
        ALL.iter().find(|(f, _)| *f == self).map_or("", |(_, c)| c)
    }

    /// The flash a query's `flash` parameter names, if any.
    pub fn from_code(code: &str) -> Option<Flash> {
        ALL.iter().find(|(_, c)| *c == code).map(|(f, _)| *f)
    }

    fn text(self) -> &'static str {
        match self {
            Flash::Retried => {
                "Retry scheduled: the invoice is due now, and the next run charges it."
            }
            Flash::Voided => "Invoice voided: it will never be charged.",
            Flash::RunStarted => "Run started.",
            Flash::RunExisting => {
                "A run with this idempotency key exists already; nothing new was started."
            }
            Flash::Charging => {
                "The invoice is being charged right now; try again once the charge has ended."
            }
            Flash::Paid => "The invoice is paid: there is nothing to retry or void.",
            Flash::Void => "The invoice is void: it is never charged.",
            Flash::KeyReused => {
                "This idempotency key names a run of another scope; choose another key."
            }
            Flash::BadKey => {
                "An idempotency key is 1 to 255 visible ASCII characters, without spaces."
            }
            Flash::SignedOut => "Signed out.",
            Flash::OutcomeUnknown => {
                "The invoice's last charge has no known outcome yet: the provider may have charged it, so it cannot be voided until a resend under the same key tells."
            }
            Flash::PaymentMayComplete => {
                "A payment of this invoice may still complete at the provider (waiting for the customer, or processing), so it cannot be voided: cancel it at the provider first, or wait for it to settle."
            }
            Flash::Refunded => "Refunded: the provider has refunded it.",
            Flash::RefundPending => {
                "Refund asked: the provider's answer is not known yet. It is asked again under the same key, so it is refunded at most once; its status below changes once the provider answers."
            }
            Flash::RefundFailed => {
                "The provider refused the refund: nothing was refunded. Its reason is in the refunds table."
            }
            Flash::RefundRepeated => {
                "This form was sent already and its refund made: nothing more was refunded."
            }
            Flash::RefundKeyUsed => {
                "This form was used already for a refund of another amount or reason: nothing more was refunded. Reload the page to make another refund."
            }
            Flash::RefundTooMuch => {
                "Refund refused: that is more than is left to refund. Nothing was sent to the provider."
            }
            Flash::NotRefundable => {
                "Refund refused: only a PAID invoice whose payment the provider recorded can be refunded. Nothing was sent to the provider."
            }
            Flash::RefundInvalid => {
                "Refund not sent: the amount is a positive number with at most the currency's decimals, such as 12.50 (or blank for what is left), and the reason at most 500 characters of text."
            }
        }
    }

    fn is_error(self) -> bool {
        !matches!(
            self,
            Flash::Retried
                | Flash::Voided
                | Flash::RunStarted
                | Flash::RunExisting
                | Flash::SignedOut
                | Flash::Refunded
                | Flash::RefundPending
                | Flash::RefundRepeated
        )
    }

    /// `<p id="flash">`, a status or an alert.
    pub fn render(self) -> Markup {
        html! {
            @if self.is_error() {
                p #flash role="alert" class="error" { (self.text()) }
            } @else {
                p #flash role="status" { (self.text()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_show_nothing() {
        for (flash, code) in ALL {
            assert_eq!(Flash::from_code(code), Some(flash));
            assert_eq!(flash.code(), code);
        }
        assert_eq!(Flash::from_code("<script>"), None);
    }

    #[test]
    fn refusals_are_alerts_and_the_reason_limit_is_the_services() {
        let alert = |flash: Flash| flash.render().into_string().contains("role=\"alert\"");
        for refused in [
            Flash::RefundFailed,
            Flash::RefundKeyUsed,
            Flash::RefundTooMuch,
            Flash::NotRefundable,
            Flash::RefundInvalid,
            Flash::OutcomeUnknown,
            Flash::PaymentMayComplete,
        ] {
            assert!(alert(refused), "{refused:?}");
        }
        for done in [Flash::Refunded, Flash::RefundPending, Flash::RefundRepeated] {
            assert!(!alert(done), "{done:?}");
        }
        let limit = antaeus_core::service::MAX_REASON.to_string();
        assert!(Flash::RefundInvalid.text().contains(&limit));
    }
}
