use serde::Serialize;
use utoipa::ToSchema;

use super::InvoiceJson;
use crate::Problem;

/// One item's answer in a batch, in the item's place: `{"status":201,"invoice":{…}}` (or 200
/// when it existed), or `{"status":422,"problem":{…}}` with the problem the single create
/// would have answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemJson {
    /// What the single create would have answered: 201, 200, 400, 409 or 422.
    #[schema(example = 201)]
    status: u16,
    /// The invoice, created (201) or found (200).
    #[serde(skip_serializing_if = "Option::is_none")]
    invoice: Option<InvoiceJson>,
    /// Why the item was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<Problem>,
}

impl BatchItemJson {
    /// An invoice answered with `status`.
    pub fn invoice(status: u16, invoice: InvoiceJson) -> Self {
        Self {
            status,
            invoice: Some(invoice),
            problem: None,
        }
    }

    /// A refused item.
    pub fn problem(problem: Problem) -> Self {
        Self {
            status: problem.status,
            invoice: None,
            problem: Some(problem),
        }
    }
}
