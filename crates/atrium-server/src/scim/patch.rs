//! PATCH (RFC 7644 §3.5.2) as real clients send it: the operations are applied to the rendered
//! document, which is then read back as the whole state and replaced with the version read as
//! `expected`. `op` in any case; path-less add/replace with an object (keys may be paths,
//! URN-prefixed or not); value filters (`emails[type eq "work"].value`, `members[value eq "…"]`);
//! extension URNs; member add/remove by a value list.

use super::discovery::{AttrDef, ENTERPRISE_SCHEMA, GROUP_ATTRS, GROUP_SCHEMA, Mutability, USER_ATTRS, USER_SCHEMA, find};
use super::error::{ScimError, ScimResult};
use super::filter::{PatchPath, parse_path};
use super::get_ci;
use super::groups::member_id;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone)]
pub struct Op {
    pub kind: OpKind,
    /// The path as sent, and parsed.
    pub path: Option<(String, PatchPath)>,
    pub value: Option<Value>,
}

fn invalid_path(detail: String) -> ScimError {
    ScimError::new(400, Some("invalidPath"), detail)
}

/// Reads a PatchOp body.
pub fn parse_ops(body: &Map<String, Value>) -> ScimResult<Vec<Op>> {
    let Some(Value::Array(items)) = get_ci(body, "Operations") else {
        return Err(ScimError::invalid_syntax("A PatchOp needs 'Operations', an array."));
    };
    if items.is_empty() {
        return Err(ScimError::invalid_syntax("'Operations' is empty."));
    }
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(o) = item else { return Err(ScimError::invalid_syntax("Each operation must be an object.")) };
        let kind = match get_ci(o, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => OpKind::Add,
            Some("replace") => OpKind::Replace,
            Some("remove") => OpKind::Remove,
            _ => return Err(ScimError::invalid_syntax("Each operation's 'op' must be add, replace or remove.")),
        };
        let path = match get_ci(o, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some((s.clone(), parse_path(s).map_err(|e| invalid_path(e.0))?)),
            Some(_) => return Err(invalid_path("'path' must be a string.".into())),
        };
        let value = get_ci(o, "value").cloned();
        if kind == OpKind::Remove && path.is_none() {
            return Err(ScimError::no_target("A remove operation needs a 'path'."));
        }
        if kind != OpKind::Remove && value.is_none() {
            return Err(ScimError::invalid_syntax("An add or replace operation needs a 'value'."));
        }
        ops.push(Op { kind, path, value });
    }
    Ok(ops)
}

/// `attr eq "value"` inside a path's brackets, to create the element an add or replace names
/// when none matches (Entra's `emails[type eq "work"].value` on a user without a work address).
fn simple_eq(raw: &str) -> Option<(String, String)> {
    let inner = raw.get(raw.find('[')? + 1..raw.rfind(']')?)?;
    let (attr, value) = inner.split_once(" eq ").or_else(|| inner.split_once(" EQ ")).or_else(|| inner.split_once(" Eq "))?;
    let value: String = serde_json::from_str(value.trim()).ok()?;
    let attr = attr.trim();
    attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '$').then(|| (attr.to_owned(), value))
}

fn is_group_members(p: &PatchPath) -> bool {
    p.attr.eq_ignore_ascii_case("members") && p.sub_attr.is_none() && p.schema.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(GROUP_SCHEMA))
}

fn values(v: &Value) -> ScimResult<Vec<String>> {
    match v {
        Value::Array(items) => items.iter().map(member_id).collect(),
        other => Ok(vec![member_id(other)?]),
    }
}

