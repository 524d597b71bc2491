//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
//!
//! A `filter` query parameter parses into the directory query model ([`atrium_core::query`]),
//! which the store runs; a PATCH `path` parses into a [`PatchPath`] whose bracketed value
//! filter ([`ValueFilter`]) the adapter evaluates on the elements of a multi-valued attribute.
//!
//! Mapping and its limits:
//! - Keywords, operators and attribute names are case-insensitive; attribute paths may carry
//!   the resource's core schema URN (`urn:ietf:params:scim:schemas:core:2.0:User:userName`).
//! - The directory keeps one mail per user, the primary address. `emails`, `emails.value` and
//!   `emails[type eq "work"].value` all compare it: a bracket that only constrains `type`,
//!   `primary` or `display` selects "the user's address", not one of several. A bare
//!   `emails[...]` may also constrain `value`, which compares the same mail.
//! - `meta.created` / `meta.lastModified` compare at the precision of the literal: SCIM renders
//!   them to the second, so `meta.lastModified eq "2025-11-25T16:26:39Z"` matches any instant
//!   within that second, and `gt` means "after that second".
//! - `id` values that are not GUIDs match no object (and `ne` matches every one).
//! - `eq null` is "not present" and `ne null` "present"; a comparison on an absent attribute is
//!   false except `ne` (as everywhere in the query model).
//!
//! Parsing never panics and its recursion is bounded by [`MAX_DEPTH`].

use atrium_core::query::{Attr, DirectoryQuery, Filter, MAX_FILTER_TERMS, MAX_VALUE_CHARS, ObjectKind, Op, Value};
use atrium_core::time::Timestamp;
use std::fmt;
use uuid::Uuid;

/// Comparisons allowed in one filter. The provisioning services scope every query with one
/// more term (only provisioned objects), which must still fit the query model's limit.
pub const MAX_COMPARISONS: usize = MAX_FILTER_TERMS - 1;
/// Parentheses, `not (...)` and brackets nested deeper than this are refused.
pub const MAX_DEPTH: usize = 32;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const KNOWN_SCHEMAS: [&str; 3] = [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimResource {
    User,
    Group,
}

/// Why a filter or path was refused: the `detail` of a 400 `invalidFilter` (or `invalidPath`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

fn err<T>(detail: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(detail.into()))
}

/// A PATCH `path`: `attrPath ["[" valFilter "]"] ["." subAttr]`, optionally URN-prefixed.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The schema URN the path named (canonical spelling for the core and enterprise schemas).
    pub schema: Option<String>,
    /// The attribute; empty when the whole path is a schema URN (the extension object itself).
    pub attr: String,
    pub value_filter: Option<ValueFilter>,
    pub sub_attr: Option<String>,
}

/// The filter inside a PATCH path's brackets, e.g. `type eq "work"` of `emails[type eq "work"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueFilter {
    expr: Expr,
}

impl ValueFilter {
    /// Whether one element of a multi-valued attribute (a JSON object) matches. Attribute
    /// names are case-insensitive, and so are string comparisons (`type eq "Work"`, GUIDs);
    /// booleans sent as strings ("True") compare as booleans.
    pub fn matches(&self, element: &serde_json::Value) -> bool {
        eval(&self.expr, element)
    }
}

/// Parses a `filter` for `r` into the directory query model.
pub fn parse_filter(s: &str, r: ScimResource) -> Result<Filter, FilterError> {
    if s.trim().is_empty() {
        return err("The filter is empty.");
    }
    let mut p = Parser::new(s);
    let expr = p.or(0)?;
    p.skip_ws();
    if p.pos < s.len() {
        return Err(p.unexpected("after the end of the filter"));
    }
    let filter = map(&expr, r, Ctx::Top)?;
    if terms(&filter) > MAX_COMPARISONS {
        return err(format!("A filter may have at most {MAX_COMPARISONS} comparisons."));
    }
    // The query model's own checks (lengths, types) as a backstop: its wording names Graph
    // attributes, so the SCIM-worded checks above come first.
    let kind = match r {
        ScimResource::User => ObjectKind::User,
        ScimResource::Group => ObjectKind::Group,
    };
    DirectoryQuery::new(kind, Some(filter.clone()), None, None, 1).map_err(|e| FilterError(e.message))?;
    Ok(filter)
}

