//! Sign-in with a tenant's username and password, server-side sessions, sign-out, lockout and
//! password change.

use super::users::find_user;
use super::{Services, authz, details};
use crate::actor::Actor;
use crate::domain::{Password, Upn};
use crate::error::{Error, ErrorCode};
use crate::ids::SessionId;
use crate::model::{Session, Tenant, User};
use crate::ports::SignInReservation;
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Prefix of session tokens, so a leaked token is recognisable (e.g. by secret scanners).
const TOKEN_PREFIX: &str = "atrs_";

/// The throttle scope that counts failed sign-ins of unknown user names (see
/// [`Services::verify_credentials`]); its window is the lockout period.
const UNKNOWN_USER_SCOPE: &str = "unknown_user";

#[derive(Debug, Clone)]
pub struct SignIn {
    /// The tenant's GUID or domain.
    pub tenant: String,
    /// A userPrincipalName, or just the alias.
    pub username: String,
    pub password: Secret,
    /// The second factor (a TOTP code or a recovery code), for users who have one.
    pub otp: Option<Secret>,
    /// The client's address: failed sign-ins are throttled per address.
    pub source: Option<String>,
}

/// Where a sign-in stands after the password.
#[derive(Debug, Clone)]
pub enum SignInStep {
    Done(Box<SignedIn>),
    /// The password was right and a second factor is needed: `challenge` carries that fact
    /// to [`Services::finish_sign_in`] (see [`Services::mfa_challenge`]).
    SecondFactor { challenge: Secret },
}

/// A new session. `token` is the bearer/cookie value and is not stored anywhere.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: Secret,
    pub session: Session,
    pub user: User,
    pub tenant: Tenant,
}

impl Services {
    /// Signs in in one request: the password, and the second factor (`otp`) when the user has
    /// one; without it a user with MFA gets `mfa_required`.
    pub async fn sign_in(&self, input: SignIn) -> Result<SignedIn, Error> {
        match self.begin_sign_in(input).await? {
            SignInStep::Done(s) => Ok(*s),
            SignInStep::SecondFactor { .. } => Err(Error::new(ErrorCode::MfaRequired).with_target("otp")),
        }
    }

    /// The password step; with `otp` also the second. Without `otp`, a user who needs a
    /// second factor gets a challenge for [`Services::finish_sign_in`].
    ///
    /// Each attempt is logged once, with its outcome: a wrong password, a sign-in with the
    /// password alone, one with a second factor (`mfaUsed`), a wrong code (500121), or a
    /// password step that now waits for the code (50074, "interrupted" in Entra's words).
    pub async fn begin_sign_in(&self, input: SignIn) -> Result<SignInStep, Error> {
        let tenant = self.resolve_tenant(&input.tenant).await?;
        let user = match self.verify_credentials(&tenant, &input.username, &input.password, input.source.as_deref()).await {
            Ok(u) => u,
            Err(e) => {
                self.log_sign_in(self.user_sign_in_entry(&tenant, &input.username, None, Some(&e), false)).await;
                return Err(e);
            }
        };
        // A global administrator whom the tenant's policy requires to have MFA but who has none
        // yet signs in with the password; the console then sends them to set it up first.
        if !self.has_totp(tenant.id, user.id).await? {
            self.log_sign_in(self.user_sign_in_entry(&tenant, &input.username, Some(&user), None, false)).await;
            return Ok(SignInStep::Done(Box::new(self.start_session(tenant, user, super::mfa::Amr::Password).await?)));
        }
        match &input.otp {
            Some(code) => {
                let amr = self.verify_second_factor_logged(&tenant, &user, code).await?;
                Ok(SignInStep::Done(Box::new(self.start_session(tenant, user, amr).await?)))
            }
            None => {
                let waiting = Error::new(ErrorCode::MfaRequired);
                self.log_sign_in(self.user_sign_in_entry(&tenant, &input.username, Some(&user), Some(&waiting), false)).await;
                Ok(SignInStep::SecondFactor { challenge: Secret::new(self.mfa_challenge(&tenant, &user)?) })
            }
        }
    }

    /// The second step of a sign-in: the challenge of the password step and a code.
    pub async fn finish_sign_in(&self, challenge: &str, code: &Secret) -> Result<SignedIn, Error> {
        let (tenant, user) = self.open_mfa_challenge(challenge).await?;
        let amr = self.verify_second_factor_logged(&tenant, &user, code).await?;
        self.start_session(tenant, user, amr).await
    }

