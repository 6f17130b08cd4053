//! The Data Product Portal's own wire shape (issue 11), spoken the way its shipped clients speak
//! it: a client written from the portal's `docs/static/openapi.json` (`DeviceFlow`,
//! `OIDCTokenResponse`, the 400 `detail` its Go CLI and Python SDK compare), against moto and
//! cognito-local. The grant is the same one RFC 8628 clients get: same store, same pages, same
//! exchange; only the edge differs.

use lambda_http::Body;
use portal_auth_domain::{DeviceCode, Dialect, GrantStatus};
use portal_auth_tests::app::{
    Answer, DEVICE_CODE_GRANT, TestApp, basic_auth, form_post, request, spawn_app, with_header,
};
use portal_auth_tests::browser::{Browser, claims};
use portal_auth_tests::cognito::DEMO_USERNAME;
use serde_json::Value;

const DEVICE_TOKEN: &str = "/prod/api/v2/authn/device/device_token";
const JWT_TOKEN: &str = "/prod/api/v2/authn/device/jwt_token";

/// A no-body POST with the confidential client's Basic credentials, as both portal clients send.
fn portal_request(app: &TestApp, path_and_query: &str) -> lambda_http::Request {
    app.as_confidential(request("POST", path_and_query, None, Body::Empty))
}

/// `POST …/device_token?scope=openid&client_id=…` (the Go CLI still sends the deprecated
/// `client_id`).
async fn device_token(app: &TestApp) -> Answer {
    let path = format!(
        "{DEVICE_TOKEN}?scope=openid&client_id={}",
        app.pool.confidential_client_id
    );
    app.call_device_code(portal_request(app, &path)).await
}

async fn jwt_token(app: &TestApp, device_code: &str) -> Answer {
    let path = format!(
        "{JWT_TOKEN}?device_code={device_code}&grant_type={DEVICE_CODE_GRANT}&client_id={}",
        app.pool.confidential_client_id
    );
    app.call_token(portal_request(app, &path)).await
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `DeviceFlow` as the openapi schema has it: all of its required members, each of its type;
/// `device_code` a UUID, `status` one of the enum. Returns (device_code, user_code, interval,
/// verification_uri_complete).
fn read_device_flow(answer: &Answer) -> (String, String, u64, String) {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    let b = &answer.body;
    let text = |k: &str| {
        b[k].as_str()
            .unwrap_or_else(|| panic!("{k} is a string: {b}"))
            .to_owned()
    };
    let int = |k: &str| {
        b[k].as_u64()
            .unwrap_or_else(|| panic!("{k} is an integer: {b}"))
    };
    let device_code = text("device_code");
    assert!(
        is_uuid(&device_code),
        "device_code format uuid: {device_code}"
    );
    assert_eq!(text("scope"), "openid");
    assert_eq!(int("expiration"), 600);
    assert_eq!(
        text("oidc_redirect_uri"),
        "https://portal.test/prod/device/callback"
    );
    let status = text("status");
    assert!(
        ["authorization_pending", "expired", "denied", "authorized"].contains(&status.as_str()),
        "status in DeviceFlowStatus: {status}"
    );
    assert_eq!(status, "authorization_pending");
    for secret in ["authz_code", "authz_state", "authz_verif"] {
        assert_eq!(
            b.get(secret),
            Some(&Value::Null),
            "{secret} is present and null"
        );
    }
    // RFC 8628's members ride along; the portal's clients ignore them.
    assert_eq!(text("verification_uri"), "https://portal.test/prod/device");
    assert_eq!(int("expires_in"), 600);
    let user_code = text("user_code");
    let complete = text("verification_uri_complete");
    assert_eq!(
        complete,
        format!("https://portal.test/prod/device?user_code={user_code}")
    );
    (device_code, user_code, int("interval"), complete)
}

/// `OIDCTokenResponse`: `access_token`, `token_type`, `expires_in` required; `id_token` and
/// `refresh_token` strings or null.
fn read_tokens(answer: &Answer) -> Value {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let b = answer.body.clone();
    assert!(
        b["access_token"].is_string() && b["token_type"].is_string(),
        "{b}"
    );
    assert!(b["expires_in"].is_u64(), "{b}");
    for optional in ["id_token", "refresh_token"] {
        assert!(b[optional].is_string() || b[optional].is_null(), "{b}");
    }
    b
}

/// A 400 whose `detail` is what the SDK and the Go CLI compare, beside the RFC's `error`.
fn detail(answer: &Answer) -> String {
    assert!(
        (400..500).contains(&answer.status),
        "a 4xx, never a 5xx: {} {:?}",
        answer.status,
        answer.body
    );
    assert!(answer.body["error"].is_string(), "{:?}", answer.body);
    assert!(answer.body["error_description"].is_string());
    answer.body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("detail: {:?}", answer.body))
        .to_owned()
}