/// When every operation only adds or removes members, the ids added and removed.
pub fn member_changes(ops: &[Op]) -> ScimResult<Option<(Vec<String>, Vec<String>)>> {
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for op in ops {
        let Some((raw, p)) = &op.path else { return Ok(None) };
        if !is_group_members(p) {
            return Ok(None);
        }
        match (op.kind, &p.value_filter, &op.value) {
            (OpKind::Add, None, Some(v)) => add.extend(values(v)?),
            (OpKind::Remove, None, Some(v)) if !v.is_null() => remove.extend(values(v)?),
            (OpKind::Remove, Some(_), None) => match simple_eq(raw) {
                Some((a, v)) if a.eq_ignore_ascii_case("value") => remove.push(v),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        }
    }
    Ok(Some((add, remove)))
}

/// Applies the operations to a rendered resource.
pub fn apply(doc: &mut Value, ops: &[Op], kind: Kind) -> ScimResult<()> {
    let Value::Object(root) = doc else { return Err(ScimError::invalid_value("The resource is not an object.")) };
    for op in ops {
        match &op.path {
            Some((raw, p)) => apply_path(root, kind, op.kind, raw, p, op.value.as_ref())?,
            None => apply_object(root, kind, op.kind, None, op.value.as_ref())?,
        }
    }
    Ok(())
}

/// A path-less add/replace (or one whose path is a schema URN): each key of the value object
/// is a path, inside `schema` when given.
fn apply_object(root: &mut Map<String, Value>, kind: Kind, op: OpKind, schema: Option<&str>, value: Option<&Value>) -> ScimResult<()> {
    let Some(Value::Object(m)) = value else {
        return Err(ScimError::invalid_value("An operation without a path needs an object value."));
    };
    for (k, v) in m {
        if schema.is_none() && matches!(k.to_ascii_lowercase().as_str(), "schemas" | "id" | "meta") {
            continue;
        }
        let is_urn = [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_SCHEMA].iter().any(|u| u.eq_ignore_ascii_case(k));
        if schema.is_none() && is_urn {
            if v.is_object() {
                apply_object(root, kind, op, Some(k), Some(v))?;
            }
            continue;
        }
        let raw = match schema {
            Some(s) => format!("{s}:{k}"),
            None => k.clone(),
        };
        let p = parse_path(&raw).map_err(|e| invalid_path(e.0))?;
        apply_path(root, kind, op, &raw, &p, Some(v))?;
    }
    Ok(())
}

fn key_ci(m: &Map<String, Value>, name: &str) -> Option<String> {
    m.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn same_element(a: &Value, b: &Value) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(x), Some(y)) => match (get_ci(x, "value"), get_ci(y, "value")) {
            (Some(v), Some(w)) => v == w,
            _ => a == b,
        },
        _ => a == b,
    }
}

