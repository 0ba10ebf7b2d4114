//! What `POST /rest/v1/invoices` reads: amounts exactly, from numbers and strings, and every
//! malformed body refused with a 400 that names the problem, creating nothing.

use serde_json::{Value, json};

use crate::api_tests;
use crate::helpers::{INVOICES, TestApp, assert_problem};
use crate::invoices_create::acme;

api_tests!(
    amounts_are_read_exactly_from_numbers_and_strings,
    malformed_invoices_are_400_and_create_nothing,
);

async fn amounts_are_read_exactly_from_numbers_and_strings(app: TestApp) {
    let customer = acme(&app).await;
    for (value, written) in [
        // The largest amount an invoice may have in EUR.
        (json!("100000000.00"), "100000000.00"),
        (
            serde_json::from_str::<Value>("12345678.91").unwrap(),
            "12345678.91",
        ),
        (json!("0.01"), "0.01"),
        (json!(10), "10.00"),
        (json!("7.5"), "7.50"),
    ] {
        let body = json!({"customerId": customer, "amount": {"value": value, "currency": "EUR"}});
        let response = app.post(INVOICES, &body.to_string(), &[]).await;
        assert_eq!(response.status(), 201, "{body}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains(&format!(
                r#""amount":{{"value":{written},"currency":"EUR"}}"#
            )),
            "{body} → {text}"
        );
    }
    // The raw JSON text, digit for digit.
    let raw =
        format!(r#"{{"customerId":{customer},"amount":{{"value":99999999.99,"currency":"EUR"}}}}"#);
    let text = app.post(INVOICES, &raw, &[]).await.text().await.unwrap();
    assert!(text.contains(r#""value":99999999.99"#), "{text}");
}

async fn malformed_invoices_are_400_and_create_nothing(app: TestApp) {
    let customer = acme(&app).await;
    let with_amount = |value: &str| {
        format!(r#"{{"customerId":{customer},"amount":{{"value":{value},"currency":"EUR"}}}}"#)
    };
    let mut cases: Vec<(String, &str)> = [
        ("0", "greater than zero"),
        ("\"0.00\"", "greater than zero"),
        ("-5", "greater than zero"),
        ("\"-5.00\"", "greater than zero"),
        ("1.234", "more decimals"),
        ("\"1.234\"", "more decimals"),
        ("1e2", "exponent"),
        ("\"abc\"", "decimal number"),
        ("\"12,50\"", "decimal number"),
        ("true", "JSON number or a decimal string"),
        ("null", "JSON number or a decimal string"),
        // Above the cap (100,000,000.00 EUR): refused, never charged; the largest 64-bit
        // amount once overflowed the console's totals.
        (
            "100000000.01",
            "amount.value 100000000.01: is above the largest amount Antaeus bills (100000000.00 EUR)",
        ),
        ("\"92233720368547758.07\"", "above the largest amount"),
        ("92233720368547758.08", "above the largest amount"),
        (
            "1234567890123456789012345678901234567890123",
            "longer than 40",
        ),
    ]
    .into_iter()
    .map(|(value, needle)| (with_amount(value), needle))
    .collect();
    let amount = r#""amount":{"value":"1.00","currency":"EUR"}"#;
    cases.extend([
        (format!("{{{amount}}}"), "customerId or customerExternalId"),
        (
            format!(r#"{{"customerId":{customer},"customerExternalId":"acme-42",{amount}}}"#),
            "not both",
        ),
        (format!(r#"{{"customerId":0,{amount}}}"#), "customerId"),
        (
            format!(r#"{{"customerId":"{customer}",{amount}}}"#),
            "invalid type",
        ),
        (
            format!(r#"{{"customerId":{customer}}}"#),
            "missing field `amount`",
        ),
        (
            format!(r#"{{"customerId":{customer},"amount":{{"value":"1.00","currency":"JPY"}}}}"#),
            "EUR, USD, DKK, SEK, GBP",
        ),
        (
            format!(r#"{{"customerId":{customer},"amount":{{"value":"1.00"}}}}"#),
            "missing field `currency`",
        ),
        (
            format!(r#"{{"customerId":{customer},"amount":"1.00"}}"#),
            "expected a JSON object",
        ),
        (
            format!(r#"{{"customerId":{customer},{amount},"dueAt":"next week"}}"#),
            r#"dueAt: "next week" is not an RFC 3339 time such as 2026-12-01T00:00:00Z"#,
        ),
        (
            format!(r#"{{"customerId":{customer},{amount},"due_at":"2026-12-01T00:00:00Z"}}"#),
            "unknown field `due_at`",
        ),
        (
            format!(
                r#"{{"customerId":{customer},{amount},"externalId":"{}"}}"#,
                "x".repeat(256)
            ),
            "externalId",
        ),
        (
            format!(
                r#"{{"customerId":{customer},{amount},"description":"{}"}}"#,
                "d".repeat(1001)
            ),
            "description",
        ),
        (
            format!(r#"[{{"customerId":{customer},{amount}}}]"#),
            "JSON object",
        ),
        ("not json".to_owned(), "not valid JSON"),
    ]);
    for (body, needle) in cases {
        let problem = assert_problem(app.post(INVOICES, &body, &[]).await, 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{body}: {problem}"
        );
    }
    assert!(app.invoices_of(customer).await.is_empty());
}
