//! Token signing: RS256 keys generated with aws-lc-rs, stored encrypted with the master key,
//! kept parsed in memory, and published as a JWKS.
//!
//! Parsing an RSA key costs ~200 µs and `jsonwebtoken::encode` re-parses it for every token,
//! halving throughput; here each key is parsed once when the ring is loaded.

use atrium_core::model::SigningKey;
use atrium_core::ports::{Rng, SecretSealer, StoreError, TokenSigner};
use atrium_core::time::Timestamp;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("master key: {0}")]
    Master(String),
    #[error("signing key {kid}: {reason}")]
    Key { kid: String, reason: String },
    #[error("key generation failed: {0}")]
    Generate(String),
}

/// The key that encrypts signing keys at rest (AES-256-GCM). It comes from the config or from
/// `master.key` in the data dir; every node of a deployment needs the same one.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// Parses 32 bytes in standard base64.
    pub fn from_base64(s: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD.decode(s.trim()).map_err(|e| KeyError::Master(format!("not base64: {e}")))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Master("must be 32 bytes (44 base64 characters)".into()))?;
        Ok(Self(arr))
    }

    /// Reads the key file, creating it (mode 0600) with a random key the first time.
    pub fn load_or_create(path: &Path, rng: &dyn Rng) -> Result<Self, KeyError> {
        match std::fs::read_to_string(path) {
            Ok(s) => Self::from_base64(&s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rng.fill(&mut key);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| KeyError::Master(format!("{}: {e}", dir.display())))?;
                }
                std::fs::write(path, STANDARD.encode(key)).map_err(|e| KeyError::Master(format!("{}: {e}", path.display())))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| KeyError::Master(format!("{}: {e}", path.display())))?;
                }
                Ok(Self(key))
            }
            Err(e) => Err(KeyError::Master(format!("{}: {e}", path.display()))),
        }
    }

    fn cipher(&self) -> Result<LessSafeKey, KeyError> {
        UnboundKey::new(&AES_256_GCM, &self.0).map(LessSafeKey::new).map_err(|_| KeyError::Master("bad key".into()))
    }

    /// `nonce || ciphertext || tag`.
    pub fn seal(&self, rng: &dyn Rng, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.seal_for(rng, SIGNING_KEY_AAD, plaintext)
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.open_for(SIGNING_KEY_AAD, sealed)
    }

    /// Seals a value for `aad` (what it is and whose): it opens only with the same `aad`.
    pub fn seal_for(&self, rng: &dyn Rng, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let mut data = plaintext.to_vec();
        self.cipher()?
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut data)
            .map_err(|_| KeyError::Master("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(out)
    }

    pub fn open_for(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(KeyError::Master("ciphertext too short".into()));
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Master("bad nonce".into()))?;
        let mut data = rest.to_vec();
        let plain = self
            .cipher()?
            .open_in_place(nonce, Aad::from(aad), &mut data)
            .map_err(|_| KeyError::Master("cannot decrypt a stored secret: the master key is not the one it was encrypted with".into()))?;
        Ok(plain.to_vec())
    }
}

const SIGNING_KEY_AAD: &[u8] = b"atrium-signing-key";

/// The services' [`SecretSealer`] (TOTP secrets): the master key's AES-256-GCM, with a fresh
/// random nonce per value.
pub struct MasterSealer {
    key: MasterKey,
    rng: Arc<dyn Rng>,
}

impl MasterSealer {
    pub fn new(key: MasterKey, rng: Arc<dyn Rng>) -> Self {
        Self { key, rng }
    }
}

impl SecretSealer for MasterSealer {
    fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.key.seal_for(self.rng.as_ref(), context, plaintext).map_err(|e| StoreError::Backend(e.to_string()))
    }

    fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.key.open_for(context, sealed).map_err(|e| StoreError::Backend(e.to_string()))
    }
}

/// Generates an RS256 key with a self-signed certificate (for `x5c`/`x5t`). Slow (~100 ms):
/// call it off the async workers.
pub fn generate_signing_key(master: &MasterKey, rng: &dyn Rng, now: Timestamp) -> Result<SigningKey, KeyError> {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| KeyError::Generate(e.to_string()))?;
    let pkcs8 = key.as_der().map_err(|e| KeyError::Generate(e.to_string()))?;
    let pkcs8 = pkcs8.as_ref().to_vec();
    let rc_key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
        &rcgen::PKCS_RSA_SHA256,
    )
    .map_err(|e| KeyError::Generate(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| KeyError::Generate(e.to_string()))?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "Atrium token signing");
    let secs = now.as_millis() / 1000;
    if let (Ok(a), Ok(b)) = (
        time::OffsetDateTime::from_unix_timestamp(secs - 86_400),
        time::OffsetDateTime::from_unix_timestamp(secs + 5 * 365 * 86_400),
    ) {
        params.not_before = a;
        params.not_after = b;
    }
    let cert = params.self_signed(&rc_key).map_err(|e| KeyError::Generate(e.to_string()))?;
    let der = cert.der().to_vec();
    Ok(SigningKey {
        kid: x5t(&der),
        private_key_encrypted: master.seal(rng, &pkcs8)?,
        certificate_der: der,
        created_at: now,
        retired_at: None,
    })
}

/// base64url of the certificate's SHA-1: Entra's `x5t`, also used as `kid`.
fn x5t(cert_der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der))
}

struct LoadedKey {
    kid: String,
    pair: RsaKeyPair,
    header_b64: String,
}

/// The keys in use: the newest signs; all are published.
pub struct KeyRing {
    active: Option<LoadedKey>,
    jwks: Vec<Value>,
    /// (kid, n, e) of every published key, for verifying our own tokens.
    public: Vec<(String, Vec<u8>, Vec<u8>)>,
}

