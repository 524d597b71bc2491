//! argon2id password hashing, kept off the async workers.
//!
//! Each hash takes ~40 ms of CPU and 19 MiB of memory, so it runs on tokio's blocking pool
//! behind a semaphore sized to the cores: memory stays bounded and request handling stays
//! responsive under a sign-in storm.

use argon2::password_hash::{PasswordHash as Phc, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use atrium_core::domain::PasswordHash;
use atrium_core::ports::{PasswordHasher, Rng, StoreError};
use atrium_core::secret::Secret;
use std::sync::Arc;
use tokio::sync::{OnceCell, Semaphore};

pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
    rng: Arc<dyn Rng>,
    params: Params,
    /// A hash of a random password, verified against when the user does not exist.
    dummy: OnceCell<String>,
}

impl Argon2Hasher {
    /// OWASP's first recommendation: m = 19 MiB, t = 2, p = 1 (argon2's defaults).
    pub fn new(rng: Arc<dyn Rng>) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self { permits: Arc::new(Semaphore::new(cores)), rng, params: Params::default(), dummy: OnceCell::new() }
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, StoreError> {
        let _permit = self.permits.acquire().await.map_err(|e| StoreError::Backend(e.to_string()))?;
        tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::Backend(format!("password hashing task failed: {e}")))
    }

    async fn hash_raw(&self, password: &Secret) -> Result<String, StoreError> {
        let mut salt = [0u8; 16];
        self.rng.fill(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Backend(e.to_string()))?;
        let pw = password.clone();
        let params = self.params.clone();
        self.run(move || {
            Self::argon2(params)
                .hash_password(pw.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| StoreError::Backend(format!("argon2: {e}")))
        })
        .await?
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Secret) -> Result<PasswordHash, StoreError> {
        self.hash_raw(password).await.map(PasswordHash)
    }

    async fn verify(&self, password: &Secret, hash: Option<&PasswordHash>) -> Result<bool, StoreError> {
        let (phc, real) = match hash {
            Some(h) => (h.0.clone(), true),
            None => {
                let dummy = self
                    .dummy
                    .get_or_try_init(|| async {
                        let mut r = [0u8; 24];
                        self.rng.fill(&mut r);
                        self.hash_raw(&Secret::new(format!("{r:?}"))).await
                    })
                    .await?;
                (dummy.clone(), false)
            }
        };
        let pw = password.clone();
        let ok = self
            .run(move || {
                let parsed = Phc::new(&phc).map_err(|e| StoreError::Corrupt(format!("password hash: {e}")))?;
                // The parameters come from the stored PHC string, so older hashes keep verifying.
                Ok::<_, StoreError>(Argon2::default().verify_password(pw.expose().as_bytes(), &parsed).is_ok())
            })
            .await??;
        Ok(ok && real)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OsRng;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let h = Argon2Hasher::new(Arc::new(OsRng));
        let hash = h.hash(&Secret::new("Passw0rd!")).await.unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(h.verify(&Secret::new("Passw0rd!"), Some(&hash)).await.unwrap());
        assert!(!h.verify(&Secret::new("passw0rd!"), Some(&hash)).await.unwrap());
        assert!(!h.verify(&Secret::new("Passw0rd!"), None).await.unwrap());
    }
}
