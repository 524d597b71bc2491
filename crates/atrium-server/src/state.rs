use atrium_core::services::Services;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    /// Seconds a session cookie lives (the session's own lifetime).
    pub session_seconds: i64,
    /// The signing keys, for the JWKS.
    pub keys: atrium_crypto::jwt::SharedKeyRing,
    /// The configured public URL (issuer base); otherwise derived from the request's Host.
    pub public_url: Option<String>,
}
