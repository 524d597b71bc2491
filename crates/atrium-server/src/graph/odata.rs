//! OData query options of Graph requests, parsed into the core's directory query model
//! (`atrium_core::query`): `$filter`, `$search`, `$select`, `$top`, `$orderby`, `$count`,
//! `$skiptoken`. Whatever is not supported is a `400 Request_UnsupportedQuery` naming it,
//! never ignored: a client that filters must not get an unfiltered list back.

use super::error::{GraphError, GraphResult};
use atrium_core::ErrorCode;
use atrium_core::query::{Attr, AttrType, DirectoryQuery, Filter, ObjectKind, Op, Order, Value};
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Graph's default page size for directory objects, and its largest `$top`.
pub const DEFAULT_TOP: u32 = 100;
pub const MAX_TOP: u32 = 999;

/// What a Graph entity set offers to queries.
pub struct Entity {
    /// `user`, as in `microsoft.graph.user`.
    pub name: &'static str,
    pub kind: ObjectKind,
    /// Every property a reply can carry, by Graph name (`$select` picks among them).
    pub properties: &'static [&'static str],
    /// Properties `$search` takes (token prefix search).
    pub searchable: &'static [Attr],
    /// Properties `$orderby` takes.
    pub orderable: &'static [Attr],
}

/// Which options an endpoint takes.
#[derive(Clone, Copy)]
pub struct Allowed {
    pub list: bool,
    pub select: bool,
}

/// A collection with every option.
pub const LIST: Allowed = Allowed { list: true, select: true };
/// A single object: `$select` only.
pub const ENTITY: Allowed = Allowed { list: false, select: true };
/// No options at all (writes).
pub const NONE: Allowed = Allowed { list: false, select: false };

/// The parsed options.
#[derive(Debug, Default)]
pub struct OData {
    pub select: Option<Vec<&'static str>>,
    pub top: Option<u32>,
    pub filter: Option<Filter>,
    pub order: Option<Order>,
    pub count: bool,
    /// The decoded cursor of `$skiptoken`.
    pub after: Option<String>,
    /// Every option as sent (decoded), except `$skiptoken`, to build `@odata.nextLink`.
    pub kept: Vec<(String, String)>,
}

impl OData {
    /// The directory query for this request's page.
    pub fn directory_query(&self, kind: ObjectKind) -> GraphResult<DirectoryQuery> {
        DirectoryQuery::new(kind, self.filter.clone(), self.order, self.after.as_deref(), self.top.unwrap_or(DEFAULT_TOP)).map_err(|e| match e.code {
            ErrorCode::InvalidCursor => GraphError::bad_request("The $skiptoken is not valid for this query; start again without it.").with_target("$skiptoken"),
            _ => GraphError::unsupported_query(e.message).with_target(e.target.map_or("$filter".to_owned(), |t| format!("${t}"))),
        })
    }

    /// The `@odata.nextLink` for the page after `cursor` (encoded as the page gives it).
    pub fn next_link(&self, base: &str, path: &str, cursor: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.kept {
            q.append_pair(k, v);
        }
        q.append_pair("$skiptoken", cursor);
        format!("{base}{path}?{}", q.finish())
    }

    /// `(id,displayName)` for `@odata.context`, when `$select` was given.
    pub fn context_suffix(&self) -> String {
        self.select.as_ref().map(|s| format!("({})", s.join(","))).unwrap_or_default()
    }
}

