use crate::error::{Error, ErrorCode};
use std::fmt;

const MAX: usize = 256;

fn parse_url(s: &str, field: &str, what: &str) -> Result<String, Error> {
    let v = s.trim();
    let bad = |why: &str| {
        Error::new(ErrorCode::InvalidUrl).with_message(format!("'{field}' is not a valid {what}: {why}.")).with_target(field)
    };
    if v.is_empty() || v.chars().count() > MAX {
        return Err(bad("use 1 to 256 characters"));
    }
    if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("no spaces or control characters"));
    }
    let Some((scheme, rest)) = v.split_once(':') else { return Err(bad("it needs a scheme such as https:")) };
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) || rest.is_empty() {
        return Err(bad("it needs a scheme such as https:"));
    }
    if v.contains('#') {
        return Err(bad("a fragment (#...) is not allowed"));
    }
    Ok(v.to_owned())
}

/// A Reply URL (redirect URI): at most 256 characters, unique within the tenant (compared
/// case-insensitively). `https`, or `http` only for localhost/loopback, or a custom scheme for
/// native apps. Compared with requests as the exact registered string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplyUrl(String);

impl ReplyUrl {
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        let v = parse_url(s, field, "Reply URL")?;
        let lower = v.to_ascii_lowercase();
        // Schemes that run code or read local files are never a place to send a browser.
        if ["javascript:", "data:", "vbscript:", "file:", "blob:"].iter().any(|p| lower.starts_with(p)) {
            return Err(Error::new(ErrorCode::InvalidUrl)
                .with_message(format!("'{field}' must not use the javascript, data, vbscript, file or blob scheme."))
                .with_target(field));
        }
        if let Some(rest) = lower.strip_prefix("http://") {
            let host = rest.split(['/', '?']).next().unwrap_or("");
            let host = host.rsplit_once(':').map(|(h, p)| if p.chars().all(|c| c.is_ascii_digit()) { h } else { host }).unwrap_or(host);
            if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
                return Err(Error::new(ErrorCode::InvalidUrl)
                    .with_message(format!("'{field}' must use https (http is allowed only for localhost)."))
                    .with_target(field));
            }
        }
        Ok(Self(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is checked on.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An App ID URI (identifier URI), e.g. `api://contoso-app`: at most 256 characters, unique
/// within the tenant (compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppIdUri(String);

impl AppIdUri {
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        let v = parse_url(s, field, "App ID URI")?;
        if v.ends_with('/') || v.ends_with("/.default") {
            return Err(Error::new(ErrorCode::InvalidUrl)
                .with_message(format!("'{field}' must not end with '/' or '/.default'."))
                .with_target(field));
        }
        Ok(Self(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for ReplyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for AppIdUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reply_urls() {
        assert!(ReplyUrl::parse("https://app.contoso.com/signin", "replyUrls[0]").is_ok());
        assert!(ReplyUrl::parse("http://localhost:8400/callback", "replyUrls[0]").is_ok());
        assert!(ReplyUrl::parse("http://127.0.0.1/cb", "replyUrls[0]").is_ok());
        assert!(ReplyUrl::parse("msal1234://auth", "replyUrls[0]").is_ok());
        for bad in ["", "not a url", "http://evil.com/cb", "https://a.com/#x", &format!("https://a.com/{}", "x".repeat(250))] {
            let e = ReplyUrl::parse(bad, "replyUrls[0]").unwrap_err();
            assert_eq!((e.code, e.target.as_deref()), (ErrorCode::InvalidUrl, Some("replyUrls[0]")), "{bad}");
        }
        assert_eq!(ReplyUrl::parse("https://A.com/X", "r").unwrap().normalized(), "https://a.com/x");
    }

    #[test]
    fn app_id_uris() {
        assert!(AppIdUri::parse("api://contoso-app", "appIdUri").is_ok());
        assert!(AppIdUri::parse("https://contoso.com/api", "appIdUri").is_ok());
        assert!(AppIdUri::parse("api://x/", "appIdUri").is_err());
        assert!(AppIdUri::parse("nocolon", "appIdUri").is_err());
    }

    proptest! {
        #[test]
        fn accepted_urls_are_bounded_and_clean(s in "\\PC{0,300}") {
            if let Ok(u) = ReplyUrl::parse(&s, "r") {
                prop_assert!(u.as_str().chars().count() <= 256);
                prop_assert!(!u.as_str().chars().any(|c| c.is_control() || c.is_whitespace() || c == '#'));
            }
        }
    }
}