/// Parses a PATCH `path`.
pub fn parse_path(s: &str) -> Result<PatchPath, FilterError> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return err("The path is empty.");
    }
    if let Some(known) = KNOWN_SCHEMAS.iter().find(|k| k.eq_ignore_ascii_case(trimmed)) {
        return Ok(PatchPath { schema: Some((*known).to_owned()), attr: String::new(), value_filter: None, sub_attr: None });
    }
    let mut p = Parser::new(trimmed);
    let Some(word) = p.word() else {
        return Err(p.unexpected("where the path's attribute was expected"));
    };
    let path = attr_path(word)?;
    let mut out = PatchPath { schema: path.schema, attr: path.attr, value_filter: None, sub_attr: path.sub };
    if p.peek() == Some('[') {
        if out.sub_attr.is_some() {
            return err(format!("In the path '{trimmed}', a value filter must follow the attribute, not its sub-attribute."));
        }
        p.pos += 1;
        p.in_brackets = true;
        let expr = p.or(1)?;
        p.skip_ws();
        if p.peek() != Some(']') {
            return Err(p.unexpected("where ']' was expected"));
        }
        p.pos += 1;
        out.value_filter = Some(ValueFilter { expr });
        if p.peek() == Some('.') {
            p.pos += 1;
            out.sub_attr = Some(p.sub_attr()?);
        }
    }
    if p.pos < trimmed.len() {
        return Err(p.unexpected("after the end of the path"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Syntax

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Bool(bool),
    Num(f64),
    Null,
}

/// `[schema ":"] attr ["." sub]`, names as written.
#[derive(Debug, Clone, PartialEq)]
struct Path {
    schema: Option<String>,
    attr: String,
    sub: Option<String>,
}

impl Path {
    fn display(&self) -> String {
        let base = match &self.sub {
            Some(s) => format!("{}.{s}", self.attr),
            None => self.attr.clone(),
        };
        match &self.schema {
            Some(u) => format!("{u}:{base}"),
            None => base,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Compare { path: Path, op: CompareOp, value: Lit },
    Present(Path),
    /// `attr[filter]`, optionally followed by `.sub op value` / `.sub pr` (which Entra sends).
    ValuePath { path: Path, filter: Box<Expr>, then: Option<Box<Expr>> },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    comparisons: usize,
    /// Inside `[...]`, where another bracket is not allowed.
    in_brackets: bool,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | ':' | '.')
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Self { s, pos: 0, comparisons: 0, in_brackets: false }
    }

    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    /// A run of attribute-path characters (names, URNs, keywords), or `None`.
    fn word(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let n = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        self.pos += n;
        rest.get(..n)
    }

    /// The next word without consuming it.
    fn peek_word(&self) -> Option<&'a str> {
        let rest = self.rest();
        let n = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
        if n == 0 { None } else { rest.get(..n) }
    }

    fn keyword(&mut self, kw: &str) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.peek_word().is_some_and(|w| w.eq_ignore_ascii_case(kw)) {
            self.pos += kw.len();
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn unexpected(&self, where_: &str) -> FilterError {
        let at = self.s.get(..self.pos).map_or(0, |p| p.chars().count()) + 1;
        match self.peek() {
            None => FilterError(format!("The filter ends {where_}.")),
            Some(_) => {
                let snippet: String = self.rest().chars().take(20).collect();
                FilterError(format!("Unexpected '{snippet}' at character {at}, {where_}."))
            }
        }
    }

    fn deeper(depth: usize) -> Result<usize, FilterError> {
        if depth >= MAX_DEPTH {
            return err(format!("The filter nests parentheses, 'not' and brackets more than {MAX_DEPTH} levels deep."));
        }
        Ok(depth + 1)
    }

    fn or(&mut self, depth: usize) -> Result<Expr, FilterError> {
        let mut terms = vec![self.and(depth)?];
        while self.keyword("or") {
            terms.push(self.and(depth)?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Expr::Or(terms) })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, FilterError> {
        let mut terms = vec![self.unary(depth)?];
        while self.keyword("and") {
            terms.push(self.unary(depth)?);
        }
        Ok(if terms.len() == 1 { terms.remove(0) } else { Expr::And(terms) })
    }

    fn close(&mut self) -> Result<(), FilterError> {
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.unexpected("where ')' was expected"));
        }
        self.pos += 1;
        Ok(())
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, FilterError> {
        self.skip_ws();
        match self.peek() {
            Some('(') => {
                let inner = Self::deeper(depth)?;
                self.pos += 1;
                let e = self.or(inner)?;
                self.close()?;
                Ok(e)
            }
            Some(_) => {
                let Some(word) = self.word() else {
                    return Err(self.unexpected("where an attribute, 'not' or '(' was expected"));
                };
                let after = self.pos;
                if word.eq_ignore_ascii_case("not") {
                    self.skip_ws();
                    if self.peek() == Some('(') {
                        let inner = Self::deeper(depth)?;
                        self.pos += 1;
                        let e = self.or(inner)?;
                        self.close()?;
                        return Ok(Expr::Not(Box::new(e)));
                    }
                    // An attribute named "not" (which no schema has: the error will say so).
                    self.pos = after;
                }
                self.attr_expr(word, depth)
            }
            None => Err(self.unexpected("where a comparison was expected")),
        }
    }

    fn count(&mut self) -> Result<(), FilterError> {
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return err(format!("A filter may have at most {MAX_COMPARISONS} comparisons."));
        }
        Ok(())
    }

    fn attr_expr(&mut self, word: &str, depth: usize) -> Result<Expr, FilterError> {
        let path = attr_path(word)?;
        if self.peek() == Some('[') {
            if self.in_brackets {
                return err(format!("A value filter cannot contain another value filter ('{}[').", path.display()));
            }
            if path.sub.is_some() {
                return err(format!("A value filter must follow an attribute, not a sub-attribute ('{}[').", path.display()));
            }
            let inner = Self::deeper(depth)?;
            self.pos += 1;
            self.in_brackets = true;
            let filter = self.or(inner)?;
            self.in_brackets = false;
            self.skip_ws();
            if self.peek() != Some(']') {
                return Err(self.unexpected("where ']' was expected"));
            }
            self.pos += 1;
            let then = if self.peek() == Some('.') {
                self.pos += 1;
                let sub = self.sub_attr()?;
                let sub_path = Path { schema: None, attr: sub, sub: None };
                Some(Box::new(self.comparison(sub_path)?))
            } else {
                None
            };
            return Ok(Expr::ValuePath { path, filter: Box::new(filter), then });
        }
        self.comparison(path)
    }

    fn sub_attr(&mut self) -> Result<String, FilterError> {
        match self.word() {
            Some(w) if is_attr_name(w) => Ok(w.to_owned()),
            Some(w) => err(format!("'{w}' is not a valid sub-attribute name.")),
            None => Err(self.unexpected("where a sub-attribute name was expected after '.'")),
        }
    }

    /// `pr`, or an operator and a value, after `path`.
    fn comparison(&mut self, path: Path) -> Result<Expr, FilterError> {
        self.skip_ws();
        let Some(op_word) = self.word() else {
            return Err(self.unexpected(&format!("where an operator was expected after '{}'", path.display())));
        };
        self.count()?;
        if op_word.eq_ignore_ascii_case("pr") {
            return Ok(Expr::Present(path));
        }
        let Some(op) = CompareOp::parse(op_word) else {
            return err(format!(
                "'{op_word}' after '{}' is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr).",
                path.display()
            ));
        };
        self.skip_ws();
        let value = self.literal()?;
        Ok(Expr::Compare { path, op, value })
    }

    fn literal(&mut self) -> Result<Lit, FilterError> {
        match self.peek() {
            Some('"') => self.string().map(Lit::Str),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(_) => match self.peek_word() {
                Some(w) if w.eq_ignore_ascii_case("true") => {
                    self.pos += w.len();
                    Ok(Lit::Bool(true))
                }
                Some(w) if w.eq_ignore_ascii_case("false") => {
                    self.pos += w.len();
                    Ok(Lit::Bool(false))
                }
                Some(w) if w.eq_ignore_ascii_case("null") => {
                    self.pos += w.len();
                    Ok(Lit::Null)
                }
                _ => Err(self.unexpected("where a value (a \"string\", true, false, null or a number) was expected")),
            },
            None => Err(self.unexpected("where a value was expected")),
        }
    }

    fn number(&mut self) -> Result<Lit, FilterError> {
        let rest = self.rest();
        let n = rest.find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))).unwrap_or(rest.len());
        let text = rest.get(..n).unwrap_or("");
        // JSON's number grammar, which is stricter than Rust's float syntax.
        let valid = {
            let t = text.strip_prefix('-').unwrap_or(text);
            let (mantissa, exp) = match t.find(['e', 'E']) {
                Some(i) => (t.get(..i).unwrap_or(""), t.get(i + 1..)),
                None => (t, None),
            };
            let (int, frac) = match mantissa.split_once('.') {
                Some((i, f)) => (i, Some(f)),
                None => (mantissa, None),
            };
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            digits(int)
                && (int == "0" || !int.starts_with('0'))
                && frac.is_none_or(digits)
                && exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
        };
        match text.parse::<f64>() {
            Ok(v) if valid && v.is_finite() => {
                self.pos += n;
                Ok(Lit::Num(v))
            }
            _ => err(format!("'{text}' is not a number.")),
        }
    }

    /// A JSON string literal.
    fn string(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        let unterminated = || err("A string in the filter is not closed with '\"'.");
        loop {
            let Some((i, c)) = chars.next() else {
                return unterminated();
            };
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let Some((_, e)) = chars.next() else {
                        return unterminated();
                    };
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let hi = hex4(&mut chars)?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                // A surrogate pair: the low half must follow as another \u escape.
                                let lo = match (chars.next(), chars.next()) {
                                    (Some((_, '\\')), Some((_, 'u'))) => hex4(&mut chars)?,
                                    _ => return err("A string in the filter has an unpaired surrogate (\\uD800-\\uDBFF)."),
                                };
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return err("A string in the filter has an unpaired surrogate (\\uD800-\\uDBFF).");
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            match c {
                                Some(c) => out.push(c),
                                None => return err("A string in the filter has an unpaired surrogate (\\uDC00-\\uDFFF)."),
                            }
                        }
                        other => return err(format!("'\\{other}' is not a JSON escape in a filter string.")),
                    }
                }
                c if (c as u32) < 0x20 => {
                    let at = self.s.get(..start).map_or(0, |p| p.chars().count()) + 1;
                    return err(format!("The string starting at character {at} holds a control character; write it as a JSON escape."));
                }
                c => out.push(c),
            }
        }
    }
}

