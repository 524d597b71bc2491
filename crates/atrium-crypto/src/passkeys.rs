//! The WebAuthn relying party ([`PasskeyVerifier`]) on `webauthn-rs`.
//!
//! It lives here, not in `atrium-core`, so the core builds without OpenSSL (which
//! `webauthn-rs` verifies signatures with). A `Webauthn` value is built per call from the
//! request's relying party: it is cheap, and the RP id follows the host the server is reached
//! at when no `public_url` is set.
//!
//! Ceremony state (`PasskeyRegistration`, `DiscoverableAuthentication`) is serialised to JSON
//! with the `danger-allow-state-serialisation` feature: the services keep it in the database,
//! single-use and expiring, never in anything the client holds.

use atrium_core::ports::{PasskeyChallenge, PasskeyError, PasskeyUser, PasskeyVerifier, RegisteredPasskey, RelyingParty};
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn,
    WebauthnBuilder,
};

/// The `webauthn-rs` verifier. Stateless: everything it needs comes with each call.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebauthnVerifier;

fn webauthn(rp: &RelyingParty) -> Result<Webauthn, PasskeyError> {
    let origin = Url::parse(&rp.origin).map_err(|e| PasskeyError::RelyingParty(format!("the origin {} is not a URL: {e}", rp.origin)))?;
    WebauthnBuilder::new(&rp.id, &origin)
        .map(|b| b.rp_name(&rp.name))
        .and_then(|b| b.build())
        .map_err(|e| PasskeyError::RelyingParty(format!("relying party {} at {}: {e}", rp.id, rp.origin)))
}

fn corrupt(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Corrupt(e.to_string())
}

fn rejected(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Rejected(e.to_string())
}

impl PasskeyVerifier for WebauthnVerifier {
    fn start_registration(&self, rp: &RelyingParty, user: &PasskeyUser, exclude: &[Vec<u8>]) -> Result<PasskeyChallenge, PasskeyError> {
        let w = webauthn(rp)?;
        let exclude: Option<Vec<CredentialID>> = (!exclude.is_empty()).then(|| exclude.iter().map(|c| CredentialID::from(c.clone())).collect());
        let (ccr, state) = w.start_passkey_registration(user.handle, &user.name, &user.display_name, exclude).map_err(rejected)?;
        let mut options = serde_json::to_value(&ccr).map_err(corrupt)?;
        // Sign-in has no user name: the passkey must be discoverable (a resident key), which
        // `start_passkey_registration` only prefers against. The verification of the answer
        // does not depend on it.
        if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection").and_then(|v| v.as_object_mut()) {
            sel.insert("residentKey".into(), "required".into());
            sel.insert("requireResidentKey".into(), true.into());
        }
        Ok(PasskeyChallenge { options, state: serde_json::to_vec(&state).map_err(corrupt)? })
    }

    fn finish_registration(&self, rp: &RelyingParty, response: &serde_json::Value, state: &[u8]) -> Result<RegisteredPasskey, PasskeyError> {
        let w = webauthn(rp)?;
        let reg: RegisterPublicKeyCredential = serde_json::from_value(response.clone()).map_err(rejected)?;
        let state: PasskeyRegistration = serde_json::from_slice(state).map_err(corrupt)?;
        let passkey = w.finish_passkey_registration(&reg, &state).map_err(rejected)?;
        let credential_id: &[u8] = passkey.cred_id().as_ref();
        Ok(RegisteredPasskey { credential_id: credential_id.to_vec(), credential: serde_json::to_vec(&passkey).map_err(corrupt)? })
    }

    fn start_sign_in(&self, rp: &RelyingParty) -> Result<PasskeyChallenge, PasskeyError> {
        let w = webauthn(rp)?;
        let (rcr, state) = w.start_discoverable_authentication().map_err(rejected)?;
        let mut options = serde_json::to_value(&rcr).map_err(corrupt)?;
        // `conditional` mediation is for autofill; our pages ask on a button press instead.
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        Ok(PasskeyChallenge { options, state: serde_json::to_vec(&state).map_err(corrupt)? })
    }

    fn identify(&self, response: &serde_json::Value) -> Result<(uuid::Uuid, Vec<u8>), PasskeyError> {
        let cred: PublicKeyCredential = serde_json::from_value(response.clone()).map_err(rejected)?;
        let handle = cred.get_user_unique_id().and_then(|b| uuid::Uuid::from_slice(b).ok()).ok_or_else(|| rejected("the assertion names no user"))?;
        Ok((handle, cred.get_credential_id().to_vec()))
    }

    fn finish_sign_in(&self, rp: &RelyingParty, response: &serde_json::Value, state: &[u8], credential: &[u8]) -> Result<Option<Vec<u8>>, PasskeyError> {
        let w = webauthn(rp)?;
        let cred: PublicKeyCredential = serde_json::from_value(response.clone()).map_err(rejected)?;
        let state: DiscoverableAuthentication = serde_json::from_slice(state).map_err(corrupt)?;
        let mut passkey: Passkey = serde_json::from_slice(credential).map_err(corrupt)?;
        let result = w.finish_discoverable_authentication(&cred, state, &[DiscoverableKey::from(&passkey)]).map_err(rejected)?;
        // The signature counter (and backup state) move on: store them so a cloned
        // authenticator replaying an older counter is refused.
        Ok(match passkey.update_credential(&result) {
            Some(true) => Some(serde_json::to_vec(&passkey).map_err(corrupt)?),
            _ => None,
        })
    }
}
