//! The ports: what the services need from the outside world. Adapters implement them
//! (`atrium-store` for [`Store`], `atrium-crypto` for [`PasswordHasher`] and [`Rng`]).

pub mod passkeys;
pub mod store;

pub use crate::random::Rng;
pub use passkeys::{PasskeyChallenge, PasskeyError, PasskeyUser, PasskeyVerifier, RegisteredPasskey, RelyingParty};

pub use store::{
    AccountTx, ApplicationTx, AuditTx, DirectoryTx, IdentityTx, InvitationTx, MailTx, OutboxStats,
    AppRoleTx, PasskeyTx, PoolStats, SignInLogTx, SignInReservation, Store, StoreError, SubscriptionTx, ThrottleTx, Tx,
};

use crate::domain::PasswordHash;
use crate::model::Mail;
use crate::secret::Secret;
use crate::time::Timestamp;
use async_trait::async_trait;

/// The wall clock, injected so expiry, lockout and purges are testable.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Slow password hashing (argon2id). Implementations must keep the work off the async workers.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Secret) -> Result<PasswordHash, StoreError>;
    /// Verifies a password. With `None`, verifies against a dummy hash and returns false, so
    /// that an unknown user costs the same time as a wrong password.
    async fn verify(
        &self,
        password: &Secret,
        hash: Option<&PasswordHash>,
    ) -> Result<bool, StoreError>;
}

/// Waiting, for the short retry of a busy sign-in reservation (`tokio::time::sleep` in the
/// server; core has no runtime of its own). Real time, not the [`Clock`], which tests freeze.
#[async_trait]
pub trait Pause: Send + Sync {
    async fn pause(&self, duration: std::time::Duration);
}

/// Signs JWTs with the deployment's active RS256 key (kept parsed in memory).
pub trait TokenSigner: Send + Sync {
    /// Returns the compact JWS of `claims`, with `kid` and `x5t` in the header.
    fn sign(&self, claims: &serde_json::Value) -> Result<String, StoreError>;
    /// Checks the signature of a JWT against the published keys and returns its claims.
    /// Expiry and audience are the caller's to check (it has the clock and the context).
    fn verify(&self, jwt: &str) -> Option<serde_json::Value>;
}

/// Encrypts small secrets at rest with the deployment's master key (the one that encrypts the
/// signing keys; it is not in the database nor in backups). `context` is bound to the value
/// (AEAD associated data), so a sealed value copied to another row does not open there.
pub trait SecretSealer: Send + Sync {
    fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StoreError>;
    /// Fails when the value was sealed with another master key or for another context.
    fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StoreError>;
}

/// Delivers one mail (SMTP in production). The outbox worker calls it; nothing else sends mail.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// A failed delivery. Permanent failures (the server refused the recipient or the message) are
/// not retried; everything else is, with backoff.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct MailError {
    pub permanent: bool,
    pub message: String,
}
