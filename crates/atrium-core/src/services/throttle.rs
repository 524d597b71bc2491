//! Throttling: fixed-window counters kept in the database (table `throttle`), so every node on
//! one PostgreSQL sees the same counts. A window is `window_seconds` long and aligned to the
//! epoch; a scope over its limit is refused with `throttled` (429) until the window ends, and
//! the reply says how long that is (`Retry-After`).
//!
//! What is counted, and where:
//! - failed client authentication at the token endpoint, per client id and per source address
//!   (checked before the secret is compared, counted when it is wrong);
//! - failed sign-ins per source address (the API, the console, the authorize page, ROPC, the
//!   sign-in of a tenant association): a slot is taken before the password is checked and
//!   given back when it was right, so concurrent guesses cannot all pass one check; per user
//!   the lockout counter on the user's row does this job (see `auth.rs`);
//! - SCIM writes per provisioning token, and Graph writes per caller (every write counts).

use super::Services;
use crate::error::Error;
use crate::time::Timestamp;

/// Limits per window; 0 turns a scope off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub window_seconds: i64,
    /// Failed client authentications (wrong client secrets) per client id.
    pub client_auth_per_client: i64,
    /// Failed client authentications per source address.
    pub client_auth_per_address: i64,
    /// Failed sign-ins (wrong password, unknown or locked account) per source address.
    pub sign_in_per_address: i64,
    /// SCIM writes (POST, PUT, PATCH, DELETE) per provisioning token.
    pub scim_writes_per_token: i64,
    /// Graph writes per caller: an application (all its tokens) or a user's session.
    pub graph_writes_per_token: i64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self { window_seconds: 60, client_auth_per_client: 20, client_auth_per_address: 30, sign_in_per_address: 30, scim_writes_per_token: 600, graph_writes_per_token: 600 }
    }
}

/// What a counter counts. The name is the `scope` column and the metric's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    ClientAuthPerClient,
    ClientAuthPerAddress,
    SignInPerAddress,
    ScimWritesPerToken,
    GraphWritesPerToken,
}

impl ThrottleScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientAuthPerClient => "client_auth_client",
            Self::ClientAuthPerAddress => "client_auth_address",
            Self::SignInPerAddress => "sign_in_address",
            Self::ScimWritesPerToken => "scim_writes_token",
            Self::GraphWritesPerToken => "graph_writes_token",
        }
    }

    fn limit(self, l: &ThrottleLimits) -> i64 {
        match self {
            Self::ClientAuthPerClient => l.client_auth_per_client,
            Self::ClientAuthPerAddress => l.client_auth_per_address,
            Self::SignInPerAddress => l.sign_in_per_address,
            Self::ScimWritesPerToken => l.scim_writes_per_token,
            Self::GraphWritesPerToken => l.graph_writes_per_token,
        }
    }
}

/// A counted attempt that is given back if it succeeds (see [`Services::throttle_reserve`]).
#[derive(Debug)]
pub(crate) struct ThrottleSlot {
    scope: ThrottleScope,
    key: String,
    window_start: Timestamp,
}

/// The epoch-aligned window of `seconds` that holds `now`: its start and its end.
pub(crate) fn window(now: Timestamp, seconds: i64) -> (Timestamp, Timestamp) {
    let len = seconds.max(1) * 1000;
    let start = now.as_millis() - now.as_millis().rem_euclid(len);
    (Timestamp::from_millis(start), Timestamp::from_millis(start + len))
}

/// Whole seconds from `now` until `end`, at least 1.
pub(crate) fn seconds_until(now: Timestamp, end: Timestamp) -> u64 {
    u64::try_from((end.as_millis() - now.as_millis() + 999) / 1000).unwrap_or(1).max(1)
}

impl Services {
    /// Refuses with `throttled` when `(scope, key)` has reached its limit in this window. Only
    /// reads: the caller counts what should count with [`Services::throttle_hit`].
    pub async fn throttle_check(&self, scope: ThrottleScope, key: &str) -> Result<(), Error> {
        let limit = scope.limit(&self.policy.throttle);
        if limit <= 0 {
            return Ok(());
        }
        let now = self.clock.now();
        let (start, end) = window(now, self.policy.throttle.window_seconds);
        let mut tx = self.read().await?;
        if tx.throttle_count(scope.as_str(), key, start).await? >= limit {
            return Err(Error::throttled(scope.as_str(), seconds_until(now, end)));
        }
        Ok(())
    }

    /// [`Services::throttle_check`] on a handle the caller already holds.
    pub(crate) async fn throttle_check_in(&self, tx: &mut dyn crate::ports::Tx, scope: ThrottleScope, key: &str) -> Result<(), Error> {
        let limit = scope.limit(&self.policy.throttle);
        if limit <= 0 {
            return Ok(());
        }
        let now = self.clock.now();
        let (start, end) = window(now, self.policy.throttle.window_seconds);
        if tx.throttle_count(scope.as_str(), key, start).await? >= limit {
            return Err(Error::throttled(scope.as_str(), seconds_until(now, end)));
        }
        Ok(())
    }

