//! One directory query model: a typed filter tree over the attributes of users, groups,
//! applications and service principals, with an order and a cursor.
//!
//! Every query language parses into it (REST `search` now; Graph `$filter`/`$search` and SCIM
//! `filter` later). The store compiles it to parameterised SQL per backend; [`matches`] and
//! [`DirectoryQuery::run_in_memory`] evaluate it here, and a property test holds the three to
//! the same answers.
//!
//! Semantics, the same everywhere:
//! - String attributes Entra compares case-insensitively are *folded*: both sides are lowered
//!   with [`fold`] (the store keeps a lowered column, written by the same function), and
//!   comparison and ordering are by code point (UTF-8 bytes).
//! - Logic is two-valued: a comparison on an absent attribute is false, except `ne`, which is
//!   `not eq` (a user without a department is "not in Sales").

use crate::error::{Error, ErrorCode};
use crate::model::{Application, Group, User};
use crate::page::ListQuery;
use crate::time::Timestamp;
use std::cmp::Ordering;
use uuid::Uuid;

/// Leaves (comparisons) allowed in one filter: keeps the SQL and its parameters bounded.
pub const MAX_FILTER_TERMS: usize = 64;
/// Values in one `in (...)`.
pub const MAX_IN_VALUES: usize = 100;
/// Longest string value, in characters.
pub const MAX_VALUE_CHARS: usize = 256;

/// What is being queried. A service principal is the tenant-local instance of an application
/// (one each in Atrium), so it shares the application's row with its own id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    User,
    Group,
    Application,
    ServicePrincipal,
}

/// An attribute a filter may test, by its Microsoft Graph name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attr {
    Id,
    DisplayName,
    CreatedDateTime,
    UserPrincipalName,
    GivenName,
    Surname,
    Mail,
    UserType,
    AccountEnabled,
    AppId,
    IdentifierUris,
    IsFallbackPublicClient,
    /// SCIM `userName` of a provisioned user.
    UserName,
    /// The provisioning source's id for the object (SCIM `externalId`), compared exactly.
    ExternalId,
    JobTitle,
    LastModifiedDateTime,
    /// Whether a provisioning source (SCIM) owns the object.
    Provisioned,
}

/// The type of an attribute, which decides the operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// Text; `folded` compares case-insensitively (see [`fold`]).
    Text {
        folded: bool,
    },
    Bool,
    Time,
    Id,
}

/// One attribute of one kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrSpec {
    pub attr: Attr,
    /// The Graph property name.
    pub name: &'static str,
    pub ty: AttrType,
    pub nullable: bool,
}

const fn spec(attr: Attr, name: &'static str, ty: AttrType, nullable: bool) -> AttrSpec {
    AttrSpec { attr, name, ty, nullable }
}
const FOLDED: AttrType = AttrType::Text { folded: true };

const USER_ATTRS: &[AttrSpec] = &[
    spec(Attr::Id, "id", AttrType::Id, false),
    spec(Attr::UserPrincipalName, "userPrincipalName", FOLDED, false),
    spec(Attr::DisplayName, "displayName", FOLDED, false),
    spec(Attr::GivenName, "givenName", FOLDED, true),
    spec(Attr::Surname, "surname", FOLDED, true),
    spec(Attr::Mail, "mail", FOLDED, true),
    // Member or Guest, exactly as Graph spells them.
    spec(Attr::UserType, "userType", AttrType::Text { folded: false }, false),
    spec(Attr::AccountEnabled, "accountEnabled", AttrType::Bool, false),
    spec(Attr::CreatedDateTime, "createdDateTime", AttrType::Time, false),
    spec(Attr::LastModifiedDateTime, "lastModifiedDateTime", AttrType::Time, false),
    spec(Attr::UserName, "userName", FOLDED, true),
    spec(Attr::ExternalId, "externalId", AttrType::Text { folded: false }, true),
    spec(Attr::JobTitle, "jobTitle", FOLDED, true),
];
const GROUP_ATTRS: &[AttrSpec] = &[
    spec(Attr::Id, "id", AttrType::Id, false),
    spec(Attr::DisplayName, "displayName", FOLDED, false),
    spec(Attr::CreatedDateTime, "createdDateTime", AttrType::Time, false),
    spec(Attr::LastModifiedDateTime, "lastModifiedDateTime", AttrType::Time, false),
    spec(Attr::ExternalId, "externalId", AttrType::Text { folded: false }, true),
    spec(Attr::Provisioned, "provisioned", AttrType::Bool, false),
];
const APPLICATION_ATTRS: &[AttrSpec] = &[
    spec(Attr::Id, "id", AttrType::Id, false),
    spec(Attr::AppId, "appId", AttrType::Id, false),
    spec(Attr::DisplayName, "displayName", FOLDED, false),
    spec(Attr::IdentifierUris, "identifierUris", FOLDED, true),
    spec(Attr::IsFallbackPublicClient, "isFallbackPublicClient", AttrType::Bool, false),
    spec(Attr::CreatedDateTime, "createdDateTime", AttrType::Time, false),
];
const SERVICE_PRINCIPAL_ATTRS: &[AttrSpec] = &[
    spec(Attr::Id, "id", AttrType::Id, false),
    spec(Attr::AppId, "appId", AttrType::Id, false),
    spec(Attr::DisplayName, "displayName", FOLDED, false),
    spec(Attr::CreatedDateTime, "createdDateTime", AttrType::Time, false),
];

