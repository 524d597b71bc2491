//! Tables for people, JSON for scripts.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

pub fn json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        println!("(none)");
        return;
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header(headers.to_vec());
    for r in rows {
        t.add_row(r);
    }
    println!("{t}");
}

/// Key/value lines for one object.
pub fn fields(pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in pairs {
        println!("{k:width$}  {v}");
    }
}

pub fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub fn next_page(cursor: &Option<String>) {
    if let Some(c) = cursor {
        eprintln!("More results: add --cursor {c}");
    }
}

/// The first of `keys` that holds a non-empty string.
fn first_str(v: &serde_json::Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| v[*k].as_str().filter(|s| !s.is_empty()).map(str::to_owned))
}

/// A detail value as text: strings as they are, anything else as compact JSON.
fn detail_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Audit events as a table for people: when, what, who and to whom by name where the server
/// or `name` gives one (else by id), and the details as `key: value` (`detail` may reword them).
pub fn audit(events: &[serde_json::Value], name: &dyn Fn(&str) -> Option<String>, detail: &dyn Fn(&str, &str) -> String) {
    table(
        &["when", "action", "by", "target", "details"],
        events
            .iter()
            .map(|e| {
                let by = first_str(e, &["actorName", "actorDisplayName", "actor"])
                    .or_else(|| first_str(e, &["actorUserId"]).map(|id| name(&id).unwrap_or(id)))
                    .unwrap_or_default();
                let target = first_str(e, &["targetName", "targetDisplayName"]).unwrap_or_else(|| {
                    let id = e["targetId"].as_str().unwrap_or_default();
                    let kind = e["targetType"].as_str().unwrap_or_default();
                    format!("{kind} {}", name(id).unwrap_or_else(|| id.to_owned())).trim().to_owned()
                });
                let details: Vec<String> = match &e["details"] {
                    serde_json::Value::Object(m) => m.iter().map(|(k, v)| format!("{k}: {}", detail(k, &detail_text(v)))).collect(),
                    serde_json::Value::Array(a) => a.iter().map(detail_text).collect(),
                    serde_json::Value::Null => Vec::new(),
                    other => vec![detail_text(other)],
                };
                vec![first_str(e, &["at"]).unwrap_or_default(), e["action"].as_str().unwrap_or_default().to_owned(), by, target, details.join("; ")]
            })
            .collect(),
    );
}

/// A member's history: when, and the page or API call (as the server describes it).
pub fn history(rows: &[serde_json::Value]) {
    table(
        &["when", "what"],
        rows.iter()
            .map(|r| {
                let what = first_str(r, &["description", "page", "what"])
                    .unwrap_or_else(|| format!("{} {}", r["method"].as_str().unwrap_or_default(), first_str(r, &["path", "route"]).unwrap_or_default()));
                vec![first_str(r, &["at"]).unwrap_or_default(), what]
            })
            .collect(),
    );
}
