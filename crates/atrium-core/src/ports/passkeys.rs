//! The WebAuthn relying party as a port.
//!
//! Why a port: the WebAuthn checks (CBOR, COSE keys, signatures, origin and RP id rules) come
//! from `webauthn-rs`, which links OpenSSL. Keeping it behind this trait leaves `atrium-core`
//! free of both (the core stays quick to build and test), and the rules that are ours (who
//! may register, ceremonies single-use and expiring by the injected clock, names, audit,
//! sessions) stay in the services. `atrium-crypto` implements it.
//!
//! Everything crossing the port is JSON (what the browser sends and receives) or opaque
//! bytes (ceremony state and stored credentials, serialised by the implementation).

/// Who the browser talks to: `id` is the RP id (a host name: browsers refuse IP addresses),
/// `origin` the page origin (`https://host[:port]`), `name` what authenticators show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub id: String,
    pub origin: String,
    pub name: String,
}

/// The user a passkey is created for. `handle` is the WebAuthn user handle (our user id): a
/// discoverable sign-in returns it, so the credential names its user.
#[derive(Debug, Clone)]
pub struct PasskeyUser {
    pub handle: uuid::Uuid,
    pub name: String,
    pub display_name: String,
}

/// A started ceremony: the options for `navigator.credentials.create/get` (the JSON object
/// with `publicKey`), and the state to keep server-side until the browser answers.
#[derive(Debug, Clone)]
pub struct PasskeyChallenge {
    pub options: serde_json::Value,
    pub state: Vec<u8>,
}

/// A verified registration.
#[derive(Debug, Clone)]
pub struct RegisteredPasskey {
    pub credential_id: Vec<u8>,
    /// The implementation's record of the credential (public key, counter), to store.
    pub credential: Vec<u8>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PasskeyError {
    /// The relying party cannot be used (an IP address as RP id, an origin that is no URL).
    #[error("relying party: {0}")]
    RelyingParty(String),
    /// The browser's response is malformed or does not verify.
    #[error("rejected: {0}")]
    Rejected(String),
    /// Stored state or credential no longer parses.
    #[error("corrupt: {0}")]
    Corrupt(String),
}

pub trait PasskeyVerifier: Send + Sync {
    /// Options to create a discoverable passkey (resident key, user verification required),
    /// excluding the credentials the user already has.
    fn start_registration(&self, rp: &RelyingParty, user: &PasskeyUser, exclude: &[Vec<u8>]) -> Result<PasskeyChallenge, PasskeyError>;
    /// Verifies the browser's `PublicKeyCredential` (JSON) against the ceremony's state.
    fn finish_registration(&self, rp: &RelyingParty, response: &serde_json::Value, state: &[u8]) -> Result<RegisteredPasskey, PasskeyError>;
    /// Options for a sign-in with any discoverable passkey of this RP (no user name).
    fn start_sign_in(&self, rp: &RelyingParty) -> Result<PasskeyChallenge, PasskeyError>;
    /// The user handle and credential id an assertion claims (not yet verified), to find the
    /// stored credential.
    fn identify(&self, response: &serde_json::Value) -> Result<(uuid::Uuid, Vec<u8>), PasskeyError>;
    /// Verifies an assertion with the stored credential (signature, challenge, origin, user
    /// verification, counter). Returns the credential to store back when its counter moved.
    fn finish_sign_in(&self, rp: &RelyingParty, response: &serde_json::Value, state: &[u8], credential: &[u8]) -> Result<Option<Vec<u8>>, PasskeyError>;
}