impl KeyRing {
    /// Decrypts and parses `keys` (newest first, as the store lists them).
    pub fn load(master: &MasterKey, keys: &[SigningKey]) -> Result<Self, KeyError> {
        let mut active = None;
        let mut jwks = Vec::new();
        let mut public_keys = Vec::new();
        for k in keys {
            let pkcs8 = master.open(&k.private_key_encrypted).map_err(|e| KeyError::Key { kid: k.kid.clone(), reason: e.to_string() })?;
            let pair = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|e| KeyError::Key { kid: k.kid.clone(), reason: e.to_string() })?;
            let public = pair.public_key();
            public_keys.push((
                k.kid.clone(),
                public.modulus().big_endian_without_leading_zero().to_vec(),
                public.exponent().big_endian_without_leading_zero().to_vec(),
            ));
            jwks.push(json!({
                "kty": "RSA",
                "use": "sig",
                "kid": k.kid,
                "x5t": k.kid,
                "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                "x5c": [STANDARD.encode(&k.certificate_der)],
            }));
            if active.is_none() && k.retired_at.is_none() {
                let header = json!({"typ": "JWT", "alg": "RS256", "kid": k.kid, "x5t": k.kid});
                active = Some(LoadedKey { kid: k.kid.clone(), pair, header_b64: URL_SAFE_NO_PAD.encode(header.to_string()) });
            }
        }
        Ok(Self { active, jwks, public: public_keys })
    }

    pub fn active_kid(&self) -> Option<&str> {
        self.active.as_ref().map(|k| k.kid.as_str())
    }

    /// The JWKS keys, each with `issuer` filled in per tenant by the caller.
    pub fn jwks(&self) -> &[Value] {
        &self.jwks
    }

    /// Verifies an RS256 JWT signed by one of the published keys.
    pub fn verify(&self, jwt: &str) -> Option<Value> {
        let mut parts = jwt.split('.');
        let (h, p, sig) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        if header["alg"] != "RS256" {
            return None;
        }
        let kid = header["kid"].as_str()?;
        let (_, n, e) = self.public.iter().find(|(k, _, _)| k == kid)?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let key = aws_lc_rs::signature::RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() };
        key.verify(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, format!("{h}.{p}").as_bytes(), &sig).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
    }

    fn sign(&self, claims: &Value) -> Result<String, StoreError> {
        let key = self.active.as_ref().ok_or_else(|| StoreError::Backend("no active signing key".into()))?;
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|e| StoreError::Backend(e.to_string()))?);
        let signing_input = format!("{}.{payload}", key.header_b64);
        let mut sig = vec![0u8; key.pair.public_modulus_len()];
        key.pair
            .sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), signing_input.as_bytes(), &mut sig)
            .map_err(|_| StoreError::Backend("RS256 signing failed".into()))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// A [`TokenSigner`] whose key ring can be swapped while running (after a rotation).
#[derive(Clone)]
pub struct SharedKeyRing(Arc<RwLock<Arc<KeyRing>>>);

impl SharedKeyRing {
    pub fn new(ring: KeyRing) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(ring))))
    }

    pub fn current(&self) -> Arc<KeyRing> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn replace(&self, ring: KeyRing) {
        match self.0.write() {
            Ok(mut g) => *g = Arc::new(ring),
            Err(p) => *p.into_inner() = Arc::new(ring),
        }
    }
}

impl TokenSigner for SharedKeyRing {
    fn sign(&self, claims: &Value) -> Result<String, StoreError> {
        self.current().sign(claims)
    }

    fn verify(&self, jwt: &str) -> Option<Value> {
        self.current().verify(jwt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OsRng;

    #[test]
    fn signs_verifiable_rs256() {
        let master = MasterKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let key = generate_signing_key(&master, &OsRng, Timestamp::from_millis(1_764_000_000_000)).unwrap();
        assert!(!key.private_key_encrypted.windows(5).any(|w| w == b"RSA P"), "stored encrypted");
        let ring = KeyRing::load(&master, std::slice::from_ref(&key)).unwrap();
        assert_eq!(ring.active_kid(), Some(key.kid.as_str()));
        let jwt = ring.sign(&json!({"sub": "x"})).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let jwk = &ring.jwks()[0];
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
        let public = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        public
            .verify(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        assert_eq!(ring.verify(&jwt).unwrap()["sub"], "x");
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(br#"{"sub":"y"}"#), parts[2]);
        assert!(ring.verify(&tampered).is_none(), "a changed payload fails verification");
        // Another master key cannot open it.
        let other = MasterKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(KeyRing::load(&other, &[key]).is_err());
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_context() {
        let master = MasterKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let sealer = MasterSealer::new(master, Arc::new(OsRng));
        let secret = b"12345678901234567890";
        let a = sealer.seal(b"atrium-totp-secret:alice", secret).unwrap();
        assert!(!a.windows(secret.len()).any(|w| w == secret), "not stored as is");
        assert_ne!(sealer.seal(b"atrium-totp-secret:alice", secret).unwrap(), a, "a fresh nonce each time");
        assert_eq!(sealer.open(b"atrium-totp-secret:alice", &a).unwrap(), secret);
        // Copied to another user's row, or opened with another master key: refused.
        assert!(sealer.open(b"atrium-totp-secret:bob", &a).is_err());
        let other = MasterSealer::new(MasterKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap(), Arc::new(OsRng));
        assert!(other.open(b"atrium-totp-secret:alice", &a).is_err());
    }
}
