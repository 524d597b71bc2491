use crate::error::{Error, ErrorCode};
use std::fmt;

fn parse_text(s: &str, max: usize, field: &str) -> Result<String, Error> {
    let v = s.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(|c| c.is_control() || is_line_separator(c)) {
        return Err(Error::new(ErrorCode::InvalidName)
            .with_message(format!("'{field}' must be 1 to {max} characters without control characters."))
            .with_target(field));
    }
    // Bidi overrides and isolates make a name render as something else ("evil\u{202E}gpj.exe"),
    // so a list of members can be spoofed; no real name needs them.
    if v.chars().any(is_bidi_control) {
        return Err(Error::new(ErrorCode::InvalidName)
            .with_message(format!("'{field}' must not contain bidirectional override or isolate characters."))
            .with_target(field));
    }
    // A name of only zero-width or blank characters shows as nothing in every list.
    if v.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(Error::new(ErrorCode::InvalidName)
            .with_message(format!("'{field}' must contain a visible character."))
            .with_target(field));
    }
    Ok(v.to_owned())
}

fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). The plain marks
/// (U+200E/U+200F) stay allowed: they cannot reorder text, and mixed-script names use them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that render as nothing: zero-width spaces and joiners, marks, the soft hyphen,
/// fillers, the braille blank and variation selectors.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{206A}'..='\u{206F}' | '\u{2800}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}'
    )
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

    #[test]
    fn refuses_bidi_overrides_and_invisible_names() {
        for bad in ["evil\u{202E}fdp.exe", "a\u{2066}b\u{2069}", "\u{200B}", "\u{200B}\u{200D} \u{FEFF}", "\u{3164}", "a\u{2028}b"] {
            let e = DisplayName::parse(bad, "displayName").unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidName, "{bad:?}");
            assert_eq!(e.target.as_deref(), Some("displayName"));
        }
        // Joiners inside a visible name are fine (emoji sequences, Indic scripts), as are RTL marks.
        assert!(DisplayName::parse("Ann\u{200D}Lee", "displayName").is_ok());
        assert!(DisplayName::parse("\u{05D3}\u{05E0}\u{200F}", "displayName").is_ok());
        assert!(GroupName::parse("\u{200B}", "displayName").is_err());
    }
}
