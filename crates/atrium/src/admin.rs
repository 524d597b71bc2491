//! Admin commands that work on the database directly, on the server's machine: `quickstart`
//! and `keys rotate`. Whoever can read the data dir or the database URL is trusted like the
//! owner, so they need no sign-in; the audit log names the owner as the actor.

use crate::server::{ConfigArgs, load};
use anyhow::Context;
use atrium_core::domain::Password;
use atrium_core::services::provisioning::NewProvisioningToken;
use atrium_core::services::{NewApplication, NewTenant, NewTenantAdmin};
use atrium_crypto::OsRng;
use atrium_server::Deps;
use atrium_server::serve::{build_services, rotate_keys};
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Args)]
pub struct QuickstartArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also create a directory-synced tenant with a SCIM provisioning token, and print
    /// `scim_url` and `scim_token`.
    #[arg(long)]
    pub scim: bool,
}

pub const QUICKSTART_REDIRECT_URI: &str = "http://localhost:8400/callback";

/// The Microsoft Graph application permissions the quickstart app is granted (admin consent).
pub const QUICKSTART_GRAPH_PERMISSIONS: &[&str] = &["User.ReadWrite.All", "Group.ReadWrite.All", "Application.ReadWrite.All", "User.Invite.All"];

/// Creates a demo tenant with a user and an app with a key, ready for MSAL.
pub async fn quickstart(a: QuickstartArgs) -> anyhow::Result<()> {
    let cfg = load(&a.config)?;
    crate::server::init_tracing("warn");
    let deps = Deps::default();
    let (services, _) = build_services(&cfg, &deps).await?;
    // A fresh database gets its owner here, exactly as on the first `serve`.
    if let Some(owner) = services.bootstrap().await.map_err(|e| anyhow::anyhow!("{e}"))? {
        eprintln!("Owner account created (shown only this once): {} / {}", owner.user_principal_name, owner.password.expose());
    }
    let actor = services.local_admin_actor().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut suffix = [0u8; 3];
    atrium_core::ports::Rng::fill(&OsRng, &mut suffix);
    let prefix = format!("demo-{}", suffix.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let password = Password::generate(&OsRng);
    let (tenant, admin) = services
        .create_tenant(
            &actor,
            NewTenant {
                display_name: format!("Demo {}", &prefix[5..]),
                domain_prefix: prefix.clone(),
                contact_email: None,
                directory_sync: false,
                global_admin: Some(NewTenantAdmin {
                    given_name: "Demo".into(),
                    surname: "User".into(),
                    username: "demo".into(),
                    password: password.secret().expose().to_owned(),
                }),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo tenant: {e}"))?;
    let admin = admin.context("the demo user was not created")?;
    let app = services
        .create_application(
            &actor,
            tenant.id,
            NewApplication {
                display_name: "Quickstart app".into(),
                reply_urls: vec![QUICKSTART_REDIRECT_URI.into()],
                app_id_uri: Some(format!("api://{prefix}")),
                public_client: false,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo app: {e}"))?;
    let key = services
        .add_application_key(&actor, tenant.id, &app.id.to_string(), Some("quickstart".into()), None)
        .await
        .map_err(|e| anyhow::anyhow!("adding a key: {e}"))?;
    // Admin consent for Microsoft Graph, so the Graph SDKs and `az ad` work at once.
    let graph_permissions: Vec<String> = QUICKSTART_GRAPH_PERMISSIONS.iter().map(|p| p.to_string()).collect();
    services
        .grant_graph_permissions(&actor, tenant.id, &app.id.to_string(), &graph_permissions)
        .await
        .map_err(|e| anyhow::anyhow!("granting Microsoft Graph permissions: {e}"))?;
    let base = match &cfg.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => {
            let host = match cfg.listen.ip() {
                ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            format!("https://{host}:{}", cfg.listen.port())
        }
    };
    let ca = cfg.data_dir.join("tls").join("ca.pem");
    let ca_path = (cfg.tls_cert.is_none()).then(|| std::fs::canonicalize(&ca).unwrap_or(ca).display().to_string());
    let mut out = json!({
        "authority": format!("{base}/{}", tenant.id),
        "tenant_id": tenant.id.to_string(),
        "client_id": app.client_id.to_string(),
        "client_secret": key.secret.expose(),
        "username": admin.upn.to_string(),
        "password": password.secret().expose(),
        "ca_path": ca_path,
        "redirect_uri": QUICKSTART_REDIRECT_URI,
        "graph_url": format!("{base}/v1.0"),
        "graph_permissions": QUICKSTART_GRAPH_PERMISSIONS.join(" "),
    });
    let mut keys = vec!["authority", "tenant_id", "client_id", "client_secret", "username", "password", "ca_path", "redirect_uri", "graph_url", "graph_permissions"];
    if a.scim {
        // A second tenant, fed by SCIM: creating its token turns directory sync on.
        let (synced, _) = services
            .create_tenant(
                &actor,
                NewTenant {
                    display_name: "Fabrikam (directory sync)".into(),
                    domain_prefix: format!("{prefix}-sync"),
                    contact_email: None,
                    directory_sync: false,
                    global_admin: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("creating the directory-sync tenant: {e}"))?;
        let token = services
            .create_provisioning_token(&actor, synced.id, NewProvisioningToken { name: "quickstart".into(), valid_days: None })
            .await
            .map_err(|e| anyhow::anyhow!("creating the provisioning token: {e}"))?;
        out["scim_url"] = json!(format!("{base}/scim/v2"));
        out["scim_token"] = json!(token.value.expose());
        keys.extend(["scim_url", "scim_token"]);
    }
    if a.json {
        println!("{out}");
        return Ok(());
    }
    println!("Created a demo tenant, user and app. The secret and the password are shown only now.");
    for k in keys {
        println!("  {k:14} {}", out[k].as_str().unwrap_or("(none: a configured certificate is used)"));
    }
    println!();
    println!("With the server running, try it with msal (pip install msal):");
    println!();
    if let Some(ca) = &ca_path {
        println!("  export REQUESTS_CA_BUNDLE={ca}");
    }
    println!("  python3 - <<'PY'");
    println!("  import msal");
    println!("  app = msal.ConfidentialClientApplication(\"{}\", client_credential=\"{}\",", app.client_id, key.secret.expose());
    println!("      authority=\"{base}/{}\", instance_discovery=False)", tenant.id);
    println!("  print(app.acquire_token_for_client([\"api://{prefix}/.default\"])[\"access_token\"][:40], \"...\")");
    println!("  PY");
    Ok(())
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a new token-signing key and make it the active one. Tokens signed with the old
    /// key stay valid until they expire: the old key stays in the JWKS until then. Running
    /// servers pick the new key up within 30 seconds.
    Rotate {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

pub async fn keys(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Rotate { config } => {
            let cfg = load(&config)?;
            crate::server::init_tracing("warn");
            let kid = rotate_keys(&cfg, &Deps::default()).await?;
            println!("New active signing key: {kid}");
        }
    }
    Ok(())
}
