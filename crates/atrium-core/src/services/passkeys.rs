//! Passkeys (WebAuthn): a user registers several, names, renames and removes them, and signs
//! in with one without a password, on the API, the console and the authorize page.
//!
//! The WebAuthn checks themselves are behind [`PasskeyVerifier`] (see `ports/passkeys.rs`);
//! the rules are here. A ceremony's state lives in the database (any node may finish what
//! another began), is taken once by one `DELETE ... RETURNING`, and expires after
//! [`CEREMONY_SECONDS`] by the injected clock. A passkey needs user verification (PIN or
//! biometric), so it satisfies multi-factor sign-in by itself: tokens say `amr: ["fido","mfa"]`
//! and `acr: "2"`.
//!
//! Password lockout does not block a passkey: lockout counts password guesses, and a passkey
//! cannot be guessed. The real user of an account under a password-spraying attack still gets in.

use super::{Services, authz, details};
use crate::actor::Actor;
use crate::error::{Error, ErrorCode};
use crate::ids::{PasskeyCeremonyId, PasskeyId, TenantId};
use crate::model::{Passkey, PasskeyCeremony, PasskeyCeremonyKind, Tenant, User};
use crate::ports::{PasskeyError, PasskeyUser, PasskeyVerifier, RelyingParty, StoreError};
use std::sync::Arc;

/// How long a started registration or sign-in waits for the browser.
pub const CEREMONY_SECONDS: i64 = 300;
/// The longest passkey name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// What authenticators show as the site's name.
const RP_NAME: &str = "Atrium";

/// A started ceremony: its id (sent back with the browser's answer) and the options for
/// `navigator.credentials.create()`/`get()` (`{"publicKey": {...}}`).
#[derive(Debug, Clone)]
pub struct StartedCeremony {
    pub id: PasskeyCeremonyId,
    pub options: serde_json::Value,
    pub expires_in: i64,
}

/// The relying party of a server reached at `base_url` (`https://host[:port][/...]`): the RP
/// id is the host, the origin is scheme, host and port. Browsers refuse IP addresses as RP
/// ids, so those are refused here with a message saying what to do.
pub fn relying_party(base_url: &str) -> Result<RelyingParty, Error> {
    let unavailable = |m: &str| Error::new(ErrorCode::PasskeysUnavailable).with_message(m.to_owned());
    let (scheme, rest) = base_url.split_once("://").ok_or_else(|| unavailable("The server's public URL is not a URL."))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err(unavailable("The server's public URL has no host."));
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Err(unavailable(
            "Passkeys need the server to be reached by a host name, not an IP address (browsers refuse IP addresses as relying parties): use https://localhost:<port> or set public_url.",
        ));
    }
    Ok(RelyingParty { id: host.to_ascii_lowercase(), origin: format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()), name: RP_NAME.into() })
}

/// A passkey name: trimmed, 1–64 characters, no control characters.
pub fn parse_name(name: &str) -> Result<String, Error> {
    let n = name.trim();
    let count = n.chars().count();
    if count == 0 || count > MAX_NAME_CHARS || n.chars().any(char::is_control) {
        return Err(Error::new(ErrorCode::InvalidName)
            .with_message(format!("A passkey's name is 1 to {MAX_NAME_CHARS} characters, without control characters."))
            .with_target("name"));
    }
    Ok(n.to_owned())
}

/// The first free default name, "Passkey N" with N at least one more than the passkeys held.
fn default_name(existing: &[Passkey]) -> String {
    (existing.len() + 1..).map(|n| format!("Passkey {n}")).find(|c| !existing.iter().any(|p| &p.name == c)).unwrap_or_default()
}

fn ceremony_gone() -> Error {
    Error::new(ErrorCode::PasskeyCeremonyNotFound).with_target("ceremonyId")
}

fn rejected(e: PasskeyError) -> Error {
    match e {
        PasskeyError::RelyingParty(m) => Error::new(ErrorCode::PasskeysUnavailable).with_message(m),
        PasskeyError::Rejected(_) => Error::new(ErrorCode::PasskeyRejected).with_target("credential"),
        PasskeyError::Corrupt(m) => Error::from(StoreError::Corrupt(m)),
    }
}

impl Services {
    /// Lets the services verify passkeys (the server installs `atrium-crypto`'s verifier).
    pub fn with_passkeys(mut self, verifier: Arc<dyn PasskeyVerifier>) -> Self {
        self.passkeys = Some(verifier);
        self
    }

