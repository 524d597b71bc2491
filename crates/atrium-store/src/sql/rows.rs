// How each table's row becomes a model value, and the columns each query selects. Included
// once per backend by `base.rs`.

fn corrupt(what: &str) -> impl Fn(atrium_core::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

fn opt_ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp::from_millis)
}

fn opt_parse<T>(v: Option<String>, f: impl Fn(&str) -> Result<T, atrium_core::Error>, what: &str) -> Result<Option<T>, StoreError> {
    v.map(|s| f(&s).map_err(corrupt(what))).transpose()
}

const TENANT_COLS: &str = "id, display_name, domain, contact_email, directory_sync, created_at, updated_at";

fn tenant_from_row(r: &DbRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::from_uuid(r.try_get("id").map_err(map_err)?),
        display_name: DisplayName::parse(&r.try_get::<String, _>("display_name").map_err(map_err)?, "display_name")
            .map_err(corrupt("tenants.display_name"))?,
        domain: TenantDomain::parse(&r.try_get::<String, _>("domain").map_err(map_err)?).map_err(corrupt("tenants.domain"))?,
        contact_email: opt_parse(r.try_get("contact_email").map_err(map_err)?, |s| Email::parse(s, "contact_email"), "tenants.contact_email")?,
        directory_sync: r.try_get("directory_sync").map_err(map_err)?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

const USER_COLS: &str = "u.id, u.tenant_id, u.upn, u.display_name, u.given_name, u.surname, u.mail, u.user_type, u.enabled, \
    u.password_hash, u.must_change_password, u.recovery_email, u.global_admin, u.failed_sign_ins, u.locked_until, \
    u.last_sign_in, u.created_at, u.updated_at, u.user_name, u.external_id, u.title, u.department, u.employee_number, u.manager_id, \
    u.formatted_name, u.emails, u.scim_active";

fn user_from_row(r: &DbRow) -> Result<User, StoreError> {
    let user_type: String = r.try_get("user_type").map_err(map_err)?;
    Ok(User {
        id: UserId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        upn: Upn::parse(&r.try_get::<String, _>("upn").map_err(map_err)?).map_err(corrupt("users.upn"))?,
        display_name: DisplayName::parse(&r.try_get::<String, _>("display_name").map_err(map_err)?, "display_name")
            .map_err(corrupt("users.display_name"))?,
        given_name: opt_parse(r.try_get("given_name").map_err(map_err)?, |s| PersonName::parse(s, "given_name"), "users.given_name")?,
        surname: opt_parse(r.try_get("surname").map_err(map_err)?, |s| PersonName::parse(s, "surname"), "users.surname")?,
        mail: opt_parse(r.try_get("mail").map_err(map_err)?, |s| Email::parse(s, "mail"), "users.mail")?,
        user_type: UserType::parse(&user_type).ok_or_else(|| StoreError::Corrupt(format!("users.user_type: {user_type}")))?,
        enabled: r.try_get("enabled").map_err(map_err)?,
        password_hash: r.try_get::<Option<String>, _>("password_hash").map_err(map_err)?.map(PasswordHash),
        must_change_password: r.try_get("must_change_password").map_err(map_err)?,
        recovery_email: opt_parse(r.try_get("recovery_email").map_err(map_err)?, |s| Email::parse(s, "recovery_email"), "users.recovery_email")?,
        global_admin: r.try_get("global_admin").map_err(map_err)?,
        failed_sign_ins: r.try_get("failed_sign_ins").map_err(map_err)?,
        locked_until: opt_ts(r.try_get("locked_until").map_err(map_err)?),
        last_sign_in: opt_ts(r.try_get("last_sign_in").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
        provisioning: provisioned_user_from_row(r)?,
    })
}

fn provisioned_user_from_row(r: &DbRow) -> Result<Option<ProvisionedUser>, StoreError> {
    let Some(user_name) = r.try_get::<Option<String>, _>("user_name").map_err(map_err)? else { return Ok(None) };
    let emails = match r.try_get::<Option<String>, _>("emails").map_err(map_err)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("users.emails: {e}")))?,
        None => Vec::new(),
    };
    Ok(Some(ProvisionedUser {
        user_name,
        external_id: r.try_get("external_id").map_err(map_err)?,
        title: r.try_get("title").map_err(map_err)?,
        department: r.try_get("department").map_err(map_err)?,
        employee_number: r.try_get("employee_number").map_err(map_err)?,
        manager: r.try_get::<Option<Uuid>, _>("manager_id").map_err(map_err)?.map(UserId::from_uuid),
        formatted_name: r.try_get("formatted_name").map_err(map_err)?,
        emails,
        active: r.try_get("scim_active").map_err(map_err)?,
    }))
}