fn stored_interval(grant: &portal_auth_domain::Grant) -> u64 {
    grant.interval_ms
}

#[tokio::test]
async fn a_portal_client_polls_without_slowing_down_and_gets_tokens_once_then_expired() {
    let app = spawn_app().await;
    let (device_code, user_code, interval, _) = read_device_flow(&device_token(&app).await);
    assert_eq!(interval, 5);
    let grant = app.grant_of_user_code(&user_code).await;
    assert_eq!(grant.dialect, Dialect::Portal);
    let interval_ms = stored_interval(&grant);

    // At once, then a burst, then every interval (the SDK's rhythm): never slow_down, never a
    // 5xx, and the stored interval never grows.
    for _ in 0..5 {
        let answer = jwt_token(&app, &device_code).await;
        assert_eq!(answer.status, 400);
        assert_eq!(detail(&answer), "authorization_pending");
        assert!(answer.body.get("interval").is_none());
    }
    for _ in 0..3 {
        app.advance_secs(interval);
        assert_eq!(
            detail(&jwt_token(&app, &device_code).await),
            "authorization_pending"
        );
    }
    let stored = app.grant_of_user_code(&user_code).await;
    assert_eq!(
        stored_interval(&stored),
        interval_ms,
        "the interval is unchanged"
    );

    // The person approves at the printed verification_uri_complete and signs in.
    let mut browser = Browser::default();
    let page = browser.decide(&app, &user_code, "approve").await;
    assert_eq!(page.status, 302, "{}", page.html);
    let callback = browser
        .sign_in_at_cognito(&page.location.expect("to Cognito"))
        .await;
    assert_eq!(browser.follow_callback(&app, &callback).await.status, 200);

    // Early after the last on-time poll: still pending, and nothing is redeemed early.
    assert_eq!(
        detail(&jwt_token(&app, &device_code).await),
        "authorization_pending"
    );
    app.advance_secs(interval);
    let tokens = read_tokens(&jwt_token(&app, &device_code).await);
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["username"], DEMO_USERNAME);
    assert_eq!(
        access["client_id"],
        app.pool.confidential_client_id.as_str()
    );

    // Redeemed once: afterwards the code is `expired`, the SDK's signal to stop.
    app.advance_secs(interval);
    assert_eq!(detail(&jwt_token(&app, &device_code).await), "expired");

    // The SDK's refresh: Basic, and its client_id in the body too, at /device/token.
    let form = format!(
        "grant_type=refresh_token&client_id={}&refresh_token={}",
        app.pool.confidential_client_id,
        tokens["refresh_token"].as_str().expect("a refresh token")
    );
    let refreshed = app
        .call_token(app.as_confidential(form_post("/prod/device/token", &form)))
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert!(refreshed.body["access_token"].is_string());
}

#[tokio::test]
async fn deny_is_denied_and_an_expired_grant_is_expired() {
    let app = spawn_app().await;
    let (denied_code, user_code, _, _) = read_device_flow(&device_token(&app).await);
    let mut browser = Browser::default();
    assert_eq!(browser.decide(&app, &user_code, "deny").await.status, 200);
    app.advance_secs(5);
    assert_eq!(detail(&jwt_token(&app, &denied_code).await), "denied");
    // Early or not, a denial is reported as it is.
    assert_eq!(detail(&jwt_token(&app, &denied_code).await), "denied");

    let (expiring, _, _, _) = read_device_flow(&device_token(&app).await);
    app.advance_secs(601);
    assert_eq!(detail(&jwt_token(&app, &expiring).await), "expired");
}