impl ObjectKind {
    /// The attributes a filter may test on this kind of object.
    pub fn attributes(self) -> &'static [AttrSpec] {
        match self {
            ObjectKind::User => USER_ATTRS,
            ObjectKind::Group => GROUP_ATTRS,
            ObjectKind::Application => APPLICATION_ATTRS,
            ObjectKind::ServicePrincipal => SERVICE_PRINCIPAL_ATTRS,
        }
    }

    pub fn spec(self, attr: Attr) -> Option<AttrSpec> {
        self.attributes().iter().copied().find(|s| s.attr == attr)
    }

    /// Looks an attribute up by its Graph name, case-insensitively (SCIM and OData both allow it).
    pub fn attribute(self, name: &str) -> Option<AttrSpec> {
        self.attributes().iter().copied().find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The order of a plain listing: users by sign-in name, everything else by name.
    pub fn default_order(self) -> Order {
        let attr = if self == ObjectKind::User { Attr::UserPrincipalName } else { Attr::DisplayName };
        Order { attr, descending: false }
    }
}

/// How folded attributes are compared: the store's lowered columns hold exactly this.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Text(String),
    Bool(bool),
    Time(Timestamp),
    Id(Uuid),
}

impl Value {
    fn ty_matches(&self, ty: AttrType) -> bool {
        matches!(
            (self, ty),
            (Value::Text(_), AttrType::Text { .. }) | (Value::Bool(_), AttrType::Bool) | (Value::Time(_), AttrType::Time) | (Value::Id(_), AttrType::Id)
        )
    }

    /// Total order within one type (filters never compare across types).
    fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Time(a), Value::Time(b)) => Some(a.as_millis().cmp(&b.as_millis())),
            (Value::Id(a), Value::Id(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            _ => None,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    StartsWith,
    EndsWith,
    Contains,
}

impl Op {
    fn is_text_only(self) -> bool {
        matches!(self, Op::StartsWith | Op::EndsWith | Op::Contains)
    }

    fn is_ordering(self) -> bool {
        matches!(self, Op::Gt | Op::Ge | Op::Lt | Op::Le)
    }
}

/// A filter tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    Compare {
        attr: Attr,
        op: Op,
        value: Value,
    },
    In {
        attr: Attr,
        values: Vec<Value>,
    },
    /// The attribute has a value.
    Present(Attr),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
}

impl Filter {
    pub fn cmp(attr: Attr, op: Op, value: Value) -> Self {
        Filter::Compare { attr, op, value }
    }

    pub fn text(attr: Attr, op: Op, value: impl Into<String>) -> Self {
        Filter::Compare { attr, op, value: Value::Text(value.into()) }
    }

    fn terms(&self) -> usize {
        match self {
            Filter::Compare { .. } | Filter::Present(_) => 1,
            Filter::In { values, .. } => values.len().max(1),
            Filter::And(fs) | Filter::Or(fs) => fs.iter().map(Filter::terms).sum(),
            Filter::Not(f) => f.terms(),
        }
    }

