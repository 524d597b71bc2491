//! The error replies of the OpenAPI document, added in one place from what each operation is
//! (secured or public, with path parameters, with a body), so that no operation forgets one:
//! the document is the contract that `scripts/schemathesis` holds the server to.
//!
//! An operation's own annotation may document a status with its specific meaning (e.g. 409
//! "The domain is taken"); it is kept. What is added here is what every such operation can
//! answer whatever its handler does:
//! - 400: a parameter that is not what it must be (a GUID, a limit, an encoding), or a body
//!   that is not the operation's JSON (`invalid_json`, `unknown_field`, `missing_field`);
//! - 401 with `WWW-Authenticate: Bearer`: a secured operation without a valid session or token;
//! - 403: a secured operation the caller may not use (including a cross-site cookie write, and
//!   `password_change_required` until a temporary password is replaced);
//! - 404: an operation with path parameters whose object does not exist (or is not visible);
//! - 409: a write (POST, PUT, PATCH, DELETE) that the directory's state refuses: a name taken,
//!   a protected object (the personal-accounts tenant, the last owner), a state that does not
//!   allow it (an invitation no longer pending, a synced object);
//! - 413 and 415: an operation with a body, for a body too large or not `application/json`.

use utoipa::ToSchema;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// A member's kind in account routes (`/members/{type}/{principalId}`).
#[derive(ToSchema)]
#[schema(as = MemberType)]
#[allow(dead_code)] // Only its schema is used: handlers take the path segment as text.
pub(crate) enum MemberType {
    #[schema(rename = "user")]
    User,
    #[schema(rename = "group")]
    Group,
    #[schema(rename = "application")]
    Application,
}

fn error_reply(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorResponse"))).build())
        .build()
}

fn unauthenticated_reply() -> Response {
    let mut r = error_reply("`unauthenticated`: no session cookie or bearer token, or one that is not valid (any more)");
    r.headers.insert(
        "WWW-Authenticate".to_owned(),
        HeaderBuilder::new().schema(Object::with_type(Type::String)).description(Some("`Bearer`")).build(),
    );
    r
}

fn add(op: &mut Operation, status: &str, reply: impl FnOnce() -> Response) {
    op.responses.responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(reply()));
}

/// Whether the operation needs a signed-in caller.
pub(crate) fn is_secured(op: &Operation) -> bool {
    op.security.as_ref().is_some_and(|s| !s.is_empty())
}