#[tokio::test]
async fn unknown_malformed_and_other_dialect_codes_are_400_expired() {
    let app = spawn_app().await;
    let unknown = DeviceCode::generate_uuid().unwrap();
    let rfc_code = app.new_device_code().await;
    for code in [
        unknown.expose_secret(),
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        &rfc_code,
        "%00",
    ] {
        let answer = jwt_token(&app, code).await;
        assert_eq!(answer.status, 400, "{code}: {:?}", answer.body);
        assert_eq!(detail(&answer), "expired", "{code}");
    }
    // And a portal grant's UUID is no device code at /device/token.
    let (portal_code, _, _, _) = read_device_flow(&device_token(&app).await);
    app.advance_secs(5);
    let form = format!("grant_type={DEVICE_CODE_GRANT}&device_code={portal_code}");
    let rfc = app
        .call_token(app.as_confidential(form_post("/prod/device/token", &form)))
        .await;
    assert_eq!(rfc.status, 400);
    assert_eq!(rfc.error(), "invalid_grant");
}

#[tokio::test]
async fn wrong_or_missing_basic_is_401_and_a_public_client_is_refused() {
    let app = spawn_app().await;
    let (device_code, _, _, _) = read_device_flow(&device_token(&app).await);
    let public = &app.pool.public_client_id;
    let confidential = &app.pool.confidential_client_id;
    let cases = [
        Some(basic_auth(confidential, "wrong-secret")),
        Some(basic_auth("unknownclient123", "x")),
        Some(basic_auth(public, "")),
        Some("Bearer abc".to_owned()),
        None,
    ];
    for auth in &cases {
        for path in [
            format!("{DEVICE_TOKEN}?scope=openid&client_id={public}"),
            format!(
                "{JWT_TOKEN}?device_code={device_code}&grant_type={DEVICE_CODE_GRANT}&client_id={public}"
            ),
        ] {
            let mut req = request("POST", &path, None, Body::Empty);
            if let Some(a) = auth {
                req = with_header(req, "authorization", a);
            }
            let answer = if path.starts_with(DEVICE_TOKEN) {
                app.call_device_code(req).await
            } else {
                app.call_token(req).await
            };
            assert_eq!(answer.status, 401, "{auth:?} at {path}: {:?}", answer.body);
            assert_eq!(answer.error(), "invalid_client");
            assert!(answer.body["detail"].is_string());
            assert!(answer.www_authenticate.is_some());
        }
    }
}