fn hex4(chars: &mut std::str::CharIndices<'_>) -> Result<u32, FilterError> {
    let mut v = 0u32;
    for _ in 0..4 {
        match chars.next().and_then(|(_, c)| c.to_digit(16)) {
            Some(d) => v = v * 16 + d,
            None => return err("'\\u' in a filter string must be followed by four hexadecimal digits."),
        }
    }
    Ok(v)
}

/// RFC 7643 ATTRNAME (`$ref` included).
fn is_attr_name(s: &str) -> bool {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        _ => false,
    }
}

/// Splits a word into schema URN, attribute and sub-attribute.
fn attr_path(word: &str) -> Result<Path, FilterError> {
    let (schema, rest) = if word.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        let known = KNOWN_SCHEMAS.iter().find(|k| {
            word.get(..k.len()).is_some_and(|p| p.eq_ignore_ascii_case(k)) && word.get(k.len()..k.len() + 1) == Some(":")
        });
        match known {
            Some(k) => (Some((*k).to_owned()), word.get(k.len() + 1..).unwrap_or("")),
            None => match word.rsplit_once(':') {
                Some((urn, attr)) => (Some(urn.to_owned()), attr),
                None => (None, word),
            },
        }
    } else {
        (None, word)
    };
    let mut parts = rest.split('.');
    let attr = parts.next().unwrap_or("");
    let sub = parts.next();
    if parts.next().is_some() || !is_attr_name(attr) || sub.is_some_and(|s| !is_attr_name(s)) {
        return err(format!("'{word}' is not a valid attribute path."));
    }
    Ok(Path { schema, attr: attr.to_owned(), sub: sub.map(str::to_owned) })
}

// ---------------------------------------------------------------------------------------------
// Mapping to the directory query model

/// The type of a filterable SCIM attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Bool,
    Time,
    Id,
}

/// Where a path is resolved: the resource, or inside `emails[...]` (where `value` is the mail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    Emails,
}

fn resolve(path: &Path, r: ScimResource, ctx: Ctx) -> Result<(Attr, Ty), FilterError> {
    let shown = path.display();
    if ctx == Ctx::Emails {
        return match (path.attr.to_ascii_lowercase().as_str(), &path.sub, &path.schema) {
            ("value", None, None) => Ok((Attr::Mail, Ty::Text)),
            _ => err(format!("'{shown}' cannot be filtered on inside emails[...]; use value, type or primary.")),
        };
    }
    let core = match r {
        ScimResource::User => USER_SCHEMA,
        ScimResource::Group => GROUP_SCHEMA,
    };
    if let Some(s) = &path.schema
        && s != core
    {
        return err(format!("'{shown}' cannot be filtered on: only attributes of the schema {core} can."));
    }
    let name = match &path.sub {
        Some(sub) => format!("{}.{}", path.attr.to_ascii_lowercase(), sub.to_ascii_lowercase()),
        None => path.attr.to_ascii_lowercase(),
    };
    let found = match (r, name.as_str()) {
        (_, "id") => Some((Attr::Id, Ty::Id)),
        (_, "displayname") => Some((Attr::DisplayName, Ty::Text)),
        (_, "externalid") => Some((Attr::ExternalId, Ty::Text)),
        (_, "meta.created") => Some((Attr::CreatedDateTime, Ty::Time)),
        (_, "meta.lastmodified") => Some((Attr::LastModifiedDateTime, Ty::Time)),
        (ScimResource::User, "username") => Some((Attr::UserName, Ty::Text)),
        (ScimResource::User, "name.givenname") => Some((Attr::GivenName, Ty::Text)),
        (ScimResource::User, "name.familyname") => Some((Attr::Surname, Ty::Text)),
        (ScimResource::User, "emails" | "emails.value") => Some((Attr::Mail, Ty::Text)),
        (ScimResource::User, "active") => Some((Attr::AccountEnabled, Ty::Bool)),
        (ScimResource::User, "title") => Some((Attr::JobTitle, Ty::Text)),
        _ => None,
    };
    found.ok_or_else(|| {
        let known = match r {
            ScimResource::User => {
                "id, userName, displayName, name.givenName, name.familyName, emails, emails.value, active, externalId, title, meta.created, meta.lastModified"
            }
            ScimResource::Group => "id, displayName, externalId, meta.created, meta.lastModified",
        };
        let what = if r == ScimResource::User { "Users" } else { "Groups" };
        FilterError(format!("'{shown}' cannot be filtered on. {what} can be filtered on {known}."))
    })
}