    /// Checks attributes, types and sizes for `kind`, and folds text values where the
    /// attribute is folded, so the store binds them as they are.
    fn normalize(self, kind: ObjectKind) -> Result<Filter, Error> {
        let attr_spec = |attr: Attr| kind.spec(attr).ok_or_else(|| bad_filter(format!("{attr:?} cannot be filtered on this kind of object.")));
        let value = |spec: AttrSpec, v: Value| -> Result<Value, Error> {
            if !v.ty_matches(spec.ty) {
                return Err(bad_filter(format!("'{}' is compared with a value of the wrong type.", spec.name)));
            }
            match v {
                Value::Text(s) => {
                    if s.chars().count() > MAX_VALUE_CHARS || s.contains('\0') {
                        return Err(bad_filter(format!("A value compared with '{}' must be at most {MAX_VALUE_CHARS} characters without NUL.", spec.name)));
                    }
                    Ok(Value::Text(if matches!(spec.ty, AttrType::Text { folded: true }) { fold(&s) } else { s }))
                }
                other => Ok(other),
            }
        };
        Ok(match self {
            Filter::Compare { attr, op, value: v } => {
                let spec = attr_spec(attr)?;
                let text = matches!(spec.ty, AttrType::Text { .. });
                if op.is_text_only() && !text {
                    return Err(bad_filter(format!("'{}' is not text: {op:?} does not apply.", spec.name)));
                }
                if op.is_ordering() && !(text || spec.ty == AttrType::Time) {
                    return Err(bad_filter(format!("'{}' cannot be ordered: {op:?} does not apply.", spec.name)));
                }
                Filter::Compare { attr, op, value: value(spec, v)? }
            }
            Filter::In { attr, values } => {
                let spec = attr_spec(attr)?;
                if values.is_empty() || values.len() > MAX_IN_VALUES {
                    return Err(bad_filter(format!("'in' takes 1 to {MAX_IN_VALUES} values.")));
                }
                Filter::In { attr, values: values.into_iter().map(|v| value(spec, v)).collect::<Result<_, _>>()? }
            }
            Filter::Present(attr) => {
                attr_spec(attr)?;
                Filter::Present(attr)
            }
            Filter::And(fs) if fs.is_empty() => {
                return Err(bad_filter("'and' needs at least one operand.".into()));
            }
            Filter::Or(fs) if fs.is_empty() => {
                return Err(bad_filter("'or' needs at least one operand.".into()));
            }
            Filter::And(fs) => Filter::And(fs.into_iter().map(|f| f.normalize(kind)).collect::<Result<_, _>>()?),
            Filter::Or(fs) => Filter::Or(fs.into_iter().map(|f| f.normalize(kind)).collect::<Result<_, _>>()?),
            Filter::Not(f) => Filter::Not(Box::new(f.normalize(kind)?)),
        })
    }
}

fn bad_filter(message: String) -> Error {
    Error::new(ErrorCode::InvalidRequest).with_message(message).with_target("filter")
}

/// The sort order: one attribute (never absent), then the id as tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub attr: Attr,
    pub descending: bool,
}

/// Where a page starts: just after the object with this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: Value,
    pub id: Uuid,
}

/// A validated query. Build it with [`DirectoryQuery::new`]; the store trusts its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryQuery {
    kind: ObjectKind,
    filter: Option<Filter>,
    order: Order,
    after: Option<Cursor>,
    /// The page size: the store returns up to one row more, which only tells that more exist.
    limit: u32,
    /// Rows skipped before the page (SCIM's `startIndex`); cursors are cheaper where a client can use them.
    offset: u32,
}

impl DirectoryQuery {
    pub fn new(kind: ObjectKind, filter: Option<Filter>, order: Option<Order>, after: Option<&str>, limit: u32) -> Result<Self, Error> {
        let order = order.unwrap_or(kind.default_order());
        let order_spec = kind
            .spec(order.attr)
            .filter(|s| !s.nullable && matches!(s.ty, AttrType::Text { .. } | AttrType::Time))
            .ok_or_else(|| Error::new(ErrorCode::InvalidRequest).with_message(format!("Cannot order by {:?}.", order.attr)).with_target("orderby"))?;
        if let Some(f) = &filter
            && f.terms() > MAX_FILTER_TERMS
        {
            return Err(bad_filter(format!("A filter may have at most {MAX_FILTER_TERMS} comparisons.")));
        }
        let filter = filter.map(|f| f.normalize(kind)).transpose()?;
        let after = after.map(|c| parse_cursor(c, order_spec.ty)).transpose()?;
        Ok(Self { kind, filter, order, after, limit, offset: 0 })
    }

