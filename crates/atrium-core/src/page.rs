//! Cursor pagination. A cursor is the opaque (base64url) sort key of the last item returned.

use crate::error::{Error, ErrorCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A page request: an optional case-insensitive prefix, where to continue, and how many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Lower-cased prefix matched against the searchable names.
    pub prefix: Option<String>,
    /// The sort key after which to continue.
    pub after: Option<String>,
    pub limit: u32,
}

impl ListQuery {
    /// Parses the raw query parameters of a list or search request.
    pub fn parse(search: Option<&str>, cursor: Option<&str>, limit: Option<u32>) -> Result<Self, Error> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::new(ErrorCode::InvalidLimit).with_target("limit"));
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let bytes = URL_SAFE_NO_PAD
                    .decode(c)
                    .map_err(|_| Error::new(ErrorCode::InvalidCursor).with_target("cursor"))?;
                let key = String::from_utf8(bytes).map_err(|_| Error::new(ErrorCode::InvalidCursor).with_target("cursor"))?;
                // We never issue a key with NUL in it, and PostgreSQL text cannot hold one (it
                // would be a 500 from the database, not a 400).
                if key.contains('\0') {
                    return Err(Error::new(ErrorCode::InvalidCursor).with_target("cursor"));
                }
                Some(key)
            }
        };
        let prefix = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        if prefix.as_ref().is_some_and(|p| p.chars().count() > 256 || p.chars().any(char::is_control)) {
            return Err(Error::new(ErrorCode::InvalidRequest)
                .with_message("'search' must be at most 256 characters without control characters.")
                .with_target("search"));
        }
        Ok(Self { prefix, after, limit })
    }

    pub fn first(limit: u32) -> Self {
        Self { prefix: None, after: None, limit }
    }

    /// The exclusive upper bound for a prefix range scan: every string that starts with
    /// `prefix` sorts below `prefix + U+10FFFF` byte-wise. Range scans use plain B-tree indexes
    /// on both backends, where `LIKE 'x%'` would not.
    pub fn prefix_range(&self) -> Option<(String, String)> {
        self.prefix.as_ref().map(|p| (p.clone(), format!("{p}\u{10FFFF}")))
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only signals that more exist.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Self {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| URL_SAFE_NO_PAD.encode(key(last)))
        } else {
            None
        };
        Self { items: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_with_nul_is_refused() {
        // "AAAA" is base64 for three NUL bytes.
        let e = ListQuery::parse(None, Some("AAAA"), None).unwrap_err();
        assert_eq!((e.code, e.target.as_deref()), (ErrorCode::InvalidCursor, Some("cursor")));
    }

    #[test]
    fn cursor_round_trip() {
        let p = Page::from_rows(vec!["a", "b", "c"], 2, |s| s.to_string());
        assert_eq!(p.items, vec!["a", "b"]);
        let q = ListQuery::parse(None, p.next_cursor.as_deref(), Some(2)).unwrap();
        assert_eq!(q.after.as_deref(), Some("b"));
        assert_eq!(Page::from_rows(vec!["a"], 2, |s| s.to_string()).next_cursor, None);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(ListQuery::parse(None, None, Some(0)).unwrap_err().code, ErrorCode::InvalidLimit);
        assert_eq!(ListQuery::parse(None, None, Some(201)).unwrap_err().code, ErrorCode::InvalidLimit);
        assert_eq!(ListQuery::parse(None, Some("!!"), None).unwrap_err().code, ErrorCode::InvalidCursor);
        assert_eq!(ListQuery::parse(Some("  AdE "), None, None).unwrap().prefix.as_deref(), Some("ade"));
    }
}
