//! SCIM `filter` and PATCH `path` parsing. MINIMAL STUB (the agreed interface): `attr eq "value"`
//! joined by `and`, and simple paths. The coordinator replaces it with the real parser.

use atrium_core::query::{Attr, Filter, Op, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimResource {
    User,
    Group,
}

/// Why a filter or path is refused: the detail of a 400 `invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

fn attr_for(name: &str, r: ScimResource) -> Option<Attr> {
    let n = name.to_ascii_lowercase();
    match (r, n.as_str()) {
        (_, "id") => Some(Attr::Id),
        (_, "externalid") => Some(Attr::ExternalId),
        (_, "displayname") => Some(Attr::DisplayName),
        (ScimResource::User, "username") => Some(Attr::UserName),
        (ScimResource::User, "emails.value") | (ScimResource::User, "emails[type eq \"work\"].value") => Some(Attr::Mail),
        _ => None,
    }
}

fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    serde_json::from_str::<String>(s).ok()
}

pub fn parse_filter(s: &str, r: ScimResource) -> Result<Filter, FilterError> {
    let mut terms = Vec::new();
    for part in s.split(" and ") {
        let part = part.trim();
        let (attr, rest) = part.split_once(" eq ").or_else(|| part.split_once(" EQ ")).ok_or_else(|| FilterError(format!("Cannot parse the filter '{s}'.")))?;
        let a = attr_for(attr.trim(), r).ok_or_else(|| FilterError(format!("'{}' cannot be filtered on.", attr.trim())))?;
        let v = unquote(rest).ok_or_else(|| FilterError(format!("Cannot parse the value in '{part}'.")))?;
        let value = if a == Attr::Id {
            match uuid::Uuid::parse_str(&v) {
                Ok(u) => Value::Id(u),
                Err(_) => return Err(FilterError("'id' is compared with a value that is not an id.".into())),
            }
        } else {
            Value::Text(v)
        };
        terms.push(Filter::cmp(a, Op::Eq, value));
    }
    Ok(if terms.len() == 1 { terms.remove(0) } else { Filter::And(terms) })
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub schema: Option<String>,
    pub attr: String,
    pub value_filter: Option<ValueFilter>,
    pub sub_attr: Option<String>,
}

const SCHEMAS: &[&str] = &[
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
];

pub fn parse_path(s: &str) -> Result<PatchPath, FilterError> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let mut schema = None;
    let mut rest = s;
    for urn in SCHEMAS {
        let u = urn.to_ascii_lowercase();
        if lower == u {
            return Ok(PatchPath { schema: Some(s.to_owned()), attr: String::new(), value_filter: None, sub_attr: None });
        }
        if lower.starts_with(&format!("{u}:")) {
            schema = Some(s[..urn.len()].to_owned());
            rest = &s[urn.len() + 1..];
            break;
        }
    }
    let bad = || FilterError(format!("Cannot parse the path '{s}'."));
    let (attr, value_filter, after) = match rest.find('[') {
        Some(i) => {
            let j = rest.rfind(']').ok_or_else(bad)?;
            let inner = &rest[i + 1..j];
            let (a, v) = inner.split_once(" eq ").ok_or_else(bad)?;
            let value = unquote(v).ok_or_else(bad)?;
            (&rest[..i], Some(ValueFilter { attr: a.trim().to_owned(), value }), &rest[j + 1..])
        }
        None => match rest.split_once('.') {
            Some((a, sub)) => (a, None, &rest[a.len()..][..sub.len() + 1]),
            None => (rest, None, ""),
        },
    };
    let sub_attr = match after.strip_prefix('.') {
        Some(sub) if !sub.is_empty() => Some(sub.to_owned()),
        Some(_) => return Err(bad()),
        None if after.is_empty() => None,
        None => return Err(bad()),
    };
    if attr.is_empty() || !attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '$' || c == '_' || c == '-') {
        return Err(bad());
    }
    Ok(PatchPath { schema, attr: attr.to_owned(), value_filter, sub_attr })
}

/// The `[...]` of a PATCH path: which elements of a multi-valued attribute it targets.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueFilter {
    attr: String,
    value: String,
}

impl ValueFilter {
    pub fn matches(&self, element: &serde_json::Value) -> bool {
        element
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(&self.attr)))
            .is_some_and(|(_, v)| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(&self.value)))
    }
}
