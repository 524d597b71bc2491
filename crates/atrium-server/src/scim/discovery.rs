//! Discovery: `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`. The schemas publish only
//! the attributes Atrium stores, with their true characteristics: clients (and scim2-tester) build
//! their models from them. The same tables drive how input is read (names, case, mutability).

use super::error::{ScimError, ScimResult};
use super::{Ctx, LIST_SCHEMA, scim_json};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    Complex,
    Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
}

/// One published attribute.
#[derive(Debug, Clone, Copy)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub unique_server: bool,
    pub sub: &'static [AttrDef],
    pub reference_types: &'static [&'static str],
    pub canonical: &'static [&'static str],
    pub description: &'static str,
}

const fn a(name: &'static str, ty: Type, description: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        unique_server: false,
        sub: &[],
        reference_types: &[],
        canonical: &[],
        description,
    }
}

const NAME_SUB: &[AttrDef] = &[
    a("formatted", Type::String, "The full name, as the source formats it."),
    a("familyName", Type::String, "The family name (the directory's surname)."),
    a("givenName", Type::String, "The given name."),
];
const EMAIL_SUB: &[AttrDef] = &[
    a("value", Type::String, "The email address; the primary one (else the work one, else the first) is the user's mail."),
    a("display", Type::String, "A label for the address, kept as sent."),
    a("type", Type::String, "The kind of address (e.g. work), kept as sent."),
    a("primary", Type::Boolean, "Whether this is the user's primary address; at most one is."),
];
pub const USER_ATTRS: &[AttrDef] = &[
    AttrDef {
        required: true,
        unique_server: true,
        ..a("userName", Type::String, "Unique in the tenant, case-insensitively; kept exactly as sent. It maps to the sign-in name.")
    },
    AttrDef { ty: Type::Complex, sub: NAME_SUB, ..a("name", Type::Complex, "The user's name.") },
    AttrDef { required: true, ..a("displayName", Type::String, "The name shown for the user; defaults to the formatted or full name.") },
    a("title", Type::String, "The user's job title."),
    a("active", Type::Boolean, "Whether the user may sign in; false ends their sessions at once."),
    AttrDef { multi: true, sub: EMAIL_SUB, ..a("emails", Type::Complex, "The user's email addresses.") },
];
const MANAGER_SUB: &[AttrDef] = &[
    a("value", Type::String, "The id of the manager, a user of the same tenant."),
    AttrDef { reference_types: &["User"], ..a("$ref", Type::Reference, "The URI of the manager's User resource.") },
];
pub const ENTERPRISE_ATTRS: &[AttrDef] = &[
    a("employeeNumber", Type::String, "The employee number."),
    a("department", Type::String, "The department."),
    AttrDef { sub: MANAGER_SUB, ..a("manager", Type::Complex, "The user's manager.") },
];
const MEMBER_SUB: &[AttrDef] = &[
    AttrDef { mutability: Mutability::Immutable, ..a("value", Type::String, "The id of a member user (groups hold users only).") },
    AttrDef { mutability: Mutability::Immutable, reference_types: &["User"], ..a("$ref", Type::Reference, "The URI of the member's User resource.") },
    AttrDef { mutability: Mutability::Immutable, canonical: &["User"], ..a("type", Type::String, "Always User.") },
];
pub const GROUP_ATTRS: &[AttrDef] = &[
    AttrDef { required: true, ..a("displayName", Type::String, "The group's name, unique in the tenant.") },
    AttrDef { multi: true, sub: MEMBER_SUB, ..a("members", Type::Complex, "The group's member users.") },
];

/// The attributes of a schema, by URN (case-insensitively).
pub fn attrs_of(schema: &str) -> Option<&'static [AttrDef]> {
    [(USER_SCHEMA, USER_ATTRS), (ENTERPRISE_SCHEMA, ENTERPRISE_ATTRS), (GROUP_SCHEMA, GROUP_ATTRS)]
        .into_iter()
        .find(|(u, _)| u.eq_ignore_ascii_case(schema))
        .map(|(_, a)| a)
}

