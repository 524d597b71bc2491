use crate::error::{Error, ErrorCode};
use std::fmt;

fn parse_text(s: &str, max: usize, field: &str) -> Result<String, Error> {
    let v = s.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::new(ErrorCode::InvalidName)
            .with_message(format!("'{field}' must be 1 to {max} characters without control characters."))
            .with_target(field));
    }
    Ok(v.to_owned())
}

macro_rules! text_value {
    ($(#[$meta:meta])* $name:ident, $max:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Trims and checks the value; `field` names the input in the error.
            pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
                parse_text(s, $max, field).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(
    /// A display name of a tenant or user (1–256 characters).
    DisplayName, 256
);
text_value!(
    /// A given name or surname (1–64 characters).
    PersonName, 64
);
text_value!(
    /// A group name, unique within its tenant (compared case-insensitively).
    GroupName, 256
);
text_value!(
    /// A free-text description (1–1024 characters).
    Description, 1024
);

impl GroupName {
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_limits() {
        assert_eq!(DisplayName::parse("  Ann  ", "displayName").unwrap().as_str(), "Ann");
        assert!(DisplayName::parse(&"x".repeat(256), "displayName").is_ok());
        let e = DisplayName::parse(&"x".repeat(257), "displayName").unwrap_err();
        assert_eq!(e.target.as_deref(), Some("displayName"));
        assert!(PersonName::parse("   ", "givenName").is_err());
        assert!(GroupName::parse("a\u{7}b", "displayName").is_err());
    }
}
