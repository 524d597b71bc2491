//! Timestamps as epoch milliseconds.
//!
//! Stored as BIGINT on both backends so that ordering is numeric (sqlx's TEXT encoding of
//! `OffsetDateTime` does not sort in time order).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    pub fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    pub fn plus_seconds(self, s: i64) -> Self {
        Self(self.0.saturating_add(s.saturating_mul(1000)))
    }

    /// RFC 3339 in UTC with second precision, e.g. `2026-11-25T16:26:45Z`.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        match ::time::OffsetDateTime::from_unix_timestamp(secs) {
            Ok(t) => {
                let fmt = ::time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                );
                t.format(&fmt).unwrap_or_else(|_| secs.to_string())
            }
            Err(_) => secs.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(Timestamp::from_millis(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_millis(1_764_087_999_999).to_rfc3339(), "2025-11-25T16:26:39Z");
    }
}
