//! The edge: what every request passes before a handler sees it, whatever the interface.
//!
//! 1. The body is read whole (up to the body limit). A reply sent while the client is still
//!    sending makes HTTP/2 reset the stream, and clients then report an error instead of the
//!    reply (`curl: (92)` on a POST to an unknown route, or on a 401 before the body was read).
//! 2. The Host (or HTTP/2 `:authority`) must be one of this server's names: `public_url`'s
//!    host, a `tls_names` entry or the listen address (loopback for a wildcard address), with
//!    the listener's port (or none on 443). Otherwise the
//!    reply is 421 Misdirected Request, so a forged Host never reaches a link or an issuer.
//!    `/healthz` and `/readyz` answer any Host (load balancers probe by address).
//! 3. Path segments, query parameters and form fields must decode to UTF-8 without NUL, and no
//!    JSON string may hold a NUL (`\u0000`): PostgreSQL text cannot store NUL, and no name,
//!    address or token needs one. A 400 names the parameter, in the shape of the interface.
//!
//! Strict JSON (trailing data, duplicate keys, arrays for objects) is checked where bodies are
//! parsed, by `crate::json`, which all JSON surfaces share.

use crate::console::Failure;
use crate::error::ApiError;
use crate::scim::error::ScimError;
use crate::state::AppState;
use atrium_core::services::identity::OAuthError;
use atrium_core::{Error, ErrorCode};
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;

/// The host names (with port) this server answers for.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    set: HashSet<String>,
    /// What links use when a request names no allowed host (only `/healthz` and `/readyz` get
    /// that far): `public_url`'s host, else the first TLS name on the HTTPS port.
    canonical: String,
}

impl AllowedHosts {
    /// `public_url`'s host, and each TLS name and listen address with the listener's bound port
    /// (without a port too on the scheme's default port).
    pub fn new(public_url: Option<&str>, tls_names: &[String], https: SocketAddr, http: Option<SocketAddr>) -> Self {
        let mut set = HashSet::new();
        let mut canonical = None;
        for (addr, default_port) in std::iter::once((https, 443)).chain(http.map(|a| (a, 80))) {
            // A wildcard listener is reached on loopback too (and the CLI prints that address).
            let listen: Vec<String> = match addr.ip() {
                IpAddr::V4(ip) if ip.is_unspecified() => vec!["127.0.0.1".into()],
                IpAddr::V6(ip) if ip.is_unspecified() => vec!["127.0.0.1".into(), "::1".into()],
                ip => vec![ip.to_string()],
            };
            for name in tls_names.iter().cloned().chain(listen) {
                let host = host_form(&name);
                if host.is_empty() {
                    continue;
                }
                let with_port = format!("{host}:{}", addr.port());
                canonical.get_or_insert_with(|| if addr.port() == default_port { host.clone() } else { with_port.clone() });
                set.insert(with_port);
                if addr.port() == default_port {
                    set.insert(host);
                }
            }
        }
        if let Some((authority, default_port)) = public_url.and_then(url_authority) {
            let (host, port) = split_port(&authority);
            set.insert(authority.clone());
            match port {
                None => {
                    set.insert(format!("{host}:{default_port}"));
                }
                Some(p) if p == default_port => {
                    set.insert(host.to_owned());
                }
                Some(_) => {}
            }
            canonical = Some(authority);
        }
        let canonical = canonical.unwrap_or_else(|| format!("localhost:{}", https.port()));
        Self { set, canonical }
    }

    /// Whether a Host header or `:authority` value names this server.
    pub fn allows(&self, authority: &str) -> bool {
        self.set.contains(&authority.to_ascii_lowercase())
    }

    pub fn canonical(&self) -> &str {
        &self.canonical
    }
}

/// A name as it appears in a Host header: lower case, IPv6 addresses in brackets.
fn host_form(name: &str) -> String {
    let bare = name.trim().trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) => format!("[{a}]"),
        Ok(IpAddr::V4(a)) => a.to_string(),
        Err(_) => bare.to_ascii_lowercase(),
    }
}

