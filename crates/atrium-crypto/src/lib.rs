//! Cryptography and system sources behind the core's ports: argon2id on a bounded blocking
//! pool, the OS random source, the system clock, and the local TLS CA.

pub mod jwt;
pub mod passkeys;
pub mod password;
pub mod system;
pub mod tls;

pub use password::Argon2Hasher;
pub use system::{OsRng, SystemClock, TokioPause};
