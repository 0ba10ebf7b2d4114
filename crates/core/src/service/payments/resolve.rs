//! Which invoice a provider's payment belongs to, and whether it is this deployment's at all.

use crate::billing::{charge_key, parse_charge_key};
use crate::provider_events::PaymentRef;
use crate::store::PaymentView;

use super::{PaymentEventService, ServiceError};

/// A payment found to be one of this deployment's invoices'.
#[derive(Debug, Clone)]
pub(super) struct Ours {
    /// The invoice, as settling sees it.
    pub view: PaymentView,
    /// The provider's id for the payment.
    pub intent: Option<String>,
    /// The key the payment was made under, when known.
    pub key: Option<String>,
}

impl Ours {
    /// Whether the payment was made under the invoice's current key (no definitive decision
    /// has moved on from it).
    pub fn current_key(&self) -> bool {
        let view = &self.view;
        let current = view
            .key_namespace
            .as_deref()
            .map(|ns| charge_key(ns, view.invoice.id, view.state.key_seq).to_string());
        self.key.is_some() && self.key == current
    }
}

/// Whose the payment is.
pub(super) enum Resolved {
    /// One of this deployment's invoices'.
    Ours(Box<Ours>),
    /// Not this deployment's, or not an invoice's it knows, and why.
    NotOurs(String),
}

impl PaymentEventService {
    /// Finds the invoice `payment` belongs to: by the invoice its metadata names (the payment's
    /// key must be one sent for that invoice, and its deployment this one), else by the
    /// provider's id for it (a payment the invoice records); its amount and currency, when
    /// given, must be the invoice's.
    pub(super) async fn resolve(&self, payment: &PaymentRef) -> Result<Resolved, ServiceError> {
        let store = &self.deps.store;
        let id = match (payment.invoice, payment.intent.as_deref()) {
            (Some(id), _) => Some(id),
            (None, Some(intent)) => store.invoice_of_payment(intent).await?,
            (None, None) => None,
        };
        let Some(id) = id else {
            return Ok(Resolved::NotOurs(
                "it names no invoice, and no invoice records its payment".into(),
            ));
        };
        let Some(view) = store.payment_view(id).await? else {
            return Ok(Resolved::NotOurs(format!("invoice {id} does not exist")));
        };
        let recorded = |intent: &str| {
            view.payment_ref.as_deref() == Some(intent)
                || view.open_intent.as_deref() == Some(intent)
                || view.keys.iter().any(|(_, r)| r.as_deref() == Some(intent))
        };
        let key = match (&payment.key, &payment.intent) {
            (Some(key), intent) => {
                // A key this deployment sent for the invoice (whatever its deployment id is
                // now), and a deployment that is the key's own.
                if !view.keys.iter().any(|(sent, _)| sent == key) {
                    return Ok(Resolved::NotOurs(format!(
                        "its key {key} was never sent for invoice {id} by this deployment"
                    )));
                }
                let key_namespace = parse_charge_key(key).map(|(ns, _, _)| ns);
                let named = payment.namespace.clone().unwrap_or_default();
                if key_namespace.as_deref() != Some(named.as_str()) {
                    return Ok(Resolved::NotOurs(format!(
                        "its deployment ({named}) is not its key's ({key})"
                    )));
                }
                // A key of the form before deployments had ids names no deployment: another
                // deployment may have sent the same one, so only a payment recorded here counts.
                if named.is_empty() && !intent.as_deref().is_some_and(recorded) {
                    return Ok(Resolved::NotOurs(format!(
                        "its key {key} has no deployment, and invoice {id} records no such payment"
                    )));
                }
                Some(key.clone())
            }
            // Named by its id alone: the key whose call learnt it, if one did.
            (None, Some(intent)) => {
                if !recorded(intent) {
                    return Ok(Resolved::NotOurs(format!(
                        "invoice {id} records no payment {intent}"
                    )));
                }
                view.keys
                    .iter()
                    .rev()
                    .find(|(_, r)| r.as_deref() == Some(intent.as_str()))
                    .map(|(k, _)| k.clone())
            }
            (None, None) => None,
        };
        let amount = view.invoice.amount;
        if payment.amount_minor.is_some_and(|a| a != amount.to_minor())
            || payment.currency.is_some_and(|c| c != amount.currency())
        {
            return Ok(Resolved::NotOurs(format!(
                "its amount ({:?} {:?}) is not invoice {id}'s ({amount})",
                payment.amount_minor, payment.currency
            )));
        }
        Ok(Resolved::Ours(Box::new(Ours {
            view,
            intent: payment.intent.clone(),
            key,
        })))
    }
}
