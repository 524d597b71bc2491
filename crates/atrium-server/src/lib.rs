//! Atrium's HTTP server: the REST API (`/api/v1`), the web console (`/`), health endpoints, and
//! `serve` with TLS.
//!
//! Adapters here stay thin: parse the request, call one `Services` method, render the result.
//! Who may do what is decided in `atrium-core`, never in a handler.

pub mod activity;
pub mod api;
pub mod app;
pub mod arm;
pub mod config;
pub mod console;
pub mod edge;
pub mod error;
pub mod extract;
pub mod files;
pub mod identity;
pub mod invitations;
pub mod graph;
pub mod json;
pub mod mailer;
pub mod metrics;
pub mod scim;
pub mod serve;
pub mod sign_ins;
pub mod state;

pub use app::build_app;
pub use config::Config;
pub use serve::{Application, Deps};
pub use atrium_crypto;
