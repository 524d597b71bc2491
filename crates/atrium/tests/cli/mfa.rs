//! `atrium mfa` and `atrium login` with a second factor, through the real binary.

use crate::server::{BIN, Server, atrium};
use crate::{NEW_OWNER_PASSWORD, tempfile_dir};
use atrium_core::services::mfa::{base32_decode, totp_code, totp_step};
use atrium_store::testing::Backend;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

cli_tests!(cli_enrols_totp_and_signs_in_with_a_recovery_code);

/// `atrium mfa enrol`: reads the secret it prints, answers with the current code, and returns
/// stdout (the recovery codes).
fn enrol(dir: &str) -> String {
    let mut child = Command::new(BIN)
        .args(["mfa", "enrol", "--code-stdin"])
        .env("ATRIUM_CLI_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut secret = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(s) = line.trim().strip_prefix("secret key: ") {
            secret = Some(base32_decode(s).unwrap());
            break;
        }
        line.clear();
    }
    let secret = secret.unwrap_or_else(|| panic!("no secret printed: {line}"));
    // The server is a real process on the system clock, so the code is computed from it too.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    writeln!(child.stdin.take().unwrap(), "{}", totp_code(&secret, totp_step(now))).unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "enrol failed: {out} {rest}");
    out
}

async fn cli_enrols_totp_and_signs_in_with_a_recovery_code(backend: Backend) {
    let srv = Server::start(backend).await;
    let owner_dir = tempfile_dir("mfa-owner");
    let owner = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", owner_dir.to_str().unwrap())]);
    let mut args: Vec<&str> = srv.login_hint.split_whitespace().skip(1).collect();
    args.extend(["--password-stdin", "--new-password-stdin"]);
    owner(&args, Some(&format!("{}\n{NEW_OWNER_PASSWORD}\n", srv.owner_password))).ok();
    owner(&["tenant", "create", "--name", "Contoso", "--prefix", "contoso", "--contact-email", "ops@contoso.com"], None).ok();
    owner(&["user", "create", "--tenant", "contoso.onatrium.local", "--upn", "adele", "--password-stdin"], Some("Us3r-Passw0rd!\n")).ok();

    let dir = tempfile_dir("mfa-adele");
    let adele = |args: &[&str], stdin: Option<&str>| atrium(args, stdin, &[("ATRIUM_CLI_DIR", dir.to_str().unwrap())]);
    let ca = srv.ca.to_str().unwrap().to_owned();
    let login = ["login", "--url", srv.url.as_str(), "--ca-cert", ca.as_str(), "--tenant", "contoso.onatrium.local", "--username", "adele", "--password-stdin"];
    adele(&login, Some("Us3r-Passw0rd!\n")).ok();
    assert!(adele(&["mfa", "status"], None).ok().contains("off"));

    let out = enrol(dir.to_str().unwrap());
    let codes: Vec<&str> = out.lines().skip(1).map(str::trim).filter(|l| !l.is_empty()).collect();
    assert_eq!(codes.len(), 10, "{out}");
    assert!(adele(&["mfa", "status"], None).ok().contains("recovery codes left  10"), "status after enrol");

    // Login now needs the second factor: without it, it fails; with a recovery code, it works once.
    adele(&["logout"], None).ok();
    let failed = adele(&login, Some("Us3r-Passw0rd!\n"));
    assert!(!failed.success && failed.stderr.contains("mfa_required"), "{}", failed.stderr);
    adele(&login, Some(&format!("Us3r-Passw0rd!\n{}\n", codes[0]))).ok();
    let again = adele(&login, Some(&format!("Us3r-Passw0rd!\n{}\n", codes[0])));
    assert!(!again.success && again.stderr.contains("invalid_mfa_code"), "{}", again.stderr);
    let mut with_flag = login.to_vec();
    with_flag.extend(["--otp", codes[1]]);
    adele(&with_flag, Some("Us3r-Passw0rd!\n")).ok();
    assert!(adele(&["mfa", "status"], None).ok().contains("recovery codes left  8"));

    // The owner (an instance admin) resets adele's methods and sets the tenant policy.
    owner(&["mfa", "reset", "--tenant", "contoso.onatrium.local", "adele"], None).ok();
    assert!(adele(&["mfa", "status"], None).ok().contains("off"));
    let p = owner(&["mfa", "policy", "--tenant", "contoso.onatrium.local", "--require-for-global-admins", "true"], None).ok();
    assert!(p.contains("true"), "{p}");
    let none = adele(&["mfa", "disable"], None);
    assert!(!none.success && none.stderr.contains("[not_found]"), "{}", none.stderr);
}