    /// [`Services::verify_second_factor`] on Atrium's own sign-in, logged: a success with
    /// `mfaUsed`, or a failure (a wrong code is Entra's 500121).
    async fn verify_second_factor_logged(&self, tenant: &Tenant, user: &User, code: &Secret) -> Result<super::mfa::Amr, Error> {
        let r = self.verify_second_factor(tenant, user, code).await;
        let upn = user.upn.as_str().to_owned();
        self.log_sign_in(self.user_sign_in_entry(tenant, &upn, Some(user), r.as_ref().err(), r.is_ok())).await;
        r
    }

    pub(super) async fn start_session(&self, tenant: Tenant, user: User, amr: super::mfa::Amr) -> Result<SignedIn, Error> {
        let now = self.clock.now();
        let mut raw = [0u8; 32];
        self.rng.fill(&mut raw);
        let token = Secret::new(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)));
        let session = Session {
            id: SessionId::random(self.rng.as_ref()),
            token_hash: token.sha256(),
            user_id: user.id,
            tenant_id: tenant.id,
            created_at: now,
            expires_at: now.plus_seconds(self.policy.session_seconds),
        };
        let mut tx = self.write().await?;
        tx.record_sign_in_success(tenant.id, user.id, now).await?;
        tx.insert_session(&session).await?;
        tx.insert_audit(&self.audit(None, "user.sign_in", "user", user.id, Some(tenant.id), details(&[("mfa", &amr.multi_factor().to_string())])))
            .await?;
        tx.commit().await?;
        Ok(SignedIn { token, session, user, tenant })
    }

    /// Checks a username and password of `tenant`, with lockout. Used by every sign-in path
    /// (the API, the console, the authorize page, ROPC).
    ///
    /// Lockout is one atomic reservation before the slow hash (see [`Services::check_password`]):
    /// however many guesses arrive at once, on however many nodes, at most `lockout_threshold`
    /// passwords are checked before the lock, and none while it lasts.
    ///
    /// While locked, the password is not checked (a dummy hash keeps the timing) and every
    /// attempt, right or wrong, gets `account_locked`: the real user learns why they cannot
    /// sign in, and a guesser learns nothing about the password. Checking the password during
    /// the lock to tell the real user apart would hand guessers an unlimited oracle (the reply
    /// would differ for the right password). To keep this from revealing which accounts exist,
    /// unknown user names lock the same way: their failures are counted per name in the
    /// database, and after `lockout_threshold` of them they too answer `account_locked` for
    /// the lockout period.
    ///
    /// With `source`, failed attempts are also throttled per address: a slot is taken before
    /// anything is checked and given back unless the attempt failed (a wrong password, an
    /// unknown or locked account), so a burst from one address cannot outrun the limit.
    pub async fn verify_credentials(&self, tenant: &Tenant, username: &str, password: &Secret, source: Option<&str>) -> Result<User, Error> {
        let slot = match source {
            Some(addr) => self.throttle_reserve(super::throttle::ThrottleScope::SignInPerAddress, addr).await?,
            None => None,
        };
        let result = self.check_credentials(tenant, username, password).await;
        let failed = matches!(&result, Err(e) if matches!(e.code, ErrorCode::InvalidCredentials | ErrorCode::AccountLocked));
        if !failed {
            self.throttle_release(slot).await?;
        }
        result
    }

    async fn check_credentials(&self, tenant: &Tenant, username: &str, password: &Secret) -> Result<User, Error> {
        let invalid = || Error::new(ErrorCode::InvalidCredentials);
        let upn = Upn::parse_in_domain(username, tenant.domain.as_str()).ok();
        let mut user = match &upn {
            Some(upn) => {
                let mut tx = self.read().await?;
                tx.find_user_by_upn(tenant.id, &upn.normalized()).await?
            }
            None => None,
        };
        // Guests sign in with their own email address (their UPN is `a_b.com#EXT#@tenant`).
        if user.is_none()
            && let Some(upn) = Self::guest_upn_for(username, tenant)
        {
            let mut tx = self.read().await?;
            user = tx.find_user_by_upn(tenant.id, &upn.normalized()).await?.filter(|u| u.user_type == crate::model::UserType::Guest);
        }
        let Some(user) = user else {
            // An unknown name locks like an account would, so locking does not tell who exists.
            let name = upn.map_or_else(|| username.trim().to_lowercase(), |u| u.normalized());
            let (failures, _) = self.count_hit(UNKNOWN_USER_SCOPE, &format!("{}/{name}", tenant.id), self.policy.lockout_seconds).await?;
            // Same cost as a wrong password, so response times do not reveal who exists.
            self.hasher.verify(password, None).await?;
            return Err(if failures > i64::from(self.policy.lockout_threshold) { ErrorCode::AccountLocked.into() } else { invalid() });
        };
        let failures = match self.check_password(&user, password).await? {
            PasswordCheck::Passed => None,
            PasswordCheck::Failed(failures) => Some(failures),
            PasswordCheck::Locked => return Err(ErrorCode::AccountLocked.into()),
        };
        if let Some(failures) = failures {
            let count = failures.to_string();
            let locked = (failures >= self.policy.lockout_threshold).to_string();
            let mut tx = self.write().await?;
            tx.insert_audit(&self.audit(
                None,
                "user.sign_in.failed",
                "user",
                user.id,
                Some(tenant.id),
                details(&[("failedSignIns", &count), ("locked", &locked)]),
            ))
            .await?;
            tx.commit().await?;
            return Err(invalid());
        }
        // Checked after the password so that a disabled account is not revealed to guessers.
        if !user.enabled {
            return Err(ErrorCode::AccountDisabled.into());
        }
        Ok(user)
    }

    /// A bearer credential: a session token, or an access token from our own token endpoint
    /// for the account API (applications with client credentials, R13).
    pub async fn authenticate_bearer(&self, token: &Secret) -> Result<Actor, Error> {
        if token.expose().split('.').count() == 3 {
            let (app, tenant) = self.verify_app_token(token.expose()).await?;
            return Ok(Actor {
                // An application has no user id; its service principal id names no user.
                user_id: crate::ids::UserId::from_uuid(app.service_principal_id.as_uuid()),
                tenant_id: tenant,
                session_id: SessionId::from_uuid(uuid::Uuid::nil()),
                global_admin: false,
                must_change_password: false,
                application: Some(app.id),
                access: crate::actor::Access::Direct,
            });
        }
        self.authenticate(token).await
    }

    /// Checks one of our access tokens and returns its subject: for app-only tokens the
    /// application, for user tokens the user. Only tokens for the account API are accepted.
    pub async fn verify_token_subject(&self, jwt: &str) -> Result<(crate::model::PrincipalRef, crate::ids::TenantId), Error> {
        let claims = self.valid_account_api_claims(jwt)?;
        let tenant = crate::ids::TenantId::parse(claims["tid"].as_str().unwrap_or(""), "tid").map_err(|_| invalid_token("no tenant"))?;
        if claims["idtyp"] == "app" {
            let (app, tenant) = self.verify_app_token(jwt).await?;
            return Ok((crate::model::PrincipalRef::Application(app.id), tenant));
        }
        let oid = crate::ids::UserId::parse(claims["oid"].as_str().unwrap_or(""), "oid").map_err(|_| invalid_token("no oid"))?;
        Ok((crate::model::PrincipalRef::User(oid), tenant))
    }

    fn valid_account_api_claims(&self, jwt: &str) -> Result<serde_json::Value, Error> {
        let claims = self.signer.verify(jwt).ok_or_else(|| invalid_token("the signature does not verify"))?;
        let now = self.clock.now().as_millis() / 1000;
        if claims["exp"].as_i64().is_none_or(|e| e <= now) {
            return Err(invalid_token("it has expired"));
        }
        let aud = claims["aud"].as_str().unwrap_or("");
        if !crate::services::identity::ACCOUNT_API_RESOURCES.contains(&aud) {
            return Err(invalid_token("its audience is not the account API"));
        }
        Ok(claims)
    }

    async fn verify_app_token(&self, jwt: &str) -> Result<(crate::model::Application, crate::ids::TenantId), Error> {
        let claims = self.valid_account_api_claims(jwt)?;
        if claims["idtyp"] != "app" {
            return Err(invalid_token("only application tokens are accepted here; people sign in with a session"));
        }
        let tenant = crate::ids::TenantId::parse(claims["tid"].as_str().unwrap_or(""), "tid").map_err(|_| invalid_token("no tenant"))?;
        let client = claims["appid"].as_str().or(claims["azp"].as_str()).unwrap_or("");
        let client = crate::ids::ClientId::parse(client, "appid").map_err(|_| invalid_token("no client id"))?;
        let mut tx = self.read().await?;
        let app = tx
            .find_application_by_client_id(tenant, client)
            .await?
            .ok_or_else(|| invalid_token("its application no longer exists"))?;
        Ok((app, tenant))
    }

    /// Turns a session token (cookie or bearer) into the calling [`Actor`].
    pub async fn authenticate(&self, token: &Secret) -> Result<Actor, Error> {
        if !token.expose().starts_with(TOKEN_PREFIX) {
            return Err(ErrorCode::Unauthenticated.into());
        }
        let mut tx = self.read().await?;
        let session = tx
            .get_session_by_token_hash(&token.sha256())
            .await?
            .filter(|s| s.expires_at > self.clock.now())
            .ok_or_else(|| Error::new(ErrorCode::Unauthenticated).with_message("The session is unknown or has expired. Sign in again."))?;
        let user = tx
            .get_user(session.tenant_id, session.user_id)
            .await?
            .filter(|u| u.enabled)
            .ok_or_else(|| Error::new(ErrorCode::Unauthenticated).with_message("The session's user no longer exists or is disabled."))?;
        Ok(Actor {
            user_id: user.id,
            tenant_id: session.tenant_id,
            session_id: session.id,
            global_admin: user.global_admin,
            must_change_password: user.must_change_password,
            application: None,
            access: crate::actor::Access::Direct,
        })
    }

    pub async fn sign_out(&self, actor: &Actor) -> Result<(), Error> {
        let mut tx = self.write().await?;
        tx.delete_session(actor.session_id).await?;
        tx.insert_audit(&self.audit(Some(actor), "user.sign_out", "user", actor.user_id, Some(actor.tenant_id), details(&[])))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// The signed-in user and the tenant they signed in through.
    pub async fn me(&self, actor: &Actor) -> Result<(User, Tenant), Error> {
        let mut tx = self.read().await?;
        let user = find_user(tx.as_mut(), actor.tenant_id, &actor.user_id.to_string()).await?;
        let tenant = self.require_tenant(tx.as_mut(), actor.tenant_id).await?;
        Ok((user, tenant))
    }

    /// Changes the caller's own password. Allowed while a change is required; it clears the
    /// requirement and ends the user's other sessions.
    pub async fn change_password(&self, actor: &Actor, current: &Secret, new: &str) -> Result<(), Error> {
        let new = Password::parse(new, "newPassword")?;
        if new.secret() == current {
            return Err(Error::new(ErrorCode::WeakPassword)
                .with_message("The new password must differ from the current one.")
                .with_target("newPassword"));
        }
        let user = {
            let mut tx = self.read().await?;
            find_user(tx.as_mut(), actor.tenant_id, &actor.user_id.to_string()).await?
        };
        // The current password is guarded by the sign-in lockout counter: a stolen session
        // must not become a way to guess the password without limit.
        let failures = match self.check_password(&user, current).await? {
            PasswordCheck::Passed => None,
            PasswordCheck::Failed(failures) => Some(failures),
            PasswordCheck::Locked => return Err(Error::new(ErrorCode::AccountLocked).with_target("currentPassword")),
        };
        if let Some(failures) = failures {
            let mut tx = self.write().await?;
            let count = failures.to_string();
            let locked = (failures >= self.policy.lockout_threshold).to_string();
            tx.insert_audit(&self.audit(
                Some(actor),
                "user.password.change.failed",
                "user",
                user.id,
                Some(user.tenant_id),
                details(&[("failedSignIns", &count), ("locked", &locked)]),
            ))
            .await?;
            tx.commit().await?;
            return Err(Error::new(ErrorCode::InvalidCredentials)
                .with_message("The current password is incorrect.")
                .with_target("currentPassword"));
        }
        let hash = self.hasher.hash(new.secret()).await?;
        let mut tx = self.write().await?;
        let mut u = find_user(tx.as_mut(), actor.tenant_id, &actor.user_id.to_string()).await?;
        u.password_hash = Some(hash);
        u.must_change_password = false;
        u.updated_at = self.clock.now();
        tx.update_user(&u).await?;
        tx.delete_user_sessions(u.id, Some(actor.session_id)).await?;
        // Refresh tokens issued before the change stop working (a stolen one is useless now).
        tx.revoke_user_refresh_tokens(u.id, u.updated_at).await?;
        tx.insert_audit(&self.audit(Some(actor), "user.password.change", "user", u.id, Some(u.tenant_id), details(&[])))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// Deletes expired sessions; run periodically by the server.
    pub async fn purge_expired_sessions(&self) -> Result<u64, Error> {
        let mut tx = self.write().await?;
        let n = tx.purge_expired_sessions(self.clock.now()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The audit log, newest first; instance admins see all, tenant admins their tenant.
    pub async fn list_audit(&self, actor: &Actor, tenant: Option<crate::ids::TenantId>, limit: u32) -> Result<Vec<crate::audit::AuditEntry>, Error> {
        match tenant {
            Some(t) => authz::tenant_admin(actor, t)?,
            None => authz::instance_admin(actor)?,
        }
        let mut tx = self.read().await?;
        let filter = crate::audit::AuditFilter { tenant_id: tenant, limit: limit.clamp(1, 500), ..Default::default() };
        let events = tx.list_audit(&filter).await?;
        self.readable_audit(tx.as_mut(), events).await
    }
}

fn invalid_token(why: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated).with_message(format!("The access token is not valid: {why}."))
}

/// How long a password-check reservation lasts: a node that dies mid-check frees its slot then.
const SIGN_IN_LEASE_SECONDS: i64 = 30;
/// How often a busy reservation is tried again (every 20–50 ms, so about 10 s in all).
const SIGN_IN_BUSY_TRIES: u32 = 300;

/// The outcome of [`Services::check_password`].
enum PasswordCheck {
    Passed,
    /// Wrong; the user's failure count after it.
    Failed(i32),
    /// Locked: the password was not checked (a dummy hash kept the timing).
    Locked,
}

impl Services {
    /// Checks a user's password under the lockout counter. The one place a password is
    /// checked: every sign-in path and the password change come here.
    ///
    /// A check is reserved atomically BEFORE the slow hash ([`DirectoryTx::reserve_sign_in`]):
    /// granted only while the failures so far plus the checks in flight stay under
    /// `lockout_threshold`, so 60 concurrent guesses on any number of nodes evaluate at most
    /// the threshold, and the rest wait and then meet the lock. The result is recorded right
    /// after ([`ThrottleTx::finish_sign_in`]): a correct password clears the count, a wrong
    /// one adds to it and locks at the threshold. Correct passwords are never counted as
    /// failures, so many workers signing in as one service account at once all succeed.
    ///
    /// While the checks in flight could still reach the threshold, the caller waits
    /// (20–50 ms with jitter, without holding a connection) and tries again, for about 10 s;
    /// after that it answers `unavailable` (503, try again later) rather than a wrong
    /// password, which would mislead the real user.
    ///
    /// [`DirectoryTx::reserve_sign_in`]: crate::ports::DirectoryTx::reserve_sign_in
    /// [`ThrottleTx::finish_sign_in`]: crate::ports::ThrottleTx::finish_sign_in
    async fn check_password(&self, user: &User, password: &Secret) -> Result<PasswordCheck, Error> {
        let threshold = self.policy.lockout_threshold;
        let mut tries = 0;
        loop {
            let now = self.clock.now();
            let reservation = {
                let mut tx = self.write().await?;
                let r = tx.reserve_sign_in(user.tenant_id, user.id, now, threshold, now.plus_seconds(SIGN_IN_LEASE_SECONDS)).await?;
                tx.commit().await?;
                r
            };
            match reservation {
                SignInReservation::Granted => break,
                SignInReservation::Locked => {
                    self.hasher.verify(password, None).await?;
                    return Ok(PasswordCheck::Locked);
                }
                SignInReservation::Busy if tries < SIGN_IN_BUSY_TRIES => {
                    tries += 1;
                    let mut jitter = [0u8; 1];
                    self.rng.fill(&mut jitter);
                    self.pause.pause(std::time::Duration::from_millis(20 + u64::from(jitter[0] % 31))).await;
                }
                SignInReservation::Busy => {
                    return Err(Error::new(ErrorCode::Unavailable)
                        .with_message("Too many sign-ins to this account are being checked at once. Try again shortly."));
                }
            }
        }
        // A hashing failure leaves the slot to its lease (it is neither a right nor a wrong password).
        let passed = self.hasher.verify(password, user.password_hash.as_ref()).await?;
        let lock_until = self.clock.now().plus_seconds(self.policy.lockout_seconds);
        let mut tx = self.write().await?;
        let failures = tx.finish_sign_in(user.tenant_id, user.id, passed, threshold, lock_until).await?;
        tx.commit().await?;
        Ok(if passed { PasswordCheck::Passed } else { PasswordCheck::Failed(failures) })
    }
}