/// Matches every object / no object (`id` is always present).
fn everything() -> Filter {
    Filter::Present(Attr::Id)
}
fn nothing() -> Filter {
    Filter::Not(Box::new(Filter::Present(Attr::Id)))
}

fn map(e: &Expr, r: ScimResource, ctx: Ctx) -> Result<Filter, FilterError> {
    Ok(match e {
        Expr::Present(path) => Filter::Present(resolve(path, r, ctx)?.0),
        Expr::Compare { path, op, value } => {
            let (attr, ty) = resolve(path, r, ctx)?;
            compare(&path.display(), attr, ty, *op, value)?
        }
        Expr::ValuePath { path, filter, then } => {
            let (attr, _) = resolve(path, r, ctx)?;
            if attr != Attr::Mail || ctx != Ctx::Top || path.sub.is_some() {
                return err(format!("'{}[...]' cannot be filtered on: only emails takes a value filter here.", path.display()));
            }
            match then {
                Some(then) => {
                    // emails[type eq "work"].value eq "x": the bracket picks the address, which is the one mail.
                    only_selects_address(filter)?;
                    map(then, r, Ctx::Emails)?
                }
                None => {
                    let parts: Vec<&Expr> = match filter.as_ref() {
                        Expr::And(fs) => fs.iter().collect(),
                        f => vec![f],
                    };
                    let mut mapped = Vec::new();
                    for part in parts {
                        if only_selects_address(part).is_ok() {
                            continue;
                        }
                        mapped.push(map(part, r, Ctx::Emails)?);
                    }
                    match mapped.len() {
                        0 => Filter::Present(Attr::Mail),
                        1 => mapped.remove(0),
                        _ => Filter::And(mapped),
                    }
                }
            }
        }
        Expr::And(fs) => Filter::And(fs.iter().map(|f| map(f, r, ctx)).collect::<Result<_, _>>()?),
        Expr::Or(fs) => Filter::Or(fs.iter().map(|f| map(f, r, ctx)).collect::<Result<_, _>>()?),
        Expr::Not(f) => Filter::Not(Box::new(map(f, r, ctx)?)),
    })
}

/// Checks that a bracket only constrains which address is meant (`type`, `primary`, `display`).
fn only_selects_address(e: &Expr) -> Result<(), FilterError> {
    match e {
        Expr::Present(p) | Expr::Compare { path: p, .. } if p.sub.is_some() || p.schema.is_some() => {
            err(format!("'{}' cannot be filtered on inside emails[...].", p.display()))
        }
        Expr::Present(p) => match p.attr.to_ascii_lowercase().as_str() {
            "type" | "primary" | "display" => Ok(()),
            _ => err(format!("emails[...].value: the bracket may only constrain type or primary, not '{}'.", p.display())),
        },
        Expr::Compare { path, op, value } => {
            let ok = match (path.attr.to_ascii_lowercase().as_str(), value) {
                ("type" | "display", Lit::Str(_) | Lit::Null) => true,
                ("primary", Lit::Bool(_) | Lit::Null) => matches!(op, CompareOp::Eq | CompareOp::Ne),
                ("type" | "display" | "primary", _) => {
                    return err(format!("emails[...]: '{}' is compared with a value of the wrong type.", path.display()));
                }
                _ => false,
            };
            if ok { Ok(()) } else { err(format!("emails[...].value: the bracket may only constrain type or primary, not '{}'.", path.display())) }
        }
        Expr::And(fs) | Expr::Or(fs) => fs.iter().try_for_each(only_selects_address),
        Expr::Not(f) => only_selects_address(f),
        Expr::ValuePath { path, .. } => err(format!("A value filter cannot contain another value filter ('{}[').", path.display())),
    }
}

fn compare(shown: &str, attr: Attr, ty: Ty, op: CompareOp, value: &Lit) -> Result<Filter, FilterError> {
    let wrong_type = |what: &str| err(format!("'{shown}' is {what}: it cannot be compared with {}.", describe(value)));
    let no_op = |what: &str| err(format!("'{shown}' is {what}: '{}' does not apply.", op.name()));
    if *value == Lit::Null {
        return match op {
            CompareOp::Eq => Ok(Filter::Not(Box::new(Filter::Present(attr)))),
            CompareOp::Ne => Ok(Filter::Present(attr)),
            _ => err(format!("'{shown} {} null': null takes only eq and ne.", op.name())),
        };
    }
    let query_op = match op {
        CompareOp::Eq => Op::Eq,
        CompareOp::Ne => Op::Ne,
        CompareOp::Co => Op::Contains,
        CompareOp::Sw => Op::StartsWith,
        CompareOp::Ew => Op::EndsWith,
        CompareOp::Gt => Op::Gt,
        CompareOp::Ge => Op::Ge,
        CompareOp::Lt => Op::Lt,
        CompareOp::Le => Op::Le,
    };
    match ty {
        Ty::Text => {
            let Lit::Str(s) = value else {
                return wrong_type("a string");
            };
            if s.chars().count() > MAX_VALUE_CHARS || s.contains('\0') {
                return err(format!("A value compared with '{shown}' must be at most {MAX_VALUE_CHARS} characters without NUL."));
            }
            Ok(Filter::text(attr, query_op, s.as_str()))
        }
        Ty::Bool => {
            let Lit::Bool(b) = value else {
                return wrong_type("a boolean");
            };
            match op {
                CompareOp::Eq | CompareOp::Ne => Ok(Filter::cmp(attr, query_op, Value::Bool(*b))),
                _ => no_op("a boolean"),
            }
        }
        Ty::Id => {
            let Lit::Str(s) = value else {
                return wrong_type("a string id");
            };
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return no_op("an id (it takes eq, ne and pr)");
            }
            // Ids are GUIDs: any other value names no object.
            Ok(match (Uuid::try_parse(s.trim()), op) {
                (Ok(id), _) => Filter::cmp(attr, query_op, Value::Id(id)),
                (Err(_), CompareOp::Eq) => nothing(),
                (Err(_), _) => everything(),
            })
        }
        Ty::Time => {
            let Lit::Str(s) = value else {
                return wrong_type("a date-time");
            };
            if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                return no_op("a date-time");
            }
            let (t, precision) = parse_time(s).ok_or_else(|| FilterError(format!("'{s}' compared with '{shown}' is not an RFC 3339 date-time.")))?;
            // Compare at the literal's precision: [t, end) is the instant it names.
            let end = Timestamp::from_millis(t.as_millis().saturating_add(precision));
            let at = |op: Op, t: Timestamp| Filter::cmp(attr, op, Value::Time(t));
            let within = || Filter::And(vec![at(Op::Ge, t), at(Op::Lt, end)]);
            Ok(match op {
                CompareOp::Eq if precision == 1 => at(Op::Eq, t),
                CompareOp::Ne if precision == 1 => at(Op::Ne, t),
                CompareOp::Eq => within(),
                CompareOp::Ne => Filter::Not(Box::new(within())),
                CompareOp::Gt => at(Op::Ge, end),
                CompareOp::Ge => at(Op::Ge, t),
                CompareOp::Lt => at(Op::Lt, t),
                CompareOp::Le => at(Op::Lt, end),
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => return no_op("a date-time"),
            })
        }
    }
}

