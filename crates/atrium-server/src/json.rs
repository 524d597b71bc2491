//! Strict JSON for every request body (REST, SCIM, Graph).
//!
//! `serde_json` alone is lenient in three ways that matter here:
//! - it ignores data after the value when used as a streaming deserializer;
//! - a derived struct accepts a JSON array and fills its fields by position, so
//!   `PATCH /tenants/{id}` with `["x"]` would rename the tenant;
//! - an object with a key twice keeps the last value, so two parsers (a proxy, a WAF, us) can
//!   disagree about what was sent.
//!
//! So a body is first read into a [`Value`] by [`parse_value`], which refuses trailing data,
//! duplicate keys and NUL characters (PostgreSQL text cannot hold them), naming the JSON path;
//! then [`from_value`] turns it into the operation's type through a deserializer that refuses a
//! sequence wherever a struct is expected.

use atrium_core::{Error, ErrorCode};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

/// What made a well-formed JSON text unacceptable, found while reading it.
enum Problem {
    Duplicate { path: String, key: String },
    Nul { path: String },
}

/// Reads a request body as one JSON value: no trailing data, no key twice in an object, no NUL
/// character in a string or key. Errors name the JSON path (`members[2].value`).
pub fn parse_value(bytes: &[u8]) -> Result<Value, Error> {
    let problem = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictSeed { path: Path::Root, problem: &problem }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => Err(match problem.into_inner() {
            Some(Problem::Duplicate { path, key }) => Error::new(ErrorCode::InvalidJson)
                .with_message(format!("Invalid JSON: the key '{key}' appears more than once in the same object."))
                .with_target(path),
            Some(Problem::Nul { path }) => nul_error(path),
            None => Error::new(ErrorCode::InvalidJson).with_message(format!("Invalid JSON: {e}")),
        }),
    }
}

/// A NUL character in a string of the body: refused (databases cannot store it, and no name,
/// address or value needs it).
pub fn nul_error(path: String) -> Error {
    let what = if path.is_empty() { "The request body".to_owned() } else { format!("The value of '{path}'") };
    let e = Error::new(ErrorCode::InvalidRequest).with_message(format!("{what} contains a NUL character (\\u0000), which is not accepted."));
    if path.is_empty() { e } else { e.with_target(path) }
}

/// Whether `bytes` may hold a JSON string with a NUL character: a cheap test before a full parse.
pub fn may_contain_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(6).any(|w| w == b"\\u0000")
}

/// The value as `T`, refusing an array where `T` (or any struct inside it) expects an object.
/// Errors keep serde's words (`unknown field`, `missing field`) and carry the path.
pub fn from_value<T: DeserializeOwned>(v: Value) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(Strict(v))
}

/// The JSON path of a value, built only when a problem is reported.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, k) => f.write_str(k),
            Path::Key(p, k) => write!(f, "{p}.{k}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

struct StrictSeed<'a> {
    path: Path<'a>,
    problem: &'a RefCell<Option<Problem>>,
}