fn is_true(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

fn apply_path(root: &mut Map<String, Value>, kind: Kind, op: OpKind, raw: &str, p: &PatchPath, value: Option<&Value>) -> ScimResult<()> {
    let value = value.filter(|v| !v.is_null());
    let core = match kind {
        Kind::User => USER_SCHEMA,
        Kind::Group => GROUP_SCHEMA,
    };
    let ext = match p.schema.as_deref() {
        None => None,
        Some(s) if s.eq_ignore_ascii_case(core) => None,
        Some(s) if kind == Kind::User && s.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) => Some(ENTERPRISE_SCHEMA),
        Some(s) => return Err(invalid_path(format!("'{s}' is not a schema of this resource."))),
    };
    if p.attr.is_empty() {
        return match (op, ext) {
            (OpKind::Remove, Some(e)) => {
                root.remove(e);
                Ok(())
            }
            (OpKind::Remove, None) => Err(ScimError::no_target("The core schema itself cannot be removed.")),
            (_, e) => apply_object(root, kind, op, e, value),
        };
    }
    let attrs: &'static [AttrDef] = match (kind, ext) {
        (Kind::User, None) => USER_ATTRS,
        (Kind::User, Some(_)) => super::discovery::ENTERPRISE_ATTRS,
        (Kind::Group, _) => GROUP_ATTRS,
    };
    let (name, def): (&str, Option<&AttrDef>) = match find(attrs, &p.attr) {
        Some(d) => (d.name, Some(d)),
        None if ext.is_none() && p.attr.eq_ignore_ascii_case("externalId") => ("externalId", None),
        None if ext.is_none() && ["id", "meta", "schemas"].iter().any(|a| a.eq_ignore_ascii_case(&p.attr)) => {
            return Err(ScimError::mutability(format!("'{}' is read-only.", p.attr)));
        }
        // Attributes Atrium does not keep (phoneNumbers, roles, ...) are ignored, as on create.
        None => return Ok(()),
    };
    if def.is_some_and(|d| d.mutability == Mutability::ReadOnly) {
        return Err(ScimError::mutability(format!("'{name}' is read-only.")));
    }
    let multi = def.is_some_and(|d| d.multi);
    let complex = def.is_some_and(|d| !d.sub.is_empty());
    let sub_name = match &p.sub_attr {
        None => None,
        Some(s) => match def.and_then(|d| find(d.sub, s)) {
            Some(sd) => Some(sd.name),
            None => return Ok(()),
        },
    };
    let container: &mut Map<String, Value> = match ext {
        None => root,
        Some(e) => {
            if op == OpKind::Remove && !root.contains_key(e) {
                return Ok(());
            }
            match root.entry(e.to_owned()).or_insert_with(|| Value::Object(Map::new())) {
                Value::Object(m) => m,
                other => {
                    *other = Value::Object(Map::new());
                    match other {
                        Value::Object(m) => m,
                        _ => return Ok(()),
                    }
                }
            }
        }
    };
    let key = key_ci(container, name).unwrap_or_else(|| name.to_owned());
    let need = || value.ok_or_else(|| ScimError::invalid_value(format!("The operation on '{raw}' needs a value.")));

    if let Some(vf) = &p.value_filter {
        if !multi {
            return Err(invalid_path(format!("'{name}' is not multi-valued: it takes no filter.")));
        }
        let mut items = match container.remove(&key) {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        let hits: Vec<usize> = items.iter().enumerate().filter(|(_, e)| vf.matches(e)).map(|(i, _)| i).collect();
        match (op, sub_name) {
            (OpKind::Remove, None) => items.retain(|e| !vf.matches(e)),
            (OpKind::Remove, Some(s)) => {
                for i in hits {
                    if let Some(Value::Object(o)) = items.get_mut(i)
                        && let Some(k) = key_ci(o, s)
                    {
                        o.remove(&k);
                    }
                }
            }
            (_, Some(s)) => {
                let v = need()?.clone();
                if hits.is_empty() {
                    let (fa, fv) = simple_eq(raw).ok_or_else(|| ScimError::no_target(format!("No value of '{name}' matches '{raw}'.")))?;
                    let mut o = Map::new();
                    let fa = def.and_then(|d| find(d.sub, &fa)).map_or(fa.clone(), |d| d.name.to_owned());
                    o.insert(fa, Value::String(fv));
                    o.insert(s.to_owned(), v);
                    items.push(Value::Object(o));
                } else {
                    for i in hits {
                        if let Some(Value::Object(o)) = items.get_mut(i) {
                            let k = key_ci(o, s).unwrap_or_else(|| s.to_owned());
                            o.insert(k, v.clone());
                        }
                    }
                }
            }
            (_, None) => {
                let v = need()?;
                if hits.is_empty() {
                    if op == OpKind::Replace {
                        return Err(ScimError::no_target(format!("No value of '{name}' matches '{raw}'.")));
                    }
                    items.push(v.clone());
                } else {
                    for i in hits {
                        if let (Some(Value::Object(o)), Value::Object(n)) = (items.get_mut(i), v) {
                            o.extend(n.clone());
                        } else if let Some(e) = items.get_mut(i) {
                            *e = v.clone();
                        }
                    }
                }
            }
        }
        if !items.is_empty() {
            container.insert(key, Value::Array(items));
        }
        return Ok(());
    }

    if let Some(s) = sub_name {
        match op {
            OpKind::Remove => match container.get_mut(&key) {
                Some(Value::Array(items)) => {
                    for e in items.iter_mut() {
                        if let Some(o) = e.as_object_mut()
                            && let Some(k) = key_ci(o, s)
                        {
                            o.remove(&k);
                        }
                    }
                }
                Some(Value::Object(o)) => {
                    if let Some(k) = key_ci(o, s) {
                        o.remove(&k);
                    }
                    if o.is_empty() {
                        container.remove(&key);
                    }
                }
                _ => {}
            },
            _ => {
                let v = need()?.clone();
                match container.entry(key).or_insert_with(|| if multi { Value::Array(Vec::new()) } else { Value::Object(Map::new()) }) {
                    Value::Array(items) => {
                        if items.is_empty() {
                            items.push(Value::Object(Map::new()));
                        }
                        for e in items.iter_mut() {
                            if let Some(o) = e.as_object_mut() {
                                let k = key_ci(o, s).unwrap_or_else(|| s.to_owned());
                                o.insert(k, v.clone());
                            }
                        }
                    }
                    Value::Object(o) => {
                        let k = key_ci(o, s).unwrap_or_else(|| s.to_owned());
                        o.insert(k, v);
                    }
                    other => {
                        let mut o = Map::new();
                        o.insert(s.to_owned(), v);
                        *other = Value::Object(o);
                    }
                }
            }
        }
        return Ok(());
    }

    match op {
        OpKind::Remove => {
            match (value, multi) {
                // Remove the listed values (Entra's member removal by a value list).
                (Some(v), true) => {
                    let gone: Vec<Value> = match v {
                        Value::Array(a) => a.clone(),
                        o => vec![o.clone()],
                    };
                    if let Some(Value::Array(items)) = container.get_mut(&key) {
                        items.retain(|e| !gone.iter().any(|g| same_element(e, g)));
                        if items.is_empty() {
                            container.remove(&key);
                        }
                    }
                }
                _ => {
                    container.remove(&key);
                }
            }
        }
        OpKind::Add | OpKind::Replace => {
            let Some(v) = value else {
                container.remove(&key);
                return Ok(());
            };
            if multi {
                let new: Vec<Value> = match v {
                    Value::Array(a) => a.clone(),
                    o => vec![o.clone()],
                };
                let mut items = match (op, container.remove(&key)) {
                    (OpKind::Add, Some(Value::Array(a))) => a,
                    _ => Vec::new(),
                };
                // At most one primary value: a new primary one demotes the others.
                if new.iter().any(|n| n.as_object().is_some_and(|o| is_true(get_ci(o, "primary")))) {
                    for e in items.iter_mut() {
                        if let Some(o) = e.as_object_mut()
                            && let Some(k) = key_ci(o, "primary")
                        {
                            o.insert(k, Value::Bool(false));
                        }
                    }
                }
                for n in new {
                    if let Some(i) = items.iter().position(|e| same_element(e, &n)) {
                        if let (Some(Value::Object(o)), Value::Object(m)) = (items.get_mut(i), n) {
                            o.extend(m);
                        }
                    } else {
                        items.push(n);
                    }
                }
                if !items.is_empty() {
                    container.insert(key, Value::Array(items));
                }
            } else if complex {
                match (container.get_mut(&key), v) {
                    (Some(Value::Object(o)), Value::Object(n)) => {
                        for (k, nv) in n {
                            let k2 = key_ci(o, k).unwrap_or_else(|| k.clone());
                            if nv.is_null() {
                                o.remove(&k2);
                            } else {
                                o.insert(k2, nv.clone());
                            }
                        }
                    }
                    _ => {
                        container.insert(key, v.clone());
                    }
                }
            } else {
                container.insert(key, v.clone());
            }
        }
    }
    Ok(())
}