    fn verifier(&self) -> Result<&Arc<dyn PasskeyVerifier>, Error> {
        self.passkeys.as_ref().ok_or_else(|| Error::new(ErrorCode::Unavailable).with_message("Passkeys are not available on this server."))
    }

    /// Takes a ceremony (single use): it is gone afterwards whatever the outcome, in its own
    /// transaction, so a failed finish cannot be retried with the same challenge.
    async fn take_ceremony(&self, id: &str, kind: PasskeyCeremonyKind) -> Result<PasskeyCeremony, Error> {
        let id = PasskeyCeremonyId::parse(id, "ceremonyId").map_err(|_| ceremony_gone())?;
        let mut tx = self.write().await?;
        let taken = tx.take_passkey_ceremony(id).await?;
        tx.commit().await?;
        taken.filter(|c| c.kind == kind && c.expires_at > self.clock.now()).ok_or_else(ceremony_gone)
    }

    async fn insert_ceremony(&self, kind: PasskeyCeremonyKind, tenant: Option<TenantId>, user: Option<crate::ids::UserId>, state: Vec<u8>) -> Result<PasskeyCeremonyId, Error> {
        let now = self.clock.now();
        let c = PasskeyCeremony {
            id: PasskeyCeremonyId::random(self.rng.as_ref()),
            kind,
            tenant_id: tenant,
            user_id: user,
            state,
            created_at: now,
            expires_at: now.plus_seconds(CEREMONY_SECONDS),
        };
        let mut tx = self.write().await?;
        tx.insert_passkey_ceremony(&c).await?;
        tx.commit().await?;
        Ok(c.id)
    }

    /// The caller's passkeys, oldest first.
    pub async fn list_passkeys(&self, actor: &Actor) -> Result<Vec<Passkey>, Error> {
        authz::person(actor)?;
        let mut tx = self.read().await?;
        Ok(tx.list_passkeys(actor.tenant_id, actor.user_id).await?)
    }

    /// Starts adding a passkey for the caller: the options for `navigator.credentials.create()`.
    pub async fn begin_passkey_registration(&self, actor: &Actor, rp: &RelyingParty) -> Result<StartedCeremony, Error> {
        authz::person(actor)?;
        let (user, _) = self.me(actor).await?;
        let existing = self.list_passkeys(actor).await?;
        let exclude: Vec<Vec<u8>> = existing.into_iter().map(|p| p.credential_id).collect();
        let who = PasskeyUser { handle: user.id.as_uuid(), name: user.upn.as_str().to_owned(), display_name: user.display_name.as_str().to_owned() };
        let challenge = self.verifier()?.start_registration(rp, &who, &exclude).map_err(rejected)?;
        let id = self.insert_ceremony(PasskeyCeremonyKind::Registration, Some(user.tenant_id), Some(user.id), challenge.state).await?;
        Ok(StartedCeremony { id, options: challenge.options, expires_in: CEREMONY_SECONDS })
    }

    /// Finishes adding a passkey: the browser's credential for the caller's own ceremony. The
    /// name defaults to "Passkey N".
    pub async fn finish_passkey_registration(
        &self,
        actor: &Actor,
        rp: &RelyingParty,
        ceremony: &str,
        credential: &serde_json::Value,
        name: Option<&str>,
    ) -> Result<Passkey, Error> {
        authz::person(actor)?;
        let name = name.filter(|n| !n.trim().is_empty()).map(parse_name).transpose()?;
        let c = self.take_ceremony(ceremony, PasskeyCeremonyKind::Registration).await?;
        // Another user's ceremony id is as unknown as a made-up one.
        if c.user_id != Some(actor.user_id) || c.tenant_id != Some(actor.tenant_id) {
            return Err(ceremony_gone());
        }
        let reg = self.verifier()?.finish_registration(rp, credential, &c.state).map_err(rejected)?;
        let now = self.clock.now();
        let mut tx = self.write().await?;
        let existing = tx.list_passkeys(actor.tenant_id, actor.user_id).await?;
        let passkey = Passkey {
            id: PasskeyId::random(self.rng.as_ref()),
            tenant_id: actor.tenant_id,
            user_id: actor.user_id,
            name: name.unwrap_or_else(|| default_name(&existing)),
            credential_id: reg.credential_id,
            credential: reg.credential,
            created_at: now,
            last_used_at: None,
        };
        match tx.insert_passkey(&passkey).await {
            Err(StoreError::Conflict) => return Err(Error::new(ErrorCode::PasskeyAlreadyRegistered).with_target("credential")),
            r => r?,
        }
        tx.insert_audit(&self.audit(Some(actor), "user.passkey.register", "user", actor.user_id, Some(actor.tenant_id), details(&[("passkeyId", &passkey.id.to_string()), ("name", &passkey.name)])))
            .await?;
        tx.commit().await?;
        Ok(passkey)
    }

