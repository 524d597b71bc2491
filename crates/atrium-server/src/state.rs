use atrium_core::services::Services;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    /// Seconds a session cookie lives (the session's own lifetime).
    pub session_seconds: i64,
}