/// Parses the query string of a request to `entity` with the options `allowed` there.
pub fn parse(query: Option<&str>, headers: &HeaderMap, entity: &Entity, allowed: Allowed) -> GraphResult<OData> {
    let eventual = headers.get("consistencylevel").and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
    let mut out = OData::default();
    let mut search: Option<Filter> = None;
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let key = key.into_owned();
        let value = value.into_owned();
        // OData allows the options without `$` too (Graph does on v1.0).
        let name = key.strip_prefix('$').unwrap_or(&key).to_ascii_lowercase();
        if seen.contains(&name) {
            return Err(GraphError::bad_request(format!("Query option '${name}' is specified more than once.")).with_target(format!("${name}")));
        }
        seen.push(name.clone());
        let list_only = matches!(name.as_str(), "filter" | "search" | "top" | "orderby" | "count" | "skiptoken");
        if (list_only && !allowed.list) || (name == "select" && !allowed.select) {
            return Err(GraphError::unsupported_query(format!("Query option '${name}' is not supported on this request.")).with_target(format!("${name}")));
        }
        match name.as_str() {
            "select" => out.select = Some(parse_select(&value, entity)?),
            "top" => {
                let top = value.trim().parse::<u32>().ok().filter(|t| (1..=MAX_TOP).contains(t)).ok_or_else(|| {
                    GraphError::unsupported_query(format!("Invalid page size specified: '{value}'. Must be between 1 and {MAX_TOP} inclusive.")).with_target("$top")
                })?;
                out.top = Some(top);
            }
            "filter" => out.filter = Some(parse_filter(&value, entity, eventual)?),
            "search" => {
                if !eventual {
                    return Err(GraphError::unsupported_query(
                        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
                    )
                    .with_target("$search"));
                }
                search = Some(parse_search(&value, entity)?);
            }
            "orderby" => out.order = Some(parse_orderby(&value, entity)?),
            "count" => {
                out.count = match value.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(GraphError::unsupported_query(format!("'{value}' is not a valid value for $count: use true or false.")).with_target("$count")),
                };
                if out.count && !eventual {
                    return Err(GraphError::unsupported_query(
                        "Request with $count query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
                    )
                    .with_target("$count"));
                }
            }
            "skiptoken" => {
                let bad = || GraphError::bad_request("The $skiptoken is not valid; use the @odata.nextLink as given.").with_target("$skiptoken");
                let bytes = URL_SAFE_NO_PAD.decode(value.trim()).map_err(|_| bad())?;
                out.after = Some(String::from_utf8(bytes).map_err(|_| bad())?);
                continue;
            }
            _ => {
                return Err(GraphError::unsupported_query(format!("Query option '{key}' is not supported by Atrium's Graph.")).with_target(key));
            }
        }
        out.kept.push((key, value));
    }
    out.filter = match (out.filter.take(), search) {
        (Some(f), Some(s)) => Some(Filter::And(vec![f, s])),
        (f, s) => f.or(s),
    };
    Ok(out)
}

fn parse_select(value: &str, entity: &Entity) -> GraphResult<Vec<&'static str>> {
    let mut out = Vec::new();
    for p in value.split(',').map(str::trim) {
        let Some(name) = entity.properties.iter().find(|n| n.eq_ignore_ascii_case(p)) else {
            return Err(GraphError::unsupported_query(format!("Could not find a property named '{p}' on type 'microsoft.graph.{}'.", entity.name)).with_target("$select"));
        };
        if !out.contains(name) {
            out.push(*name);
        }
    }
    Ok(out)
}

fn parse_orderby(value: &str, entity: &Entity) -> GraphResult<Order> {
    let mut words = value.split_whitespace();
    let prop = words.next().unwrap_or("");
    let descending = match words.next() {
        None => false,
        Some(d) if d.eq_ignore_ascii_case("asc") => false,
        Some(d) if d.eq_ignore_ascii_case("desc") => true,
        Some(d) => return Err(GraphError::unsupported_query(format!("'{d}' is not a sort direction: use asc or desc.")).with_target("$orderby")),
    };
    if words.next().is_some() || value.contains(',') {
        return Err(GraphError::unsupported_query("$orderby takes one property.").with_target("$orderby"));
    }
    let attr = graph_attr(entity, prop)
        .map(|s| s.attr)
        .filter(|a| entity.orderable.contains(a))
        .ok_or_else(|| GraphError::unsupported_query(format!("Sorting by '{prop}' is not supported for microsoft.graph.{}.", entity.name)).with_target("$orderby"))?;
    Ok(Order { attr, descending })
}

/// An attribute of the entity by its Graph name. Attributes that exist only for SCIM
/// (`userName`, `externalId`, `provisioned`) are not Graph properties.
fn graph_attr(entity: &Entity, name: &str) -> Option<atrium_core::query::AttrSpec> {
    entity.kind.attribute(name).filter(|s| !matches!(s.attr, Attr::UserName | Attr::ExternalId | Attr::Provisioned))
}