#[tokio::test]
async fn bad_input_is_a_4xx_and_writes_nothing() {
    let app = spawn_app().await;
    let (device_code, user_code, _, _) = read_device_flow(&device_token(&app).await);
    let before = app.grant_of_user_code(&user_code).await;
    let huge = "a".repeat(9 * 1024);
    let token_query = format!("device_code={device_code}&grant_type={DEVICE_CODE_GRANT}");
    let asks: Vec<(&str, String, Body)> = vec![
        (DEVICE_TOKEN, format!("scope={huge}"), Body::Empty),
        (DEVICE_TOKEN, "scope=openid&scope=email".into(), Body::Empty),
        (
            DEVICE_TOKEN,
            "scope=openid".into(),
            Body::Text("scope=openid".into()),
        ),
        (DEVICE_TOKEN, "scope=%FF".into(), Body::Empty),
        (DEVICE_TOKEN, "scope=admin".into(), Body::Empty),
        (
            JWT_TOKEN,
            format!("{token_query}&device_code={device_code}"),
            Body::Empty,
        ),
        (JWT_TOKEN, format!("{token_query}&x={huge}"), Body::Empty),
        (
            JWT_TOKEN,
            token_query.clone(),
            Body::Text(token_query.clone()),
        ),
        (
            JWT_TOKEN,
            format!("device_code={device_code}&grant_type=password"),
            Body::Empty,
        ),
        (
            JWT_TOKEN,
            format!("grant_type={DEVICE_CODE_GRANT}"),
            Body::Empty,
        ),
        (JWT_TOKEN, String::new(), Body::Binary(vec![0xff; 32])),
    ];
    for (path, query, body) in asks {
        let mut req = portal_request(&app, &format!("{path}?{query}"));
        *req.body_mut() = body;
        app.calls.reset();
        let answer = if path == DEVICE_TOKEN {
            app.call_device_code(req).await
        } else {
            app.call_token(req).await
        };
        let shown: String = query.chars().take(60).collect();
        assert!(
            (400..500).contains(&answer.status),
            "{path}?{shown}: {} {:?}",
            answer.status,
            answer.body
        );
        assert!(answer.body["detail"].is_string(), "{shown}");
        let writes: usize = app
            .calls
            .by_operation()
            .iter()
            .filter(|(op, _)| op.as_str() != "GetItem")
            .map(|(_, n)| n)
            .sum();
        assert_eq!(
            writes,
            0,
            "{path}?{shown} wrote {:?}",
            app.calls.by_operation()
        );
    }
    // Other methods.
    for method in ["GET", "PUT", "DELETE"] {
        let mut req = portal_request(&app, &format!("{JWT_TOKEN}?{token_query}"));
        *req.method_mut() = method.parse().unwrap();
        assert_eq!(app.call_token(req).await.status, 405, "{method}");
    }
    let after = app.grant_of_user_code(&user_code).await;
    assert_eq!(after, before, "the grant is unchanged");
    assert_eq!(after.status, GrantStatus::Pending);
}

#[tokio::test]
async fn with_the_dialect_off_its_routes_are_404() {
    let app = spawn_app().await;
    let off = app.with_config(|c| c.portal_compat_enabled = false);
    let query = format!("{DEVICE_TOKEN}?scope=openid");
    let created = device_code::handle(&off, portal_request(&app, &query)).await;
    assert_eq!(created.status(), 404);
    let code = DeviceCode::generate_uuid().unwrap();
    let path = format!(
        "{JWT_TOKEN}?device_code={}&grant_type={DEVICE_CODE_GRANT}",
        code.expose_secret()
    );
    let polled = device_token::handle(&off, portal_request(&app, &path)).await;
    assert_eq!(polled.status(), 404);
    let page = device_verify::handle(
        &off,
        request(
            "GET",
            "/prod/api/v2/authn/device?code=BCDF-GHJK",
            None,
            Body::Empty,
        ),
    )
    .await;
    assert_eq!(page.status(), 404);
    // The RFC 8628 routes are unaffected.
    let form = format!("client_id={}&scope=openid", app.pool.public_client_id);
    let rfc = device_code::handle(&off, form_post("/prod/device/code", &form)).await;
    assert_eq!(rfc.status(), 200);
}

#[tokio::test]
async fn the_portals_verification_link_leads_to_the_confirmation_page() {
    let app = spawn_app().await;
    let (_, user_code, _, _) = read_device_flow(&device_token(&app).await);
    let page = device_verify::handle(
        &app.deps,
        request(
            "GET",
            &format!("/prod/api/v2/authn/device?code={user_code}"),
            None,
            Body::Empty,
        ),
    )
    .await;
    assert_eq!(page.status(), 302);
    let location = page.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("https://portal.test/prod/device?user_code={user_code}")
    );
    let mut browser = Browser::default();
    let confirm = browser.open_verification(&app, Some(&user_code)).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.html.contains("Portal Device (confidential)"));
    // Whatever is passed is passed on encoded, never as markup or a second parameter.
    let hostile = device_verify::handle(
        &app.deps,
        request(
            "GET",
            "/prod/api/v2/authn/device?code=%3Cb%3E%26user_code%3DX",
            None,
            Body::Empty,
        ),
    )
    .await;
    assert_eq!(
        hostile.headers()["location"],
        "https://portal.test/prod/device?user_code=%3Cb%3E%26user_code%3DX"
    );
}
