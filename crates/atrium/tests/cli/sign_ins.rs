//! `atrium sign-ins list`.

use crate::server::{Server, atrium};
use crate::{NEW_OWNER_PASSWORD, tempfile_dir};
use atrium_store::testing::Backend;
use serde_json::Value;

cli_tests!(cli_lists_sign_ins);

async fn cli_lists_sign_ins(backend: Backend) {
    let srv = Server::start(backend).await;
    let cli = tempfile_dir("sign-ins");
    let run = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", cli.to_str().unwrap())]);
    let mut args: Vec<&str> = srv.login_hint.split_whitespace().skip(1).collect();
    args.extend(["--password-stdin", "--new-password-stdin"]);
    run(&args, Some(&format!("{}\n{NEW_OWNER_PASSWORD}\n", srv.owner_password))).ok();

    // The login is a sign-in of the personal-accounts tenant; entries are written moments later.
    let mut page = Value::Null;
    for _ in 0..50 {
        page = serde_json::from_str(&run(&["sign-ins", "list", "--status", "success", "--json"], None).ok()).unwrap();
        if !page["items"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let first = &page["items"][0];
    assert_eq!(first["status"]["errorCode"], 0, "{page}");
    assert_eq!(first["appDisplayName"], "Atrium");
    let table = run(&["sign-ins", "list", "--tenant", "personal.onatrium.local"], None).ok();
    assert!(table.contains("success") && table.contains("Other clients"), "{table}");
    let bad = run(&["sign-ins", "list", "--status", "maybe"], None);
    assert!(!bad.success && bad.stderr.contains("status"), "a bad filter fails naming it: {}", bad.stderr);
}
