//! ARM (issue 13): the cloud metadata `az cloud register` reads, tokens for ARM's audiences, and
//! `GET /tenants`, `/subscriptions`, `/subscriptions/{id}` listing seed 003's subscriptions to
//! whoever may see them, with ARM's error shape. On both backends.

use crate::helpers::{OWNER_PASSWORD, TestApp};
use crate::identity::{setup, token};
use crate::subscriptions::{create_subscription, map_directory, request_and_consent};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

api_tests!(arm_metadata_names_this_server, arm_tokens_have_arm_audiences, arm_lists_what_the_caller_may_see, arm_errors_are_in_arms_shape);

const ARM: &str = "https://management.core.windows.net/";
const V: &str = "api-version=2022-12-01";

fn claims(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

/// A client-credentials token of `cid` for `scope`.
async fn app_token(app: &TestApp, tid: &str, cid: &str, secret: &str, scope: &str) -> String {
    let (status, body) = token(app, tid, &[("grant_type", "client_credentials"), ("client_id", cid), ("client_secret", secret), ("scope", scope)]).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// A new confidential application of `tid` with one secret: (appId, secret, object id).
async fn new_app(app: &TestApp, admin: &str, tid: &str, name: &str) -> (String, String, String) {
    let a = app.post(&format!("/api/v1/tenants/{tid}/applications"), admin, json!({"displayName": name})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let k = app.post(&format!("/api/v1/tenants/{tid}/applications/{}/keys", a.body["id"].as_str().unwrap()), admin, json!({})).await;
    assert_eq!(k.status, 201, "{}", k.body);
    let id = |k: &str| a.body[k].as_str().unwrap().to_owned();
    (id("appId"), k.body["secret"].as_str().unwrap().to_owned(), id("id"))
}

async fn arm_get(app: &TestApp, path: &str, token: &str) -> crate::helpers::Res {
    app.request(Method::GET, path, Some(token), None).await
}

fn ids(list: &Value) -> Vec<String> {
    list["value"].as_array().unwrap().iter().map(|s| s["subscriptionId"].as_str().unwrap().to_owned()).collect()
}

async fn arm_metadata_names_this_server(app: TestApp) {
    for path in ["/metadata/endpoints?api-version=2022-09-01", "//metadata/endpoints?api-version=2022-09-01", "/metadata/endpoints?api-version=2019-05-01", "/metadata/endpoints"] {
        let r = app.request(Method::GET, path, None, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let m = &r.body;
        // One object (the CLI cannot read a list), naming this server for sign-in, ARM and Graph.
        assert!(m.is_object(), "{path}: {m}");
        assert_eq!(m["authentication"]["loginEndpoint"], app.base, "{path}");
        assert_eq!(m["authentication"]["audiences"][0], ARM, "{path}: the CLI asks for audiences[0]");
        assert_eq!(m["authentication"]["audiences"][1], "https://management.azure.com/");
        assert_eq!(m["resourceManager"], format!("{}/", app.base));
        assert_eq!(m["microsoftGraphResourceId"], format!("{}/", app.base));
        assert!(m["suffixes"].is_object() && m["name"].is_string(), "the CLI indexes `suffixes` and `name`: {m}");
    }
}

async fn arm_tokens_have_arm_audiences(app: TestApp) {
    let (tid, _admin, a, secret) = setup(&app).await;
    let cid = a["appId"].as_str().unwrap();
    // The CLI's scope has a doubled slash; SDKs use management.azure.com.
    for (scope, aud) in [
        ("https://management.core.windows.net//.default", ARM),
        ("https://management.core.windows.net/.default", ARM),
        ("https://management.azure.com/.default", "https://management.azure.com/"),
        ("https://management.azure.com//.default", "https://management.azure.com/"),
    ] {
        let c = claims(&app_token(&app, &tid, cid, &secret, scope).await);
        assert_eq!((c["aud"].as_str(), c["ver"].as_str(), c["tid"].as_str()), (Some(aud), Some("1.0"), Some(tid.as_str())), "{scope}: {c}");
        assert_eq!(c["appid"], cid);
    }
    // The v1 endpoint's `resource=`, echoed back.
    let r = app
        .client
        .post(format!("{}/{tid}/oauth2/token", app.base))
        .form(&[("grant_type", "client_credentials"), ("client_id", cid), ("client_secret", secret.as_str()), ("resource", ARM)])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["resource"].as_str(), claims(body["access_token"].as_str().unwrap())["aud"].as_str()), (Some(ARM), Some(ARM)), "{body}");
    // The Graph resource id the metadata hands out is this server's base URL, with or without
    // the CLI's doubled slash: a Graph (v1.0) token with that audience.
    for scope in [format!("{}/.default", app.base), format!("{}//.default", app.base)] {
        let c = claims(&app_token(&app, &tid, cid, &secret, &scope).await);
        assert_eq!((c["aud"].as_str(), c["ver"].as_str()), (Some(format!("{}/", app.base).as_str()), Some("1.0")), "{scope}: {c}");
    }
    // A user's token (ROPC, as `az login -u` would get one).
    let (status, body) = token(
        &app,
        &tid,
        &[("grant_type", "password"), ("client_id", cid), ("client_secret", &secret), ("username", "adele@contoso.onatrium.local"), ("password", "Us3r-Passw0rd!"), ("scope", "https://management.core.windows.net//.default openid")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!((c["aud"].as_str(), c["scp"].as_str(), c["idtyp"].as_str()), (Some(ARM), Some("user_impersonation"), Some("user")), "{c}");
    // ARM tokens are for ARM only: the REST API refuses them.
    let arm = app_token(&app, &tid, cid, &secret, "https://management.azure.com/.default").await;
    app.get("/api/v1/subscriptions", &arm).await.assert_error(401, "unauthenticated", None);
}

async fn arm_lists_what_the_caller_may_see(app: TestApp) {
    let (tid, admin, a, secret) = setup(&app).await;
    // `setup` changed the owner's one-time password.
    let owner = app.token("personal.onatrium.local", &app.owner_upn, OWNER_PASSWORD).await;
    let deployer = a["appId"].as_str().unwrap().to_owned();
    let (bystander, bystander_secret, _) = new_app(&app, &admin, &tid, "Bystander").await;
    let (ftid, fadmin) = app.tenant_with_admin(&owner, "fabrikam").await;
    let (fapp, fsecret, _) = new_app(&app, &fadmin, &ftid, "Fabrikam deployer").await;

    // Seed 003: `prod` trusts contoso, with adele and the deployer app as co-administrators;
    // `personal` still trusts the owner's own directory; `fab` trusts fabrikam.
    let prod = create_subscription(&app, &owner, "Contoso Production").await;
    let personal = create_subscription(&app, &owner, "Personal").await;
    let fab = create_subscription(&app, &owner, "Fabrikam").await;
    map_directory(&app, &owner, &prod, &tid, &admin).await;
    map_directory(&app, &owner, &fab, &ftid, &fadmin).await;
    app.post(&format!("/api/v1/subscriptions/{prod}/coadministrators"), &owner, json!({"email": "adele@contoso.onatrium.local"})).await.ok();
    let r = app.post(&format!("/api/v1/subscriptions/{prod}/app-coadministrators"), &owner, json!({"appId": deployer})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.body["appId"].as_str(), r.body["displayName"].as_str()), (Some(deployer.as_str()), Some("Web")));
    let r = app.post(&format!("/api/v1/subscriptions/{fab}/app-coadministrators"), &owner, json!({"appId": fapp})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let listed = app.get(&format!("/api/v1/subscriptions/{prod}/app-coadministrators"), &owner).await;
    assert_eq!(listed.ok().as_array().unwrap().len(), 1);

    // The deployer (a service principal of contoso) sees `prod` only, in ARM's shape.
    let t = app_token(&app, &tid, &deployer, &secret, "https://management.core.windows.net//.default").await;
    let r = arm_get(&app, &format!("/subscriptions?{V}"), &t).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), vec![prod.clone()]);
    assert_eq!(r.body["count"]["value"], 1);
    let s = &r.body["value"][0];
    assert_eq!(s["id"], format!("/subscriptions/{prod}"));
    assert_eq!((s["tenantId"].as_str(), s["displayName"].as_str(), s["state"].as_str()), (Some(tid.as_str()), Some("Contoso Production"), Some("Enabled")));
    assert!(s["subscriptionPolicies"]["quotaId"].is_string() && s["authorizationSource"].is_string(), "{s}");
    let one = arm_get(&app, &format!("/subscriptions/{prod}?{V}"), &t).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(&one.body, s);
    // Another directory's subscription, the owner's personal one, and an unknown id: not found.
    for other in [&fab, &personal, &"00000000-0000-4000-8000-000000000001".to_owned()] {
        let r = arm_get(&app, &format!("/subscriptions/{other}?{V}"), &t).await;
        r.assert_error(404, "SubscriptionNotFound", None);
        assert!(r.body["error"]["message"].as_str().unwrap().contains(other.as_str()), "{}", r.body);
    }
    let tenants = arm_get(&app, &format!("/tenants?{V}"), &t).await;
    assert_eq!(tenants.status, 200, "{}", tenants.body);
    let tenant = &tenants.body["value"][0];
    assert_eq!(tenants.body["value"].as_array().unwrap().len(), 1);
    assert_eq!((tenant["id"].as_str(), tenant["tenantId"].as_str()), (Some(format!("/tenants/{tid}").as_str()), Some(tid.as_str())));
    assert_eq!((tenant["defaultDomain"].as_str(), tenant["tenantCategory"].as_str()), (Some("contoso.onatrium.local"), Some("Home")));
    assert_eq!(tenant["domains"], json!(["contoso.onatrium.local"]));

    // An app of the same directory that is no co-administrator sees nothing.
    let tb = app_token(&app, &tid, &bystander, &bystander_secret, "https://management.azure.com/.default").await;
    assert_eq!(ids(&arm_get(&app, &format!("/subscriptions?{V}"), &tb).await.body), Vec::<String>::new());
    arm_get(&app, &format!("/subscriptions/{prod}?{V}"), &tb).await.assert_error(404, "SubscriptionNotFound", None);
    // Fabrikam's app sees fabrikam's subscription only.
    let tf = app_token(&app, &ftid, &fapp, &fsecret, "https://management.azure.com/.default").await;
    assert_eq!(ids(&arm_get(&app, &format!("/subscriptions?{V}"), &tf).await.body), vec![fab.clone()]);

    // A co-administrator (a user, delegated token) sees `prod`; a user who is none sees nothing.
    app.create_user(&admin, &tid, "bob").await;
    for (user, want) in [("adele", vec![prod.clone()]), ("bob", vec![])] {
        let (status, body) = token(
            &app,
            &tid,
            &[("grant_type", "password"), ("client_id", &deployer), ("client_secret", &secret), ("username", &format!("{user}@contoso.onatrium.local")), ("password", "Us3r-Passw0rd!"), ("scope", "https://management.core.windows.net//.default")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let r = arm_get(&app, &format!("/subscriptions?{V}"), body["access_token"].as_str().unwrap()).await;
        assert_eq!(ids(&r.body), want, "{user}: {}", r.body);
    }

    // A disabled subscription is still listed, as Disabled.
    app.post(&format!("/api/v1/subscriptions/{prod}/disable"), &owner, json!({})).await.ok();
    assert_eq!(arm_get(&app, &format!("/subscriptions/{prod}?{V}"), &t).await.body["state"], "Disabled");
    app.post(&format!("/api/v1/subscriptions/{prod}/enable"), &owner, json!({})).await.ok();

    // Adding the same app again, an app of another directory, or no GUID: refused, naming appId.
    app.post(&format!("/api/v1/subscriptions/{prod}/app-coadministrators"), &owner, json!({"appId": deployer})).await.assert_error(409, "already_coadministrator", Some("appId"));
    app.post(&format!("/api/v1/subscriptions/{prod}/app-coadministrators"), &owner, json!({"appId": fapp}))
        .await
        .assert_error(409, "coadministrator_outside_directory", Some("appId"));
    app.post(&format!("/api/v1/subscriptions/{prod}/app-coadministrators"), &owner, json!({"appId": "deployer"})).await.assert_error(400, "invalid_id", Some("appId"));
    // Only the owner adds them.
    app.post(&format!("/api/v1/subscriptions/{prod}/app-coadministrators"), &admin, json!({"appId": bystander})).await.assert_error(404, "subscription_not_found", None);

    // Removed: the deployer no longer sees it.
    let r = app.delete(&format!("/api/v1/subscriptions/{prod}/app-coadministrators/{deployer}"), &owner).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(ids(&arm_get(&app, &format!("/subscriptions?{V}"), &t).await.body), Vec::<String>::new());
    app.delete(&format!("/api/v1/subscriptions/{prod}/app-coadministrators/{deployer}"), &owner).await.assert_error(404, "coadministrator_not_found", Some("appId"));

    // A directory change takes access from the old directory's apps, as from its users.
    app.post(&format!("/api/v1/subscriptions/{fab}/app-coadministrators"), &owner, json!({"appId": fapp})).await.assert_error(409, "already_coadministrator", Some("appId"));
    request_and_consent(&app, &owner, &fab, &tid, &admin).await;
    let r = app.post(&format!("/api/v1/subscriptions/{fab}/directory-change"), &owner, json!({"tenantId": tid})).await;
    assert_eq!(r.ok()["changed"], true);
    assert_eq!(ids(&arm_get(&app, &format!("/subscriptions?{V}"), &tf).await.body), Vec::<String>::new());
    assert!(app.get(&format!("/api/v1/subscriptions/{fab}/app-coadministrators"), &owner).await.ok().as_array().unwrap().is_empty());
    let actions = app.audit_actions(&admin, &tid).await;
    assert!(actions.iter().any(|a| a == "subscription.coadmin.add") && actions.iter().any(|a| a == "subscription.coadmin.remove"), "{actions:?}");
}

async fn arm_errors_are_in_arms_shape(app: TestApp) {
    let (tid, admin, a, secret) = setup(&app).await;
    let cid = a["appId"].as_str().unwrap();
    // No token: 401 with WWW-Authenticate naming where tokens come from.
    for path in [format!("/subscriptions?{V}"), format!("/tenants?{V}"), format!("/subscriptions/00000000-0000-4000-8000-000000000001?{V}")] {
        let r = app.request(Method::GET, &path, None, None).await;
        r.assert_error(401, "AuthenticationFailed", None);
        let h = r.headers.get("www-authenticate").unwrap().to_str().unwrap();
        assert!(h.starts_with(&format!("Bearer authorization_uri=\"{}/\"", app.base)) && h.contains("error=\"invalid_token\""), "{h}");
    }
    // Not a token, a token for Graph or for the tenant's own API: refused by audience.
    arm_get(&app, &format!("/subscriptions?{V}"), "not-a-token").await.assert_error(401, "InvalidAuthenticationToken", None);
    for scope in ["https://graph.microsoft.com/.default", "api://contoso-web/.default"] {
        let t = app_token(&app, &tid, cid, &secret, scope).await;
        let r = arm_get(&app, &format!("/subscriptions?{V}"), &t).await;
        r.assert_error(401, "InvalidAuthenticationTokenAudience", None);
        assert!(r.headers.contains_key("www-authenticate"));
    }
    let t = app_token(&app, &tid, cid, &secret, "https://management.core.windows.net//.default").await;
    // ARM wants an api-version; a malformed subscription id is named.
    arm_get(&app, "/subscriptions", &t).await.assert_error(400, "MissingApiVersionParameter", None);
    arm_get(&app, "/tenants", &t).await.assert_error(400, "MissingApiVersionParameter", None);
    let r = arm_get(&app, &format!("/subscriptions/not-a-guid?{V}"), &t).await;
    r.assert_error(400, "InvalidSubscriptionId", None);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("not-a-guid"), "{}", r.body);
    // A token whose application was deleted no longer works; nor does an expired one.
    let (gone, gone_secret, gone_id) = new_app(&app, &admin, &tid, "Gone").await;
    let tg = app_token(&app, &tid, &gone, &gone_secret, "https://management.azure.com/.default").await;
    assert_eq!(arm_get(&app, &format!("/subscriptions?{V}"), &tg).await.status, 200);
    assert_eq!(app.delete(&format!("/api/v1/tenants/{tid}/applications/{gone_id}"), &admin).await.status, 204);
    arm_get(&app, &format!("/subscriptions?{V}"), &tg).await.assert_error(401, "InvalidAuthenticationToken", None);
    app.clock.advance_seconds(2 * 3600);
    arm_get(&app, &format!("/subscriptions?{V}"), &t).await.assert_error(401, "InvalidAuthenticationToken", None);
    // Without api-version or a bearer token, the paths are the console's pages.
    let r = app.no_redirect.get(format!("{}/subscriptions", app.base)).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers().get("location").map(|v| v.to_str().unwrap().to_owned())), (303, Some("/sign-in".to_owned())));
}