/// `$search="displayName:wa" OR "mail:adele"`: each clause finds objects whose property has a
/// word starting with the value (Graph's tokenized search, case-insensitive).
fn parse_search(value: &str, entity: &Entity) -> GraphResult<Filter> {
    let bad = |m: String| GraphError::unsupported_query(m).with_target("$search");
    let mut clauses: Vec<Filter> = Vec::new();
    let mut joiner: Option<bool> = None; // Some(true) = AND
    let mut rest = value.trim();
    loop {
        let Some(inner) = rest.strip_prefix('"') else {
            return Err(bad("$search clauses are quoted: $search=\"displayName:value\".".into()));
        };
        let end = inner.find('"').ok_or_else(|| bad("A $search clause is missing its closing quote.".into()))?;
        let clause = &inner[..end];
        let (prop, text) = clause.split_once(':').ok_or_else(|| bad(format!("The $search clause '{clause}' names no property: use \"property:value\".")))?;
        let attr = graph_attr(entity, prop.trim())
            .map(|s| s.attr)
            .filter(|a| entity.searchable.contains(a))
            .ok_or_else(|| bad(format!("Searching on '{}' is not supported for microsoft.graph.{}.", prop.trim(), entity.name)))?;
        let text = text.trim();
        if text.is_empty() {
            return Err(bad(format!("The $search clause '{clause}' has no value.")));
        }
        // A word of the value starts with the text: at the start, or after a space.
        clauses.push(Filter::Or(vec![Filter::text(attr, Op::StartsWith, text), Filter::text(attr, Op::Contains, format!(" {text}"))]));
        rest = inner[end + 1..].trim_start();
        if rest.is_empty() {
            break;
        }
        let (word, after) = rest.split_once(char::is_whitespace).ok_or_else(|| bad("Join $search clauses with AND or OR.".into()))?;
        let and = match word {
            "AND" => true,
            "OR" => false,
            _ => return Err(bad(format!("'{word}' cannot join $search clauses: use AND or OR."))),
        };
        if joiner.is_some_and(|j| j != and) {
            return Err(bad("Mixing AND and OR in one $search is not supported.".into()));
        }
        joiner = Some(and);
        rest = after.trim_start();
    }
    Ok(match (clauses.len(), joiner) {
        (1, _) => clauses.remove(0),
        (_, Some(true)) => Filter::And(clauses),
        _ => Filter::Or(clauses),
    })
}

// ---------------------------------------------------------------- $filter

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Str(String),
    Word(String),
}

fn lex(s: &str) -> GraphResult<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            ',' => {
                chars.next();
                out.push(Tok::Comma);
            }
            '\'' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        None => return Err(filter_error("A string in $filter is missing its closing quote.")),
                        // '' is a quote inside a string.
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            v.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => v.push(c),
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | ',' | '\'') {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

fn filter_error(m: impl Into<String>) -> GraphError {
    GraphError::unsupported_query(m).with_target("$filter")
}

struct FilterParser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    entity: &'a Entity,
    eventual: bool,
}

fn parse_filter(value: &str, entity: &Entity, eventual: bool) -> GraphResult<Filter> {
    let mut p = FilterParser { toks: lex(value)?, pos: 0, entity, eventual };
    if p.toks.is_empty() {
        return Err(filter_error("$filter is empty."));
    }
    let f = p.or()?;
    if p.pos != p.toks.len() {
        return Err(filter_error(format!("Unexpected '{}' in $filter.", p.show(p.pos))));
    }
    Ok(f)
}