fn describe(v: &Lit) -> &'static str {
    match v {
        Lit::Str(_) => "a string",
        Lit::Bool(_) => "a boolean",
        Lit::Num(_) => "a number",
        Lit::Null => "null",
    }
}

/// An RFC 3339 date-time and its precision in milliseconds (1000 without fractional seconds).
fn parse_time(s: &str) -> Option<(Timestamp, i64)> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    let millis = i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).ok()?;
    let precision = if s.contains('.') { 1 } else { 1000 };
    Some((Timestamp::from_millis(millis), precision))
}

fn terms(f: &Filter) -> usize {
    match f {
        Filter::Compare { .. } | Filter::Present(_) => 1,
        Filter::In { values, .. } => values.len().max(1),
        Filter::And(fs) | Filter::Or(fs) => fs.iter().map(terms).sum(),
        Filter::Not(f) => terms(f),
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluating a value filter on one JSON element

fn lookup<'v>(element: &'v serde_json::Value, path: &Path) -> Option<&'v serde_json::Value> {
    let field = |v: &'v serde_json::Value, name: &str| v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let v = field(element, &path.attr)?;
    let v = match &path.sub {
        Some(sub) => field(v, sub)?,
        None => v,
    };
    if v.is_null() { None } else { Some(v) }
}

fn eval(e: &Expr, element: &serde_json::Value) -> bool {
    match e {
        Expr::Present(path) => lookup(element, path).is_some_and(|v| match v {
            serde_json::Value::String(s) => !s.is_empty(),
            serde_json::Value::Array(a) => !a.is_empty(),
            _ => true,
        }),
        Expr::Compare { path, op, value } => {
            let have = lookup(element, path);
            if *value == Lit::Null {
                return match op {
                    CompareOp::Eq => have.is_none(),
                    CompareOp::Ne => have.is_some(),
                    _ => false,
                };
            }
            match have {
                None => *op == CompareOp::Ne,
                Some(serde_json::Value::Array(items)) => {
                    if *op == CompareOp::Ne {
                        !items.iter().any(|v| compare_json(v, CompareOp::Eq, value))
                    } else {
                        items.iter().any(|v| compare_json(v, *op, value))
                    }
                }
                Some(v) => compare_json(v, *op, value),
            }
        }
        // The parser refuses brackets inside brackets.
        Expr::ValuePath { .. } => false,
        Expr::And(fs) => fs.iter().all(|f| eval(f, element)),
        Expr::Or(fs) => fs.iter().any(|f| eval(f, element)),
        Expr::Not(f) => !eval(f, element),
    }
}

