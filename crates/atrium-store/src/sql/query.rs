// The directory query model (`atrium_core::query`) compiled to parameterised SQL. Included once
// per backend by `base.rs`; the two differ only in `TEXT_ORDER` and `CONTAINS_FN`.
//
// Every leaf is two-valued (an absent attribute never yields NULL), so `NOT` means what the
// in-memory evaluator means. Folded attributes use their lowered column, which the store
// writes with `atrium_core::query::fold`; a prefix is a range on that column, so it is an
// index range scan on both backends.

use atrium_core::query::{Attr, AttrType, DirectoryQuery, Filter, ObjectKind, Op, Value};

pub(super) enum Bind {
    Text(String),
    I64(i64),
    I32(i32),
    Bool(bool),
    Uuid(Uuid),
}

/// The `WHERE` condition (tenant first), `ORDER BY` and `LIMIT` of one query.
pub(super) struct Compiled {
    pub(super) clause: String,
    pub(super) binds: Vec<Bind>,
}

type DbQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

pub(super) fn bind(mut q: DbQuery<'_>, binds: Vec<Bind>) -> DbQuery<'_> {
    for b in binds {
        q = match b {
            Bind::Text(v) => q.bind(v),
            Bind::I64(v) => q.bind(v),
            Bind::I32(v) => q.bind(v),
            Bind::Bool(v) => q.bind(v),
            Bind::Uuid(v) => q.bind(v),
        };
    }
    q
}

/// The column behind an attribute: `None` where the attribute is not one of `kind`'s.
fn column(kind: ObjectKind, attr: Attr) -> Option<&'static str> {
    use Attr::*;
    use ObjectKind::{Application as App, Group as Grp, ServicePrincipal as Sp, User as Usr};
    Some(match (kind, attr) {
        (Usr, Id) => "u.id",
        (Usr, UserPrincipalName) => "u.upn_lower",
        (Usr, DisplayName) => "u.display_name_lower",
        (Usr, GivenName) => "u.given_name_lower",
        (Usr, Surname) => "u.surname_lower",
        (Usr, Mail) => "u.mail_lower",
        (Usr, UserType) => "u.user_type",
        (Usr, AccountEnabled) => "u.enabled",
        (Usr, CreatedDateTime) => "u.created_at",
        (Usr, LastModifiedDateTime) => "u.updated_at",
        (Usr, UserName) => "u.user_name_lower",
        (Usr, ExternalId) => "u.external_id",
        (Usr, JobTitle) => "u.title_lower",
        (Grp, Id) => "g.id",
        (Grp, DisplayName) => "g.name_lower",
        (Grp, CreatedDateTime) => "g.created_at",
        (Grp, LastModifiedDateTime) => "g.updated_at",
        (Grp, ExternalId) => "g.external_id",
        (Grp, Provisioned) => "g.provisioned",
        (App, Id) => "a.id",
        (Sp, Id) => "a.service_principal_id",
        (App | Sp, AppId) => "a.client_id",
        (App | Sp, DisplayName) => "a.display_name_lower",
        (App, IdentifierUris) => "a.app_id_uri_lower",
        (App, IsFallbackPublicClient) => "a.public_client",
        (App | Sp, CreatedDateTime) => "a.created_at",
        _ => return None,
    })
}

fn tenant_column(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::User => "u.tenant_id",
        ObjectKind::Group => "g.tenant_id",
        ObjectKind::Application | ObjectKind::ServicePrincipal => "a.tenant_id",
    }
}

struct Builder {
    kind: ObjectKind,
    binds: Vec<Bind>,
}

