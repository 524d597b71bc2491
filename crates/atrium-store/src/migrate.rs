//! The migration list shared by both backends. Each backend embeds its own SQL files under the
//! same names; a test checks that the two folders stay in lockstep.

/// `(version, name)` of every migration, in order.
pub const MIGRATION_NAMES: &[(i64, &str)] = &[(1, "directory"), (2, "identity"), (3, "accounts"), (4, "invitations"), (5, "subscriptions")];