    /// The REST `search` listing: a case-insensitive prefix of the sign-in name or display name
    /// (users) or the name (groups, applications), in the default order.
    pub fn search(kind: ObjectKind, q: &ListQuery) -> Result<Self, Error> {
        let filter = q.prefix.as_ref().map(|p| match kind {
            ObjectKind::User => {
                Filter::Or(vec![Filter::text(Attr::UserPrincipalName, Op::StartsWith, p.as_str()), Filter::text(Attr::DisplayName, Op::StartsWith, p.as_str())])
            }
            _ => Filter::text(Attr::DisplayName, Op::StartsWith, p.as_str()),
        });
        Self::new(kind, filter, None, q.after.as_deref(), q.limit).map_err(|e| match e.target.as_deref() {
            Some("filter") => e.with_target("search"),
            _ => e,
        })
    }

    pub fn kind(&self) -> ObjectKind {
        self.kind
    }
    /// Skips `offset` matching rows before the page.
    pub fn with_offset(mut self, offset: u32) -> Self {
        self.offset = offset;
        self
    }
    pub fn offset(&self) -> u32 {
        self.offset
    }
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }
    pub fn order(&self) -> Order {
        self.order
    }
    pub fn after(&self) -> Option<&Cursor> {
        self.after.as_ref()
    }
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The cursor that continues after `o` (decoded; [`crate::page::Page`] encodes it).
    pub fn cursor_of(&self, o: &impl DirectoryObject) -> String {
        let key = match sort_key(self.kind, self.order.attr, o) {
            Some(Value::Text(s)) => s,
            Some(Value::Time(t)) => t.as_millis().to_string(),
            _ => String::new(),
        };
        format!("{key}\u{1}{}", o.object_id(self.kind))
    }

    /// Evaluates the query over objects in memory: the reference the store is tested against.
    pub fn run_in_memory<'a, T: DirectoryObject>(&self, objects: impl IntoIterator<Item = &'a T>) -> Vec<&'a T> {
        let mut hits: Vec<&T> = objects.into_iter().filter(|o| self.filter.as_ref().is_none_or(|f| matches(self.kind, f, *o))).collect();
        let key = |o: &T| (sort_key(self.kind, self.order.attr, o), o.object_id(self.kind));
        let cmp = |a: &(Option<Value>, Uuid), b: &(Option<Value>, Uuid)| {
            let k = match (&a.0, &b.0) {
                (Some(x), Some(y)) => x.compare(y).unwrap_or(Ordering::Equal),
                _ => Ordering::Equal,
            };
            k.then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
        };
        hits.sort_by(|a, b| {
            let o = cmp(&key(a), &key(b));
            if self.order.descending { o.reverse() } else { o }
        });
        if let Some(c) = &self.after {
            let at = (Some(c.key.clone()), c.id);
            hits.retain(|o| {
                let ord = cmp(&key(o), &at);
                if self.order.descending { ord == Ordering::Less } else { ord == Ordering::Greater }
            });
        }
        hits.drain(..hits.len().min(self.offset as usize));
        hits.truncate(self.limit as usize + 1);
        hits
    }
}

fn parse_cursor(c: &str, ty: AttrType) -> Result<Cursor, Error> {
    let bad = || Error::new(ErrorCode::InvalidCursor).with_target("cursor");
    let (key, id) = c.rsplit_once('\u{1}').ok_or_else(bad)?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    let key = match ty {
        AttrType::Time => Value::Time(Timestamp::from_millis(key.parse().map_err(|_| bad())?)),
        _ if key.contains('\0') => return Err(bad()),
        _ => Value::Text(key.to_owned()),
    };
    Ok(Cursor { key, id })
}

