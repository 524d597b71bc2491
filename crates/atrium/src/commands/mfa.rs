//! `atrium mfa`: the signed-in user's authenticator app (TOTP) and recovery codes, an
//! administrator's reset of a user's methods, and the tenant's MFA policy.

use super::{resolve, tenant_id};
use crate::client::{Client, GlobalArgs, read_secret};
use crate::output;
use atrium_api_types::{ConfirmTotpResponse, MfaPolicy, MfaStatus, TotpEnrolment};
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum MfaCommand {
    /// Show the signed-in user's multi-factor state.
    Status {
        #[command(flatten)]
        g: GlobalArgs,
    },
    /// Set up an authenticator app: prints its secret and otpauth:// URI, then reads the app's
    /// current code and prints 10 single-use recovery codes (shown only then).
    Enrol {
        #[command(flatten)]
        g: GlobalArgs,
        /// Read the code from standard input (for scripts) instead of prompting.
        #[arg(long)]
        code_stdin: bool,
    },
    /// Remove the signed-in user's authenticator app and recovery codes.
    Disable {
        #[command(flatten)]
        g: GlobalArgs,
    },
    /// Reset a user's methods (a lost phone): they sign in with the password alone until they
    /// set up a new authenticator app. Needs a global administrator.
    Reset {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        user: String,
    },
    /// Show or set the tenant's policy "require MFA for global administrators".
    Policy {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        /// Turn the requirement on (true) or off (false); without it, show the policy.
        #[arg(long)]
        require_for_global_admins: Option<bool>,
    },
}

pub async fn run(cmd: MfaCommand) -> anyhow::Result<()> {
    match cmd {
        MfaCommand::Status { g } => {
            let c = Client::from_args(&g)?;
            let s: MfaStatus = c.get("/api/v1/me/mfa").await?;
            if g.json {
                return output::json(&s);
            }
            output::fields(&[
                ("authenticator app", if s.totp { "on".into() } else if s.totp_pending { "set-up not confirmed".into() } else { "off".into() }),
                ("recovery codes left", s.recovery_codes_left.to_string()),
                ("required by policy", s.required.to_string()),
            ]);
            Ok(())
        }
        MfaCommand::Enrol { g, code_stdin } => {
            let c = Client::from_args(&g)?;
            let e: TotpEnrolment = c.post("/api/v1/me/mfa/totp", &json!({})).await?;
            // The secret goes to stderr with the instructions, so stdout stays the result.
            eprintln!("Add this account to your authenticator app:");
            eprintln!("  secret key: {}", e.secret);
            eprintln!("  or open:    {}", e.otpauth_uri);
            let code = read_secret("Code from the app: ", code_stdin)?;
            let r: ConfirmTotpResponse = c.post("/api/v1/me/mfa/totp/confirm", &json!({"code": code.trim()})).await?;
            if g.json {
                return output::json(&json!({"secret": e.secret, "otpauthUri": e.otpauth_uri, "recoveryCodes": r.recovery_codes}));
            }
            println!("The authenticator app is on. Recovery codes (shown only now; each works once):");
            for code in r.recovery_codes {
                println!("  {code}");
            }
            Ok(())
        }
        MfaCommand::Disable { g } => {
            let c = Client::from_args(&g)?;
            c.delete("/api/v1/me/mfa/totp").await?;
            println!("The authenticator app was removed.");
            Ok(())
        }
        MfaCommand::Reset { g, tenant, user } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let u = resolve::user(&c, &tid, &user).await?;
            c.post_no_content(&format!("/api/v1/tenants/{tid}/users/{}/mfa/reset", u.id), &json!({})).await?;
            println!("Reset the multi-factor methods of {}.", u.user_principal_name);
            Ok(())
        }
        MfaCommand::Policy { g, tenant, require_for_global_admins } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let path = format!("/api/v1/tenants/{tid}/mfa-policy");
            let p: MfaPolicy = match require_for_global_admins {
                Some(v) => c.put(&path, &json!({"requireMfaForGlobalAdmins": v})).await?,
                None => c.get(&path).await?,
            };
            if g.json {
                return output::json(&p);
            }
            output::fields(&[("require MFA for global administrators", p.require_mfa_for_global_admins.to_string())]);
            Ok(())
        }
    }
}
