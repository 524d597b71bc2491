use crate::error::{Error, ErrorCode};
use email_address::{EmailAddress, Options};
use std::fmt;

/// An email address (RFC 5322 addr-spec, no display name, no domain literal, a TLD required).
/// Case is kept for display; [`Email::normalized`] is the lower-cased form used for uniqueness.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address; `field` names the input in the error.
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        let v = s.trim();
        let opts = Options::default().without_display_text().without_domain_literal().with_required_tld();
        // CR/LF can never be part of an address; rejecting them here also stops header injection.
        if v.len() > 254 || v.chars().any(char::is_control) || EmailAddress::parse_with_options(v, opts).is_err() {
            return Err(Error::new(ErrorCode::InvalidEmail)
                .with_message(format!("'{field}' is not a valid email address."))
                .with_target(field));
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(Email::parse(" Ann@Contoso.com ", "mail").unwrap().as_str(), "Ann@Contoso.com");
        for bad in ["", "ann", "ann@", "@x.com", "Ann <ann@x.com>", "a@[127.0.0.1]", "a@localhost", "a@x.com\r\nBcc: b@y.com"] {
            let e = Email::parse(bad, "mail").unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidEmail, "{bad:?}");
            assert_eq!(e.target.as_deref(), Some("mail"));
        }
    }

    proptest! {
        #[test]
        fn never_accepts_control_characters(a in "[a-z]{1,8}", b in "[\\x00-\\x1f]", c in "[a-z]{1,8}") {
            let s = format!("{a}{b}@{c}.com");
            prop_assert!(Email::parse(&s, "mail").is_err());
        }

        #[test]
        fn simple_addresses_round_trip(a in "[a-z0-9]{1,20}", d in "[a-z]{1,20}", t in "[a-z]{2,6}") {
            let s = format!("{a}@{d}.{t}");
            let e = Email::parse(&s, "mail").unwrap();
            prop_assert_eq!(e.as_str(), s.as_str());
        }
    }
}