fn sort_key(kind: ObjectKind, attr: Attr, o: &impl DirectoryObject) -> Option<Value> {
    let folded = matches!(kind.spec(attr).map(|s| s.ty), Some(AttrType::Text { folded: true }));
    match o.attribute(kind, attr) {
        Some(Value::Text(s)) if folded => Some(Value::Text(fold(&s))),
        v => v,
    }
}

/// Whether `o` matches `f` (which [`DirectoryQuery::new`] has normalized for `kind`).
pub fn matches(kind: ObjectKind, f: &Filter, o: &impl DirectoryObject) -> bool {
    match f {
        Filter::Compare { attr, op, value } => {
            let Some(have) = sort_key(kind, *attr, o) else {
                return *op == Op::Ne;
            };
            match (op, &have, value) {
                (Op::StartsWith, Value::Text(h), Value::Text(v)) => h.starts_with(v.as_str()),
                (Op::EndsWith, Value::Text(h), Value::Text(v)) => h.ends_with(v.as_str()),
                (Op::Contains, Value::Text(h), Value::Text(v)) => h.contains(v.as_str()),
                _ => match have.compare(value) {
                    None => false,
                    Some(ord) => match op {
                        Op::Eq => ord == Ordering::Equal,
                        Op::Ne => ord != Ordering::Equal,
                        Op::Gt => ord == Ordering::Greater,
                        Op::Ge => ord != Ordering::Less,
                        Op::Lt => ord == Ordering::Less,
                        Op::Le => ord != Ordering::Greater,
                        Op::StartsWith | Op::EndsWith | Op::Contains => false,
                    },
                },
            }
        }
        Filter::In { attr, values } => sort_key(kind, *attr, o).is_some_and(|h| values.iter().any(|v| h.compare(v) == Some(Ordering::Equal))),
        Filter::Present(attr) => o.attribute(kind, *attr).is_some(),
        Filter::And(fs) => fs.iter().all(|f| matches(kind, f, o)),
        Filter::Or(fs) => fs.iter().any(|f| matches(kind, f, o)),
        Filter::Not(f) => !matches(kind, f, o),
    }
}

/// An object the query model can read attributes from.
pub trait DirectoryObject {
    /// The object's id as `kind` (a service principal's id is not its application's).
    fn object_id(&self, kind: ObjectKind) -> Uuid;
    /// The raw (unfolded) value of `attr`, `None` when absent or not an attribute of `kind`.
    fn attribute(&self, kind: ObjectKind, attr: Attr) -> Option<Value>;
}

impl DirectoryObject for User {
    fn object_id(&self, _: ObjectKind) -> Uuid {
        self.id.as_uuid()
    }
    fn attribute(&self, _: ObjectKind, attr: Attr) -> Option<Value> {
        let text = |s: &str| Some(Value::Text(s.to_owned()));
        match attr {
            Attr::Id => Some(Value::Id(self.id.as_uuid())),
            Attr::UserPrincipalName => text(self.upn.as_str()),
            Attr::DisplayName => text(self.display_name.as_str()),
            Attr::GivenName => self.given_name.as_ref().and_then(|v| text(v.as_str())),
            Attr::Surname => self.surname.as_ref().and_then(|v| text(v.as_str())),
            Attr::Mail => self.mail.as_ref().and_then(|v| text(v.as_str())),
            Attr::UserType => text(self.user_type.as_str()),
            Attr::AccountEnabled => Some(Value::Bool(self.enabled)),
            Attr::CreatedDateTime => Some(Value::Time(self.created_at)),
            Attr::LastModifiedDateTime => Some(Value::Time(self.updated_at)),
            Attr::UserName => self.provisioning.as_ref().and_then(|p| text(&p.user_name)),
            Attr::ExternalId => self.provisioning.as_ref().and_then(|p| p.external_id.as_deref()).and_then(text),
            Attr::JobTitle => self.provisioning.as_ref().and_then(|p| p.title.as_deref()).and_then(text),
            Attr::AppId | Attr::IdentifierUris | Attr::IsFallbackPublicClient | Attr::Provisioned => None,
        }
    }
}

