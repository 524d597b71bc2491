//! End-to-end tests of the `atrium` binary: `serve` as a real process, the admin commands
//! against it, and a SIGKILL in the middle of a burst of writes. Each runs on both backends.

// Tests may panic on unexpected values: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use atrium_store::testing::Backend;
use serde_json::{Value, json};
use server::{Output, Server, atrium};

macro_rules! cli_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(atrium_store::testing::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(atrium_store::testing::Backend::Postgres).await;
            }
        }
    )*};
}

mod mfa;
mod ops;
mod sign_ins;

cli_tests!(cli_manages_tenants_users_and_groups, sigkill_loses_no_acknowledged_create, quickstart_then_key_rotation, quickstart_scim, cli_manages_partner_accounts, cli_walks_seed_003_subscriptions, cli_manages_provisioning_tokens,
           cli_walks_seeds_000_to_002_by_name, cli_names_resolve_or_say_why_not);

const NEW_OWNER_PASSWORD: &str = "Owner-Passw0rd!";

async fn cli_manages_tenants_users_and_groups(backend: Backend) {
    let srv = Server::start(backend).await;
    let cli = tempfile_dir("cli");
    let run = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", cli.to_str().unwrap())]);

    // The login command `serve` prints works as printed: it names the CA to trust (issue 19).
    assert!(srv.login_hint.contains(&format!("--ca-cert {}", srv.ca.display())), "{}", srv.login_hint);
    let mut args: Vec<&str> = srv.login_hint.split_whitespace().skip(1).collect();
    args.extend(["--password-stdin", "--new-password-stdin", "--json"]);
    let login = run(&args, Some(&format!("{}\n{NEW_OWNER_PASSWORD}\n", srv.owner_password)));
    let login: Value = serde_json::from_str(&login.ok()).unwrap();
    assert_eq!(login["mustChangePassword"], false, "the one-time password was changed during login");
    assert!(run(&["whoami"], None).ok().contains("instance admin        true"));

    let out = run(&["tenant", "create", "--name", "Contoso", "--prefix", "contoso", "--contact-email", "ops@contoso.com", "--json"], None).ok();
    let tenant: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(tenant["tenant"]["domain"], "contoso.onatrium.local");

    let out = run(&["user", "create", "--tenant", "contoso.onatrium.local", "--upn", "adele", "--given-name", "Adele",
                    "--surname", "Vance", "--password-stdin", "--json"], Some("Us3r-Passw0rd!\n")).ok();
    let adele: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(adele["user"]["userPrincipalName"], "adele@contoso.onatrium.local");
    let out = run(&["user", "create", "--tenant", "contoso.onatrium.local", "--upn", "bob"], None).ok();
    assert!(out.contains("Temporary password (shown only now"), "{out}");

    let out = run(&["group", "create", "--tenant", "contoso.onatrium.local", "--name", "Engineering", "--member", "adele"], None).ok();
    assert!(out.contains("with 1 member(s)"), "{out}");
    run(&["group", "add-member", "--tenant", "contoso.onatrium.local", "Engineering", "bob@contoso.onatrium.local"], None).ok();

    let members: Value = serde_json::from_str(&run(&["group", "members", "--tenant", "contoso.onatrium.local", "Engineering", "--json"], None).ok()).unwrap();
    let upns: Vec<&str> = members["items"].as_array().unwrap().iter().map(|u| u["userPrincipalName"].as_str().unwrap()).collect();
    assert_eq!(upns, ["adele@contoso.onatrium.local", "bob@contoso.onatrium.local"]);

    let users: Value = serde_json::from_str(&run(&["user", "list", "--tenant", "contoso.onatrium.local", "--json"], None).ok()).unwrap();
    assert_eq!(users["items"].as_array().unwrap().len(), 2);
    let found: Value = serde_json::from_str(&run(&["user", "list", "--tenant", "contoso.onatrium.local", "--search", "ADE", "--json"], None).ok()).unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let table = run(&["user", "list", "--tenant", "contoso.onatrium.local", "--search", "bo"], None).ok();
    assert!(table.contains("bob@contoso.onatrium.local") && !table.contains("adele@"), "{table}");
    let groups = run(&["group", "list", "--tenant", "contoso.onatrium.local", "--search", "eng"], None).ok();
    assert!(groups.contains("Engineering"), "{groups}");
    let tenants: Value = serde_json::from_str(&run(&["tenant", "list", "--search", "cont", "--json"], None).ok()).unwrap();
    assert_eq!(tenants["items"][0]["domain"], "contoso.onatrium.local");

    // Errors are clear and name the field; the exit code says it failed.
    let bad = run(&["user", "create", "--tenant", "contoso.onatrium.local", "--upn", "bad name"], None);
    assert!(!bad.success && bad.stderr.contains("field: userPrincipalName"), "{}", bad.stderr);
    let dup = run(&["tenant", "create", "--name", "Again", "--prefix", "contoso"], None);
    assert!(!dup.success && dup.stderr.contains("[tenant_domain_taken]"), "{}", dup.stderr);
    // Destructive commands ask first; without a terminal they need --yes.
    let refused = run(&["user", "delete", "--tenant", "contoso.onatrium.local", "bob"], None);
    assert!(!refused.success && refused.stderr.contains("--yes"), "{}", refused.stderr);
    run(&["user", "delete", "--tenant", "contoso.onatrium.local", "bob", "--yes"], None).ok();

    run(&["logout"], None).ok();
    let after = run(&["whoami"], None);
    assert!(!after.success);
    drop(srv);
}

