//! API tests: the real server over HTTPS, on both backends. Every test runs twice, as
//! `<area>::<test>::sqlite` and `<area>::<test>::postgres`, each on a fresh database.

// Tests may panic on unexpected values: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod smtp;

/// Generates `<name>::sqlite` and `<name>::postgres` from one `async fn <name>(app: TestApp)`.
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::helpers::spawn_app(atrium_store::testing::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(crate::helpers::spawn_app(atrium_store::testing::Backend::Postgres).await).await;
            }
        }
    )*};
}

/// Like `api_tests!`, on an app whose configuration `$configure` (a `fn(&mut Config)`) changes.
macro_rules! api_tests_with {
    ($configure:ident; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::helpers::spawn_app_with(atrium_store::testing::Backend::Sqlite, super::$configure).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(crate::helpers::spawn_app_with(atrium_store::testing::Backend::Postgres, super::$configure).await).await;
            }
        }
    )*};
}

mod accounts;
mod arm;
mod auth;
mod console;
mod edge;
mod matrix;
mod graph_groups;
mod graph_permissions;
mod graph_sign_ins;
mod graph_users;
mod groups;
mod hardening;
mod identity;
mod invitations;
mod lockout;
mod mfa;
mod misc;
mod passkeys;
mod ops;
mod provisioning;
mod provisioning_effects;
mod scim;
mod scim_filter;
mod sign_ins;
mod subscriptions;
mod throttling;
mod tenants;
mod users;
mod walkthrough;