    /// Renames one of the caller's passkeys.
    pub async fn rename_passkey(&self, actor: &Actor, id: &str, name: &str) -> Result<Passkey, Error> {
        authz::person(actor)?;
        let id = PasskeyId::parse(id, "passkeyId")?;
        let name = parse_name(name)?;
        let mut tx = self.write().await?;
        if !tx.rename_passkey(actor.tenant_id, actor.user_id, id, &name).await? {
            return Err(Error::new(ErrorCode::PasskeyNotFound).with_target("passkeyId"));
        }
        let renamed = tx.list_passkeys(actor.tenant_id, actor.user_id).await?.into_iter().find(|p| p.id == id).ok_or_else(|| Error::new(ErrorCode::PasskeyNotFound).with_target("passkeyId"))?;
        tx.insert_audit(&self.audit(Some(actor), "user.passkey.rename", "user", actor.user_id, Some(actor.tenant_id), details(&[("passkeyId", &id.to_string()), ("name", &name)]))).await?;
        tx.commit().await?;
        Ok(renamed)
    }

    /// Removes one of the caller's passkeys.
    pub async fn delete_passkey(&self, actor: &Actor, id: &str) -> Result<(), Error> {
        authz::person(actor)?;
        let id = PasskeyId::parse(id, "passkeyId")?;
        let mut tx = self.write().await?;
        if !tx.delete_passkey(actor.tenant_id, actor.user_id, id).await? {
            return Err(Error::new(ErrorCode::PasskeyNotFound).with_target("passkeyId"));
        }
        tx.insert_audit(&self.audit(Some(actor), "user.passkey.delete", "user", actor.user_id, Some(actor.tenant_id), details(&[("passkeyId", &id.to_string())]))).await?;
        tx.commit().await.map_err(Error::from)
    }

