//! The OpenAPI document and a docs page that renders it. The page is our own small HTML and
//! script, served from the binary: no CDN, works offline.

use crate::state::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const DOCS_HTML: &str = include_str!("../../assets/api-docs.html");

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
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'")],
                    DOCS_HTML,
                )
            }),
        )
}
