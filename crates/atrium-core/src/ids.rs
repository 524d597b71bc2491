//! Typed identifiers. A `UserId` can never be passed where a `TenantId` is expected, which
//! removes a whole class of cross-tenant mix-ups.

use crate::error::{Error, ErrorCode};
use crate::random::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A random (v4) UUID from the injected randomness source. v4 rather than v7: random keys do
/// not hot-spot distributed PostgreSQL-compatible databases.
pub fn random_uuid(rng: &dyn Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn random(rng: &dyn Rng) -> Self {
                Self(random_uuid(rng))
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses a GUID; `field` names the input in the error.
            pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| {
                    Error::new(ErrorCode::InvalidId)
                        .with_message(format!("'{field}' must be a GUID."))
                        .with_target(field)
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

typed_id!(
    /// A directory tenant (`tid` in tokens).
    TenantId
);
typed_id!(
    /// A user object in one tenant.
    UserId
);
typed_id!(
    /// A group object in one tenant.
    GroupId
);
typed_id!(
    /// A server-side sign-in session.
    SessionId
);
typed_id!(
    /// An audit event.
    AuditEventId
);
typed_id!(
    /// An application object (the registration) in one tenant.
    ApplicationId
);
typed_id!(
    /// An application's client id (`appId`, `azp`/`appid` in tokens).
    ClientId
);
typed_id!(
    /// The service principal of an application in its tenant (`oid` of app-only tokens).
    ServicePrincipalId
);
typed_id!(
    /// A client-secret key of an application.
    KeyId
);
typed_id!(
    /// A Partner Center–style account.
    AccountId
);
typed_id!(
    /// A product of an account (the target of product-level permissions).
    ProductId
);
typed_id!(
    /// A guest invitation.
    InvitationId
);
typed_id!(
    /// A mail in the outbox.
    MailId
);
typed_id!(
    /// A subscription (seed 003): owned by a personal account, trusts one directory.
    SubscriptionId
);
typed_id!(
    /// A "use existing directory" request of a subscription, waiting for the directory's consent.
    DirectoryRequestId
);
typed_id!(
    /// A SCIM provisioning token of a tenant.
    ProvisioningTokenId
);
typed_id!(
    /// A user's registered passkey (WebAuthn credential).
    PasskeyId
);
typed_id!(
    /// A passkey registration or sign-in in progress (its WebAuthn state is kept server-side).
    PasskeyCeremonyId
);
typed_id!(
    /// An app role granted to an application (Entra's appRoleAssignment).
    AppRoleAssignmentId
);

/// The built-in tenant that holds personal accounts, among them the owner. Its id is the one
/// Microsoft uses for the consumers (MSA) tenant, so tokens from it look familiar.
pub const PERSONAL_ACCOUNTS_TENANT: TenantId =
    TenantId::from_uuid(uuid::uuid!("9188040d-6c67-4c5b-b112-36a304b66dad"));