const GROUP_COLS: &str = "g.id, g.tenant_id, g.name, g.description, g.created_at, g.updated_at, g.provisioned, g.external_id";

fn group_from_row(r: &DbRow) -> Result<Group, StoreError> {
    Ok(Group {
        id: GroupId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        name: GroupName::parse(&r.try_get::<String, _>("name").map_err(map_err)?, "name").map_err(corrupt("groups.name"))?,
        description: opt_parse(r.try_get("description").map_err(map_err)?, |s| Description::parse(s, "description"), "groups.description")?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
        provisioning: if r.try_get("provisioned").map_err(map_err)? {
            Some(ProvisionedGroup { external_id: r.try_get("external_id").map_err(map_err)? })
        } else {
            None
        },
    })
}

fn session_from_row(r: &DbRow) -> Result<Session, StoreError> {
    let hash: Vec<u8> = r.try_get("token_hash").map_err(map_err)?;
    Ok(Session {
        id: SessionId::from_uuid(r.try_get("id").map_err(map_err)?),
        token_hash: hash.try_into().map_err(|_| StoreError::Corrupt("sessions.token_hash".into()))?,
        user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
    })
}

fn audit_from_row(r: &DbRow) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        id: AuditEventId::from_uuid(r.try_get("id").map_err(map_err)?),
        at: Timestamp::from_millis(r.try_get("at").map_err(map_err)?),
        actor_user_id: r.try_get::<Option<Uuid>, _>("actor_user_id").map_err(map_err)?.map(UserId::from_uuid),
        actor_tenant_id: r.try_get::<Option<Uuid>, _>("actor_tenant_id").map_err(map_err)?.map(TenantId::from_uuid),
        action: r.try_get("action").map_err(map_err)?,
        target_type: r.try_get("target_type").map_err(map_err)?,
        target_id: r.try_get("target_id").map_err(map_err)?,
        tenant_id: r.try_get::<Option<Uuid>, _>("tenant_id").map_err(map_err)?.map(TenantId::from_uuid),
        account_id: r.try_get::<Option<Uuid>, _>("account_id").map_err(map_err)?.map(AccountId::from_uuid),
        details: r.try_get("details").map_err(map_err)?,
    })
}

fn rows<T>(rs: Vec<DbRow>, f: fn(&DbRow) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rs.iter().map(f).collect()
}


const INVITATION_COLS: &str = "id, tenant_id, account_id, user_id, email, token_hash, status, redirect_url, invited_by, resend_count, \
    created_at, updated_at, expires_at, accepted_at";

fn invitation_from_row(r: &DbRow) -> Result<Invitation, StoreError> {
    let hash: Vec<u8> = r.try_get("token_hash").map_err(map_err)?;
    let status: String = r.try_get("status").map_err(map_err)?;
    Ok(Invitation {
        id: InvitationId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        account_id: r.try_get::<Option<Uuid>, _>("account_id").map_err(map_err)?.map(AccountId::from_uuid),
        user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
        email: Email::parse(&r.try_get::<String, _>("email").map_err(map_err)?, "email").map_err(corrupt("invitations.email"))?,
        token_hash: hash.try_into().map_err(|_| StoreError::Corrupt("invitations.token_hash".into()))?,
        status: InvitationStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("invitations.status: {status}")))?,
        redirect_url: r.try_get("redirect_url").map_err(map_err)?,
        invited_by: r.try_get::<Option<Uuid>, _>("invited_by").map_err(map_err)?.map(UserId::from_uuid),
        resend_count: r.try_get("resend_count").map_err(map_err)?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
        expires_at: opt_ts(r.try_get("expires_at").map_err(map_err)?),
        accepted_at: opt_ts(r.try_get("accepted_at").map_err(map_err)?),
    })
}