impl Builder {
    fn param(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    fn value(&mut self, v: &Value) -> String {
        self.param(match v {
            Value::Text(s) => Bind::Text(s.clone()),
            Value::Bool(b) => Bind::Bool(*b),
            Value::Time(t) => Bind::I64(t.as_millis()),
            Value::Id(u) => Bind::Uuid(*u),
        })
    }

    fn attr(&self, attr: Attr) -> Result<(&'static str, bool, bool), StoreError> {
        let spec = self.kind.spec(attr);
        match (column(self.kind, attr), spec) {
            (Some(c), Some(s)) => Ok((c, s.nullable, matches!(s.ty, AttrType::Text { .. }))),
            _ => Err(StoreError::Backend(format!("{attr:?} is not an attribute of {:?}", self.kind))),
        }
    }

    fn filter(&mut self, f: &Filter) -> Result<String, StoreError> {
        Ok(match f {
            Filter::And(fs) | Filter::Or(fs) => {
                let sep = if matches!(f, Filter::And(_)) { " AND " } else { " OR " };
                let parts = fs.iter().map(|f| self.filter(f)).collect::<Result<Vec<_>, _>>()?;
                format!("({})", parts.join(sep))
            }
            Filter::Not(f) => format!("(NOT {})", self.filter(f)?),
            Filter::Present(attr) => {
                let (col, nullable, _) = self.attr(*attr)?;
                if nullable { format!("{col} IS NOT NULL") } else { "1 = 1".to_owned() }
            }
            Filter::In { attr, values } => {
                let (col, nullable, _) = self.attr(*attr)?;
                let ps = values.iter().map(|v| self.value(v)).collect::<Vec<_>>();
                guard(col, nullable, format!("{col} IN ({})", ps.join(", ")))
            }
            Filter::Compare { attr, op, value } => {
                let (col, nullable, text) = self.attr(*attr)?;
                // Text ranges compare by code point on both backends (PostgreSQL: "C").
                let ord = if text { TEXT_ORDER } else { "" };
                let empty = matches!(value, Value::Text(s) if s.is_empty());
                match op {
                    Op::Eq => {
                        let p = self.value(value);
                        guard(col, nullable, format!("{col} = {p}"))
                    }
                    Op::Ne => {
                        let p = self.value(value);
                        if nullable { format!("({col} IS NULL OR {col} <> {p})") } else { format!("{col} <> {p}") }
                    }
                    Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                        let sym = match op {
                            Op::Gt => ">",
                            Op::Ge => ">=",
                            Op::Lt => "<",
                            _ => "<=",
                        };
                        let p = self.value(value);
                        guard(col, nullable, format!("{col}{ord} {sym} {p}"))
                    }
                    // Every string starts with, ends with and contains the empty string.
                    Op::StartsWith | Op::EndsWith | Op::Contains if empty => {
                        if nullable { format!("{col} IS NOT NULL") } else { "1 = 1".to_owned() }
                    }
                    Op::StartsWith => {
                        let Value::Text(v) = value else { return Err(not_text(*attr)) };
                        let lo = self.param(Bind::Text(v.clone()));
                        let hi = self.param(Bind::Text(format!("{v}\u{10FFFF}")));
                        guard(col, nullable, format!("{col}{ord} >= {lo} AND {col}{ord} < {hi}"))
                    }
                    Op::EndsWith => {
                        let Value::Text(v) = value else { return Err(not_text(*attr)) };
                        let n = self.param(Bind::I32(i32::try_from(v.chars().count()).unwrap_or(i32::MAX)));
                        let p = self.param(Bind::Text(v.clone()));
                        guard(col, nullable, format!("length({col}) >= {n} AND substr({col}, length({col}) - {n} + 1) = {p}"))
                    }
                    Op::Contains => {
                        let p = self.value(value);
                        guard(col, nullable, format!("{CONTAINS_FN}({col}, {p}) > 0"))
                    }
                }
            }
        })
    }
}

/// `col IS NOT NULL AND cond`: false, never NULL, where the attribute is absent.
fn guard(col: &str, nullable: bool, cond: String) -> String {
    if nullable { format!("({col} IS NOT NULL AND {cond})") } else { format!("({cond})") }
}

fn not_text(attr: Attr) -> StoreError {
    StoreError::Backend(format!("{attr:?} is compared with text but is not text"))
}

/// Compiles `q` for one of `kinds` (the store method's own), scoped to `tenant`.
pub(super) fn compile(q: &DirectoryQuery, kinds: &[ObjectKind], tenant: TenantId) -> Result<Compiled, StoreError> {
    compile_clause(q, kinds, tenant, false)
}

/// The `WHERE` condition alone, for counting every match (SCIM's `totalResults`).
pub(super) fn compile_count(q: &DirectoryQuery, kinds: &[ObjectKind], tenant: TenantId) -> Result<Compiled, StoreError> {
    compile_clause(q, kinds, tenant, true)
}

fn compile_clause(q: &DirectoryQuery, kinds: &[ObjectKind], tenant: TenantId, count_only: bool) -> Result<Compiled, StoreError> {
    let kind = q.kind();
    if !kinds.contains(&kind) {
        return Err(StoreError::Backend(format!("a {kind:?} query was sent to the wrong store method")));
    }
    let mut b = Builder { kind, binds: vec![Bind::Uuid(tenant.as_uuid())] };
    let mut clause = format!("{} = $1", tenant_column(kind));
    if let Some(f) = q.filter() {
        let cond = b.filter(f)?;
        clause.push_str(" AND ");
        clause.push_str(&cond);
    }
    if count_only {
        return Ok(Compiled { clause, binds: b.binds });
    }
    let order = q.order();
    let (key, _, text) = b.attr(order.attr)?;
    let (id, _, _) = b.attr(Attr::Id)?;
    let ord = if text { TEXT_ORDER } else { "" };
    let (dir, cmp) = if order.descending { ("DESC", "<") } else { ("ASC", ">") };
    // A key unique in the tenant needs no tie-breaker, so the listing is a plain walk of its
    // (tenant_id, key) index, which a million users need.
    let unique = matches!((kind, order.attr), (ObjectKind::User, Attr::UserPrincipalName) | (ObjectKind::Group, Attr::DisplayName));
    if let Some(c) = q.after() {
        let k = b.value(&c.key);
        if unique {
            clause.push_str(&format!(" AND {key}{ord} {cmp} {k}"));
        } else {
            let i = b.param(Bind::Uuid(c.id));
            clause.push_str(&format!(" AND ({key}{ord} {cmp} {k} OR ({key} = {k} AND {id} {cmp} {i}))"));
        }
    }
    let limit = b.param(Bind::I64(i64::from(q.limit()) + 1));
    if unique {
        clause.push_str(&format!(" ORDER BY {key}{ord} {dir} LIMIT {limit}"));
    } else {
        clause.push_str(&format!(" ORDER BY {key}{ord} {dir}, {id} {dir} LIMIT {limit}"));
    }
    if q.offset() > 0 {
        let offset = b.param(Bind::I64(i64::from(q.offset())));
        clause.push_str(&format!(" OFFSET {offset}"));
    }
    Ok(Compiled { clause, binds: b.binds })
}
