//! The OpenAPI document and a docs page that renders it. The page is our own small HTML, script
//! and stylesheet, served from the binary: no CDN, works offline.
//!
//! The page's script and styles are separate files, so its CSP allows no inline script or style
//! at all (`script-src 'self'`), and it may not be framed (clickjacking).

use crate::state::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const DOCS_HTML: &str = include_str!("../../assets/api-docs.html");
const DOCS_JS: &str = include_str!("../../assets/api-docs.js");
const DOCS_CSS: &str = include_str!("../../assets/api-docs.css");

/// Scripts and styles from this origin only; the script fetches the OpenAPI document.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub fn routes(openapi_json: String) -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body).into_response() }
            }),
        )
        .route(
            "/api/v1/docs",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::CONTENT_SECURITY_POLICY, DOCS_CSP),
                        (header::X_FRAME_OPTIONS, "DENY"),
                        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                    ],
                    DOCS_HTML,
                )
            }),
        )
        .route("/api/v1/docs.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], DOCS_JS) }))
        .route("/api/v1/docs.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], DOCS_CSS) }))
}
