//! Claiming due invoices and recording what charging them did: the billing engine's storage.

use antaeus_models::{
    AttemptOutcome, Currency, IdempotencyKey, InstanceId, Invoice, InvoiceId, Money, Notification,
    ProviderRefs, RunId, RunScope,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::StoreError;
use crate::billing::{ChargeState, Transition};

/// A request to claim due invoices for one instance and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    /// Who claims: the owner recorded on the invoices.
    pub instance: InstanceId,
    /// The run the attempts belong to.
    pub run: RunId,
    /// The current time: invoices due at or before it are claimed.
    pub now: DateTime<Utc>,
    /// The most invoices to claim.
    pub limit: u32,
    /// A claim whose owner has not heartbeated for this long, by the store's clock (never
    /// `now`, which is this instance's), is stale and may be taken over.
    pub lease_timeout: TimeDelta,
    /// Never-tried invoices are looked for after this id first (where the previous claim of
    /// the run stopped), then from the start: a scan from the start would walk every entry
    /// already claimed (PostgreSQL keeps dead index entries until vacuum).
    pub fresh_after: Option<InvoiceId>,
    /// Whether to look for stale claims to take over (a scan of every claim, so runs do it
    /// now and then, and whenever due work runs short).
    pub include_stale: bool,
    /// Which due invoices the run charges: never-tried invoices (due date passed) only for
    /// [`RunScope::All`]; scheduled retries that are due, and stale claims, always.
    pub scope: RunScope,
    /// The provider charges customers by its own reference: an invoice whose customer has
    /// none is claimed without an attempt (nothing can be sent).
    pub require_customer_ref: bool,
}

/// The provider call a claim is about to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAttempt {
    /// The attempt's number (1-based, per invoice); its intent row is already written.
    pub number: u32,
    /// The key to send.
    pub key: IdempotencyKey,
}

/// An invoice claimed by this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedInvoice {
    /// The invoice, now CHARGING; `attempts` includes the planned attempt.
    pub invoice: Invoice,
    /// The currency of its customer, to check before any call.
    pub customer_currency: Currency,
    /// Its billing counters.
    pub state: ChargeState,
    /// The call to make, with its intent recorded in the same transaction as the claim. `None`
    /// when nothing may be sent: the invoice's currency differs from its customer's, or the
    /// provider needs a customer reference the customer does not have.
    pub attempt: Option<PlannedAttempt>,
    /// Set when the claim was taken over from an instance that stopped heartbeating; its
    /// unfinished attempt was recorded as abandoned and the planned one resends the same key.
    pub taken_over_from: Option<InstanceId>,
    /// The claim's fence: a counter on the invoice that every claim and every resend advances
    /// and nothing ever lowers, so that a value names one step of one claim for good.
    pub fence: u32,
    /// The payment provider's references for the invoice's customer: as the first call under
    /// the planned key sent them, when one was made (a resend sends the same request), else
    /// the customer's current ones.
    pub customer: ProviderRefs,
    /// The deployment namespace of the planned key, for the provider's records (`None`: a key
    /// of the form before namespaces).
    pub namespace: Option<String>,
    /// When a call under the planned attempt's key was first made, if one was, judged by the
    /// store's clock and given on the claimer's (`ClaimRequest::now` less the key's age).
    pub key_first_sent_at: Option<DateTime<Utc>>,
    /// The provider's reference for the charge, if a call under this key learnt it.
    pub provider_ref: Option<String>,
    /// A payment an earlier key left that may still complete (see
    /// [`crate::ChargeRequest::open_intent`]).
    pub open_intent: Option<String>,
}

impl ClaimedInvoice {
    /// The value that proves this instance still owns the claim (see [`ClaimedInvoice::fence`]
    /// the field); writes that end or advance the claim are applied only while it holds.
    pub fn fence(&self) -> u32 {
        self.fence
    }
}

