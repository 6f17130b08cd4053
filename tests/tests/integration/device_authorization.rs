//! The device authorization endpoint (RFC 8628 §3.1–3.2) and the metadata (RFC 8414), against
//! moto and cognito-local.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::Body;
use portal_auth_tests::app::{
    BASE_URL, DEVICE_IP, DEVICE_UA, form_post, request, spawn_app, with_header,
};

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

#[tokio::test]
async fn a_public_client_gets_codes_and_the_grant_records_where_it_came_from() {
    let app = spawn_app().await;
    let a = app.authorize_device().await;
    assert_eq!(a.cache_control.as_deref(), Some("no-store"));
    let b = &a.body;
    assert_eq!(b["verification_uri"], format!("{BASE_URL}/device"));
    let user_code = b["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(
        b["verification_uri_complete"],
        format!("{BASE_URL}/device?user_code={user_code}")
    );
    assert_eq!(b["expires_in"], 600);
    assert_eq!(b["interval"], 5);
    assert_eq!(b["device_code"].as_str().unwrap().len(), 43);

    let grant = app.grant_of_user_code(user_code).await;
    assert_eq!(grant.device.ip.as_deref(), Some(DEVICE_IP));
    assert_eq!(grant.device.user_agent.as_deref(), Some(DEVICE_UA));
    assert_eq!(grant.scope.to_string(), "openid");
    assert_eq!(grant.client_id.as_str(), app.pool.public_client_id);
}

#[tokio::test]
async fn omitted_scope_means_the_clients_scopes_and_excess_scope_is_invalid_scope() {
    let app = spawn_app().await;
    let id = &app.pool.public_client_id;
    let a = app
        .call_device_code(form_post("/prod/device/code", &format!("client_id={id}")))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let grant = app
        .grant_of_user_code(a.body["user_code"].as_str().unwrap())
        .await;
    assert_eq!(grant.scope.to_string(), "openid email profile");

    for scope in [
        "openid%20admin",
        "aws.cognito.signin.user.admin",
        "bad%22scope",
    ] {
        let a = app
            .call_device_code(form_post(
                "/prod/device/code",
                &format!("client_id={id}&scope={scope}"),
            ))
            .await;
        assert_eq!((a.status, a.error()), (400, "invalid_scope"), "{scope}");
    }
}

#[tokio::test]
async fn a_confidential_client_must_prove_its_secret_by_basic_or_body() {
    let app = spawn_app().await;
    let id = app.pool.confidential_client_id.clone();
    let secret = app.pool.confidential_client_secret.clone();
    let url = "/prod/device/code";

    let ok = app
        .call_device_code(with_header(
            form_post(url, "scope=openid"),
            "authorization",
            &basic(&id, &secret),
        ))
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let ok = app
        .call_device_code(form_post(
            url,
            &format!("client_id={id}&client_secret={secret}"),
        ))
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);

    // No secret, a wrong one, or a wrong one by Basic: 401 invalid_client with a challenge.
    let refusals = [
        form_post(url, &format!("client_id={id}")),
        form_post(url, &format!("client_id={id}&client_secret=wrong")),
        with_header(form_post(url, ""), "authorization", &basic(&id, "wrong")),
        with_header(form_post(url, ""), "authorization", "Basic not-base64!"),
    ];
    for req in refusals {
        let a = app.call_device_code(req).await;
        assert_eq!(
            (a.status, a.error()),
            (401, "invalid_client"),
            "{:?}",
            a.body
        );
        assert!(
            a.www_authenticate
                .as_deref()
                .unwrap_or("")
                .starts_with("Basic")
        );
    }
    // Both methods at once is a malformed request.
    let both = with_header(
        form_post(url, &format!("client_secret={secret}")),
        "authorization",
        &basic(&id, &secret),
    );
    assert_eq!(app.call_device_code(both).await.error(), "invalid_request");
}

#[tokio::test]
async fn unknown_unlisted_and_secret_bearing_public_clients_are_refused() {
    let app = spawn_app().await;
    // A real app client of the pool that is not in DEVICE_CLIENT_IDS.
    let other = app
        .pool
        .client
        .create_user_pool_client()
        .user_pool_id(&app.pool.pool_id)
        .client_name("Not for devices")
        .send()
        .await
        .unwrap();
    let other_id = other
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_owned();
    let public = &app.pool.public_client_id;
    for form in [
        "client_id=doesnotexist".to_owned(),
        format!("client_id={other_id}"),
        format!("client_id={public}&client_secret=anything"),
        "client_id=%3Cscript%3E".to_owned(),
    ] {
        let a = app
            .call_device_code(form_post("/prod/device/code", &form))
            .await;
        assert_eq!(
            (a.status, a.error()),
            (401, "invalid_client"),
            "{form}: {:?}",
            a.body
        );
    }
    let a = app
        .call_device_code(form_post("/prod/device/code", "scope=openid"))
        .await;
    assert_eq!((a.status, a.error()), (400, "invalid_request"));
}

#[tokio::test]
async fn a_client_without_our_callback_or_the_code_flow_is_unauthorized_client() {
    let app = spawn_app().await;
    let id = app.pool.public_client_id.clone();
    app.pool
        .client
        .update_user_pool_client()
        .user_pool_id(&app.pool.pool_id)
        .client_id(&id)
        .client_name("Portal CLI")
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(aws_sdk_cognitoidentityprovider::types::OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .callback_urls("https://elsewhere.test/callback")
        .send()
        .await
        .unwrap();
    let a = app
        .call_device_code(form_post("/prod/device/code", &format!("client_id={id}")))
        .await;
    assert_eq!(
        (a.status, a.error()),
        (400, "unauthorized_client"),
        "{:?}",
        a.body
    );
}

#[tokio::test]
async fn metadata_names_our_endpoints() {
    let app = spawn_app().await;
    let req = request(
        "GET",
        "/prod/.well-known/oauth-authorization-server",
        None,
        Body::Empty,
    );
    let a = app.call_device_code(req).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["issuer"], BASE_URL);
    assert_eq!(
        a.body["device_authorization_endpoint"],
        format!("{BASE_URL}/device/code")
    );
    assert_eq!(a.body["token_endpoint"], format!("{BASE_URL}/device/token"));
    assert_eq!(
        a.body["grant_types_supported"][0],
        "urn:ietf:params:oauth:grant-type:device_code"
    );
    let methods = a.body["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.iter().any(|m| m == "client_secret_basic"));
    let post = request(
        "POST",
        "/prod/.well-known/oauth-authorization-server",
        None,
        Body::Empty,
    );
    assert_eq!(app.call_device_code(post).await.status, 405);
}
