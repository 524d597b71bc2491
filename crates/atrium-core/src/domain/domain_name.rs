use crate::error::{Error, ErrorCode};
use std::fmt;

/// The unique prefix a tenant's initial domain is built from (`contoso` in
/// `contoso.onatrium.local`): one DNS label, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainPrefix(String);

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether `s` is a lower-case DNS name of at least two labels.
pub(crate) fn is_dns_name(s: &str) -> bool {
    s.len() <= 253 && s.contains('.') && s.split('.').all(is_dns_label)
}

impl DomainPrefix {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let v = s.trim().to_ascii_lowercase();
        if is_dns_label(&v) {
            Ok(Self(v))
        } else {
            Err(Error::new(ErrorCode::InvalidDomainPrefix).with_target("domainPrefix"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The configured suffix every tenant domain ends with (Entra's is `onmicrosoft.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainSuffix(String);

impl DomainSuffix {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let v = s.trim().trim_start_matches('.').to_ascii_lowercase();
        if is_dns_name(&v) {
            Ok(Self(v))
        } else {
            Err(Error::new(ErrorCode::InvalidRequest)
                .with_message(format!("'{s}' is not a valid domain suffix."))
                .with_target("domain_suffix"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant's initial domain, `<prefix>.<suffix>`. Unique across the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantDomain(String);

impl TenantDomain {
    pub fn new(prefix: &DomainPrefix, suffix: &DomainSuffix) -> Self {
        Self(format!("{}.{}", prefix.as_str(), suffix.as_str()))
    }

    /// Parses a stored or typed domain name (lower-cased).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let v = s.trim().to_ascii_lowercase();
        if is_dns_name(&v) {
            Ok(Self(v))
        } else {
            Err(Error::new(ErrorCode::InvalidRequest)
                .with_message(format!("'{s}' is not a valid domain name."))
                .with_target("domain"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantDomain {
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
        assert_eq!(DomainPrefix::parse(" Contoso ").unwrap().as_str(), "contoso");
        assert!(DomainPrefix::parse("a-b1").is_ok());
        for bad in ["", "-a", "a-", "a.b", "a_b", "ä", &"a".repeat(64)] {
            let e = DomainPrefix::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidDomainPrefix, "{bad}");
            assert_eq!(e.target.as_deref(), Some("domainPrefix"));
        }
        let d = TenantDomain::new(
            &DomainPrefix::parse("contoso").unwrap(),
            &DomainSuffix::parse("onatrium.local").unwrap(),
        );
        assert_eq!(d.as_str(), "contoso.onatrium.local");
    }

    proptest! {
        #[test]
        fn accepted_prefixes_are_dns_labels(s in "\\PC{0,70}") {
            if let Ok(p) = DomainPrefix::parse(&s) {
                let v = p.as_str();
                prop_assert!(!v.is_empty() && v.len() <= 63);
                prop_assert!(v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                prop_assert!(!v.starts_with('-') && !v.ends_with('-'));
                // Parsing is idempotent.
                prop_assert_eq!(DomainPrefix::parse(v).unwrap(), p.clone());
            }
        }

        #[test]
        fn valid_labels_are_accepted(s in "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?") {
            let p = DomainPrefix::parse(&s).unwrap();
            prop_assert_eq!(p.as_str(), s.as_str());
        }
    }
}
