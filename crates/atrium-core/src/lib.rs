//! Atrium's domain and services.
//!
//! Every rule lives here: adapters (REST, CLI, later Graph, SCIM and the console) parse their
//! input, call one service function, and render its result. This crate knows nothing of HTTP or
//! SQL; storage, time, randomness and password hashing come in through the [`ports`].

pub mod access;
pub mod actor;
pub mod audit;
pub mod domain;
pub mod error;
pub mod graph;
pub mod ids;
pub mod model;
pub mod page;
pub mod percent;
pub mod ports;
pub mod query;
pub mod random;
pub mod secret;
pub mod services;
pub mod sign_ins;
pub mod time;

pub use error::{Error, ErrorCode, Result, Throttled};