/// How a provider call ended, to complete its attempt row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptCompletion {
    /// The attempt's number.
    pub number: u32,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The provider's charge id, or what went wrong.
    pub message: Option<String>,
    /// The provider's reason for a decline, when it gave one.
    pub decline_code: Option<String>,
    /// The provider's reference for the charge, when it gave one.
    pub provider_ref: Option<String>,
    /// When the outcome arrived.
    pub finished_at: DateTime<Utc>,
}

/// What became of the attempt a claim planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    /// The call was made; complete the row.
    Completed(AttemptCompletion),
    /// The call was never made: delete the intent row of attempt `number` and give the number
    /// back, so the log keeps one row per real call.
    Unsent(u32),
    /// There was no attempt (currency mismatch found before calling).
    None,
}

/// One write of the billing journal. Invoice changes are fenced: they apply only while the
/// writing instance still owns the claim at the expected fence.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalEntry {
    /// The claim ends: complete the attempt, persist the transition and its event.
    Finish {
        /// The invoice.
        invoice: InvoiceId,
        /// The run that claimed it.
        run: RunId,
        /// The claim's fence as this owner last moved it (see [`ClaimedInvoice::fence`]).
        fence: u32,
        /// The invoice's provider calls once the claim ends (the attempt count).
        attempts: u32,
        /// The invoice's amount (for the totals the transition moves).
        amount: Money,
        /// When the claim ends.
        at: DateTime<Utc>,
        /// What became of the attempt.
        attempt: AttemptEnd,
        /// The new state.
        transition: Transition,
        /// The event to put in the outbox with it.
        notification: Option<Box<Notification>>,
    },
    /// About to resend the same key: complete attempt `completed.number` as unknown, move the
    /// claim from `fence` to `fence + 1`, and record the intent of attempt
    /// `completed.number + 1`, which must be persisted before the call.
    Resend {
        /// The invoice.
        invoice: InvoiceId,
        /// The run that claimed it.
        run: RunId,
        /// The claim's fence before the resend.
        fence: u32,
        /// How the attempt just made ended.
        completed: AttemptCompletion,
        /// The key, unchanged.
        key: IdempotencyKey,
        /// When the resend starts.
        started_at: DateTime<Utc>,
    },
}

impl JournalEntry {
    /// The invoice the entry is about.
    pub fn invoice(&self) -> InvoiceId {
        match self {
            JournalEntry::Finish { invoice, .. } | JournalEntry::Resend { invoice, .. } => *invoice,
        }
    }
}

/// What a journal batch could not apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordReport {
    /// Invoices whose fence failed: another instance owns them now. Their attempt rows were
    /// still completed; their state was left to the new owner.
    pub fenced_out: Vec<InvoiceId>,
}

/// What is left for billing to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Some PENDING invoice is due now.
    pub due: bool,
    /// CHARGING invoices held by other instances (live, or waiting to be found stale).
    pub claimed_elsewhere: u64,
    /// CHARGING invoices held by the asking instance.
    pub claimed_here: u64,
}

/// Claims and the billing journal.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BillingStore: Send + Sync {
    /// Claims up to `limit` invoices, atomically: due PENDING invoices of the request's scope
    /// (never tried with `due_at` passed, or `next_attempt_at` passed) and stale claims (CHARGING, owner's heartbeat older than the lease timeout).
    /// In the same transaction it marks them CHARGING for the instance and writes the intent
    /// row of the attempt each will make (key `antaeus-<deployment>-<id>-<key_seq>`, with the
    /// customer's references as the key's first call sends them), except for invoices whose
    /// currency is not their customer's. Two concurrent claims never return the same invoice.
    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<ClaimedInvoice>, StoreError>;

    /// Applies `batch` in one transaction, fenced per entry, and moves the run counters.
    async fn record(
        &self,
        instance: &InstanceId,
        batch: &[JournalEntry],
    ) -> Result<RecordReport, StoreError>;

    /// What is left to do at `now` for a run of `scope`, as `instance` sees it.
    async fn backlog(
        &self,
        now: DateTime<Utc>,
        instance: &InstanceId,
        scope: RunScope,
    ) -> Result<Backlog, StoreError>;
}
