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

    /// The same day and time `months` calendar months later (UTC), on the month's last day
    /// when it is shorter: 31 January + 1 month is 28 or 29 February.
    pub fn plus_months(self, months: u32) -> Self {
        let secs = self.0.div_euclid(1000);
        let Ok(t) = ::time::OffsetDateTime::from_unix_timestamp(secs) else { return self };
        let total = i64::from(t.year()) * 12 + i64::from(u8::from(t.month())) - 1 + i64::from(months);
        let (Ok(year), Ok(month)) = (i32::try_from(total.div_euclid(12)), u8::try_from(total.rem_euclid(12) + 1)) else { return self };
        let Ok(month) = ::time::Month::try_from(month) else { return self };
        let day = t.day().min(month.length(year));
        match ::time::Date::from_calendar_date(year, month, day) {
            Ok(d) => Self((t.replace_date(d).unix_timestamp()).saturating_mul(1000).saturating_add(self.0.rem_euclid(1000))),
            Err(_) => self,
        }
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

    #[test]
    fn months_follow_the_calendar() {
        let at = |s: &str| {
            let t = ::time::OffsetDateTime::parse(s, &::time::format_description::well_known::Rfc3339).unwrap();
            Timestamp::from_millis(t.unix_timestamp() * 1000 + 7)
        };
        assert_eq!(at("2025-11-24T16:00:00Z").plus_months(12), at("2026-11-24T16:00:00Z"));
        assert_eq!(at("2025-11-24T16:00:00Z").plus_months(24), at("2027-11-24T16:00:00Z"));
        assert_eq!(at("2024-01-31T00:00:00Z").plus_months(1), at("2024-02-29T00:00:00Z"));
        assert_eq!(at("2025-01-31T00:00:00Z").plus_months(1), at("2025-02-28T00:00:00Z"));
        assert_eq!(at("2025-12-15T12:30:00Z").plus_months(1), at("2026-01-15T12:30:00Z"));
    }
}
