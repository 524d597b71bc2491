//! Token-signing keys in the store.

use crate::error::Error;
use crate::model::SigningKey;
use crate::services::{Services, details};
use crate::time::Timestamp;

impl Services {
    /// Keys to load: the active ones, and retired ones whose tokens may still be in use.
    pub async fn signing_keys(&self, now: Timestamp) -> Result<Vec<SigningKey>, Error> {
        // A token lives `access_token_seconds`; keep five minutes of clock skew on top.
        let cutoff = now.plus_seconds(-(self.policy.access_token_seconds + 300));
        let mut tx = self.read().await?;
        tx.list_signing_keys(cutoff).await.map_err(Error::from)
    }

    /// Stores a new key; with `retire_others`, it becomes the only active key (a rotation).
    pub async fn add_signing_key(&self, key: SigningKey, retire_others: bool) -> Result<(), Error> {
        let mut tx = self.write().await?;
        tx.insert_signing_key(&key).await?;
        if retire_others {
            tx.retire_signing_keys(&key.kid, key.created_at).await?;
        }
        tx.insert_audit(&self.audit(
            None,
            if retire_others { "signing_key.rotate" } else { "signing_key.create" },
            "signing_key",
            &key.kid,
            None,
            details(&[]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }
}