impl DirectoryObject for Group {
    fn object_id(&self, _: ObjectKind) -> Uuid {
        self.id.as_uuid()
    }
    fn attribute(&self, _: ObjectKind, attr: Attr) -> Option<Value> {
        match attr {
            Attr::Id => Some(Value::Id(self.id.as_uuid())),
            Attr::DisplayName => Some(Value::Text(self.name.as_str().to_owned())),
            Attr::CreatedDateTime => Some(Value::Time(self.created_at)),
            Attr::LastModifiedDateTime => Some(Value::Time(self.updated_at)),
            Attr::ExternalId => self.provisioning.as_ref().and_then(|p| p.external_id.clone()).map(Value::Text),
            Attr::Provisioned => Some(Value::Bool(self.provisioning.is_some())),
            _ => None,
        }
    }
}

impl DirectoryObject for Application {
    fn object_id(&self, kind: ObjectKind) -> Uuid {
        if kind == ObjectKind::ServicePrincipal { self.service_principal_id.as_uuid() } else { self.id.as_uuid() }
    }
    fn attribute(&self, kind: ObjectKind, attr: Attr) -> Option<Value> {
        let sp = kind == ObjectKind::ServicePrincipal;
        match attr {
            Attr::Id => Some(Value::Id(self.object_id(kind))),
            Attr::AppId => Some(Value::Id(self.client_id.as_uuid())),
            Attr::DisplayName => Some(Value::Text(self.display_name.as_str().to_owned())),
            Attr::IdentifierUris if !sp => self.app_id_uri.as_ref().map(|u| Value::Text(u.as_str().to_owned())),
            Attr::IsFallbackPublicClient if !sp => Some(Value::Bool(self.public_client)),
            Attr::CreatedDateTime => Some(Value::Time(self.created_at)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_does_not_apply() {
        let q = |f| DirectoryQuery::new(ObjectKind::Group, Some(f), None, None, 10);
        assert!(q(Filter::text(Attr::Mail, Op::Eq, "x")).is_err(), "groups have no mail");
        assert!(q(Filter::cmp(Attr::DisplayName, Op::Eq, Value::Bool(true))).is_err(), "wrong type");
        let u = |f| DirectoryQuery::new(ObjectKind::User, Some(f), None, None, 10);
        assert!(u(Filter::cmp(Attr::AccountEnabled, Op::Gt, Value::Bool(true))).is_err());
        assert!(u(Filter::cmp(Attr::Id, Op::StartsWith, Value::Id(Uuid::nil()))).is_err());
        assert!(u(Filter::In { attr: Attr::Mail, values: vec![] }).is_err());
        assert!(u(Filter::text(Attr::Mail, Op::Eq, "a\0b")).is_err());
        assert!(u(Filter::Or((0..65).map(|i| Filter::text(Attr::Mail, Op::Eq, i.to_string())).collect())).is_err());
        assert_eq!(u(Filter::text(Attr::Mail, Op::Eq, "a\0b")).unwrap_err().target.as_deref(), Some("filter"));
        assert!(DirectoryQuery::new(ObjectKind::User, None, Some(Order { attr: Attr::Mail, descending: false }), None, 10).is_err(), "mail may be absent");
    }

    #[test]
    fn folds_values_and_reads_cursors() {
        let q = DirectoryQuery::new(ObjectKind::User, Some(Filter::text(Attr::DisplayName, Op::StartsWith, "ÜNAL")), None, None, 10).unwrap();
        assert_eq!(q.filter(), Some(&Filter::text(Attr::DisplayName, Op::StartsWith, "ünal")));
        let id = Uuid::from_u128(7);
        let c = DirectoryQuery::new(ObjectKind::User, None, None, Some(&format!("adele\u{1}{id}")), 10).unwrap();
        assert_eq!(c.after(), Some(&Cursor { key: Value::Text("adele".into()), id }));
        assert_eq!(DirectoryQuery::new(ObjectKind::User, None, None, Some("adele"), 10).unwrap_err().code, ErrorCode::InvalidCursor);
        let t = Order { attr: Attr::CreatedDateTime, descending: true };
        assert!(DirectoryQuery::new(ObjectKind::Group, None, Some(t), Some(&format!("x\u{1}{id}")), 10).is_err());
        assert!(DirectoryQuery::new(ObjectKind::Group, None, Some(t), Some(&format!("12\u{1}{id}")), 10).is_ok());
    }
}