/// The authority of `scheme://authority/...` (lower case, without user info) and the scheme's
/// default port.
fn url_authority(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = if scheme.eq_ignore_ascii_case("http") { 80 } else { 443 };
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    (!authority.is_empty()).then(|| (authority.to_ascii_lowercase(), default_port))
}

/// `host:port` → (host, Some(port)); an IPv6 literal keeps its brackets.
fn split_port(authority: &str) -> (&str, Option<u16>) {
    match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') && (!h.contains(':') || h.ends_with(']')) => match p.parse() {
            Ok(port) => (h, Some(port)),
            Err(_) => (authority, None),
        },
        _ => (authority, None),
    }
}

/// What the edge layer needs: the state (to render errors in each interface's shape) and the
/// body limit.
#[derive(Clone)]
pub struct Edge {
    pub state: AppState,
    pub max_body_bytes: usize,
}

/// The layer's function: read the body, check the Host, check the input, then hand on.
pub async fn guard(State(edge): State<Edge>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let surface = Surface::of(parts.uri.path(), parts.extensions.get::<MatchedPath>().is_some());
    let bytes = match read_body(body, edge.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return surface.reject(&edge.state, &parts.headers, e),
    };
    if let Some(message) = misdirected(&parts, &edge.state.allowed_hosts) {
        return ApiError(Error::new(ErrorCode::MisdirectedRequest).with_message(message)).into_response();
    }
    if let Err(e) = check_input(&parts, &bytes) {
        return surface.reject(&edge.state, &parts.headers, e);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Reads the whole body. Past the limit it is still read (and dropped) up to a bound, so the
/// client receives the 413 instead of a reset stream.
async fn read_body(mut body: Body, max: usize) -> Result<Bytes, Error> {
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let drain_limit = max.saturating_mul(4).max(1 << 20);
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| Error::new(ErrorCode::InvalidRequest).with_message("The request body could not be read."))?;
        if let Ok(data) = frame.into_data() {
            total = total.saturating_add(data.len());
            if total <= max {
                buf.extend_from_slice(&data);
            } else if total > drain_limit {
                break;
            }
        }
    }
    if total > max {
        return Err(Error::new(ErrorCode::PayloadTooLarge).with_message(format!("The request body is too large: at most {max} bytes are accepted.")));
    }
    Ok(Bytes::from(buf))
}

/// Why the request is not for this server, if it is not.
fn misdirected(parts: &Parts, hosts: &AllowedHosts) -> Option<String> {
    if matches!(parts.uri.path(), "/healthz" | "/readyz") {
        return None;
    }
    let host = match parts.headers.get(header::HOST).map(|v| v.to_str()) {
        Some(Ok(h)) => Some(h),
        Some(Err(_)) => return Some("The Host header is not valid.".into()),
        None => None,
    };
    let authority = parts.uri.authority().map(|a| a.as_str());
    if host.is_none() && authority.is_none() {
        return Some("The request names no host (Host header): this server answers only for its configured names.".into());
    }
    let refused = [host, authority].into_iter().flatten().find(|h| !hosts.allows(h))?;
    let shown: String = refused.chars().take(100).filter(|c| !c.is_control()).collect();
    Some(format!(
        "This server does not answer for the host '{shown}'. Use one of its configured names (public_url, tls_names or the listen address) with its port."
    ))
}

/// NUL or invalid UTF-8 in a path segment, query parameter, form field or JSON string.
fn check_input(parts: &Parts, body: &Bytes) -> Result<(), Error> {
    check_path(parts)?;
    if let Some(q) = parts.uri.query() {
        check_pairs(q.as_bytes(), "query parameter")?;
    }
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if form {
        check_pairs(body, "form field")?;
    } else if crate::json::may_contain_nul(body)
        && let Err(e) = crate::json::parse_value(body)
        && e.code == ErrorCode::InvalidRequest
    {
        // Only the NUL is refused here; other JSON problems are the handler's to report, in
        // its words (and a body that is not JSON at all is not ours to judge).
        return Err(e);
    }
    Ok(())
}