/// An attribute (or sub-attribute) by name, case-insensitively.
pub fn find(attrs: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    attrs.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

fn attr_json(d: &AttrDef) -> Value {
    let mut v = json!({
        "name": d.name,
        "type": match d.ty { Type::String => "string", Type::Boolean => "boolean", Type::Complex => "complex", Type::Reference => "reference" },
        "multiValued": d.multi,
        "description": d.description,
        "required": d.required,
        "mutability": match d.mutability { Mutability::ReadOnly => "readOnly", Mutability::ReadWrite => "readWrite", Mutability::Immutable => "immutable" },
        "returned": "default",
    });
    if matches!(d.ty, Type::String | Type::Reference) {
        v["caseExact"] = json!(d.case_exact);
        v["uniqueness"] = json!(if d.unique_server { "server" } else { "none" });
    }
    if !d.sub.is_empty() {
        v["subAttributes"] = Value::Array(d.sub.iter().map(attr_json).collect());
    }
    if !d.reference_types.is_empty() {
        v["referenceTypes"] = json!(d.reference_types);
    }
    if !d.canonical.is_empty() {
        v["canonicalValues"] = json!(d.canonical);
    }
    v
}

fn schema_json(base: &str, id: &str) -> Option<Value> {
    let (name, description) = match id {
        USER_SCHEMA => ("User", "User Account"),
        GROUP_SCHEMA => ("Group", "Group"),
        ENTERPRISE_SCHEMA => ("EnterpriseUser", "Enterprise User"),
        _ => return None,
    };
    let attrs = attrs_of(id)?;
    Some(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attrs.iter().map(attr_json).collect::<Vec<_>>(),
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{id}") },
    }))
}

fn resource_type_json(base: &str, name: &str) -> Option<Value> {
    let v = match name {
        "User" => json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "User Account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{ "schema": ENTERPRISE_SCHEMA, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
        }),
        "Group" => json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") },
        }),
        _ => return None,
    };
    Some(v)
}

fn list(items: Vec<Value>) -> Value {
    json!({ "schemas": [LIST_SCHEMA], "totalResults": items.len(), "itemsPerPage": items.len(), "startIndex": 1, "Resources": items })
}

pub async fn service_provider_config(State(st): State<crate::state::AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let base = Ctx::base_of(&st, &headers, &uri);
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": "https://github.com/atrium/atrium#provision-users-with-scim",
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": super::MAX_COUNT },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": true },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A provisioning token of the tenant, sent as Authorization: Bearer <token>.",
                "primary": true,
            }],
            "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") },
        }),
    )
}

pub async fn resource_types(State(st): State<crate::state::AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let base = Ctx::base_of(&st, &headers, &uri);
    scim_json(StatusCode::OK, &list(["User", "Group"].iter().filter_map(|n| resource_type_json(&base, n)).collect()))
}

pub async fn resource_type(State(st): State<crate::state::AppState>, headers: HeaderMap, uri: Uri, Path(name): Path<String>) -> ScimResult<Response> {
    let base = Ctx::base_of(&st, &headers, &uri);
    let v = resource_type_json(&base, &name).ok_or_else(|| ScimError::not_found(format!("No resource type is named '{name}'.")))?;
    Ok(scim_json(StatusCode::OK, &v))
}

pub async fn schemas(State(st): State<crate::state::AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let base = Ctx::base_of(&st, &headers, &uri);
    scim_json(StatusCode::OK, &list([USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_SCHEMA].iter().filter_map(|s| schema_json(&base, s)).collect()))
}

pub async fn schema(State(st): State<crate::state::AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>) -> ScimResult<Response> {
    let base = Ctx::base_of(&st, &headers, &uri);
    let v = schema_json(&base, &id).ok_or_else(|| ScimError::not_found(format!("No schema has the id '{id}'.")))?;
    Ok(scim_json(StatusCode::OK, &v))
}
