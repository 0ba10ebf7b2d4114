//! What happened to an invoice's payment after it was paid, on the invoice's page: a warning
//! when the customer was charged twice, its dispute, its refunds, and the form that refunds.

use antaeus_core::service::MAX_REASON;
use antaeus_models::{Invoice, InvoiceStatus, Refund};
use maud::{Markup, html};

use super::format::{maybe_time, or_dash, time};
use super::keys::refund_key;
use super::layout::Chrome;

/// Refund: PAID with something left to refund.
pub fn can_refund(i: &Invoice) -> bool {
    i.status == InvoiceStatus::Paid && i.refundable().to_minor() > 0
}

/// A banner while the provider reports payments beyond the one that paid the invoice.
pub fn double_charge(i: &Invoice) -> Markup {
    html! {
        @if i.extra_charges > 0 {
            p #double-charged.warning {
                strong { "Charged twice: refund one of the payments." }
                " The provider reported " (i.extra_charges) " more payment"
                @if i.extra_charges > 1 { "s" }
                " of this invoice than the one that paid it"
                @if i.refunded.to_minor() > 0 { "; " (i.refunded) " has been refunded so far" }
                "."
            }
        }
    }
}

/// The dispute's section, when there is one: flagged while it is open.
pub fn dispute(i: &Invoice) -> Markup {
    html! {
        @if let Some(d) = &i.dispute {
            section #dispute {
                h2 { "Dispute" }
                @if d.is_closed() {
                    p.note { "The dispute is closed: " (d.status) "." }
                } @else {
                    p #dispute-open.warning {
                        strong { "Open dispute:" }
                        " the cardholder disputes this payment. Respond at the provider"
                        @if let Some(due) = d.evidence_due_by { " before " (time(due)) }
                        "."
                    }
                }
                dl #dispute-fields {
                    dt { "Status" } dd #dispute-status { (d.status) }
                    dt { "Reason" } dd { (d.reason) }
                    dt { "Amount" } dd { (d.amount) }
                    dt { "Evidence due by" } dd { (maybe_time(d.evidence_due_by)) }
                    dt { "Provider reference" } dd { (d.id) }
                }
            }
        }
    }
}

/// The refunds table (of a PAID invoice, or one refunded) and, where a refund applies, its form
/// (or why there is none).
pub fn refunds(i: &Invoice, refunds: &[Refund], chrome: &Chrome) -> Markup {
    html! {
        @if i.status == InvoiceStatus::Paid || !refunds.is_empty() {
        section #refunds-section {
            h2 { "Refunds" }
            table #refunds {
                thead { tr {
                    th scope="col" { "Time" } th.num scope="col" { "Amount" } th scope="col" { "Reason" }
                    th scope="col" { "Status" } th scope="col" { "Origin" } th scope="col" { "Provider reference" }
                    th scope="col" { "Failure reason" }
                } }
                tbody {
                    @for r in refunds {
                        tr {
                            td { (time(r.created_at)) }
                            td.num { (r.amount) }
                            td { (or_dash(r.reason.as_deref())) }
                            td { (r.status.as_str()) }
                            td { (r.origin.as_str()) }
                            td { (or_dash(r.provider_ref.as_deref())) }
                            td { (or_dash(r.failure_reason.as_deref())) }
                        }
                    }
                    @if refunds.is_empty() { tr { td colspan="7" { "No refunds." } } }
                }
            }
            @if can_refund(i) {
                @if chrome.access.can_act() {
                    (refund_form(i, chrome))
                } @else {
                    (chrome.actions_note())
                }
            }
        }
        }
    }
}

/// The refund form, with a key made for this rendering: sent twice, it refunds once.
fn refund_form(i: &Invoice, chrome: &Chrome) -> Markup {
    let left = i.refundable();
    html! {
        form.stack method="post" action={ "/console/invoices/" (i.id) "/refund" }
            data-confirm={ "Refund invoice " (i.id) " through the payment provider?" } {
            (chrome.csrf_input())
            input type="hidden" name="key" value=(refund_key());
            p {
                label for="refund-amount" { "Amount (" (left.currency()) ")" }
                input #refund-amount name="amount" inputmode="decimal" size="12" autocomplete="off"
                    placeholder=(left.value()) aria-describedby="refund-amount-note";
            }
            p.note #refund-amount-note { "Blank refunds what is left: " (left) "." }
            p {
                label for="refund-reason" { "Reason (optional)" }
                input #refund-reason name="reason" maxlength=(MAX_REASON) size="44" autocomplete="off";
            }
            p.note { "Stripe's own reasons (duplicate, fraudulent, requested_by_customer) are passed on to it." }
            button #refund type="submit" { "Refund" }
        }
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, InvoiceId, Money};

    use super::*;

    fn invoice(status: InvoiceStatus, refunded: i64) -> Invoice {
        let amount = |minor| Money::from_minor(minor, Currency::EUR).unwrap();
        Invoice {
            refunded: amount(refunded),
            ..Invoice::new(
                InvoiceId::new(1).unwrap(),
                CustomerId::new(1).unwrap(),
                amount(1_000),
                status,
            )
        }
    }

    #[test]
    fn only_a_paid_invoice_with_something_left_is_refunded() {
        assert!(can_refund(&invoice(InvoiceStatus::Paid, 0)));
        assert!(can_refund(&invoice(InvoiceStatus::Paid, 999)));
        assert!(!can_refund(&invoice(InvoiceStatus::Paid, 1_000)));
        for status in [
            InvoiceStatus::Pending,
            InvoiceStatus::Charging,
            InvoiceStatus::Failed,
            InvoiceStatus::Void,
        ] {
            assert!(!can_refund(&invoice(status, 0)), "{status:?}");
        }
    }
}
