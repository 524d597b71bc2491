use crate::client::{Client, GlobalArgs, SavedSession, forget_session, load_session, read_secret, save_session};
use crate::output;
use atrium_api_types::{Me, SignInResponse};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub struct LoginArgs {
    /// Server URL, e.g. https://127.0.0.1:8443.
    #[arg(long, env = "ATRIUM_URL")]
    pub url: String,
    /// The CA certificate `atrium serve` printed (not needed for a publicly trusted certificate).
    #[arg(long, env = "ATRIUM_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// The tenant's GUID or domain.
    #[arg(long)]
    pub tenant: String,
    /// userPrincipalName (or only its alias).
    #[arg(long)]
    pub username: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The code from your authenticator app (or a recovery code), for accounts with MFA. Without
    /// it you are asked for one when needed (with --password-stdin: read from the next line).
    #[arg(long)]
    pub otp: Option<String>,
    /// With --password-stdin, also read a new password from the second line when a change is required.
    #[arg(long, requires = "password_stdin")]
    pub new_password_stdin: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn login(a: LoginArgs) -> anyhow::Result<()> {
    let password = read_secret("Password: ", a.password_stdin)?;
    let anon = Client::new(&a.url, a.ca_cert.as_ref(), None)?;
    let mut body = json!({"tenant": a.tenant, "username": a.username, "password": password});
    if let Some(otp) = &a.otp {
        body["otp"] = json!(otp);
    }
    let res: SignInResponse = match anon.post("/api/v1/sign-in", &body).await {
        // The account has MFA: ask for the code and sign in again with it.
        Err(e) if a.otp.is_none() && e.to_string().contains("[mfa_required]") => {
            let code = read_secret("Code from your authenticator app: ", a.password_stdin)?;
            if code.trim().is_empty() {
                return Err(e);
            }
            body["otp"] = json!(code.trim());
            anon.post("/api/v1/sign-in", &body).await?
        }
        other => other?,
    };
    let ca_cert = a.ca_cert.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    let path = save_session(&SavedSession { url: a.url.clone(), ca_cert: ca_cert.clone(), token: res.token.clone() })?;
    let mut must_change = res.must_change_password;
    if must_change {
        eprintln!("The password must be changed before anything else.");
        let new = if a.new_password_stdin {
            Some(read_secret("", true)?)
        } else if a.password_stdin {
            None
        } else {
            Some(read_secret("New password: ", false)?)
        };
        if let Some(new) = new {
            let c = Client::new(&a.url, ca_cert.as_ref(), Some(res.token.clone()))?;
            c.post_no_content("/api/v1/me/password", &json!({"currentPassword": password, "newPassword": new})).await?;
            must_change = false;
            eprintln!("Password changed.");
        } else {
            eprintln!("Run `atrium password` to change it.");
        }
    }
    if a.json {
        return output::json(&json!({"user": res.user, "tenant": res.tenant, "expiresAt": res.expires_at, "mustChangePassword": must_change}));
    }
    println!("Signed in as {} ({}) until {}.", res.user.user_principal_name, res.tenant.domain, res.expires_at);
    println!("Session saved in {}.", path.display());
    Ok(())
}

pub async fn logout(g: GlobalArgs) -> anyhow::Result<()> {
    if load_session().is_some() || g.token.is_some() {
        let c = Client::from_args(&g)?;
        // The session may have expired already; forgetting it locally is what matters then.
        if let Err(e) = c.post_no_content("/api/v1/sign-out", &json!({})).await {
            eprintln!("warning: {e:#}");
        }
    }
    forget_session()?;
    println!("Signed out.");
    Ok(())
}

pub async fn whoami(g: GlobalArgs) -> anyhow::Result<()> {
    let c = Client::from_args(&g)?;
    let me: Me = c.get("/api/v1/me").await?;
    if g.json {
        return output::json(&me);
    }
    output::fields(&[
        ("user", me.user.user_principal_name.clone()),
        ("id", me.user.id.to_string()),
        ("tenant", format!("{} ({})", me.tenant.domain, me.tenant.id)),
        ("global admin", me.user.global_admin.to_string()),
        ("instance admin", me.instance_admin.to_string()),
        ("must change password", me.user.must_change_password.to_string()),
    ]);
    Ok(())
}

#[derive(Args)]
pub struct PasswordArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Read the current and the new password from the first two lines of standard input.
    #[arg(long)]
    pub stdin: bool,
}

pub async fn password(a: PasswordArgs) -> anyhow::Result<()> {
    let current = read_secret("Current password: ", a.stdin)?;
    let new = read_secret("New password: ", a.stdin)?;
    let c = Client::from_args(&a.global)?;
    c.post_no_content("/api/v1/me/password", &json!({"currentPassword": current, "newPassword": new})).await?;
    println!("Password changed. Your other sessions were signed out.");
    Ok(())
}
