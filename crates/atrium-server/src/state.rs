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