/// Kills the server with SIGKILL while writes are in flight. Every write it acknowledged is
/// there after the restart, with its audit event (each create is one transaction).
async fn sigkill_loses_no_acknowledged_create(backend: Backend) {
    let mut srv = Server::start(backend).await;
    let http = srv.client();
    let token = srv.owner_token(&http, NEW_OWNER_PASSWORD).await;
    let r = http
        .post(format!("{}/api/v1/tenants", srv.url))
        .bearer_auth(&token)
        .json(&json!({"displayName": "Burst", "domainPrefix": "burst"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let tid = r.json::<Value>().await.unwrap()["tenant"]["id"].as_str().unwrap().to_owned();

    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (http, url, token, tid, acked) = (http.clone(), srv.url.clone(), token.clone(), tid.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let res = http
                    .post(format!("{url}/api/v1/tenants/{tid}/groups"))
                    .bearer_auth(&token)
                    .json(&json!({"displayName": format!("group-{w}-{i}")}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 201 => {
                        if let Ok(v) = r.json::<Value>().await {
                            acked.lock().unwrap().push(v["id"].as_str().unwrap().to_owned());
                        }
                    }
                    // The server is gone.
                    _ => return,
                }
            }
        }));
    }
    // Let the burst run, then kill the server in the middle of it.
    while acked.lock().unwrap().len() < 150 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    srv.kill9();
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 150);

    let restarted = srv.restart().await;
    assert!(restarted.owner_password.is_empty(), "a restart must not create or print owner credentials again");
    let http = restarted.client();
    let token = restarted.sign_in(&http, "personal.onatrium.local", "owner", NEW_OWNER_PASSWORD).await;
    let mut stored = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/api/v1/tenants/{tid}/groups?limit=200", restarted.url);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http.get(url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        stored.extend(page["items"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_owned()));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged creates were lost: {lost:?}", lost.len(), acked.len());
    // Each stored group has its audit event: no create was half written.
    let audit: Value = http
        .get(format!("{}/api/v1/audit?tenantId={tid}&limit=500", restarted.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let audited: std::collections::HashSet<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "group.create")
        .map(|e| e["targetId"].as_str().unwrap().to_owned())
        .collect();
    if stored.len() <= 500 {
        assert_eq!(audited, stored, "every stored group has exactly its audit event");
    }
    eprintln!("{backend:?}: {} creates acknowledged before SIGKILL, {} stored after restart", acked.len(), stored.len());
}

pub fn tempfile_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("atrium-cli-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn unknown_config_keys_and_public_plain_http_are_refused() {
    let dir = tempfile_dir("cfg");
    let d = dir.to_str().unwrap();
    let out = atrium(&["serve", "--data-dir", d], None, &[("ATRIUM_LISTN", "127.0.0.1:1")]);
    assert!(!out.success && out.stderr.contains("listn"), "{}", out.stderr);
    let out = atrium(&["serve", "--data-dir", d, "--http-listen", "0.0.0.0:8080"], None, &[]);
    assert!(!out.success && out.stderr.contains("loopback"), "{}", out.stderr);
    let cfg = dir.join("atrium.toml");
    std::fs::write(&cfg, "lockout_treshold = 3\n").unwrap();
    let out = atrium(&["serve", "--config", cfg.to_str().unwrap()], None, &[]);
    assert!(!out.success && out.stderr.contains("lockout_treshold") && out.stderr.contains("atrium.toml"), "{}", out.stderr);
}

fn jwt_kid(jwt: &str) -> String {
    use base64::Engine;
    let header = jwt.split('.').next().unwrap();
    let v: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    v["kid"].as_str().unwrap().to_owned()
}