const MAIL_COLS: &str = "id, to_address, subject, body_text, body_html, status, attempts, next_attempt_at, locked_until, last_error, \
    created_at, sent_at, invitation_id, account_id, tenant_id";

fn mail_from_row(r: &DbRow) -> Result<Mail, StoreError> {
    let status: String = r.try_get("status").map_err(map_err)?;
    Ok(Mail {
        id: MailId::from_uuid(r.try_get("id").map_err(map_err)?),
        to: Email::parse(&r.try_get::<String, _>("to_address").map_err(map_err)?, "to").map_err(corrupt("mail_outbox.to_address"))?,
        subject: r.try_get("subject").map_err(map_err)?,
        body_text: r.try_get("body_text").map_err(map_err)?,
        body_html: r.try_get("body_html").map_err(map_err)?,
        status: MailStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("mail_outbox.status: {status}")))?,
        attempts: r.try_get("attempts").map_err(map_err)?,
        next_attempt_at: Timestamp::from_millis(r.try_get("next_attempt_at").map_err(map_err)?),
        locked_until: opt_ts(r.try_get("locked_until").map_err(map_err)?),
        last_error: r.try_get("last_error").map_err(map_err)?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        sent_at: opt_ts(r.try_get("sent_at").map_err(map_err)?),
        invitation_id: r.try_get::<Option<Uuid>, _>("invitation_id").map_err(map_err)?.map(InvitationId::from_uuid),
        account_id: r.try_get::<Option<Uuid>, _>("account_id").map_err(map_err)?.map(AccountId::from_uuid),
        tenant_id: r.try_get::<Option<Uuid>, _>("tenant_id").map_err(map_err)?.map(TenantId::from_uuid),
    })
}


const SUBSCRIPTION_COLS: &str = "s.id, s.name, s.owner_tenant_id, s.owner_user_id, s.state, s.directory_tenant_id, s.created_at, s.updated_at";
const DIRECTORY_REQUEST_COLS: &str = "id, subscription_id, tenant_id, code_hash, requested_by, created_at, expires_at, consented_by, consented_at";

