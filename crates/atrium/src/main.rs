//! `atrium`: run the server, migrate its database, and administer it from the command line.

mod admin;
mod backup;
mod bench;
mod client;
mod commands;
mod output;
mod server;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "atrium", version, about = "Atrium: a self-hosted identity directory and account-access service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (HTTPS with a generated local CA unless --tls-cert/--tls-key are given).
    Serve(server::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(server::MigrateArgs),
    /// Create a demo tenant, user and app with a key, and print what MSAL needs (direct database access).
    Quickstart(admin::QuickstartArgs),
    /// Benchmarks (they print figures; they are not tests).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Write a consistent copy of the database to a file while the server runs (SQLite: online
    /// copy; PostgreSQL: pg_dump custom format). Direct database access.
    Backup(backup::BackupArgs),
    /// Restore a backup into the configured database (SQLite: refuses to replace one unless
    /// --force with the server stopped; PostgreSQL: into an empty database, with pg_restore).
    Restore(backup::RestoreArgs),
    /// Manage token-signing keys (direct database access).
    #[command(subcommand)]
    Keys(admin::KeysCommand),
    /// Sign in to a running server and remember the session for later commands.
    Login(commands::auth::LoginArgs),
    /// End the remembered session.
    Logout(client::GlobalArgs),
    /// Show the signed-in user and tenant.
    Whoami(client::GlobalArgs),
    /// Change the signed-in user's password (required after a temporary password).
    Password(commands::auth::PasswordArgs),
    /// Multi-factor sign-in: your authenticator app (enrol, status, disable), an admin's reset, the tenant policy.
    #[command(subcommand)]
    Mfa(commands::mfa::MfaCommand),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(commands::tenant::TenantCommand),
    /// Sign-in logs: every sign-in attempt of users and applications (administrators).
    #[command(subcommand, name = "sign-ins")]
    SignIns(commands::sign_ins::SignInsCommand),
    /// Manage users of a tenant.
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// Manage groups of a tenant and their members.
    #[command(subcommand)]
    Group(commands::group::GroupCommand),
    /// Manage application registrations of a tenant: Reply URLs, App ID URI and keys.
    #[command(subcommand, name = "app", visible_alias = "application")]
    App(commands::application::ApplicationCommand),
    /// Partner accounts: tenants, members with roles and permissions, products, access checks.
    #[command(subcommand)]
    Account(commands::account::AccountCommand),
    /// The mail outbox: what was sent, what waits for a retry, what was given up.
    #[command(subcommand)]
    Mail(commands::invitation::MailCommand),
    /// Subscriptions (seed 003): directory, co-administrators, and the account's deployment view.
    #[command(subcommand)]
    Subscription(commands::subscription::SubscriptionCommand),
}

fn main() -> ExitCode {
    // reqwest and the server both use rustls with aws-lc-rs; install it once for the process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Everything this process writes (the database, keys, backups, the CLI's session) is for
    // its owner only: 0600 files, 0700 directories.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(a) => server::serve(a).await,
            Command::Migrate(a) => server::migrate(a).await,
            Command::Quickstart(a) => admin::quickstart(a).await,
            Command::Keys(c) => admin::keys(c).await,
            Command::Backup(a) => backup::backup(a).await,
            Command::Restore(a) => backup::restore(a).await,
            Command::Bench(c) => bench::run(c).await,
            Command::Login(a) => commands::auth::login(a).await,
            Command::Logout(g) => commands::auth::logout(g).await,
            Command::Whoami(g) => commands::auth::whoami(g).await,
            Command::Password(a) => commands::auth::password(a).await,
            Command::Mfa(c) => commands::mfa::run(c).await,
            Command::Tenant(c) => commands::tenant::run(c).await,
            Command::SignIns(c) => commands::sign_ins::run(c).await,
            Command::User(c) => commands::user::run(c).await,
            Command::Group(c) => commands::group::run(c).await,
            Command::App(c) => commands::application::run(c).await,
            Command::Account(c) => commands::account::run(c).await,
            Command::Mail(c) => commands::invitation::mail(c).await,
            Command::Subscription(c) => commands::subscription::run(c).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
