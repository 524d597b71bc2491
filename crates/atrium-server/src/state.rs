use atrium_core::services::Services;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    /// Seconds a session cookie lives (the session's own lifetime).
    pub session_seconds: i64,
    /// The signing keys, for the JWKS.
    pub keys: atrium_crypto::jwt::SharedKeyRing,
    /// The configured public URL (issuer base); otherwise the request's Host, once it is known
    /// to be one of `allowed_hosts`.
    pub public_url: Option<String>,
    /// The host names this server answers for (`public_url`, `tls_names`, the listen address):
    /// other Hosts get 421, and links are built only from these.
    pub allowed_hosts: std::sync::Arc<crate::edge::AllowedHosts>,
    /// Where account requests are recorded (activity history).
    pub activity: crate::activity::ActivitySink,
    /// Request counters for `/metrics`, and whether shutdown has begun (for `/readyz`).
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl axum::extract::FromRef<AppState> for std::sync::Arc<crate::metrics::Metrics> {
    fn from_ref(st: &AppState) -> Self {
        st.metrics.clone()
    }
}

impl axum::extract::FromRef<AppState> for crate::activity::ActivitySink {
    fn from_ref(st: &AppState) -> Self {
        st.activity.clone()
    }
}