/// Adds the error replies every operation can give (see the module's documentation), and the
/// schemas that parameters refer to (utoipa registers those of bodies only).
pub(crate) fn document_errors(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.insert(<MemberType as utoipa::ToSchema>::name().into_owned(), <MemberType as utoipa::PartialSchema>::schema());
    for item in doc.paths.paths.values_mut() {
        let writes = [&mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten().map(|op| (op, true));
        for (op, is_write) in item.get.iter_mut().map(|op| (op, false)).chain(writes) {
            let has_path_params = op.parameters.iter().flatten().any(|p| p.parameter_in == ParameterIn::Path);
            add(op, "400", || error_reply("`invalid_request`, `invalid_id`, `invalid_json`, `unknown_field`, `missing_field` or a field's own rule; `target` names the field"));
            if is_secured(op) {
                add(op, "401", unauthenticated_reply);
                // A 401 documented by the handler (e.g. "the current password is wrong") can be
                // unauthenticated too: it says so, with the header.
                if let Some(RefOr::T(r)) = op.responses.responses.get_mut("401") {
                    r.headers.entry("WWW-Authenticate".to_owned()).or_insert_with(|| {
                        HeaderBuilder::new().schema(Object::with_type(Type::String)).description(Some("`Bearer`, when the session or token is missing or not valid")).build()
                    });
                }
                add(op, "403", || error_reply("`forbidden` and the specific refusals (`owner_only`, `wrong_tenant`, `global_admin_required`, ...), or `password_change_required`"));
            }
            if has_path_params {
                add(op, "404", || error_reply("The object named in the path does not exist, or the caller cannot see it"));
            }
            if is_write {
                add(op, "409", || error_reply("The directory's state refuses the change: a name taken, a protected object, a state that does not allow it (`code` says which)"));
            }
            if op.request_body.is_some() {
                add(op, "413", || error_reply("`payload_too_large`: the body is larger than the server's limit"));
                add(op, "415", || error_reply("`unsupported_media_type`: send the body as `application/json`"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The document itself: what schemathesis relies on, checked on every build.
    use std::collections::BTreeSet;
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::{RefOr, Schema};

    fn document() -> serde_json::Value {
        let (_, doc) = super::super::routes();
        serde_json::to_value(&doc).unwrap()
    }

    fn operations() -> Vec<(String, &'static str, Operation)> {
        let (_, doc) = super::super::routes();
        let mut out = Vec::new();
        for (path, item) in doc.paths.paths {
            for (method, op) in [("get", item.get), ("put", item.put), ("post", item.post), ("delete", item.delete), ("patch", item.patch)] {
                if let Some(op) = op {
                    out.push((path.clone(), method, op));
                }
            }
        }
        out
    }

    /// Operations that need no signed-in caller.
    const PUBLIC: &[&str] = &["post /api/v1/sign-in", "post /api/v1/sign-in/passkey/begin", "post /api/v1/sign-in/passkey"];

    #[test]
    fn every_operation_documents_400_and_401_unless_public() {
        let ops = operations();
        assert!(ops.len() > 80, "only {} operations", ops.len());
        for (path, method, op) in ops {
            let name = format!("{method} {path}");
            let codes: BTreeSet<&str> = op.responses.responses.keys().map(String::as_str).collect();
            assert!(codes.contains("400"), "{name} does not document 400: {codes:?}");
            if PUBLIC.contains(&name.as_str()) {
                assert!(!super::is_secured(&op), "{name} is listed as public but needs a bearer token");
            } else {
                assert!(super::is_secured(&op), "{name} declares no security; add it to PUBLIC if it really is public");
                assert!(codes.contains("401") && codes.contains("403"), "{name} does not document 401/403: {codes:?}");
                let RefOr::T(r) = &op.responses.responses["401"] else { panic!("{name}: 401 is a reference") };
                assert!(r.headers.contains_key("WWW-Authenticate"), "{name}: 401 without its WWW-Authenticate header");
            }
            for (code, reply) in &op.responses.responses {
                if code.starts_with('4') {
                    let RefOr::T(r) = reply else { panic!("{name}: {code} is a reference") };
                    let schema = serde_json::to_value(&r.content["application/json"].schema).unwrap();
                    assert_eq!(schema["$ref"], "#/components/schemas/ErrorResponse", "{name}: {code} is not the error shape");
                }
            }
        }
    }

    #[test]
    fn parameters_are_where_the_route_has_them() {
        for (path, method, op) in operations() {
            let name = format!("{method} {path}");
            let in_template: BTreeSet<String> =
                path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).map(str::to_owned).collect();
            let params = op.parameters.clone().unwrap_or_default();
            let declared: BTreeSet<String> = params.iter().filter(|p| p.parameter_in == ParameterIn::Path).map(|p| p.name.clone()).collect();
            assert_eq!(declared, in_template, "{name}: path parameters declared {declared:?}, route template has {in_template:?}");
            for p in &params {
                if p.parameter_in != ParameterIn::Path {
                    assert!(!in_template.contains(&p.name), "{name}: {} is in the path but declared elsewhere", p.name);
                }
            }
            let mut seen = BTreeSet::new();
            for p in &params {
                assert!(seen.insert((p.name.clone(), serde_json::to_string(&p.parameter_in).unwrap())), "{name}: {} declared twice", p.name);
            }
        }
    }

    #[test]
    fn id_parameters_are_guids() {
        for (path, method, op) in operations() {
            for p in op.parameters.unwrap_or_default() {
                if p.name.ends_with("Id") && p.parameter_in == ParameterIn::Path {
                    let schema = serde_json::to_value(&p.schema).unwrap();
                    assert_eq!(schema["format"], "uuid", "{method} {path}: path parameter {} is not `format: uuid`: {schema}", p.name);
                }
            }
        }
    }

    /// The REST operations that sign a user in, throttled per address (429 + Retry-After).
    const THROTTLED: &[&str] = &["post /api/v1/sign-in", "post /api/v1/accounts/{accountId}/tenants/associations"];

    #[test]
    fn throttled_operations_document_429_with_retry_after() {
        let ops = operations();
        for (path, method, op) in &ops {
            let name = format!("{method} {path}");
            let reply = op.responses.responses.get("429");
            assert_eq!(reply.is_some(), THROTTLED.contains(&name.as_str()), "{name}: 429 documented exactly where throttling applies");
            if let Some(RefOr::T(r)) = reply {
                assert!(r.headers.contains_key("Retry-After"), "{name}: its 429 names Retry-After");
            }
        }
        assert!(THROTTLED.iter().all(|t| ops.iter().any(|(p, m, _)| format!("{m} {p}") == *t)), "every throttled operation exists");
    }

    #[test]
    fn operations_with_a_body_document_413_and_415() {
        for (path, method, op) in operations() {
            if op.request_body.is_some() {
                for code in ["400", "413", "415"] {
                    assert!(op.responses.responses.contains_key(code), "{method} {path} takes a body but does not document {code}");
                }
            }
        }
    }

    #[test]
    fn request_bodies_refuse_unknown_fields_as_the_server_does() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(r) = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str() else { continue };
                let name = r.trim_start_matches("#/components/schemas/");
                assert_eq!(schemas[name]["additionalProperties"], false, "{method} {path}: {name} must say additionalProperties: false (deny_unknown_fields)");
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for r in text.split("\"#/components/schemas/").skip(1) {
            let name = &r[..r.find('"').unwrap()];
            assert!(schemas.contains_key(name), "$ref to {name}, which is not in components.schemas");
        }
    }

    #[test]
    fn the_mail_list_takes_query_parameters() {
        let doc = document();
        let params = doc["paths"]["/api/v1/mail"]["get"]["parameters"].as_array().unwrap();
        for p in params {
            assert_eq!(p["in"], "query", "{p}");
            assert_eq!(p["required"], false, "{p}");
        }
        let status = params.iter().find(|p| p["name"] == "status").unwrap();
        assert!(status["schema"].to_string().contains("not_sent"), "status is an enum: {status}");
    }

    #[test]
    fn limits_have_their_bounds() {
        for (path, method, op) in operations() {
            for p in op.parameters.unwrap_or_default() {
                if p.name == "limit" {
                    let Some(RefOr::T(Schema::Object(o))) = &p.schema else { panic!("{method} {path}: limit has no inline schema") };
                    assert!(o.minimum.is_some() && o.maximum.is_some(), "{method} {path}: limit without minimum/maximum");
                }
            }
        }
    }
}