/// Each path segment, percent-decoded; the error names the route's parameter when there is one.
fn check_path(parts: &Parts) -> Result<(), Error> {
    let path = parts.uri.path();
    if !path.contains('%') {
        return Ok(());
    }
    let template: Vec<&str> = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().split('/').collect()).unwrap_or_default();
    for (i, segment) in path.split('/').enumerate() {
        if let Some(problem) = problem_of(&percent_decode(segment.as_bytes(), false)) {
            let name = param_name(&template, i).unwrap_or("path");
            let what = if name == "path" { "The path".to_owned() } else { format!("The path parameter '{name}'") };
            return Err(Error::new(ErrorCode::InvalidRequest).with_message(format!("{what} {problem}.")).with_target(name));
        }
    }
    Ok(())
}

/// The parameter a route template (`/tenants/{tenantId}`, `/scim/{*rest}`) gives segment `i`.
fn param_name<'t>(template: &[&'t str], i: usize) -> Option<&'t str> {
    for (j, t) in template.iter().enumerate().take(i + 1) {
        if let Some(name) = t.strip_prefix("{*").and_then(|t| t.strip_suffix('}')) {
            return Some(name);
        }
        if j == i {
            return t.strip_prefix('{').and_then(|t| t.strip_suffix('}'));
        }
    }
    None
}

/// `a=1&b=2` (a query or a form body): each name and value, decoded as forms are.
fn check_pairs(raw: &[u8], what: &str) -> Result<(), Error> {
    for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        let key = percent_decode(k, true);
        let name: String = String::from_utf8_lossy(&key).replace('\0', "\\u0000");
        let problem = problem_of(&key).map(|p| (format!("The name of the {what} '{name}'"), p));
        let problem = problem.or_else(|| problem_of(&percent_decode(v, true)).map(|p| (format!("The {what} '{name}'"), p)));
        if let Some((subject, p)) = problem {
            return Err(Error::new(ErrorCode::InvalidRequest).with_message(format!("{subject} {p}.")).with_target(name));
        }
    }
    Ok(())
}

fn problem_of(decoded: &[u8]) -> Option<&'static str> {
    if decoded.contains(&0) {
        Some("contains a NUL character, which is not accepted")
    } else if std::str::from_utf8(decoded).is_err() {
        Some("is not valid UTF-8 once percent-decoded")
    } else {
        None
    }
}

