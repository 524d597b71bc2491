use super::domain_name::is_dns_name;
use crate::error::{Error, ErrorCode};
use std::fmt;

/// A userPrincipalName, `alias@domain`, unique within a tenant (compared case-insensitively).
///
/// The alias follows Entra's rules: 1 to 64 characters from letters, digits and `' . - _ ! # ^ ~ +`,
/// not starting or ending with a period and with no two periods in a row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Upn {
    value: String,
    at: usize,
}

const FIELD: &str = "userPrincipalName";

fn alias_ok(a: &str) -> bool {
    !a.is_empty()
        && a.len() <= 64
        && a.chars().all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~+".contains(c))
        && !a.starts_with('.')
        && !a.ends_with('.')
        && !a.contains("..")
}

impl Upn {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let v = s.trim();
        let invalid = || {
            Error::new(ErrorCode::InvalidUpn)
                .with_message(format!("'{v}' is not a valid user principal name: use alias@domain."))
                .with_target(FIELD)
        };
        let at = v.rfind('@').ok_or_else(invalid)?;
        let (alias, domain) = (&v[..at], &v[at + 1..]);
        if !alias_ok(alias) || !is_dns_name(&domain.to_ascii_lowercase()) {
            return Err(invalid());
        }
        Ok(Self { value: format!("{alias}@{}", domain.to_ascii_lowercase()), at })
    }

    /// Builds `alias@domain` when the input has no `@`, else parses it as is.
    pub fn parse_in_domain(s: &str, domain: &str) -> Result<Self, Error> {
        let v = s.trim();
        if v.contains('@') { Self::parse(v) } else { Self::parse(&format!("{v}@{domain}")) }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn alias(&self) -> &str {
        &self.value[..self.at]
    }

    pub fn domain(&self) -> &str {
        &self.value[self.at + 1..]
    }

    /// The form uniqueness is checked on.
    pub fn normalized(&self) -> String {
        self.value.to_lowercase()
    }
}

impl fmt::Display for Upn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        let u = Upn::parse("Adele.Vance@Contoso.onatrium.local").unwrap();
        assert_eq!(u.as_str(), "Adele.Vance@contoso.onatrium.local");
        assert_eq!(u.alias(), "Adele.Vance");
        assert_eq!(u.domain(), "contoso.onatrium.local");
        assert_eq!(u.normalized(), "adele.vance@contoso.onatrium.local");
        assert_eq!(Upn::parse_in_domain("bob", "c.example").unwrap().as_str(), "bob@c.example");
        for bad in ["", "bob", "@c.example", "bob@", ".bob@c.example", "bo..b@c.example", "bob.@c.example",
                    "b ob@c.example", "bob@c", "bob@-c.example", "bö@c.example", "bob@c.exa\nmple"] {
            let e = Upn::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidUpn, "{bad:?}");
            assert_eq!(e.target.as_deref(), Some("userPrincipalName"));
        }
    }

    proptest! {
        #[test]
        fn parse_is_idempotent_and_well_formed(s in "\\PC{0,80}") {
            if let Ok(u) = Upn::parse(&s) {
                let again = Upn::parse(u.as_str()).unwrap();
                prop_assert_eq!(&again, &u);
                prop_assert!(alias_ok(u.alias()));
                prop_assert!(is_dns_name(u.domain()));
            }
        }

        #[test]
        fn valid_upns_are_accepted(a in "[A-Za-z0-9_]([A-Za-z0-9_.-]{0,30}[A-Za-z0-9])?", d in "[a-z]{1,10}\\.[a-z]{2,5}") {
            prop_assume!(!a.contains(".."));
            let s = format!("{a}@{d}");
            let u = Upn::parse(&s).unwrap();
            prop_assert_eq!(u.as_str(), s.as_str());
        }
    }
}
