//! Builders for store rows.

use atrium_core::audit::AuditEvent;
use atrium_core::domain::{DisplayName, DomainPrefix, DomainSuffix, Email, GroupName, PasswordHash, TenantDomain, Upn};
use atrium_core::ids::{AuditEventId, GroupId, SessionId, TenantId, UserId};
use atrium_core::model::{Group, Session, Tenant, User};
use atrium_core::ports::Rng;
use atrium_core::time::Timestamp;

pub const T0: i64 = 1_764_000_000_000;

pub struct TestRng;

impl Rng for TestRng {
    fn fill(&self, buf: &mut [u8]) {
        // Ids must be unique across tests; uuid's own generator is fine for fixtures.
        let u = uuid::Uuid::new_v4();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = u.as_bytes()[i % 16] ^ (i / 16) as u8;
        }
    }
}

pub fn rng() -> TestRng {
    TestRng
}

pub fn ts() -> Timestamp {
    Timestamp::from_millis(T0)
}

pub fn email(s: &str) -> Email {
    Email::parse(s, "mail").unwrap()
}

pub fn tenant(prefix: &str) -> Tenant {
    Tenant {
        id: TenantId::random(&rng()),
        display_name: DisplayName::parse(&format!("Tenant {prefix}"), "x").unwrap(),
        domain: TenantDomain::new(&DomainPrefix::parse(prefix).unwrap(), &DomainSuffix::parse("onatrium.local").unwrap()),
        contact_email: Some(email("admin@example.com")),
        directory_sync: false,
        created_at: ts(),
        updated_at: ts(),
    }
}

pub fn user(t: &Tenant, alias: &str, name: &str) -> User {
    User {
        mail: Some(email("someone@example.com")),
        ..User::new_member(
            UserId::random(&rng()),
            t.id,
            Upn::parse(&format!("{alias}@{}", t.domain)).unwrap(),
            DisplayName::parse(name, "x").unwrap(),
            PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            ts(),
        )
    }
}

/// A user whose alias may hold characters a UPN does not allow (for search tests): the UPN
/// uses a safe alias, the display name the given text.
pub fn user_named(t: &Tenant, alias: &str, name: &str) -> User {
    let safe: String = alias.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { 'u' }).collect();
    let mut u = user(t, &safe, name);
    if safe != alias {
        // Keep the original for assertions through the display name's first word.
        u.upn = Upn::parse(&format!("{}@{}", safe, t.domain)).unwrap();
    }
    u
}

pub fn group(t: &Tenant, name: &str) -> Group {
    Group {
        id: GroupId::random(&rng()),
        tenant_id: t.id,
        name: GroupName::parse(name, "x").unwrap(),
        description: Some(atrium_core::domain::Description::parse("A team", "x").unwrap()),
        created_at: ts(),
        updated_at: ts(),
        provisioning: None,
    }
}

pub fn session(u: &User, seed: &str) -> Session {
    Session {
        id: SessionId::random(&rng()),
        token_hash: atrium_core::secret::sha256(format!("{}-{seed}", u.id).as_bytes()),
        user_id: u.id,
        tenant_id: u.tenant_id,
        created_at: ts(),
        expires_at: Timestamp::from_millis(T0 + 3_600_000),
    }
}

pub fn audit(tenant: Option<TenantId>, offset: i64) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::random(&rng()),
        at: Timestamp::from_millis(T0 + offset),
        actor_user_id: None,
        actor_tenant_id: None,
        action: "test.event".into(),
        target_type: "tenant".into(),
        target_id: format!("t{offset}"),
        tenant_id: tenant,
        account_id: None,
        details: "{}".into(),
    }
}