    /// Starts a sign-in with a passkey (no user name: the authenticator offers the passkeys it
    /// holds for this site). `tenant` (GUID or domain) limits it to that tenant's users, as
    /// the authorize page does.
    pub async fn begin_passkey_sign_in(&self, rp: &RelyingParty, tenant: Option<&str>) -> Result<StartedCeremony, Error> {
        let tenant = match tenant.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(self.resolve_tenant(t).await.map_err(|e| if e.code == ErrorCode::TenantNotFound { e.with_target("tenant") } else { e })?.id),
            None => None,
        };
        let challenge = self.verifier()?.start_sign_in(rp).map_err(rejected)?;
        let id = self.insert_ceremony(PasskeyCeremonyKind::SignIn, tenant, None, challenge.state).await?;
        Ok(StartedCeremony { id, options: challenge.options, expires_in: CEREMONY_SECONDS })
    }

    /// Signs in with a passkey: the same session a password (and second factor) gives.
    pub async fn passkey_sign_in(&self, rp: &RelyingParty, ceremony: &str, assertion: &serde_json::Value) -> Result<super::SignedIn, Error> {
        let (tenant, user) = self.verify_passkey(rp, ceremony, assertion, None, None).await?;
        self.start_session(tenant, user, super::Amr::Passkey).await
    }

    /// Checks a passkey assertion against its ceremony and returns who signed in. With
    /// `page_tenant` (the authorize page), the ceremony must have been begun for that tenant.
    /// A ceremony bound to a tenant accepts only passkeys of that tenant's users. Every
    /// verdict about a known tenant is written to the sign-in log.
    pub(crate) async fn verify_passkey(
        &self,
        rp: &RelyingParty,
        ceremony: &str,
        assertion: &serde_json::Value,
        page_tenant: Option<&Tenant>,
        app: Option<&crate::model::Application>,
    ) -> Result<(Tenant, User), Error> {
        let c = self.take_ceremony(ceremony, PasskeyCeremonyKind::SignIn).await?;
        if page_tenant.is_some_and(|t| c.tenant_id != Some(t.id)) {
            return Err(ceremony_gone());
        }
        // Where a failure is filed when the passkey names no known user.
        let only_tenant = c.tenant_id;
        let verifier = self.verifier()?;
        let invalid = || Error::new(ErrorCode::InvalidPasskey).with_target("credential");
        let (handle, credential_id) = match verifier.identify(assertion) {
            Ok(v) => v,
            Err(_) => {
                if let Some(t) = only_tenant {
                    self.log_sign_in(self.passkey_sign_in_entry(t, None, app, Some(&invalid()))).await;
                }
                return Err(invalid());
            }
        };
        let (passkey, tenant, user) = {
            let mut tx = self.read().await?;
            let passkey = tx.find_passkey_by_credential_id(&credential_id).await?.filter(|p| p.user_id.as_uuid() == handle);
            let tenant = match &passkey {
                Some(p) => tx.get_tenant(p.tenant_id).await?,
                None => None,
            };
            let user = match &passkey {
                Some(p) => tx.get_user(p.tenant_id, p.user_id).await?,
                None => None,
            };
            (passkey, tenant, user)
        };
        let (Some(passkey), Some(tenant), Some(user)) = (passkey, tenant, user) else {
            // Unknown to us: logged under the page's tenant when there is one (otherwise no
            // tenant is known to file it under).
            if let Some(t) = only_tenant {
                self.log_sign_in(self.passkey_sign_in_entry(t, None, app, Some(&invalid()))).await;
            }
            return Err(invalid());
        };
        if only_tenant.is_some_and(|t| t != tenant.id) {
            let e = Error::new(ErrorCode::InvalidPasskey).with_message("This passkey belongs to a user of another organization.").with_target("credential");
            return Err(self.passkey_failure(&tenant, &user, app, e).await);
        }
        if !user.enabled {
            return Err(self.passkey_failure(&tenant, &user, app, ErrorCode::AccountDisabled.into()).await);
        }
        let updated = match verifier.finish_sign_in(rp, assertion, &c.state, &passkey.credential) {
            Ok(u) => u,
            Err(PasskeyError::Corrupt(m)) => return Err(StoreError::Corrupt(m).into()),
            Err(_) => return Err(self.passkey_failure(&tenant, &user, app, invalid()).await),
        };
        let now = self.clock.now();
        let mut tx = self.write().await?;
        // A passkey removed while it was being used no longer signs in.
        if !tx.record_passkey_use(passkey.id, updated.as_deref().unwrap_or(&passkey.credential), now).await? {
            drop(tx);
            return Err(self.passkey_failure(&tenant, &user, app, invalid()).await);
        }
        tx.insert_audit(&self.audit(None, "user.passkey.sign_in", "user", user.id, Some(tenant.id), details(&[("passkeyId", &passkey.id.to_string())]))).await?;
        tx.commit().await?;
        self.log_sign_in(self.passkey_sign_in_entry(tenant.id, Some(&user), app, None)).await;
        Ok((tenant, user))
    }

    /// Logs a failed passkey sign-in of a known user and hands the error back.
    async fn passkey_failure(&self, tenant: &Tenant, user: &User, app: Option<&crate::model::Application>, e: Error) -> Error {
        self.log_sign_in(self.passkey_sign_in_entry(tenant.id, Some(user), app, Some(&e))).await;
        e
    }

    /// Deletes expired ceremonies; run periodically by the server.
    pub async fn purge_passkey_ceremonies(&self) -> Result<u64, Error> {
        let mut tx = self.write().await?;
        let n = tx.purge_passkey_ceremonies(self.clock.now()).await?;
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relying_party_is_the_host_of_the_base_url() {
        let rp = relying_party("https://Login.Example.com:8443/base").ok();
        assert_eq!(rp.as_ref().map(|r| r.id.as_str()), Some("login.example.com"));
        assert_eq!(rp.as_ref().map(|r| r.origin.as_str()), Some("https://login.example.com:8443"));
        assert_eq!(relying_party("https://localhost:1234").ok().map(|r| r.id), Some("localhost".to_owned()));
        for ip in ["https://127.0.0.1:8443", "https://[::1]:8443", "https://10.0.0.1"] {
            assert_eq!(relying_party(ip).err().map(|e| e.code), Some(ErrorCode::PasskeysUnavailable), "{ip}");
        }
    }

    #[test]
    fn names_are_1_to_64_characters() {
        assert_eq!(parse_name("  Laptop  ").ok().as_deref(), Some("Laptop"));
        assert_eq!(parse_name(&"é".repeat(64)).ok().map(|n| n.chars().count()), Some(64));
        for bad in ["", "   ", "a\nb"] {
            assert_eq!(parse_name(bad).err().and_then(|e| e.target), Some("name".to_owned()), "{bad:?}");
        }
        assert!(parse_name(&"x".repeat(65)).is_err());
    }
}
