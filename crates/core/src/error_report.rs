//! Rendering errors for logs and one-line messages.

/// The error and every source below it, joined by `": "`, with all whitespace (including the
/// newlines some drivers put in messages) collapsed, so it fits on one log or terminal line.
pub fn one_line(err: &dyn std::error::Error) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        line.push_str(": ");
        line.push_str(&s.to_string());
        source = s.source();
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn joins_the_chain_on_one_line() {
        let err = Outer(std::io::Error::other("inner\n\tdetail"));
        assert_eq!(one_line(&err), "outer: inner detail");
    }
}
