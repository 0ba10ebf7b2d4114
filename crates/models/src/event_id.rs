visible_text! {
    /// The id of an event as receivers see it (`evt_…`): 1 to 255 visible ASCII characters.
    pub struct EventId (max 255, InvalidEventId);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_ids_billing_writes_and_rejects_blank_long_or_spaced_ones() {
        for good in [
            "evt_17_5_invoice.retries_exhausted_1764547200000000",
            "evt_run_3_completed",
        ] {
            assert_eq!(good.parse::<EventId>().unwrap().as_str(), good);
        }
        for bad in [String::new(), "evt 1".into(), "é".into(), "x".repeat(256)] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?}");
        }
    }
}