fn compare_json(have: &serde_json::Value, op: CompareOp, want: &Lit) -> bool {
    use std::cmp::Ordering;
    let ord = |o: Option<Ordering>| match (op, o) {
        (CompareOp::Ne, None) => true,
        (_, None) => false,
        (CompareOp::Eq, Some(o)) => o == Ordering::Equal,
        (CompareOp::Ne, Some(o)) => o != Ordering::Equal,
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
        (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, Some(_)) => false,
    };
    let as_bool = |s: &str| {
        if s.eq_ignore_ascii_case("true") {
            Some(true)
        } else if s.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    };
    match (have, want) {
        (serde_json::Value::String(h), Lit::Str(w)) => {
            let (h, w) = (h.to_lowercase(), w.to_lowercase());
            match op {
                CompareOp::Co => h.contains(&w),
                CompareOp::Sw => h.starts_with(&w),
                CompareOp::Ew => h.ends_with(&w),
                _ => ord(Some(h.cmp(&w))),
            }
        }
        (serde_json::Value::Bool(h), Lit::Bool(w)) if matches!(op, CompareOp::Eq | CompareOp::Ne) => ord(Some(h.cmp(w))),
        (serde_json::Value::String(h), Lit::Bool(w)) if matches!(op, CompareOp::Eq | CompareOp::Ne) => ord(as_bool(h).map(|h| h.cmp(w))),
        (serde_json::Value::Number(h), Lit::Num(w)) if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => ord(h.as_f64().and_then(|h| h.partial_cmp(w))),
        _ => op == CompareOp::Ne,
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn user(s: &str) -> Filter {
        parse_filter(s, ScimResource::User).unwrap_or_else(|e| panic!("{s}: {}", e.0))
    }
    fn group(s: &str) -> Filter {
        parse_filter(s, ScimResource::Group).unwrap_or_else(|e| panic!("{s}: {}", e.0))
    }
    fn user_err(s: &str) -> String {
        match parse_filter(s, ScimResource::User) {
            Ok(f) => panic!("{s} parsed as {f:?}"),
            Err(e) => e.0,
        }
    }
    fn t(attr: Attr, op: Op, v: &str) -> Filter {
        Filter::text(attr, op, v)
    }

    #[test]
    fn entra_shapes() {
        assert_eq!(user(r#"userName eq "Adele@contoso.com""#), t(Attr::UserName, Op::Eq, "Adele@contoso.com"));
        assert_eq!(user(r#"externalId eq "0a1b""#), t(Attr::ExternalId, Op::Eq, "0a1b"));
        assert_eq!(user(r#"emails[type eq "work"].value eq "adele@contoso.com""#), t(Attr::Mail, Op::Eq, "adele@contoso.com"));
        assert_eq!(group(r#"displayName eq "Sales""#), t(Attr::DisplayName, Op::Eq, "Sales"));
        assert_eq!(
            user(r#"userName eq "a" and externalId eq "b""#),
            Filter::And(vec![t(Attr::UserName, Op::Eq, "a"), t(Attr::ExternalId, Op::Eq, "b")])
        );
    }

    #[test]
    fn every_operator() {
        for (word, op) in [
            ("eq", Op::Eq),
            ("ne", Op::Ne),
            ("co", Op::Contains),
            ("sw", Op::StartsWith),
            ("ew", Op::EndsWith),
            ("gt", Op::Gt),
            ("ge", Op::Ge),
            ("lt", Op::Lt),
            ("le", Op::Le),
        ] {
            assert_eq!(user(&format!(r#"title {word} "x""#)), t(Attr::JobTitle, op, "x"), "{word}");
            assert_eq!(user(&format!(r#"title {} "x""#, word.to_uppercase())), t(Attr::JobTitle, op, "x"), "{word}");
        }
        assert_eq!(user("title pr"), Filter::Present(Attr::JobTitle));
        assert_eq!(user("active eq true"), Filter::cmp(Attr::AccountEnabled, Op::Eq, Value::Bool(true)));
        assert_eq!(user("active ne FALSE"), Filter::cmp(Attr::AccountEnabled, Op::Ne, Value::Bool(false)));
        assert_eq!(user("title eq null"), Filter::Not(Box::new(Filter::Present(Attr::JobTitle))));
        assert_eq!(user("title ne null"), Filter::Present(Attr::JobTitle));
    }

    #[test]
    fn precedence_and_grouping() {
        let (a, b, c) = (t(Attr::UserName, Op::Eq, "a"), t(Attr::UserName, Op::Eq, "b"), t(Attr::UserName, Op::Eq, "c"));
        // and binds tighter than or.
        assert_eq!(user(r#"userName eq "a" or userName eq "b" and userName eq "c""#), Filter::Or(vec![a.clone(), Filter::And(vec![b.clone(), c.clone()])]));
        assert_eq!(user(r#"userName eq "a" and userName eq "b" or userName eq "c""#), Filter::Or(vec![Filter::And(vec![a.clone(), b.clone()]), c.clone()]));
        assert_eq!(user(r#"userName eq "a" and (userName eq "b" or userName eq "c")"#), Filter::And(vec![a.clone(), Filter::Or(vec![b.clone(), c.clone()])]));
        // not applies to its parenthesis only.
        assert_eq!(
            user(r#"not (userName eq "a") and userName eq "b""#),
            Filter::And(vec![Filter::Not(Box::new(a.clone())), b.clone()])
        );
        assert_eq!(user(r#"NOT(userName eq "a" or userName eq "b")"#), Filter::Not(Box::new(Filter::Or(vec![a.clone(), b.clone()]))));
        assert_eq!(user(r#"((userName eq "a"))"#), a);
        assert_eq!(user("  userName   eq\t\"b\"  "), b);
    }

    #[test]
    fn case_insensitive_names_and_urn_prefixes() {
        assert_eq!(user(r#"USERNAME Eq "x""#), t(Attr::UserName, Op::Eq, "x"));
        assert_eq!(user(r#"name.FamilyName sw "V""#), t(Attr::Surname, Op::StartsWith, "V"));
        assert_eq!(user(r#"Name.givenName ew "e""#), t(Attr::GivenName, Op::EndsWith, "e"));
        assert_eq!(user(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#), t(Attr::UserName, Op::Eq, "x"));
        assert_eq!(user(r#"URN:IETF:params:scim:schemas:core:2.0:user:name.familyName eq "x""#), t(Attr::Surname, Op::Eq, "x"));
        assert_eq!(group(r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x""#), t(Attr::DisplayName, Op::Eq, "x"));
        assert!(user_err(r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x""#).contains("schema"));
        assert!(user_err(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x""#).contains("department"));
        assert_eq!(user(r#"emails eq "a@b.c""#), t(Attr::Mail, Op::Eq, "a@b.c"));
        assert_eq!(user(r#"emails.value co "@b""#), t(Attr::Mail, Op::Contains, "@b"));
        assert_eq!(user(r#"meta.created pr"#), Filter::Present(Attr::CreatedDateTime));
    }

    #[test]
    fn string_escapes() {
        assert_eq!(user(r#"displayName eq "a \"b\" \\ \/ \t\u00e9\ud83d\ude00""#), t(Attr::DisplayName, Op::Eq, "a \"b\" \\ / \té😀"));
        assert_eq!(user(r#"displayName eq "Ünal""#), t(Attr::DisplayName, Op::Eq, "Ünal"));
        assert!(user_err(r#"displayName eq "a\x""#).contains("escape"));
        assert!(user_err(r#"displayName eq "\ud83d""#).contains("surrogate"));
        assert!(user_err(r#"displayName eq "\u12""#).contains("hexadecimal"));
        assert!(user_err(r#"displayName eq "open"#).contains("not closed"));
        assert!(user_err("displayName eq \"a\nb\"").contains("control"));
        assert!(user_err(r#"displayName eq "a\u0000b""#).contains("NUL"));
    }

    #[test]
    fn emails_value_filters() {
        let mail = |op, v| t(Attr::Mail, op, v);
        assert_eq!(user(r#"emails[type eq "work" and primary eq true].value sw "ad""#), mail(Op::StartsWith, "ad"));
        assert_eq!(user(r#"emails[value eq "a@b.c"]"#), mail(Op::Eq, "a@b.c"));
        assert_eq!(user(r#"emails[type eq "work" and value co "@b"]"#), mail(Op::Contains, "@b"));
        assert_eq!(user(r#"emails[type eq "work"]"#), Filter::Present(Attr::Mail));
        assert_eq!(user(r#"emails[type eq "work"].value pr"#), Filter::Present(Attr::Mail));
        assert!(user_err(r#"emails[value eq "x"].value eq "y""#).contains("type or primary"));
        assert!(user_err(r#"emails[type eq "work"].display eq "y""#).contains("display"));
        assert!(user_err(r#"emails[primary eq "yes"].value eq "y""#).contains("wrong type"));
        assert!(user_err(r#"name[givenName eq "x"]"#).contains("cannot be filtered"));
        assert!(user_err(r#"emails[type eq "work" or value eq "x"]"#).contains("type"));
        assert!(user_err(r#"emails[type[x eq "y"] eq "w"]"#).contains("value filter"));
    }

    #[test]
    fn ids_and_dates() {
        let id = Uuid::from_u128(0x1234);
        assert_eq!(user(&format!(r#"id eq "{id}""#)), Filter::cmp(Attr::Id, Op::Eq, Value::Id(id)));
        assert_eq!(group(&format!(r#"ID ne "{}""#, id.to_string().to_uppercase())), Filter::cmp(Attr::Id, Op::Ne, Value::Id(id)));
        assert_eq!(user(r#"id eq "not-a-guid""#), nothing());
        assert_eq!(user(r#"id ne "not-a-guid""#), everything());
        assert!(user_err(r#"id sw "12""#).contains("'sw' does not apply"));
        let at = |op, ms| Filter::cmp(Attr::CreatedDateTime, op, Value::Time(Timestamp::from_millis(ms)));
        let s = 1_764_087_999_000; // 2025-11-25T16:26:39Z
        assert_eq!(user(r#"meta.created eq "2025-11-25T16:26:39.250Z""#), at(Op::Eq, s + 250));
        assert_eq!(user(r#"meta.created eq "2025-11-25T16:26:39Z""#), Filter::And(vec![at(Op::Ge, s), at(Op::Lt, s + 1000)]));
        assert_eq!(user(r#"meta.created gt "2025-11-25T17:26:39+01:00""#), at(Op::Ge, s + 1000));
        assert_eq!(user(r#"meta.created le "2025-11-25T16:26:39Z""#), at(Op::Lt, s + 1000));
        assert_eq!(user(r#"meta.created lt "2025-11-25T16:26:39Z""#), at(Op::Lt, s));
        assert_eq!(
            group(r#"meta.lastModified ge "2025-11-25T16:26:39Z""#),
            Filter::cmp(Attr::LastModifiedDateTime, Op::Ge, Value::Time(Timestamp::from_millis(s)))
        );
        assert!(user_err(r#"meta.created gt "yesterday""#).contains("RFC 3339"));
        assert!(user_err(r#"meta.created co "2025""#).contains("'co' does not apply"));
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        assert!(user_err("").contains("empty"));
        assert!(user_err(r#"department eq "x""#).contains("'department' cannot be filtered on"));
        assert!(parse_filter(r#"userName eq "x""#, ScimResource::Group).unwrap_err().0.contains("'userName'"));
        assert!(user_err(r#"active co "x""#).contains("'active' is a boolean"));
        assert!(user_err(r#"active gt true"#).contains("'gt' does not apply"));
        assert!(user_err(r#"userName eq true"#).contains("'userName' is a string"));
        assert!(user_err(r#"userName eq 42"#).contains("a number"));
        assert!(user_err(r#"userName gt null"#).contains("null"));
        assert!(user_err(r#"userName eq "x" garbage"#).contains("garbage"));
        assert!(user_err(r#"userName eq "x")"#).contains("')'"));
        assert!(user_err(r#"(userName eq "x""#).contains("')' was expected"));
        assert!(user_err(r#"userName is "x""#).contains("'is'"));
        assert!(user_err(r#"userName eq"#).contains("value"));
        assert!(user_err(r#"userName eq "x" and"#).contains("comparison"));
        assert!(user_err(r#"not userName eq "x""#).contains("'userName'"));
        assert!(user_err(r#"a.b.c eq "x""#).contains("attribute path"));
        assert!(user_err(r#"userName eq 01"#).contains("not a number"));
        assert!(user_err(&format!(r#"userName eq "{}""#, "x".repeat(MAX_VALUE_CHARS + 1))).contains("at most"));
        let many = |n: usize| (0..n).map(|i| format!(r#"userName eq "{i}""#)).collect::<Vec<_>>().join(" or ");
        assert!(parse_filter(&many(MAX_COMPARISONS), ScimResource::User).is_ok());
        assert!(user_err(&many(MAX_COMPARISONS + 1)).contains("at most"));
        let nested = |n: usize| format!("{}userName eq \"x\"{}", "(".repeat(n), ")".repeat(n));
        assert!(parse_filter(&nested(MAX_DEPTH), ScimResource::User).is_ok());
        assert!(user_err(&nested(MAX_DEPTH + 1)).contains("levels deep"));
        assert!(user_err(&"not (".repeat(10_000)).contains("levels deep"));
    }

    #[test]
    fn patch_paths() {
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!((p.schema.as_deref(), p.attr.as_str(), p.sub_attr.as_deref()), (None, "emails", Some("value")));
        let vf = p.value_filter.unwrap();
        assert!(vf.matches(&json!({"type": "work", "value": "a@b.c"})));
        assert!(vf.matches(&json!({"Type": "Work"})));
        assert!(!vf.matches(&json!({"type": "home"})));
        assert!(!vf.matches(&json!({"value": "a@b.c"})));
        assert!(!vf.matches(&json!("work")));

        let p = parse_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#).unwrap();
        assert_eq!((p.attr.as_str(), p.sub_attr), ("members", None));
        let vf = p.value_filter.unwrap();
        assert!(vf.matches(&json!({"value": "2819C223-7F76-453A-919D-413861904646"})));
        assert!(!vf.matches(&json!({"value": "other"})));

        let p = parse_path("name.familyName").unwrap();
        assert_eq!(p, PatchPath { schema: None, attr: "name".into(), value_filter: None, sub_attr: Some("familyName".into()) });
        assert_eq!(parse_path("active").unwrap(), PatchPath { schema: None, attr: "active".into(), value_filter: None, sub_attr: None });
        assert_eq!(
            parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap(),
            PatchPath { schema: Some(ENTERPRISE_USER_SCHEMA.into()), attr: "manager".into(), value_filter: None, sub_attr: Some("value".into()) }
        );
        assert_eq!(
            parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department").unwrap(),
            PatchPath { schema: Some(ENTERPRISE_USER_SCHEMA.into()), attr: "department".into(), value_filter: None, sub_attr: None }
        );
        assert_eq!(
            parse_path("URN:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap(),
            PatchPath { schema: Some(ENTERPRISE_USER_SCHEMA.into()), attr: String::new(), value_filter: None, sub_attr: None }
        );
        assert_eq!(parse_path("urn:ietf:params:scim:schemas:core:2.0:User:userName").unwrap().attr, "userName");
        assert_eq!(parse_path("urn:ietf:params:scim:schemas:core:2.0:Group").unwrap().attr, "");

        let p = parse_path(r#"emails[type eq "work" and not (primary eq false)]"#).unwrap().value_filter.unwrap();
        assert!(p.matches(&json!({"type": "work", "primary": true})));
        assert!(p.matches(&json!({"type": "work", "primary": "True"})));
        assert!(!p.matches(&json!({"type": "work", "primary": false})));
        assert!(p.matches(&json!({"type": "work"})), "absent is not false");

        for bad in ["", "emails[", r#"emails[type eq "work""#, r#"emails[type eq "work"]x"#, "name.familyName.x", "9lives", "emails.value[type eq \"w\"]", "a b", r#"emails[type eq "w"]."#, r#"emails[a[b pr]]"#] {
            assert!(parse_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn value_filter_operators() {
        let vf = |s: &str| parse_path(&format!("x[{s}]")).unwrap().value_filter.unwrap();
        let el = json!({"value": "Adele@Contoso.com", "n": 3, "primary": true, "display": "", "sub": {"k": "v"}, "tags": ["a", "b"]});
        for (f, want) in [
            (r#"value co "contoso""#, true),
            (r#"value sw "adele""#, true),
            (r#"value ew ".COM""#, true),
            (r#"value gt "a""#, true),
            (r#"value lt "a""#, false),
            (r#"value ne "x""#, true),
            ("n ge 3", true),
            ("n gt 3", false),
            ("n le 2.5e0", false),
            ("n lt -1", false),
            ("display pr", false),
            ("value pr", true),
            ("missing pr", false),
            ("missing eq null", true),
            (r#"missing ne "x""#, true),
            ("value ne null", true),
            (r#"sub.k eq "V""#, true),
            (r#"tags eq "b""#, true),
            (r#"tags ne "b""#, false),
            (r#"value eq "x" or primary eq true"#, true),
            (r#"not (value eq "x") and (primary eq true)"#, true),
        ] {
            assert_eq!(vf(f).matches(&el), want, "{f}");
        }
    }

    /// Filters built from the grammar: attribute paths, operators, values and logic.
    fn grammar(r: ScimResource) -> impl Strategy<Value = String> {
        let text_attrs: Vec<&'static str> = match r {
            ScimResource::User => vec![
                "userName",
                "USERNAME",
                "displayName",
                "name.givenName",
                "name.familyName",
                "emails",
                "emails.value",
                "externalId",
                "title",
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            ],
            ScimResource::Group => vec!["displayName", "DisplayName", "externalId", "urn:ietf:params:scim:schemas:core:2.0:Group:displayName"],
        };
        let string = any::<String>().prop_map(|s| serde_json::to_string(&s.chars().filter(|c| *c != '\0').take(40).collect::<String>()).unwrap_or_default());
        let op = prop::sample::select(vec!["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Sw"]);
        let text = (prop::sample::select(text_attrs.clone()), op, string.clone()).prop_map(|(a, o, v)| format!("{a} {o} {v}"));
        let present = prop::sample::select(text_attrs).prop_map(|a| format!("{a} pr"));
        let null = (prop::sample::select(vec!["title", "externalId", "displayName"]), prop::sample::select(vec!["eq", "ne"]))
            .prop_map(move |(a, o)| if r == ScimResource::Group && a == "title" { format!("externalId {o} null") } else { format!("{a} {o} null") });
        let date = (
            prop::sample::select(vec!["meta.created", "meta.lastModified"]),
            prop::sample::select(vec!["eq", "ne", "gt", "ge", "lt", "le"]),
            0i64..4_000_000_000,
            prop::bool::ANY,
        )
            .prop_map(|(a, o, secs, frac)| {
                let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                let fmt = if frac {
                    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z")
                } else {
                    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")
                };
                format!(r#"{a} {o} "{}""#, t.format(&fmt).unwrap_or_default())
            });
        let id = (prop::sample::select(vec!["eq", "ne"]), prop::option::of(any::<u128>())).prop_map(|(o, u)| match u {
            Some(u) => format!(r#"id {o} "{}""#, Uuid::from_u128(u)),
            None => format!(r#"id {o} "nope""#),
        });
        let mut leaves = vec![text.boxed(), present.boxed(), null.boxed(), date.boxed(), id.boxed()];
        if r == ScimResource::User {
            leaves.push(prop::sample::select(vec!["active eq true", "active ne false", "ACTIVE eq FALSE", "active pr"]).prop_map(str::to_owned).boxed());
            leaves.push(
                (prop::sample::select(vec![r#"type eq "work""#, "primary eq true", r#"type eq "work" and primary eq true"#]), string)
                    .prop_map(|(sel, v)| format!("emails[{sel}].value eq {v}"))
                    .boxed(),
            );
        }
        prop::strategy::Union::new(leaves).prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (inner.clone(), prop::sample::select(vec!["and", "or", "AND", "Or"]), inner.clone()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
                inner.clone().prop_map(|a| format!("({a})")),
                inner.prop_map(|a| format!("not ({a})")),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let _ = parse_filter(&s, ScimResource::User);
            let _ = parse_filter(&s, ScimResource::Group);
            let _ = parse_path(&s);
        }

        #[test]
        fn filter_like_text_never_panics(s in r#"[a-zA-Z.:\[\]()" \\0-9-]{0,80}"#) {
            let _ = parse_filter(&s, ScimResource::User);
            if let Ok(p) = parse_path(&s) && let Some(vf) = p.value_filter {
                let _ = vf.matches(&json!({"type": "work", "value": 1}));
            }
        }

        #[test]
        fn grammar_filters_parse(u in grammar(ScimResource::User), g in grammar(ScimResource::Group)) {
            prop_assert!(parse_filter(&u, ScimResource::User).is_ok(), "{}: {:?}", u, parse_filter(&u, ScimResource::User));
            prop_assert!(parse_filter(&g, ScimResource::Group).is_ok(), "{}: {:?}", g, parse_filter(&g, ScimResource::Group));
        }
    }
}
