//! Diesel's view of the tables, shared by SQLite and PostgreSQL (their migrations differ only in
//! dialect).

diesel::table! {
    customers (id) {
        id -> BigInt,
        currency -> Text,
    }
}

diesel::table! {
    invoices (id) {
        id -> BigInt,
        customer_id -> BigInt,
        amount_minor -> BigInt,
        currency -> Text,
        status -> Text,
    }
}

diesel::joinable!(invoices -> customers (customer_id));
diesel::allow_tables_to_appear_in_same_query!(customers, invoices);
