//! The one list of migrations. Each backend embeds its own SQL file of the same name from
//! `migrations/<backend>/`; a test checks that the two folders hold exactly these files.
//!
//! To add a migration: write `migrations/sqlite/NNNN_name.sql` and
//! `migrations/postgres/NNNN_name.sql`, and add one line here. Migrations are append-only:
//! a changed file is refused at start.

/// Expands to `&[(version, name, sql)]` for one backend folder, from the list below.
macro_rules! migrations {
    ($backend:literal) => {
        $crate::migrate::migrations!(@list $backend;
            1 "directory" "0001_directory.sql",
            2 "identity" "0002_identity.sql",
            3 "accounts" "0003_accounts.sql",
            4 "invitations" "0004_invitations.sql",
            5 "subscriptions" "0005_subscriptions.sql",
            6 "directory_query" "0006_directory_query.sql",
            7 "provisioning" "0007_provisioning.sql",
            8 "hardening" "0008_hardening.sql",
            9 "throttling" "0009_throttling.sql",
            10 "mfa" "0010_mfa.sql",
            11 "sign_in_logs" "0011_sign_in_logs.sql",
            12 "passkeys" "0012_passkeys.sql",
            13 "totp_sealed" "0013_totp_sealed.sql",
            14 "app_role_assignments" "0014_app_role_assignments.sql",
            16 "app_coadmins" "0016_app_coadmins.sql",
        )
    };
    (@list $backend:literal; $($v:literal $name:literal $file:literal,)*) => {
        &[$(($v, $name, include_str!(concat!("../migrations/", $backend, "/", $file))),)*]
    };
}
pub(crate) use migrations;

/// `(version, name)` of every migration, in order.
pub const MIGRATION_NAMES: &[(i64, &str)] = &{
    const ALL: &[(i64, &str, &str)] = migrations!("sqlite");
    let mut out = [(0i64, ""); ALL.len()];
    let mut i = 0;
    while i < ALL.len() {
        out[i] = (ALL[i].0, ALL[i].1);
        i += 1;
    }
    out
};
