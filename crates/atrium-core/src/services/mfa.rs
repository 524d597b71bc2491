//! Multi-factor sign-in: TOTP authenticators (RFC 6238), single-use recovery codes, the tenant
//! policy "require MFA for global administrators", and the second step of every sign-in.
//!
//! One place for the rules: the API, the console, the authorize page and ROPC all call here.
//! A TOTP code is SHA-1, 6 digits, 30-second steps, accepted one step either side; the step a
//! code was accepted at is stored by one conditional UPDATE, so a code is spent once. Wrong
//! codes are counted per user, atomically: `lockout_threshold` of them in the lockout period
//! lock the second step, which bounds guessing. The secret is stored sealed with the master key.

use super::{Services, authz, details};
use crate::actor::Actor;
use crate::error::{Error, ErrorCode};
use crate::ids::{TenantId, UserId};
use crate::model::{Tenant, TotpMethod, User};
use crate::secret::{Secret, constant_time_eq, sha256};
use hmac::{Hmac, Mac};
use serde_json::json;

/// Seconds per TOTP time step.
pub const TOTP_STEP_SECONDS: i64 = 30;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Atrium";
/// How long the second step of a sign-in may wait for its code.
const CHALLENGE_SECONDS: i64 = 300;
const CHALLENGE_AUDIENCE: &str = "urn:atrium:mfa-challenge";
/// The throttle scope counting wrong second-factor codes per user.
const MFA_FAILURE_SCOPE: &str = "mfa_failure";

/// HOTP (RFC 4226) with HMAC-SHA-1: the code for `counter`, `digits` long.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else { return 0 };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24 | u32::from(h[offset + 1]) << 16 | u32::from(h[offset + 2]) << 8 | u32::from(h[offset + 3]);
    bin % 10u32.pow(digits)
}

/// The time step of a Unix time in seconds.
pub fn totp_step(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(TOTP_STEP_SECONDS)
}

/// The 6-digit TOTP code of a time step, zero-padded.
pub fn totp_code(secret: &[u8], step: i64) -> String {
    format!("{:06}", hotp(secret, u64::try_from(step).unwrap_or(0), 6))
}