impl StrictSeed<'_> {
    fn fail<E: de::Error>(&self, p: Problem) -> E {
        let msg = match &p {
            Problem::Duplicate { key, .. } => format!("duplicate key '{key}'"),
            Problem::Nul { .. } => "NUL character".to_owned(),
        };
        *self.problem.borrow_mut() = Some(p);
        E::custom(msg)
    }

    fn text<E: de::Error>(&self, s: &str) -> Result<(), E> {
        if s.contains('\0') { Err(self.fail(Problem::Nul { path: self.path.to_string() })) } else { Ok(()) }
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.text(v)?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.text(&v)?;
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let path = Path::Index(&self.path, out.len());
            match seq.next_element_seed(StrictSeed { path, problem: self.problem })? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = Path::Key(&self.path, &key);
            if key.contains('\0') {
                return Err(self.fail(Problem::Nul { path: path.to_string().replace('\0', "\\u0000") }));
            }
            if out.contains_key(&key) {
                return Err(self.fail(Problem::Duplicate { path: path.to_string(), key: key.clone() }));
            }
            let v = map.next_value_seed(StrictSeed { path, problem: self.problem })?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// A deserializer over a [`Value`] like `serde_json`'s own, except that a struct refuses an array.
/// Externally tagged enums are handed to `serde_json` as they are (the API's enums are strings).
struct Strict(Value);

impl<'de> de::Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => n.deserialize_any(visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(a) => {
                let len = a.len();
                let mut seq = Seq(a.into_iter());
                let v = visitor.visit_seq(&mut seq)?;
                if seq.0.len() == 0 { Ok(v) } else { Err(de::Error::invalid_length(len, &"fewer elements in the array")) }
            }
            Value::Object(m) => {
                let len = m.len();
                let mut map = Obj { iter: m.into_iter(), value: None };
                let v = visitor.visit_map(&mut map)?;
                if map.iter.len() == 0 { Ok(v) } else { Err(de::Error::invalid_length(len, &"fewer elements in the object")) }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            v => visitor.visit_some(Strict(v)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _name: &'static str, _fields: &'static [&'static str], visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &"a JSON object")),
            v => Strict(v).deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(self, name: &'static str, variants: &'static [&'static str], visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|v| seed.deserialize(Strict(v))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Obj {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Obj {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(IntoDeserializer::<serde_json::Error>::into_deserializer(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(Strict(v)),
            None => Err(de::Error::custom("a value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Rename {
        display_name: Option<String>,
        inner: Option<Inner>,
        tags: Option<Vec<Inner>>,
        count: Option<u32>,
        kind: Option<Kind>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        value: String,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    enum Kind {
        Member,
        Guest,
    }

    fn parse<T: DeserializeOwned>(s: &str) -> Result<T, String> {
        let v = parse_value(s.as_bytes()).map_err(|e| format!("{}|{}", e.code.as_str(), e.target.unwrap_or_default()))?;
        from_value(v).map_err(|e| format!("type|{}|{}", e.path(), e.inner()))
    }

    #[test]
    fn accepts_ordinary_bodies() {
        let r: Rename = parse(r#"{"displayName":"A","inner":{"value":"x"},"tags":[{"value":"t"}],"count":3,"kind":"Guest"}"#).unwrap();
        assert_eq!(r.display_name.as_deref(), Some("A"));
        assert_eq!(r.tags.unwrap()[0].value, "t");
        assert_eq!((r.count, r.kind), (Some(3), Some(Kind::Guest)));
        let r: Rename = parse(" {} \n").unwrap();
        assert_eq!(r.display_name, None);
        // Escapes that are not NUL, and text that only looks like one, are fine.
        let r: Rename = parse(r#"{"displayName":"a\u0001\\u0000b"}"#).unwrap();
        assert_eq!(r.display_name.as_deref(), Some("a\u{1}\\u0000b"));
    }

    #[test]
    fn refuses_trailing_data() {
        assert_eq!(parse::<Rename>(r#"{"displayName":"A"} x"#).unwrap_err(), "invalid_json|");
        assert_eq!(parse::<Rename>(r#"{"displayName":"A"}{"displayName":"B"}"#).unwrap_err(), "invalid_json|");
    }

    #[test]
    fn refuses_an_array_for_a_struct_at_any_depth() {
        let e = parse::<Rename>(r#"["x"]"#).unwrap_err();
        assert!(e.starts_with("type|.|invalid type: sequence, expected a JSON object"), "{e}");
        let e = parse::<Rename>(r#"{"inner":["x"]}"#).unwrap_err();
        assert!(e.starts_with("type|inner|invalid type: sequence"), "{e}");
        let e = parse::<Rename>(r#"{"tags":[{"value":"a"},["b"]]}"#).unwrap_err();
        assert!(e.starts_with("type|tags[1]|invalid type: sequence"), "{e}");
    }

    #[test]
    fn refuses_duplicate_keys_naming_them() {
        assert_eq!(parse::<Rename>(r#"{"displayName":"A","displayName":"B"}"#).unwrap_err(), "invalid_json|displayName");
        assert_eq!(parse::<Rename>(r#"{"tags":[{"value":"a","value":"b"}]}"#).unwrap_err(), "invalid_json|tags[0].value");
    }

    #[test]
    fn refuses_nul_naming_the_path() {
        assert_eq!(parse::<Rename>(r#"{"displayName":"a\u0000"}"#).unwrap_err(), "invalid_request|displayName");
        assert_eq!(parse::<Rename>(r#"{"tags":[{"value":"\u0000"}]}"#).unwrap_err(), "invalid_request|tags[0].value");
        assert_eq!(parse::<Value>(r#"{"a\u0000":1}"#).unwrap_err(), "invalid_request|a\\u0000");
        assert_eq!(parse::<Value>(r#""\u0000""#).unwrap_err(), "invalid_request|");
        assert!(may_contain_nul(br#"{"a":"\u0000"}"#) && !may_contain_nul(br#"{"a":"u0000"}"#));
    }

    #[test]
    fn keeps_serdes_words_for_fields() {
        let e = parse::<Inner>(r#"{"value":"a","colour":1}"#).unwrap_err();
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = parse::<Inner>("{}").unwrap_err();
        assert!(e.contains("missing field `value`"), "{e}");
        let e = parse::<Rename>(r#"{"count":"3"}"#).unwrap_err();
        assert!(e.starts_with("type|count|invalid type: string"), "{e}");
    }
}