fn subscription_from_row(r: &DbRow) -> Result<Subscription, StoreError> {
    let state: String = r.try_get("state").map_err(map_err)?;
    Ok(Subscription {
        id: SubscriptionId::from_uuid(r.try_get("id").map_err(map_err)?),
        name: DisplayName::parse(&r.try_get::<String, _>("name").map_err(map_err)?, "name").map_err(corrupt("subscriptions.name"))?,
        owner_tenant_id: TenantId::from_uuid(r.try_get("owner_tenant_id").map_err(map_err)?),
        owner_user_id: UserId::from_uuid(r.try_get("owner_user_id").map_err(map_err)?),
        state: SubscriptionState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("subscriptions.state: {state}")))?,
        directory_tenant_id: TenantId::from_uuid(r.try_get("directory_tenant_id").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

fn directory_request_from_row(r: &DbRow) -> Result<DirectoryRequest, StoreError> {
    let h: Vec<u8> = r.try_get("code_hash").map_err(map_err)?;
    Ok(DirectoryRequest {
        id: DirectoryRequestId::from_uuid(r.try_get("id").map_err(map_err)?),
        subscription_id: SubscriptionId::from_uuid(r.try_get("subscription_id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        code_hash: h.try_into().map_err(|_| StoreError::Corrupt("subscription_directory_requests.code_hash".into()))?,
        requested_by: UserId::from_uuid(r.try_get("requested_by").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
        consented_by: r.try_get::<Option<Uuid>, _>("consented_by").map_err(map_err)?.map(UserId::from_uuid),
        consented_at: opt_ts(r.try_get("consented_at").map_err(map_err)?),
    })
}

const ACCOUNT_COLS: &str = "a.id, a.name, a.account_type, a.program, a.owner_tenant_id, a.owner_user_id, a.created_at, a.updated_at";
const MEMBER_COLS: &str = "account_id, tenant_id, principal_type, principal_id, grant_json, added_by, added_at, updated_at";

fn program_str(p: atrium_core::access::Program) -> &'static str {
    match p {
        atrium_core::access::Program::Developer => "developer",
        atrium_core::access::Program::Hardware => "hardware",
    }
}

fn account_from_row(r: &DbRow) -> Result<Account, StoreError> {
    let t: String = r.try_get("account_type").map_err(map_err)?;
    let p: String = r.try_get("program").map_err(map_err)?;
    Ok(Account {
        id: AccountId::from_uuid(r.try_get("id").map_err(map_err)?),
        name: DisplayName::parse(&r.try_get::<String, _>("name").map_err(map_err)?, "name").map_err(corrupt("accounts.name"))?,
        account_type: AccountType::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("accounts.account_type: {t}")))?,
        program: match p.as_str() {
            "developer" => atrium_core::access::Program::Developer,
            "hardware" => atrium_core::access::Program::Hardware,
            _ => return Err(StoreError::Corrupt(format!("accounts.program: {p}"))),
        },
        owner_tenant_id: TenantId::from_uuid(r.try_get("owner_tenant_id").map_err(map_err)?),
        owner_user_id: UserId::from_uuid(r.try_get("owner_user_id").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

fn member_from_row(r: &DbRow) -> Result<Member, StoreError> {
    let kind: String = r.try_get("principal_type").map_err(map_err)?;
    Ok(Member {
        account_id: AccountId::from_uuid(r.try_get("account_id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        principal: PrincipalRef::from_parts(&kind, r.try_get("principal_id").map_err(map_err)?)
            .ok_or_else(|| StoreError::Corrupt(format!("account_members.principal_type: {kind}")))?,
        grant_json: r.try_get("grant_json").map_err(map_err)?,
        added_by: r.try_get::<Option<Uuid>, _>("added_by").map_err(map_err)?.map(UserId::from_uuid),
        added_at: Timestamp::from_millis(r.try_get("added_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

fn activity_from_row(r: &DbRow) -> Result<Activity, StoreError> {
    let kind: String = r.try_get("principal_type").map_err(map_err)?;
    Ok(Activity {
        account_id: AccountId::from_uuid(r.try_get("account_id").map_err(map_err)?),
        principal: PrincipalRef::from_parts(&kind, r.try_get("principal_id").map_err(map_err)?)
            .ok_or_else(|| StoreError::Corrupt(format!("activity.principal_type: {kind}")))?,
        at: Timestamp::from_millis(r.try_get("at").map_err(map_err)?),
        method: r.try_get("method").map_err(map_err)?,
        route: r.try_get("route").map_err(map_err)?,
    })
}


const APP_COLS: &str = "a.id, a.client_id, a.service_principal_id, a.tenant_id, a.display_name, a.app_id_uri, a.public_client, a.created_at, a.updated_at";

fn key_from_row(r: &DbRow) -> Result<AppKey, StoreError> {
    let hash: Vec<u8> = r.try_get("secret_hash").map_err(map_err)?;
    Ok(AppKey {
        id: KeyId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        application_id: ApplicationId::from_uuid(r.try_get("application_id").map_err(map_err)?),
        display_name: r.try_get("display_name").map_err(map_err)?,
        hint: r.try_get("hint").map_err(map_err)?,
        secret_hash: hash.try_into().map_err(|_| StoreError::Corrupt("app_keys.secret_hash".into()))?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
    })
}
