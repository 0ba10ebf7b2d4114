//! Diesel's view of the tables, shared by SQLite and PostgreSQL (their migrations differ only in
//! dialect). Timestamps are UTC, stored without a time zone.

diesel::table! {
    customers (id) {
        id -> BigInt,
        currency -> Text,
        external_id -> Nullable<Text>,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        provider_customer_ref -> Nullable<Text>,
        provider_payment_method_ref -> Nullable<Text>,
    }
}

diesel::table! {
    invoices (id) {
        id -> BigInt,
        customer_id -> BigInt,
        amount_minor -> BigInt,
        currency -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        failure_reason -> Nullable<Text>,
        key_seq -> Integer,
        declines -> Integer,
        unknown_streak -> Integer,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        fence -> Integer,
        external_id -> Nullable<Text>,
        due_at -> Timestamp,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        key_ns -> Nullable<Text>,
        key_sent_at -> Nullable<Timestamp>,
        open_intent -> Nullable<Text>,
        payment_ref -> Nullable<Text>,
        refunded_minor -> BigInt,
        dispute_id -> Nullable<Text>,
        dispute_status -> Nullable<Text>,
        dispute_reason -> Nullable<Text>,
        dispute_amount_minor -> Nullable<BigInt>,
        dispute_evidence_due_by -> Nullable<Timestamp>,
        extra_charges -> Integer,
    }
}

diesel::table! {
    billing_runs (id) {
        id -> BigInt,
        idempotency_key -> Text,
        triggered_by -> Text,
        status -> Text,
        instance_id -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        abort_reason -> Nullable<Text>,
        claimed -> BigInt,
        paid -> BigInt,
        declined -> BigInt,
        failed -> BigInt,
        retry_scheduled -> BigInt,
        released -> BigInt,
        request_fingerprint -> Nullable<Text>,
        scope -> Text,
    }
}

diesel::table! {
    charge_attempts (id) {
        id -> BigInt,
        invoice_id -> BigInt,
        run_id -> Nullable<BigInt>,
        attempt_number -> Integer,
        idempotency_key -> Text,
        instance_id -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        message -> Nullable<Text>,
        decline_code -> Nullable<Text>,
        provider_ref -> Nullable<Text>,
        customer_ref -> Nullable<Text>,
        payment_method_ref -> Nullable<Text>,
    }
}

diesel::table! {
    instances (id) {
        id -> Text,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
    }
}

diesel::table! {
    outbox (seq) {
        seq -> BigInt,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
        available_at -> Timestamp,
        failures -> Integer,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        dead_at -> Nullable<Timestamp>,
        invoice_id -> Nullable<BigInt>,
        leased_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        fingerprint -> Text,
        resource_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invoice_totals (status, currency) {
        status -> Text,
        currency -> Text,
        invoices -> BigInt,
        amount_low -> BigInt,
        amount_high -> BigInt,
    }
}

diesel::table! {
    monthly_stats (month, metric, label, currency) {
        month -> Text,
        metric -> Text,
        label -> Text,
        currency -> Text,
        count -> BigInt,
        amount_low -> BigInt,
        amount_high -> BigInt,
    }
}

diesel::table! {
    run_stats (run_id, minute, outcome) {
        run_id -> BigInt,
        minute -> Timestamp,
        outcome -> Text,
        calls -> BigInt,
    }
}

diesel::table! {
    deployment (singleton) {
        singleton -> Integer,
        id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refunds (id) {
        id -> BigInt,
        invoice_id -> BigInt,
        amount_minor -> BigInt,
        currency -> Text,
        reason -> Nullable<Text>,
        status -> Text,
        origin -> Text,
        request_key -> Nullable<Text>,
        request_fingerprint -> Nullable<Text>,
        provider_key -> Text,
        provider_ref -> Nullable<Text>,
        failure_reason -> Nullable<Text>,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    provider_events (id) {
        id -> Text,
        event_type -> Text,
        invoice_id -> Nullable<BigInt>,
        outcome -> Text,
        received_at -> Timestamp,
    }
}

diesel::joinable!(invoices -> customers (customer_id));
diesel::joinable!(refunds -> invoices (invoice_id));
diesel::joinable!(charge_attempts -> invoices (invoice_id));
diesel::joinable!(charge_attempts -> billing_runs (run_id));
diesel::allow_tables_to_appear_in_same_query!(
    customers,
    invoices,
    billing_runs,
    charge_attempts,
    instances,
    outbox,
    idempotency_keys,
    invoice_totals,
    monthly_stats,
    run_stats,
    deployment,
    refunds,
    provider_events,
);
