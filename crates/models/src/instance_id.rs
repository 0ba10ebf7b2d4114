visible_text! {
    /// Names one running Antaeus process: the owner of the invoices it claims.
    pub struct InstanceId (max 100, InvalidInstanceId);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_host_pid_style_ids_and_rejects_blank_or_long_ones() {
        assert!(InstanceId::parse("web-1.example-4242-a1b2").is_ok());
        for bad in [String::new(), "a b".into(), "x".repeat(101)] {
            assert!(InstanceId::parse(bad).is_err());
        }
    }
}