impl FilterParser<'_> {
    fn show(&self, i: usize) -> String {
        match self.toks.get(i) {
            None => "end".into(),
            Some(Tok::Open) => "(".into(),
            Some(Tok::Close) => ")".into(),
            Some(Tok::Comma) => ",".into(),
            Some(Tok::Str(s)) => format!("'{s}'"),
            Some(Tok::Word(w)) => w.clone(),
        }
    }

    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Tok) -> GraphResult<()> {
        if self.toks.get(self.pos) == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(filter_error(format!("Expected '{}' in $filter, found '{}'.", match t {
                Tok::Open => "(",
                Tok::Close => ")",
                Tok::Comma => ",",
                _ => "?",
            }, self.show(self.pos))))
        }
    }

    fn or(&mut self) -> GraphResult<Filter> {
        let mut fs = vec![self.and()?];
        while self.keyword("or") {
            fs.push(self.and()?);
        }
        Ok(if fs.len() == 1 { fs.remove(0) } else { Filter::Or(fs) })
    }

    fn and(&mut self) -> GraphResult<Filter> {
        let mut fs = vec![self.unary()?];
        while self.keyword("and") {
            fs.push(self.unary()?);
        }
        Ok(if fs.len() == 1 { fs.remove(0) } else { Filter::And(fs) })
    }

    fn unary(&mut self) -> GraphResult<Filter> {
        if self.keyword("not") {
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.toks.get(self.pos) == Some(&Tok::Open) {
            self.pos += 1;
            let f = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(f);
        }
        let Some(Tok::Word(word)) = self.toks.get(self.pos).cloned() else {
            return Err(filter_error(format!("Expected a property or function in $filter, found '{}'.", self.show(self.pos))));
        };
        self.pos += 1;
        // A function: startswith(prop,'x'); endswith needs an advanced query, as in Graph.
        if self.toks.get(self.pos) == Some(&Tok::Open) {
            let op = match word.to_ascii_lowercase().as_str() {
                "startswith" => Op::StartsWith,
                "endswith" if self.eventual => Op::EndsWith,
                "endswith" => return Err(filter_error("endswith in $filter needs the header 'ConsistencyLevel: eventual' (an advanced query).")),
                other => return Err(filter_error(format!("The function '{other}' is not supported in $filter."))),
            };
            self.pos += 1;
            let spec = self.property()?;
            self.expect(Tok::Comma)?;
            let value = self.literal(spec)?;
            self.expect(Tok::Close)?;
            if !matches!(spec.ty, AttrType::Text { .. }) {
                return Err(filter_error(format!("'{}' is not text: {word} does not apply.", spec.name)));
            }
            return match value {
                Some(v) => Ok(Filter::cmp(spec.attr, op, v)),
                None => Err(filter_error(format!("{word} needs a value, not null."))),
            };
        }
        if word.contains('/') {
            return Err(filter_error(format!("Lambda and navigation expressions ('{word}') are not supported in $filter.")));
        }
        let spec = self.lookup(&word)?;
        let Some(Tok::Word(op)) = self.toks.get(self.pos).cloned() else {
            return Err(filter_error(format!("Expected an operator after '{word}' in $filter.")));
        };
        self.pos += 1;
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "in" => {
                self.expect(Tok::Open)?;
                let mut values = Vec::new();
                loop {
                    values.push(self.literal(spec)?.ok_or_else(|| filter_error("'in' takes values, not null."))?);
                    if self.toks.get(self.pos) == Some(&Tok::Comma) {
                        self.pos += 1;
                        continue;
                    }
                    self.expect(Tok::Close)?;
                    break;
                }
                return Ok(Filter::In { attr: spec.attr, values });
            }
            other => return Err(filter_error(format!("The operator '{other}' is not supported in $filter."))),
        };
        match (self.literal(spec)?, op) {
            (Some(v), op) => Ok(Filter::cmp(spec.attr, op, v)),
            (None, Op::Eq) => Ok(Filter::Not(Box::new(Filter::Present(spec.attr)))),
            (None, Op::Ne) => Ok(Filter::Present(spec.attr)),
            (None, _) => Err(filter_error(format!("null can only be compared with eq or ne ('{}').", spec.name))),
        }
    }

    fn property(&mut self) -> GraphResult<atrium_core::query::AttrSpec> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Word(w)) => {
                self.pos += 1;
                self.lookup(&w)
            }
            _ => Err(filter_error(format!("Expected a property in $filter, found '{}'.", self.show(self.pos)))),
        }
    }

    fn lookup(&self, name: &str) -> GraphResult<atrium_core::query::AttrSpec> {
        graph_attr(self.entity, name).ok_or_else(|| {
            filter_error(format!("Filtering on the property '{name}' of microsoft.graph.{} is not supported.", self.entity.name))
        })
    }

    /// A literal for `spec`'s type; `None` for `null`.
    fn literal(&mut self, spec: atrium_core::query::AttrSpec) -> GraphResult<Option<Value>> {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        let wrong = |what: &str| filter_error(format!("'{}' is compared with {what}, which is not a value of its type.", spec.name));
        match (tok, spec.ty) {
            (Some(Tok::Word(w)), _) if w == "null" => Ok(None),
            (Some(Tok::Str(s)), AttrType::Text { .. }) => Ok(Some(Value::Text(s))),
            (Some(Tok::Word(w)), AttrType::Bool) => match w.as_str() {
                "true" => Ok(Some(Value::Bool(true))),
                "false" => Ok(Some(Value::Bool(false))),
                _ => Err(wrong(&w)),
            },
            // Graph writes ids quoted (`id eq '…'`); bare GUIDs are OData's own form.
            (Some(Tok::Str(s) | Tok::Word(s)), AttrType::Id) => uuid::Uuid::parse_str(s.trim()).map(|u| Some(Value::Id(u))).map_err(|_| wrong(&format!("'{s}'"))),
            (Some(Tok::Word(w)), AttrType::Time) => time::OffsetDateTime::parse(&w, &time::format_description::well_known::Rfc3339)
                .map(|t| Some(Value::Time(atrium_core::time::Timestamp::from_millis((t.unix_timestamp_nanos() / 1_000_000) as i64))))
                .map_err(|_| wrong(&w)),
            (Some(Tok::Str(s)), _) => Err(wrong(&format!("'{s}'"))),
            (Some(Tok::Word(w)), _) => Err(wrong(&w)),
            (Some(_), _) => Err(filter_error(format!("Expected a value for '{}' in $filter.", spec.name))),
            (None, _) => Err(filter_error("$filter ends where a value was expected.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USERS: Entity = Entity {
        name: "user",
        kind: ObjectKind::User,
        properties: &["id", "displayName", "mail"],
        searchable: &[Attr::DisplayName],
        orderable: &[Attr::DisplayName],
    };

    fn f(s: &str) -> GraphResult<Filter> {
        parse_filter(s, &USERS, false)
    }

    #[test]
    fn parses_graph_filters() {
        assert_eq!(f("startswith(displayName,'A')").unwrap(), Filter::text(Attr::DisplayName, Op::StartsWith, "A"));
        assert_eq!(f("userType eq 'Guest'").unwrap(), Filter::text(Attr::UserType, Op::Eq, "Guest"));
        assert_eq!(f("accountEnabled eq true").unwrap(), Filter::cmp(Attr::AccountEnabled, Op::Eq, Value::Bool(true)));
        assert_eq!(f("mail eq null").unwrap(), Filter::Not(Box::new(Filter::Present(Attr::Mail))));
        assert_eq!(f("displayName eq 'O''Neil'").unwrap(), Filter::text(Attr::DisplayName, Op::Eq, "O'Neil"));
        let id = uuid::Uuid::from_u128(5);
        assert_eq!(f(&format!("id in ('{id}')")).unwrap(), Filter::In { attr: Attr::Id, values: vec![Value::Id(id)] });
        assert!(matches!(f("not (mail eq 'a' or mail eq 'b') and accountEnabled eq false").unwrap(), Filter::And(v) if v.len() == 2));
        assert!(matches!(f("createdDateTime ge 2024-01-01T00:00:00Z").unwrap(), Filter::Compare { op: Op::Ge, .. }));
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        for bad in ["", "displayName", "displayName eq", "displayName has 'x'", "contains(displayName,'x')", "endswith(mail,'x')", "userName eq 'x'",
            "accountEnabled eq 'yes'", "assignedLicenses/any(x:x/skuId eq 'x')", "displayName eq 'x' extra", "(displayName eq 'x'", "displayName eq 'x"] {
            let e = f(bad).unwrap_err();
            assert_eq!((e.code, e.target.as_deref()), (Some("Request_UnsupportedQuery"), Some("$filter")), "{bad}");
        }
        assert!(parse_filter("endswith(mail,'@x.com')", &USERS, true).is_ok());
    }

    #[test]
    fn search_select_top_count() {
        let h = HeaderMap::new();
        let e = parse(Some("%24search=%22displayName%3AAd%22"), &h, &USERS, LIST).unwrap_err();
        assert_eq!(e.code, Some("Request_UnsupportedQuery"));
        let mut ev = HeaderMap::new();
        ev.insert("ConsistencyLevel", "eventual".parse().unwrap());
        let q = parse(Some("%24search=%22displayName%3AAd%22&%24count=true&%24top=5&%24select=id,DISPLAYNAME"), &ev, &USERS, LIST).unwrap();
        assert!(q.count && q.top == Some(5) && q.select == Some(vec!["id", "displayName"]) && q.filter.is_some());
        assert!(parse(Some("$top=1000"), &h, &USERS, LIST).is_err());
        assert!(parse(Some("$top=0"), &h, &USERS, LIST).is_err());
        assert!(parse(Some("$expand=manager"), &h, &USERS, LIST).is_err());
        assert!(parse(Some("$select=password"), &h, &USERS, LIST).is_err());
        assert!(parse(Some("$top=5"), &h, &USERS, ENTITY).is_err());
        assert!(parse(Some("$count=true"), &h, &USERS, LIST).is_err());
        let q = parse(Some("$top=2&$skiptoken=YQ"), &h, &USERS, LIST).unwrap();
        assert_eq!(q.after.as_deref(), Some("a"));
        assert_eq!(q.next_link("https://h", "/v1.0/users", "Yg"), "https://h/v1.0/users?%24top=2&%24skiptoken=Yg");
    }
}
