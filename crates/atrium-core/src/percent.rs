//! The workspace's one percent-encoder (RFC 3986): redirect URLs built by the identity platform
//! and the CLI's path segments and query values use it.

/// Percent-encodes a path segment or a query component: everything but the unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`, so the result means the same in a path and
/// in a query (a space is `%20`, never `+`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_only_unreserved_characters() {
        assert_eq!(super::encode("a b+c/ä?&=~._-"), "a%20b%2Bc%2F%C3%A4%3F%26%3D~._-");
    }
}