    /// Counts one hit of `(scope, key)` in this window (in its own transaction, so it stays
    /// counted whatever the request does next).
    pub async fn throttle_hit(&self, scope: ThrottleScope, key: &str) -> Result<(), Error> {
        if scope.limit(&self.policy.throttle) <= 0 {
            return Ok(());
        }
        self.count_hit(scope.as_str(), key, self.policy.throttle.window_seconds).await.map(|_| ())
    }

    /// Counts one hit and refuses it when it is over the limit: for scopes where every request
    /// counts (SCIM writes), so concurrent requests cannot all pass one check.
    pub async fn throttle_take(&self, scope: ThrottleScope, key: &str) -> Result<(), Error> {
        let limit = scope.limit(&self.policy.throttle);
        if limit <= 0 {
            return Ok(());
        }
        let (hits, retry_after) = self.count_hit(scope.as_str(), key, self.policy.throttle.window_seconds).await?;
        if hits > limit {
            return Err(Error::throttled(scope.as_str(), retry_after));
        }
        Ok(())
    }

    /// Takes a slot of `(scope, key)` before an attempt of which only failures should count
    /// (sign-ins per address): counted at once, in one statement, and refused over the limit,
    /// so concurrent attempts cannot all pass one check. Give the slot back with
    /// [`Services::throttle_release`] when the attempt succeeded.
    pub(crate) async fn throttle_reserve(&self, scope: ThrottleScope, key: &str) -> Result<Option<ThrottleSlot>, Error> {
        let limit = scope.limit(&self.policy.throttle);
        if limit <= 0 {
            return Ok(None);
        }
        let now = self.clock.now();
        let (start, end) = window(now, self.policy.throttle.window_seconds);
        let mut tx = self.write().await?;
        let hits = tx.throttle_hit(scope.as_str(), key, start, end).await?;
        if hits > limit {
            // Not committed: a refused attempt does not count (the window is full anyway).
            return Err(Error::throttled(scope.as_str(), seconds_until(now, end)));
        }
        tx.commit().await?;
        Ok(Some(ThrottleSlot { scope, key: key.to_owned(), window_start: start }))
    }

    /// Gives back a slot taken by [`Services::throttle_reserve`]: the attempt did not fail.
    pub(crate) async fn throttle_release(&self, slot: Option<ThrottleSlot>) -> Result<(), Error> {
        let Some(slot) = slot else { return Ok(()) };
        let mut tx = self.write().await?;
        tx.throttle_refund(slot.scope.as_str(), &slot.key, slot.window_start).await?;
        tx.commit().await.map_err(Error::from)
    }

    /// Counts one write of a Graph caller (an application, or a user's session) and refuses it
    /// over `graph_writes_per_token`. The Graph adapter calls it once per write request, as
    /// the SCIM adapter does for provisioning writes.
    pub async fn throttle_graph_write(&self, actor: &crate::actor::Actor) -> Result<(), Error> {
        // An application is counted across all its tokens (a new token must not reset it).
        let key = match actor.application {
            Some(app) => format!("app:{app}"),
            None => format!("session:{}", actor.session_id),
        };
        self.throttle_take(ThrottleScope::GraphWritesPerToken, &key).await
    }

    /// Counts one SCIM write (POST, PUT, PATCH, DELETE) of a provisioning token and refuses it
    /// over `throttle_scim_writes_per_token`. The SCIM adapter calls it once per write request.
    pub async fn throttle_provisioning_write(&self, p: &super::provisioning::Provisioner) -> Result<(), Error> {
        self.throttle_take(ThrottleScope::ScimWritesPerToken, &p.token_id.to_string()).await
    }

    /// Counts a hit in the window of `seconds`; returns the count and the seconds left in it.
    pub(crate) async fn count_hit(&self, scope: &str, key: &str, seconds: i64) -> Result<(i64, u64), Error> {
        let now = self.clock.now();
        let (start, end) = window(now, seconds);
        let mut tx = self.write().await?;
        let hits = tx.throttle_hit(scope, key, start, end).await?;
        tx.commit().await?;
        Ok((hits, seconds_until(now, end)))
    }

    /// Deletes the counters of past windows; run periodically by the server.
    pub async fn purge_throttle(&self) -> Result<u64, Error> {
        let mut tx = self.write().await?;
        let n = tx.purge_throttle(self.clock.now()).await?;
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_retry_after_is_rounded_up() {
        let (s, e) = window(Timestamp::from_millis(125_500), 60);
        assert_eq!((s.as_millis(), e.as_millis()), (120_000, 180_000));
        assert_eq!(seconds_until(Timestamp::from_millis(125_500), e), 55);
        assert_eq!(seconds_until(Timestamp::from_millis(179_999), e), 1);
    }
}