/// `atrium quickstart --json` gives working client credentials; `atrium keys rotate` makes a new
/// key active while the old one stays in the JWKS, so tokens signed before stay verifiable.
async fn quickstart_then_key_rotation(backend: Backend) {
    let mut srv = Server::start(backend).await;
    let (data_dir, database_url) = (srv.data_dir.to_str().unwrap().to_owned(), srv.database_url().to_owned());
    let args = |extra: &[&str]| {
        let mut v = vec!["--data-dir", data_dir.as_str(), "--database-url", database_url.as_str()];
        v.extend_from_slice(extra);
        v.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let mut qs_args = vec!["quickstart".to_string(), "--json".to_string()];
    qs_args.extend(args(&[]));
    let qs_args: Vec<&str> = qs_args.iter().map(String::as_str).collect();
    let port = srv.url.rsplit(':').next().unwrap().to_owned();
    let out = atrium(&qs_args, None, &[("ATRIUM_LISTEN", &format!("127.0.0.1:{port}"))]).ok();
    let q: Value = serde_json::from_str(out.trim()).unwrap();
    for k in ["authority", "tenant_id", "client_id", "client_secret", "username", "password", "ca_path", "redirect_uri"] {
        assert!(q[k].is_string(), "{k} missing in {q}");
    }
    assert_eq!(q["authority"], format!("{}/{}", srv.url, q["tenant_id"].as_str().unwrap()));
    assert_eq!(q["redirect_uri"], "http://localhost:8400/callback");
    let http = srv.client();
    let token = |http: reqwest::Client, url: String| {
        let q = q.clone();
        async move {
            let r = http
                .post(format!("{url}/{}/oauth2/v2.0/token", q["tenant_id"].as_str().unwrap()))
                .form(&[("grant_type", "client_credentials"), ("client_id", q["client_id"].as_str().unwrap()),
                        ("client_secret", q["client_secret"].as_str().unwrap()), ("scope", &format!("{}/.default", q["client_id"].as_str().unwrap()))])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
        }
    };
    let old_kid = jwt_kid(&token(http.clone(), srv.url.clone()).await);
    // The quickstart app has admin consent for Microsoft Graph: its Graph token lists users.
    assert_eq!(q["graph_url"], format!("{}/v1.0", srv.url));
    let r = http
        .post(format!("{}/{}/oauth2/v2.0/token", srv.url, q["tenant_id"].as_str().unwrap()))
        .form(&[("grant_type", "client_credentials"), ("client_id", q["client_id"].as_str().unwrap()),
                ("client_secret", q["client_secret"].as_str().unwrap()), ("scope", "https://graph.microsoft.com/.default")])
        .send()
        .await
        .unwrap();
    let graph_token = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let users: Value = http.get(format!("{}/users?$select=userPrincipalName", q["graph_url"].as_str().unwrap())).bearer_auth(&graph_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(users["value"][0]["userPrincipalName"], q["username"], "{users}");

    srv.kill9();
    let mut rot = vec!["keys".to_string(), "rotate".to_string()];
    rot.extend(args(&[]));
    let rot: Vec<&str> = rot.iter().map(String::as_str).collect();
    let out = atrium(&rot, None, &[]).ok();
    assert!(out.starts_with("New active signing key: "), "{out}");
    let new_kid = out.trim().rsplit(' ').next().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);

    let srv = srv.restart().await;
    let http = srv.client();
    assert_eq!(jwt_kid(&token(http.clone(), srv.url.clone()).await), new_kid, "the new key signs");
    let jwks: Value = http.get(format!("{}/{}/discovery/v2.0/keys", srv.url, q["tenant_id"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()], "the old key stays published until its tokens expire");
}

/// `atrium quickstart --json --scim` adds a directory-synced tenant whose token works at `scim_url`.
async fn quickstart_scim(backend: Backend) {
    let srv = Server::start(backend).await;
    let port = srv.url.rsplit(':').next().unwrap().to_owned();
    let out = atrium(
        &["quickstart", "--json", "--scim", "--data-dir", srv.data_dir.to_str().unwrap(), "--database-url", srv.database_url()],
        None,
        &[("ATRIUM_LISTEN", &format!("127.0.0.1:{port}"))],
    )
    .ok();
    let q: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(q["scim_url"], format!("{}/scim/v2", srv.url));
    assert!(q["scim_token"].as_str().unwrap().starts_with("atscim_"), "{q}");
    assert!(q["client_secret"].is_string(), "the usual keys stay: {q}");
    let r = srv.client().get(format!("{}/Users?filter=userName%20eq%20%22x%22", q["scim_url"].as_str().unwrap())).bearer_auth(q["scim_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["totalResults"], 0);
}

/// Logs the owner in, opens "Contoso Games" and creates its tenant `contoso` with the global
/// admin `admin`. Returns (account id, tenant id, the admin's user id).
fn account_with_tenant(srv: &Server, owner: impl Fn(&[&str], Option<&str>) -> Output) -> (String, String, String) {
    let ca = srv.ca.to_str().unwrap().to_owned();
    owner(&["login", "--url", &srv.url, "--ca-cert", &ca, "--tenant", "personal.onatrium.local", "--username", &srv.owner_upn,
            "--password-stdin", "--new-password-stdin"], Some(&format!("{}\n{NEW_OWNER_PASSWORD}\n", srv.owner_password))).ok();
    let acc: Value = serde_json::from_str(&owner(&["account", "create", "--name", "Contoso Games", "--json"], None).ok()).unwrap();
    let acc = acc["id"].as_str().unwrap().to_owned();
    let created: Value = serde_json::from_str(
        &owner(&["account", "tenant", "create", "--account", &acc, "--name", "Contoso", "--prefix", "contoso", "--admin-username", "admin",
                 "--admin-given-name", "Ada", "--admin-surname", "Admin", "--admin-password-stdin", "--json"], Some("Adm1n-Passw0rd!\n")).ok(),
    )
    .unwrap();
    let tid = created["tenant"]["id"].as_str().unwrap().to_owned();
    let admin_id = created["globalAdmin"]["id"].as_str().unwrap().to_owned();
    (acc, tid, admin_id)
}

async fn cli_manages_partner_accounts(backend: Backend) {
    let srv = Server::start(backend).await;
    let (owner_dir, admin_dir) = (tempfile_dir("owner"), tempfile_dir("admin"));
    let owner = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", owner_dir.to_str().unwrap())]);
    let admin = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", admin_dir.to_str().unwrap())]);
    let ca = srv.ca.to_str().unwrap().to_owned();
    let (acc, tid, _) = account_with_tenant(&srv, owner);
    // The new tenant's global admin is a Manager of the account from the start (seed 000).
    let out = owner(&["account", "member", "list", "--account", &acc], None).ok();
    assert!(out.contains("admin@contoso.onatrium.local") && out.contains("manager"), "{out}");
    admin(&["login", "--url", &srv.url, "--ca-cert", &ca, "--tenant", "contoso.onatrium.local", "--username", "admin", "--password-stdin"],
          Some("Adm1n-Passw0rd!\n")).ok();
    let p: Value = serde_json::from_str(&admin(&["account", "product", "create", "--account", &acc, "--name", "Game One", "--json"], None).ok()).unwrap();
    let product = p["id"].as_str().unwrap().to_owned();
    admin(&["user", "create", "--tenant", "contoso.onatrium.local", "--upn", "ann", "--password-stdin"], Some("Us3r-Passw0rd!\n")).ok();
    let out = admin(&["account", "member", "add", "--account", &acc, "--id", "ann", "--permission", &format!("packages=read_write:{product}")], None).ok();
    assert!(out.contains("added   user ann"), "{out}");
    // A failed item makes the command fail, with the reason.
    let bad = admin(&["account", "member", "add", "--account", &acc, "--id", "nobody", "--role", "developer"], None);
    assert!(!bad.success && bad.stdout.contains("user_not_found"), "{}", bad.stdout);
    let list = admin(&["account", "member", "list", "--account", &acc], None).ok();
    assert!(list.contains("ann@contoso.onatrium.local") && list.contains("packages (read_write) on"), "{list}");
    let check = admin(&["account", "check", "--account", &acc, "--permission", "packages", "--product", &product, "--principal", "ann", "--json"], None);
    let d: Value = serde_json::from_str(&check.ok()).unwrap();
    assert_eq!(d["allowed"], true);
    let tenants = owner(&["account", "tenant", "list", "--account", &acc], None).ok();
    assert!(tenants.contains("contoso.onatrium.local"), "{tenants}");
    let refused = admin(&["account", "tenant", "remove", "--account", &acc, &tid], None);
    assert!(!refused.success && refused.stderr.contains("--yes"), "destructive commands ask first");

    // Invite outside users. This server has no SMTP server configured: the mail waits in the
    // outbox, visible to the instance administrator.
    let out = admin(&["account", "invitation", "send", "--account", &acc, "--emails", "gus@example.com; gil@example.org", "--role", "developer"], None).ok();
    assert!(out.contains("Invited gus@example.com") && out.contains("Invited gil@example.org"), "{out}");
    let bad = admin(&["account", "invitation", "send", "--account", &acc, "--emails", "x@example.com, nope", "--role", "developer"], None);
    assert!(!bad.success && bad.stderr.contains("emails[1]"), "{}", bad.stderr);
    let list: Value = serde_json::from_str(&admin(&["account", "invitation", "list", "--account", &acc, "--json"], None).ok()).unwrap();
    let invs = list["value"].as_array().unwrap();
    assert_eq!(invs.len(), 2);
    // No mail server in this test: the service says the mail was not sent.
    assert!(invs.iter().all(|i| i["status"] == "pending" && i["mail"]["status"] == "not_sent"), "{list}");
    let members = admin(&["account", "member", "list", "--account", &acc], None).ok();
    assert!(members.contains("gus_example.com#EXT#"), "{members}");
    let mail = owner(&["mail", "list"], None).ok();
    assert!(mail.contains("gus@example.com") && mail.contains("not_sent"), "{mail}");
    let gus = invs.iter().find(|i| i["email"] == "gus@example.com").unwrap()["id"].as_str().unwrap().to_owned();
    let refused = admin(&["account", "invitation", "revoke", "--account", &acc, &gus], None);
    assert!(!refused.success && refused.stderr.contains("--yes"), "{}", refused.stderr);
    let out = admin(&["account", "invitation", "revoke", "--account", &acc, &gus, "--yes"], None).ok();
    assert!(out.contains("Revoked the invitation of gus@example.com"), "{out}");
    let shown = admin(&["account", "invitation", "show", "--account", &acc, &gus], None).ok();
    assert!(shown.contains("revoked"), "{shown}");
}

/// Seed 003 from the command line: the owner maps a subscription to the account's directory
/// after its global administrator consents, adds a co-administrator, and the subscription shows
/// up in the account's deployment view.
async fn cli_walks_seed_003_subscriptions(backend: Backend) {
    let srv = Server::start(backend).await;
    let (owner_dir, admin_dir) = (tempfile_dir("sub-owner"), tempfile_dir("sub-admin"));
    let owner = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", owner_dir.to_str().unwrap())]);
    let admin = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", admin_dir.to_str().unwrap())]);
    let ca = srv.ca.to_str().unwrap().to_owned();
    let (acc, tid, _) = account_with_tenant(&srv, owner);
    admin(&["login", "--url", &srv.url, "--ca-cert", &ca, "--tenant", "contoso.onatrium.local", "--username", "admin", "--password-stdin"],
          Some("Adm1n-Passw0rd!\n")).ok();

    let sub: Value = serde_json::from_str(&owner(&["subscription", "create", "--name", "Pay-As-You-Go", "--json"], None).ok()).unwrap();
    assert_eq!(sub["directory"]["domain"], "personal.onatrium.local");
    let sub = sub["id"].as_str().unwrap().to_owned();
    // Step 1, then step 2 by the directory's global administrator.
    let req: Value = serde_json::from_str(&owner(&["subscription", "request-directory", &sub, "--tenant", "contoso.onatrium.local", "--json"], None).ok()).unwrap();
    let code = req["consentCode"].as_str().unwrap().to_owned();
    let asked = admin(&["subscription", "consent", "--code", &code], None);
    assert!(!asked.success && asked.stdout.contains("asks to use your directory contoso.onatrium.local with the subscription Pay-As-You-Go"), "{}", asked.stdout);
    let out = admin(&["subscription", "consent", "--code", &code, "--yes"], None).ok();
    assert!(out.contains("may now use contoso.onatrium.local"), "{out}");
    // Step 3: the confirm page first; nothing changes without --yes. The subscription and the
    // directory by name (issue 19 item 4), or by GUID.
    let asked = owner(&["subscription", "change-directory", "pay-as-you-go", "--tenant-id", "contoso.onatrium.local"], None);
    assert!(!asked.success && asked.stdout.contains("personal.onatrium.local → contoso.onatrium.local") && asked.stderr.contains("--yes"), "{}", asked.stdout);
    let never = owner(&["subscription", "change-directory", "Pay-As-You-Go", "--tenant", "fabrikam.onatrium.local"], None);
    assert!(!never.success && never.stderr.contains("'fabrikam.onatrium.local' was not asked for") && never.stderr.contains("[directory_not_consented]"), "{}", never.stderr);
    let out = owner(&["subscription", "change-directory", &sub, "--tenant-id", &tid, "--yes"], None).ok();
    assert!(out.contains("now trusts contoso.onatrium.local"), "{out}");
    // Step 4: co-administrators from the mapped directory only, with a clear error otherwise.
    admin(&["user", "create", "--tenant", "contoso.onatrium.local", "--upn", "ann", "--password-stdin"], Some("Us3r-Passw0rd!\n")).ok();
    let out = owner(&["subscription", "coadmin", "add", &sub, "--email", "ann@contoso.onatrium.local"], None).ok();
    assert!(out.contains("Added co-administrator ann@contoso.onatrium.local"), "{out}");
    let bad = owner(&["subscription", "coadmin", "add", &sub, "--email", "olga@fabrikam.example"], None);
    assert!(!bad.success && bad.stderr.contains("[coadministrator_outside_directory]") && bad.stderr.contains("(field: email)"), "{}", bad.stderr);
    // Step 5: the account's deployment view; a disabled subscription leaves it.
    let view = owner(&["subscription", "deployment", "--account", &acc], None).ok();
    assert!(view.contains("Pay-As-You-Go") && view.contains("contoso.onatrium.local"), "{view}");
    owner(&["subscription", "disable", &sub], None).ok();
    assert!(owner(&["subscription", "deployment", "--account", &acc], None).ok().contains("(none)"));
    let audit = owner(&["subscription", "audit", "Pay-As-You-Go"], None).ok();
    assert!(audit.contains("subscription.directory.change") && audit.contains("subscription.disable"), "{audit}");
}

/// `atrium tenant provisioning token ...`: the tenant's global administrator creates a SCIM token
/// (shown once, with the SCIM URL), lists it without its value and revokes it after a confirmation.
async fn cli_manages_provisioning_tokens(backend: Backend) {
    let srv = Server::start(backend).await;
    let (owner_dir, admin_dir) = (tempfile_dir("scim-owner"), tempfile_dir("scim-admin"));
    let owner = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", owner_dir.to_str().unwrap())]);
    let admin = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", admin_dir.to_str().unwrap())]);
    let ca = srv.ca.to_str().unwrap().to_owned();
    let (_, tid, _) = account_with_tenant(&srv, owner);
    admin(&["login", "--url", &srv.url, "--ca-cert", &ca, "--tenant", "contoso.onatrium.local", "--username", "admin", "--password-stdin"],
          Some("Adm1n-Passw0rd!\n")).ok();
    let contoso = "contoso.onatrium.local";
    let scim_url = format!("{}/scim/v2", srv.url);

    // For people: the SCIM URL, the token once, and what it means.
    let out = admin(&["tenant", "provisioning", "token", "create", "--tenant", contoso, "--name", "Entra provisioning"], None).ok();
    assert!(out.contains(&format!("SCIM URL (Tenant URL)  {scim_url}")) && out.contains("token (Secret Token)   atscim_"), "{out}");
    assert!(out.contains("shown only now") && out.contains("directory-synced"), "{out}");
    let value = out.lines().find_map(|l| l.strip_prefix("token (Secret Token)   ")).unwrap().to_owned();
    // For scripts, by tenant id as well as by domain.
    let created: Value = serde_json::from_str(
        &admin(&["tenant", "provisioning", "token", "create", "--tenant", &tid, "--name", "Okta", "--valid-days", "30", "--json"], None).ok(),
    )
    .unwrap();
    assert_eq!((&created["scimUrl"], &created["name"]), (&json!(scim_url), &json!("Okta")));
    assert!(created["token"].as_str().unwrap().starts_with("atscim_"));
    let bad = admin(&["tenant", "provisioning", "token", "create", "--tenant", contoso, "--name", "Nope", "--valid-days", "0"], None);
    assert!(!bad.success && bad.stderr.contains("[invalid_validity]") && bad.stderr.contains("field: validDays"), "{}", bad.stderr);

    let list = admin(&["tenant", "provisioning", "token", "list", "--tenant", contoso], None).ok();
    assert!(list.contains("Entra provisioning") && list.contains("Okta") && list.contains("active") && list.contains(&scim_url), "{list}");
    assert!(!list.contains(&value) && !list.contains("atscim_"), "values are never listed: {list}");
    let listed: Value = serde_json::from_str(&admin(&["tenant", "provisioning", "token", "list", "--tenant", contoso, "--json"], None).ok()).unwrap();
    assert_eq!(listed["value"].as_array().unwrap().len(), 2);
    // The tenant is directory-synced now: users arrive through SCIM only.
    let refused = admin(&["user", "create", "--tenant", contoso, "--upn", "ann"], None);
    assert!(!refused.success && refused.stderr.contains("[directory_sync_enabled]"), "{}", refused.stderr);

    // Revoking asks first; by name or by id.
    let asked = admin(&["tenant", "provisioning", "token", "revoke", "--tenant", contoso, "Entra provisioning"], None);
    assert!(!asked.success && asked.stderr.contains("--yes"), "{}", asked.stderr);
    let out = admin(&["tenant", "provisioning", "token", "revoke", "--tenant", contoso, "entra provisioning", "--yes"], None).ok();
    assert!(out.contains("Revoked provisioning token 'Entra provisioning'"), "{out}");
    let okta = created["id"].as_str().unwrap();
    admin(&["tenant", "provisioning", "token", "revoke", "--tenant", contoso, okta, "--yes"], None).ok();
    assert!(admin(&["tenant", "provisioning", "token", "list", "--tenant", contoso], None).ok().contains("(none)"));
    let gone = admin(&["tenant", "provisioning", "token", "revoke", "--tenant", contoso, okta, "--yes"], None);
    assert!(!gone.success && gone.stderr.contains("no provisioning token"), "{}", gone.stderr);
}

/// Seeds 000–002 from the command line with names only: no GUID is typed. The owner opens an
/// account, creates one tenant and associates another, and makes the new tenant's global
/// administrator a Manager by userPrincipalName; the administrator creates users, a group and an
/// application (Reply URL, App ID URI, a key), adds them to the account by alias, group name and
/// application name, edits and removes them, creates members from the account, resets a password;
/// the owner reads the history and the audit log.
async fn cli_walks_seeds_000_to_002_by_name(backend: Backend) {
    let srv = Server::start(backend).await;
    let (owner_dir, admin_dir, ann_dir) = (tempfile_dir("names-owner"), tempfile_dir("names-admin"), tempfile_dir("names-ann"));
    let owner = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", owner_dir.to_str().unwrap())]);
    let admin = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", admin_dir.to_str().unwrap())]);
    let ann = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", ann_dir.to_str().unwrap())]);
    let ca = srv.ca.to_str().unwrap().to_owned();
    let (acc, contoso) = ("Contoso Games", "contoso.onatrium.local");

    // Seed 000: open the account and create a brand-new tenant with its global administrator.
    owner(&["login", "--url", &srv.url, "--ca-cert", &ca, "--tenant", "personal.onatrium.local", "--username", &srv.owner_upn,
            "--password-stdin", "--new-password-stdin"], Some(&format!("{}\n{NEW_OWNER_PASSWORD}\n", srv.owner_password))).ok();
    let out = owner(&["account", "create", "--name", acc], None).ok();
    assert!(out.contains("--account 'Contoso Games'"), "the next step is shown by name: {out}");
    let out = owner(&["account", "tenant", "create", "--account", acc, "--name", "Contoso", "--prefix", "contoso", "--admin-username", "admin",
                      "--admin-given-name", "Ada", "--admin-surname", "Admin", "--admin-password-stdin"], Some("Adm1n-Passw0rd!\n")).ok();
    assert!(out.contains("Created and associated contoso.onatrium.local") && out.contains("admin@contoso.onatrium.local"), "{out}");
    // Seeds 000/001: associate an existing tenant, by domain.
    owner(&["tenant", "create", "--name", "Fabrikam", "--prefix", "fabrikam", "--admin-username", "frank", "--admin-given-name", "Frank",
            "--admin-surname", "Miller", "--admin-password-stdin"], Some("Fr4nk-Passw0rd!\n")).ok();
    let out = owner(&["account", "tenant", "associate", "--account", acc, "--tenant", "fabrikam.onatrium.local", "--username", "frank",
                      "--password-stdin", "--yes"], Some("Fr4nk-Passw0rd!\n")).ok();
    assert!(out.contains("Organization: Fabrikam") && out.contains("Associated fabrikam.onatrium.local"), "{out}");

    // The owner makes contoso's global administrator a Manager, naming the user and the tenant.
    // (If creating the tenant already made its administrator a member, the add reports it and
    // the update below sets the role either way.)
    let added = owner(&["account", "member", "add", "--account", acc, "--tenant", contoso, "--id", "admin@contoso.onatrium.local", "--role", "manager"], None);
    assert!(added.stdout.contains("added   user admin@contoso.onatrium.local") || added.stdout.contains("[already_member]"), "{}", added.stdout);
    let out = owner(&["account", "member", "update", "--account", acc, "admin@contoso.onatrium.local", "--role", "manager"], None).ok();
    assert!(out.contains("Access of user Ada Admin (admin@contoso.onatrium.local) is now: manager"), "{out}");

    // Seed 002 as the Manager: the directory first (users, a group, an application with a key).
    admin(&["login", "--url", &srv.url, "--ca-cert", &ca, "--tenant", contoso, "--username", "admin", "--password-stdin"], Some("Adm1n-Passw0rd!\n")).ok();
    admin(&["user", "create", "--tenant", contoso, "--upn", "ann", "--given-name", "Ann", "--surname", "Lee", "--password-stdin"], Some("Us3r-Passw0rd!\n")).ok();
    admin(&["user", "create", "--tenant", contoso, "--upn", "bob", "--given-name", "Bob", "--surname", "Kim", "--password-stdin"], Some("Us3r-Passw0rd!\n")).ok();
    admin(&["group", "create", "--tenant", contoso, "--name", "Engineering", "--member", "ann"], None).ok();
    let out = admin(&["app", "create", "--tenant", contoso, "--name", "Store Client", "--reply-url", "https://store.contoso.com/signin",
                      "--app-id-uri", "api://contoso-store"], None).ok();
    assert!(out.contains("Registered application Store Client") && out.contains("https://store.contoso.com/signin") && out.contains("api://contoso-store"), "{out}");
    let out = admin(&["app", "update", "--tenant", contoso, "store client", "--add-reply-url", "https://store.contoso.com/callback",
                      "--app-id-uri", "api://contoso-store-2"], None).ok();
    assert!(out.contains("https://store.contoso.com/signin, https://store.contoso.com/callback") && out.contains("api://contoso-store-2"), "{out}");
    let out = admin(&["app", "key", "add", "--tenant", contoso, "Store Client", "--description", "build server", "--months", "12"], None).ok();
    assert!(out.contains("Client ID") && out.contains("shown only now"), "{out}");
    let secret = out.lines().find_map(|l| l.strip_prefix("key")).unwrap().trim().to_owned();
    let keys = admin(&["app", "key", "list", "--tenant", contoso, "Store Client"], None).ok();
    assert!(keys.contains("build server") && !keys.contains(&secret), "keys are listed without their value: {keys}");
    // Admin consent for Microsoft Graph application permissions, by name or Microsoft's app role id.
    let out = admin(&["app", "permission", "grant", "--tenant", contoso, "Store Client", "User.Read.All", "62a82d76-70ea-41e2-9197-370581804d09"], None).ok();
    assert!(out.contains("Granted admin consent to Store Client") && out.contains("User.Read.All") && out.contains("Group.ReadWrite.All"), "{out}");
    let refused = admin(&["app", "permission", "grant", "--tenant", contoso, "Store Client", "Mail.Send"], None);
    assert!(!refused.success && refused.stderr.contains("Mail.Send"), "{}", refused.stderr);
    admin(&["app", "permission", "revoke", "--tenant", contoso, "Store Client", "User.Read.All", "--yes"], None).ok();
    let out = admin(&["app", "permission", "list", "--tenant", contoso, "Store Client"], None).ok();
    assert!(out.contains("Group.ReadWrite.All") && !out.contains("User.Read.All"), "{out}");

    // Add them to the account by alias, group name and application name.
    let out = admin(&["account", "member", "add", "--account", acc, "--id", "ann", "--role", "marketer"], None).ok();
    assert!(out.contains("added   user ann"), "{out}");
    let out = admin(&["account", "member", "add", "--account", acc, "--type", "group", "--id", "Engineering", "--role", "developer"], None).ok();
    assert!(out.contains("added   group Engineering"), "{out}");
    let out = admin(&["account", "member", "add", "--account", acc, "--type", "application", "--id", "Store Client", "--role", "developer"], None).ok();
    assert!(out.contains("added   application Store Client"), "{out}");
    let list = admin(&["account", "member", "list", "--account", acc], None).ok();
    assert!(list.contains("ann@contoso.onatrium.local") && list.contains("Engineering") && list.contains("Store Client"), "{list}");
    // Ann is a Marketer and, through Engineering, a Developer: the check says so in words.
    let check = admin(&["account", "check", "--account", acc, "--permission", "packages", "--principal", "ann"], None).ok();
    assert!(check.contains("Allowed: Read/write.") && check.contains("role developer, through the group Engineering"), "{check}");
    assert!(!check.contains('{'), "no raw JSON: {check}");

    // Edit and remove by name.
    let out = admin(&["account", "member", "update", "--account", acc, "Engineering", "--role", "business_contributor"], None).ok();
    assert!(out.contains("Access of group Engineering is now: business_contributor"), "{out}");
    let check = admin(&["account", "check", "--account", acc, "--permission", "packages", "--principal", "ann"], None).ok();
    assert!(check.contains("Not allowed: no access."), "{check}");
    let asked = admin(&["account", "member", "remove", "--account", acc, "Store Client"], None);
    assert!(!asked.success && asked.stderr.contains("--yes"), "{}", asked.stderr);
    let out = admin(&["account", "member", "remove", "--account", acc, "Store Client", "--yes"], None).ok();
    assert!(out.contains("Removed application Store Client from the account."), "{out}");
    assert!(admin(&["app", "show", "--tenant", contoso, "Store Client"], None).ok().contains("api://contoso-store-2"), "the directory object stays");
    let out = admin(&["app", "key", "remove", "--tenant", contoso, "Store Client", "build server", "--yes"], None).ok();
    assert!(out.contains("Removed key build server of Store Client."), "{out}");
    assert!(admin(&["app", "key", "list", "--tenant", contoso, "Store Client"], None).ok().contains("(none)"));

    // Create users, groups and applications from the account (global admin of the tenant signed in through).
    let out = admin(&["account", "member", "create-user", "--account", acc, "--upn", "carol", "--given-name", "Carol", "--surname", "Diaz",
                      "--group", "Engineering", "--role", "developer"], None).ok();
    assert!(out.contains("Created carol@contoso.onatrium.local") && out.contains("Temporary password (shown only now"), "{out}");
    let members = admin(&["group", "members", "--tenant", contoso, "Engineering"], None).ok();
    assert!(members.contains("carol@contoso.onatrium.local"), "{members}");
    let out = admin(&["account", "member", "create-group", "--account", acc, "--name", "Marketing", "--member", "bob", "--role", "marketer"], None).ok();
    assert!(out.contains("Created group Marketing with 1 member(s)"), "{out}");
    let out = admin(&["account", "member", "create-app", "--account", acc, "--name", "Ingestion", "--reply-url", "https://ingest.contoso.com",
                      "--app-id-uri", "api://contoso-ingest", "--role", "developer"], None).ok();
    assert!(out.contains("Registered application Ingestion") && out.contains("api://contoso-ingest"), "{out}");
    // A Reply URL is unique in the directory: the service's error reaches the command line.
    let dup = admin(&["account", "member", "create-app", "--account", acc, "--name", "Again", "--reply-url", "https://ingest.contoso.com", "--role", "developer"], None);
    assert!(!dup.success && dup.stderr.contains("replyUrls"), "{}", dup.stderr);

    // Reset Ann's password: the temporary one is printed once and works once.
    let out = admin(&["account", "member", "reset-password", "--account", acc, "ann"], None).ok();
    let temporary = out.lines().find_map(|l| l.split("next sign-in): ").nth(1)).unwrap().trim().to_owned();
    let login = ann(&["login", "--url", &srv.url, "--ca-cert", &ca, "--tenant", contoso, "--username", "ann", "--password-stdin", "--new-password-stdin", "--json"],
                    Some(&format!("{temporary}\nAnn-N3w-Passw0rd!\n"))).ok();
    assert!(login.contains("\"mustChangePassword\": false"), "{login}");
    // Ann opens the account (what the owner will see in her history).
    ann(&["account", "product", "list", "--account", acc], None).ok();

    // Seed 000: remove a tenant by domain.
    let out = owner(&["account", "tenant", "remove", "--account", acc, "fabrikam.onatrium.local", "--yes"], None).ok();
    assert!(out.contains("Removed fabrikam.onatrium.local."), "{out}");

    // The owner reads a member's history and the account's audit log.
    // History is written in batches, once a second.
    let mut history = String::new();
    for _ in 0..20 {
        history = owner(&["account", "member", "history", "--account", acc, "ann"], None).ok();
        if !history.contains("(none)") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(history.contains("History of user Ann Lee (ann@contoso.onatrium.local)") && !history.contains("(none)"), "{history}");
    let audit = owner(&["account", "audit", "--account", acc], None).ok();
    for action in ["account.tenant.remove", "account.member.add", "account.member.update", "account.member.remove"] {
        assert!(audit.contains(action), "{action} missing: {audit}");
    }
    // People and grants in words, not GUIDs and JSON.
    assert!(audit.contains("Ada Admin (admin@contoso.onatrium.local)") && audit.contains("Ann Lee (ann@contoso.onatrium.local)"), "{audit}");
    assert!(audit.contains("grant: Marketer") && !audit.contains("\"roles\""), "{audit}");
    let about_ann: Value = serde_json::from_str(&owner(&["account", "audit", "--account", acc, "--target", "ann", "--json"], None).ok()).unwrap();
    let about_ann = about_ann.as_array().unwrap();
    assert!(!about_ann.is_empty() && about_ann.iter().all(|e| e["targetType"] == "user"), "{about_ann:?}");
}

/// Item 4 of issue 19: names are taken wherever a GUID is, and a name that matches nothing, or
/// several things, is refused with the candidates listed.
async fn cli_names_resolve_or_say_why_not(backend: Backend) {
    let srv = Server::start(backend).await;
    let (owner_dir, admin_dir) = (tempfile_dir("res-owner"), tempfile_dir("res-admin"));
    let owner = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", owner_dir.to_str().unwrap())]);
    let admin = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", admin_dir.to_str().unwrap())]);
    let ca = srv.ca.to_str().unwrap().to_owned();
    let (_, _, _) = account_with_tenant(&srv, owner);
    let (acc, contoso) = ("Contoso Games", "contoso.onatrium.local");
    owner(&["account", "member", "add", "--account", acc, "--tenant", contoso, "--id", "admin", "--role", "manager"], None);
    admin(&["login", "--url", &srv.url, "--ca-cert", &ca, "--tenant", contoso, "--username", "admin", "--password-stdin"], Some("Adm1n-Passw0rd!\n")).ok();

    let bad = owner(&["account", "member", "list", "--account", "Fabrikam Games"], None);
    assert!(!bad.success && bad.stderr.contains("no account matches 'Fabrikam Games'; there are: Contoso Games"), "{}", bad.stderr);
    let bad = owner(&["account", "tenant", "remove", "--account", acc, "fabrikam.onatrium.local", "--yes"], None);
    assert!(!bad.success && bad.stderr.contains("no tenant associated with the account matches 'fabrikam.onatrium.local'; there are: contoso.onatrium.local"),
            "{}", bad.stderr);
    // Two applications with one name: adding by that name names both, with their App IDs.
    admin(&["app", "create", "--tenant", contoso, "--name", "Design", "--reply-url", "https://one.contoso.com"], None).ok();
    admin(&["app", "create", "--tenant", contoso, "--name", "Design", "--reply-url", "https://two.contoso.com"], None).ok();
    let bad = admin(&["account", "member", "add", "--account", acc, "--type", "application", "--id", "design", "--role", "developer"], None);
    assert!(!bad.success && bad.stderr.contains("'design' matches 2 applications: Design (App ID ") && bad.stderr.contains("give its id"), "{}", bad.stderr);
    let bad = admin(&["account", "member", "add", "--account", acc, "--type", "group", "--id", "Nope", "--role", "developer"], None);
    assert!(!bad.success && bad.stderr.contains("no group matches 'Nope'"), "{}", bad.stderr);
    // A user alias and a group name that are the same: the member commands ask which.
    admin(&["user", "create", "--tenant", contoso, "--upn", "ops", "--given-name", "Olga", "--surname", "Ops", "--password-stdin"], Some("Us3r-Passw0rd!\n")).ok();
    admin(&["group", "create", "--tenant", contoso, "--name", "ops"], None).ok();
    admin(&["account", "member", "add", "--account", acc, "--id", "ops", "--role", "developer"], None).ok();
    admin(&["account", "member", "add", "--account", acc, "--type", "group", "--id", "ops", "--role", "developer"], None).ok();
    let bad = admin(&["account", "member", "remove", "--account", acc, "ops", "--yes"], None);
    assert!(!bad.success && bad.stderr.contains("'ops' matches 2 members of the account: user Olga Ops (ops@contoso.onatrium.local")
            && bad.stderr.contains("group ops"), "{}", bad.stderr);
    let out = admin(&["account", "member", "remove", "--account", acc, "--type", "group", "ops", "--yes"], None).ok();
    assert!(out.contains("Removed group ops from the account."), "{out}");
    // The full userPrincipalName is exact, so it wins over looser matches.
    let out = admin(&["account", "member", "update", "--account", acc, "ops@contoso.onatrium.local", "--role", "marketer"], None).ok();
    assert!(out.contains("is now: marketer"), "{out}");
    let bad = admin(&["account", "member", "update", "--account", acc, "nobody", "--role", "marketer"], None);
    assert!(!bad.success && bad.stderr.contains("no member of the account matches 'nobody'"), "{}", bad.stderr);
}