/// Percent-decoding to bytes (`+` is a space in forms and queries); a `%` not followed by two
/// hex digits stays as it is, as browsers and `form_urlencoded` do.
fn percent_decode(input: &[u8], plus_is_space: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'%' => match (input.get(i + 1).copied().and_then(hex), input.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// Which interface a path belongs to, so an edge error has that interface's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    /// `/api/v1`, health, and unknown routes: `{"error":{"code","message","target"}}`.
    Rest,
    /// `/v1.0`: Graph's error shape.
    Graph,
    /// `/scim`: RFC 7644 errors.
    Scim,
    /// Token, discovery and the other identity endpoints: AADSTS JSON.
    OAuth,
    /// `/{tenant}/oauth2/v2.0/authorize`: the sign-in error page.
    Authorize,
    /// `/invitations/redeem`: the invitation page.
    Redeem,
    /// The web console's pages.
    Console,
}

impl Surface {
    fn of(path: &str, routed: bool) -> Self {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        match segments.as_slice() {
            ["scim", ..] => Surface::Scim,
            ["api", ..] | ["healthz"] | ["readyz"] => Surface::Rest,
            ["v1.0", ..] => Surface::Graph,
            ["invitations", ..] => Surface::Redeem,
            [_, "oauth2", "v2.0", "authorize"] => Surface::Authorize,
            [_, "oauth2", ..] | [_, "v2.0", ".well-known", ..] | [_, "discovery", ..] | ["common", "userrealm", ..] => Surface::OAuth,
            _ if routed => Surface::Console,
            _ => Surface::Rest,
        }
    }

    fn reject(self, st: &AppState, headers: &HeaderMap, e: Error) -> Response {
        match self {
            Surface::Rest => ApiError(e).into_response(),
            Surface::Graph => crate::graph::graph_error(st, e, headers),
            Surface::Scim => ScimError::from(e).into_response(),
            Surface::OAuth => crate::identity::oauth_error(st, headers, &OAuthError::malformed(&e.message)),
            Surface::Authorize => crate::identity::authorize::error_page(&OAuthError::malformed(&e.message)),
            Surface::Redeem => crate::invitations::error_page(&e),
            Surface::Console => Failure::Error(e).into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allowed_hosts_are_the_names_with_the_bound_port() {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned(), "Atrium.Example".to_owned()];
        let h = AllowedHosts::new(None, &names, addr("127.0.0.1:8443"), Some(addr("127.0.0.1:8080")));
        for ok in ["localhost:8443", "LOCALHOST:8443", "127.0.0.1:8443", "[::1]:8443", "atrium.example:8443", "localhost:8080"] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in ["localhost", "localhost:8444", "evil.example:8443", "::1:8443", "127.0.0.2:8443", ""] {
            assert!(!h.allows(bad), "{bad}");
        }
        assert_eq!(h.canonical(), "localhost:8443");
        // Port 443 may be left out; an unspecified listen address is no name, but loopback is.
        let h = AllowedHosts::new(None, &["id.example".to_owned()], addr("0.0.0.0:443"), None);
        assert!(h.allows("id.example") && h.allows("id.example:443") && !h.allows("0.0.0.0:443"));
        assert!(h.allows("127.0.0.1") && h.allows("127.0.0.1:443") && !h.allows("[::1]"));
        assert_eq!(h.canonical(), "id.example");
    }

    #[test]
    fn public_url_adds_its_host() {
        let h = AllowedHosts::new(Some("https://Login.Example.com/base"), &["localhost".to_owned()], addr("127.0.0.1:8443"), None);
        assert!(h.allows("login.example.com") && h.allows("login.example.com:443") && h.allows("localhost:8443"));
        assert_eq!(h.canonical(), "login.example.com");
        let h = AllowedHosts::new(Some("https://[::1]:9443"), &[], addr("127.0.0.1:8443"), None);
        assert!(h.allows("[::1]:9443") && !h.allows("[::1]") && h.allows("127.0.0.1:8443"));
    }

    #[test]
    fn decoding_finds_nul_and_invalid_utf8() {
        assert_eq!(percent_decode(b"a%00b+c%zz%4", true), b"a\0b c%zz%4");
        assert_eq!(percent_decode(b"a+b", false), b"a+b");
        assert!(check_pairs(b"scope=ok&x=%C3%A9", "form field").is_ok());
        let e = check_pairs(b"grant_type=x&scope=a%00", "form field").unwrap_err();
        assert_eq!((e.code, e.target.as_deref()), (ErrorCode::InvalidRequest, Some("scope")));
        let e = check_pairs(b"search=%FF", "query parameter").unwrap_err();
        assert_eq!(e.target.as_deref(), Some("search"));
        assert!(e.message.contains("UTF-8"), "{}", e.message);
        let e = check_pairs(b"a%00=1", "query parameter").unwrap_err();
        assert_eq!(e.target.as_deref(), Some("a\\u0000"));
    }

    #[test]
    fn path_errors_name_the_routes_parameter() {
        let t: Vec<&str> = "/api/v1/tenants/{tenantId}/users/{userId}".split('/').collect();
        assert_eq!(param_name(&t, 4), Some("tenantId"));
        assert_eq!(param_name(&t, 6), Some("userId"));
        assert_eq!(param_name(&t, 3), None);
        let t: Vec<&str> = "/scim/{*rest}".split('/').collect();
        assert_eq!(param_name(&t, 4), Some("rest"));
    }

    #[test]
    fn surfaces_by_path() {
        assert_eq!(Surface::of("/scim/v2/Users", true), Surface::Scim);
        assert_eq!(Surface::of("/api/v1/tenants", true), Surface::Rest);
        assert_eq!(Surface::of("/contoso.onmicrosoft.com/oauth2/v2.0/token", true), Surface::OAuth);
        assert_eq!(Surface::of("/common/oauth2/token", true), Surface::OAuth);
        assert_eq!(Surface::of("/t/oauth2/v2.0/authorize", true), Surface::Authorize);
        assert_eq!(Surface::of("/accounts/x/users", true), Surface::Console);
        assert_eq!(Surface::of("/nope/nothing", false), Surface::Rest);
        assert_eq!(Surface::of("/v1.0/invitations", true), Surface::Graph);
    }
}