/// The step in `now`'s window (one step either side) whose code is `code`, if any. Every step
/// is compared in constant time, so timing does not tell which one matched.
pub fn totp_match(secret: &[u8], code: &str, now_step: i64) -> Option<i64> {
    let mut found = None;
    for step in [now_step - 1, now_step, now_step + 1] {
        if constant_time_eq(totp_code(secret, step).as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what authenticator apps read from `otpauth://`).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(BASE32[((buf >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive; spaces and padding ignored).
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = BASE32.iter().position(|&x| char::from(x) == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push(((buf >> (bits - 8)) & 0xff) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// How a user signed in, as the `amr` claim's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amr {
    Password,
    /// Password and a TOTP code.
    Otp,
    /// Password and a recovery code.
    RecoveryCode,
    /// A passkey (WebAuthn, user verification required): no password, and multi-factor by
    /// itself (something you have plus a PIN or biometric). Entra's value is `fido`.
    Passkey,
}

impl Amr {
    pub fn values(self) -> &'static [&'static str] {
        match self {
            Amr::Password => &["pwd"],
            Amr::Otp => &["pwd", "mfa", "otp"],
            Amr::RecoveryCode => &["pwd", "mfa"],
            Amr::Passkey => &["fido", "mfa"],
        }
    }

    /// Space-separated, as stored with codes and refresh tokens.
    pub fn as_stored(self) -> String {
        self.values().join(" ")
    }

    pub fn from_stored(s: &str) -> Self {
        match s {
            "pwd mfa otp" => Amr::Otp,
            "pwd mfa" => Amr::RecoveryCode,
            "fido mfa" => Amr::Passkey,
            _ => Amr::Password,
        }
    }

    pub fn multi_factor(self) -> bool {
        self != Amr::Password
    }
}

/// A started enrolment: what the authenticator app needs. Shown once; after confirmation the
/// secret is never returned again.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    pub secret: Secret,
    pub otpauth_uri: Secret,
}

/// A user's multi-factor state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaStatus {
    pub totp: bool,
    /// Set up started but not confirmed with a first code.
    pub totp_pending: bool,
    pub recovery_codes_left: u32,
    /// The tenant requires MFA of this user (a global administrator under the policy).
    pub required: bool,
}

impl Services {
    /// The caller's own multi-factor state.
    pub async fn mfa_status(&self, actor: &Actor) -> Result<MfaStatus, Error> {
        authz::person(actor)?;
        let mut tx = self.read().await?;
        let totp = tx.get_totp(actor.tenant_id, actor.user_id).await?;
        let left = tx.count_unused_recovery_codes(actor.user_id).await?;
        let policy = actor.global_admin && tx.get_mfa_policy(actor.tenant_id).await?;
        Ok(MfaStatus {
            totp: totp.as_ref().is_some_and(|t| t.confirmed_at.is_some()),
            totp_pending: totp.as_ref().is_some_and(|t| t.confirmed_at.is_none()),
            recovery_codes_left: left,
            required: policy,
        })
    }

    /// Whether the console must send this signed-in user to set up an authenticator first: a
    /// global administrator without one, in a tenant whose policy requires it.
    pub async fn mfa_enrolment_required(&self, actor: &Actor) -> Result<bool, Error> {
        if !actor.global_admin || actor.application.is_some() {
            return Ok(false);
        }
        let mut tx = self.read().await?;
        if !tx.get_mfa_policy(actor.tenant_id).await? {
            return Ok(false);
        }
        Ok(tx.get_totp(actor.tenant_id, actor.user_id).await?.is_none_or(|t| t.confirmed_at.is_none()))
    }

    /// Starts (or restarts) setting up an authenticator app: a new 20-byte secret, unconfirmed.
    pub async fn start_totp(&self, actor: &Actor) -> Result<TotpEnrolment, Error> {
        authz::person(actor)?;
        let (user, _) = self.me(actor).await?;
        let mut secret = [0u8; 20];
        self.rng.fill(&mut secret);
        let now = self.clock.now();
        let method = TotpMethod {
            user_id: user.id,
            tenant_id: user.tenant_id,
            secret: self.seal_totp(user.id, &secret)?,
            sealed: true,
            confirmed_at: None,
            last_step: 0,
            created_at: now,
        };
        let mut tx = self.write().await?;
        if !tx.put_pending_totp(&method).await? {
            return Err(ErrorCode::MfaAlreadyEnrolled.into());
        }
        tx.insert_audit(&self.audit(Some(actor), "user.mfa.totp.start", "user", user.id, Some(user.tenant_id), details(&[]))).await?;
        tx.commit().await?;
        Ok(enrolment(&user, &secret))
    }

    /// The set-up in progress (not yet confirmed), to show again after a mistyped code. A
    /// confirmed authenticator's secret is never shown again.
    pub async fn pending_totp(&self, actor: &Actor) -> Result<Option<TotpEnrolment>, Error> {
        authz::person(actor)?;
        let (user, _) = self.me(actor).await?;
        let mut tx = self.read().await?;
        match tx.get_totp(actor.tenant_id, actor.user_id).await?.filter(|t| t.confirmed_at.is_none()) {
            Some(t) => Ok(Some(enrolment(&user, &self.totp_secret(&t)?))),
            None => Ok(None),
        }
    }

    /// Confirms the authenticator with its first code and returns the recovery codes, shown
    /// this once (stored as SHA-256 hashes: they are random, so a fast hash suffices).
    pub async fn confirm_totp(&self, actor: &Actor, code: &str) -> Result<Vec<Secret>, Error> {
        authz::person(actor)?;
        let code = parse_code(code)?;
        let now = self.clock.now();
        let mut tx = self.write().await?;
        let pending = tx.get_totp(actor.tenant_id, actor.user_id).await?.ok_or_else(|| Error::new(ErrorCode::MfaNotStarted))?;
        if pending.confirmed_at.is_some() {
            return Err(ErrorCode::MfaAlreadyEnrolled.into());
        }
        let step = totp_match(&self.totp_secret(&pending)?, &code, totp_step(now.as_millis() / 1000))
            .ok_or_else(|| Error::new(ErrorCode::InvalidMfaCode).with_target("code"))?;
        if !tx.confirm_totp(actor.user_id, step, now).await? {
            return Err(Error::new(ErrorCode::InvalidMfaCode).with_target("code"));
        }
        let codes: Vec<Secret> = (0..RECOVERY_CODES).map(|_| self.recovery_code()).collect();
        let hashes: Vec<[u8; 32]> = codes.iter().map(|c| sha256(normalize_recovery(c.expose()).as_bytes())).collect();
        tx.replace_recovery_codes(actor.tenant_id, actor.user_id, &hashes).await?;
        tx.insert_audit(&self.audit(Some(actor), "user.mfa.totp.confirm", "user", actor.user_id, Some(actor.tenant_id), details(&[]))).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Removes the caller's own authenticator and recovery codes.
    pub async fn delete_totp(&self, actor: &Actor) -> Result<(), Error> {
        authz::person(actor)?;
        let mut tx = self.write().await?;
        if !tx.delete_mfa(actor.user_id).await? {
            return Err(Error::new(ErrorCode::NotFound).with_message("No authenticator app is set up."));
        }
        tx.insert_audit(&self.audit(Some(actor), "user.mfa.totp.delete", "user", actor.user_id, Some(actor.tenant_id), details(&[]))).await?;
        tx.commit().await.map_err(Error::from)
    }

    /// An administrator resets a user's methods (lost phone): authenticator app, recovery codes
    /// and passkeys. The user signs in with the password alone until they set up new ones.
    pub async fn reset_mfa(&self, actor: &Actor, tenant: TenantId, user: UserId) -> Result<(), Error> {
        authz::tenant_admin(actor, tenant)?;
        let mut tx = self.write().await?;
        tx.get_user(tenant, user).await?.ok_or_else(|| Error::new(ErrorCode::UserNotFound).with_target("userId"))?;
        let removed = tx.delete_mfa(user).await?;
        // Passkeys are methods too: a lost phone may hold one.
        let passkeys = tx.delete_user_passkeys(user).await?;
        tx.insert_audit(&self.audit(
            Some(actor),
            "user.mfa.reset",
            "user",
            user,
            Some(tenant),
            details(&[("removed", &(removed || passkeys > 0).to_string()), ("passkeysRemoved", &passkeys.to_string())]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }

    pub async fn mfa_policy(&self, actor: &Actor, tenant: TenantId) -> Result<bool, Error> {
        authz::tenant_reader(actor, tenant)?;
        let mut tx = self.read().await?;
        Ok(tx.get_mfa_policy(tenant).await?)
    }

    /// Sets "require MFA for global administrators" for the tenant.
    pub async fn set_mfa_policy(&self, actor: &Actor, tenant: TenantId, require_global_admins: bool) -> Result<bool, Error> {
        authz::tenant_admin(actor, tenant)?;
        let mut tx = self.write().await?;
        self.require_tenant(tx.as_mut(), tenant).await?;
        tx.set_mfa_policy(tenant, require_global_admins).await?;
        tx.insert_audit(&self.audit(
            Some(actor),
            "tenant.mfa_policy.update",
            "tenant",
            tenant,
            Some(tenant),
            details(&[("requireMfaForGlobalAdmins", &require_global_admins.to_string())]),
        ))
        .await?;
        tx.commit().await?;
        Ok(require_global_admins)
    }

    /// Whether a sign-in of this user needs a second factor: they have an authenticator, or
    /// the tenant requires one of global administrators.
    pub async fn mfa_needed(&self, tenant: &Tenant, user: &User) -> Result<bool, Error> {
        let mut tx = self.read().await?;
        if tx.get_totp(tenant.id, user.id).await?.is_some_and(|t| t.confirmed_at.is_some()) {
            return Ok(true);
        }
        Ok(user.global_admin && tx.get_mfa_policy(tenant.id).await?)
    }

    /// Whether the user has a confirmed authenticator.
    pub async fn has_totp(&self, tenant: TenantId, user: UserId) -> Result<bool, Error> {
        let mut tx = self.read().await?;
        Ok(tx.get_totp(tenant, user).await?.is_some_and(|t| t.confirmed_at.is_some()))
    }

    /// Checks a second factor after the password: a 6-digit TOTP code (spent once) or a
    /// recovery code (spent once). Wrong codes are counted (see below).
    pub async fn verify_second_factor(&self, tenant: &Tenant, user: &User, code: &Secret) -> Result<Amr, Error> {
        let now = self.clock.now();
        if user.locked_until.is_some_and(|t| t > now) {
            return Err(ErrorCode::AccountLocked.into());
        }
        // Wrong codes have their own counter (a correct password clears the password's), per
        // user in a window of the lockout period: `lockout_threshold` of them lock the second
        // step until the window ends, however often the password is entered again.
        let (start, end) = super::throttle::window(now, self.policy.lockout_seconds);
        let key = user.id.to_string();
        let threshold = i64::from(self.policy.lockout_threshold);
        let raw: String = code.expose().chars().filter(|c| !c.is_whitespace()).collect();
        let mut tx = self.write().await?;
        // Counted BEFORE the code is evaluated, in this transaction: the upsert holds the
        // counter's row (PostgreSQL's row lock; SQLite's single writer) until commit, so
        // concurrent codes for one user, on any node, are evaluated one after another and each
        // sees the failures before it. A right code takes its count back before committing.
        let attempt = tx.throttle_hit(MFA_FAILURE_SCOPE, &key, start, end).await?;
        if attempt > threshold {
            // Rolled back: a refused attempt is not evaluated, nor counted.
            return Err(ErrorCode::AccountLocked.into());
        }
        let amr = if raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit()) {
            match tx.get_totp(tenant.id, user.id).await?.filter(|t| t.confirmed_at.is_some()) {
                Some(m) => {
                    let secret = self.totp_secret(&m)?;
                    if !m.sealed {
                        // A row from before secrets were sealed: sealed now that it is used.
                        let sealed = self.seal_totp(user.id, &secret)?;
                        tx.seal_totp_secret(user.id, &sealed).await?;
                    }
                    match totp_match(&secret, &raw, totp_step(now.as_millis() / 1000)) {
                        // The conditional UPDATE refuses a step at or before the last one used.
                        Some(step) if tx.use_totp_step(user.id, step).await? => Some(Amr::Otp),
                        _ => None,
                    }
                }
                None => None,
            }
        } else {
            let hash = sha256(normalize_recovery(&raw).as_bytes());
            tx.use_recovery_code(user.id, &hash, now).await?.then_some(Amr::RecoveryCode)
        };
        match amr {
            Some(amr) => {
                tx.throttle_refund(MFA_FAILURE_SCOPE, &key, start).await?;
                let used = if amr == Amr::Otp { "totp" } else { "recoveryCode" };
                tx.insert_audit(&self.audit(None, "user.mfa.verify", "user", user.id, Some(tenant.id), details(&[("method", used)]))).await?;
                tx.commit().await?;
                Ok(amr)
            }
            None => {
                tx.insert_audit(&self.audit(
                    None,
                    "user.mfa.verify.failed",
                    "user",
                    user.id,
                    Some(tenant.id),
                    details(&[("failedCodes", &attempt.to_string())]),
                ))
                .await?;
                tx.commit().await?;
                Err(Error::new(ErrorCode::InvalidMfaCode).with_target("otp"))
            }
        }
    }

    /// Seals the TOTP secrets still stored raw (rows written before secrets were sealed); run
    /// by the server at start. Returns how many it sealed.
    pub async fn seal_stored_totp_secrets(&self) -> Result<u64, Error> {
        const BATCH: u32 = 100;
        let mut sealed = 0;
        loop {
            let mut tx = self.write().await?;
            let rows = tx.list_unsealed_totp(BATCH).await?;
            for m in &rows {
                let value = self.seal_totp(m.user_id, &m.secret)?;
                if tx.seal_totp_secret(m.user_id, &value).await? {
                    sealed += 1;
                }
            }
            tx.commit().await?;
            if rows.len() < BATCH as usize {
                return Ok(sealed);
            }
        }
    }

    /// A TOTP secret sealed for its user (the user id is bound to it: a sealed secret copied
    /// to another user's row does not open).
    fn seal_totp(&self, user: UserId, secret: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.sealer.seal(&totp_context(user), secret)?)
    }

    /// The raw secret of a stored authenticator, in either form.
    fn totp_secret(&self, m: &TotpMethod) -> Result<Vec<u8>, Error> {
        if m.sealed { Ok(self.sealer.open(&totp_context(m.user_id), &m.secret)?) } else { Ok(m.secret.clone()) }
    }

    /// A signed, short-lived ticket that the password step succeeded, for the second step of
    /// the console and authorize page (so the password is not posted again). It is not a
    /// token: its audience is accepted nowhere else.
    pub fn mfa_challenge(&self, tenant: &Tenant, user: &User) -> Result<String, Error> {
        let now = self.clock.now().as_millis() / 1000;
        let claims = json!({
            "aud": CHALLENGE_AUDIENCE,
            "tid": tenant.id.to_string(),
            "sub": user.id.to_string(),
            "iat": now,
            "exp": now + CHALLENGE_SECONDS,
        });
        Ok(self.signer.sign(&claims)?)
    }

    /// The tenant and user of a valid challenge, read again (a user disabled meanwhile fails).
    pub async fn open_mfa_challenge(&self, challenge: &str) -> Result<(Tenant, User), Error> {
        let expired = || Error::new(ErrorCode::Unauthenticated).with_message("The sign-in took too long. Sign in again.");
        let claims = self.signer.verify(challenge).ok_or_else(expired)?;
        let now = self.clock.now().as_millis() / 1000;
        if claims["aud"] != CHALLENGE_AUDIENCE || claims["exp"].as_i64().is_none_or(|e| e <= now) {
            return Err(expired());
        }
        let tenant = TenantId::parse(claims["tid"].as_str().unwrap_or(""), "tid").map_err(|_| expired())?;
        let user = UserId::parse(claims["sub"].as_str().unwrap_or(""), "sub").map_err(|_| expired())?;
        let mut tx = self.read().await?;
        let tenant = tx.get_tenant(tenant).await?.ok_or_else(expired)?;
        let user = tx.get_user(tenant.id, user).await?.filter(|u| u.enabled).ok_or_else(expired)?;
        Ok((tenant, user))
    }

    fn recovery_code(&self) -> Secret {
        // 10 characters of base32 from 50 random bits, shown as xxxxx-xxxxx.
        let mut raw = [0u8; 8];
        self.rng.fill(&mut raw);
        let s = base32_encode(&raw).to_lowercase();
        Secret::new(format!("{}-{}", &s[..5], &s[5..10]))
    }
}

/// What a TOTP secret is sealed for: its purpose and its user.
fn totp_context(user: UserId) -> Vec<u8> {
    let mut c = b"atrium-totp-secret:".to_vec();
    c.extend_from_slice(user.as_uuid().as_bytes());
    c
}

fn enrolment(user: &User, secret: &[u8]) -> TotpEnrolment {
    let b32 = base32_encode(secret);
    let label = crate::percent::encode(&format!("{ISSUER}:{}", user.upn.as_str()));
    let uri = format!("otpauth://totp/{label}?secret={b32}&issuer={ISSUER}&algorithm=SHA1&digits=6&period={TOTP_STEP_SECONDS}");
    TotpEnrolment { secret: Secret::new(b32), otpauth_uri: Secret::new(uri) }
}

/// A TOTP code as typed: 6 digits, spaces allowed.
fn parse_code(code: &str) -> Result<String, Error> {
    let c: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
        Ok(c)
    } else {
        Err(Error::new(ErrorCode::InvalidRequest).with_message("The code is the 6 digits the authenticator app shows.").with_target("code"))
    }
}

/// Recovery codes are compared without dashes or case.
fn normalize_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1 column (8 digits).
        for (t, want) in [(59, 94287082), (1111111109, 7081804), (1111111111, 14050471), (1234567890, 89005924), (2000000000, 69279037), (20000000000i64, 65353130)] {
            assert_eq!(hotp(RFC_SECRET, totp_step(t) as u64, 8), want, "t={t}");
        }
        // Six digits are the last six of eight.
        assert_eq!(totp_code(RFC_SECRET, totp_step(59)), "287082");
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        let want = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, i as u64, 6), *w);
        }
    }

    #[test]
    fn window_is_one_step_either_side() {
        let now = totp_step(1_700_000_000);
        for d in [-1, 0, 1] {
            assert_eq!(totp_match(RFC_SECRET, &totp_code(RFC_SECRET, now + d), now), Some(now + d));
        }
        for d in [-3, -2, 2, 3] {
            let code = totp_code(RFC_SECRET, now + d);
            // A code outside the window is refused (unless it collides with one inside).
            let inside = (-1..=1).any(|k| totp_code(RFC_SECRET, now + k) == code);
            assert_eq!(totp_match(RFC_SECRET, &code, now).is_some(), inside);
        }
        assert_eq!(totp_match(RFC_SECRET, "12345", now), None);
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").as_deref(), Some(RFC_SECRET));
        assert_eq!(base32_decode("MZXW6YTBOI======").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(base32_decode("M1"), None);
    }

    #[test]
    fn amr_round_trips() {
        for a in [Amr::Password, Amr::Otp, Amr::RecoveryCode, Amr::Passkey] {
            assert_eq!(Amr::from_stored(&a.as_stored()), a);
        }
    }
}
