//! The person's side of the device flow (issue #3) against moto and a real cognito-local
//! hosted UI: verification page, approve with PKCE and a browser-bound callback, deny, the
//! exchange at poll, refresh, and the ways each can be attacked or fail.

use portal_auth_domain::GrantStatus;
use portal_auth_tests::app::{DEVICE_CODE_GRANT, TestApp, answer_of, form_post, spawn_app};
use portal_auth_tests::browser::{Browser, claims, hidden_field};
use portal_auth_tests::cognito::DEMO_USERNAME;

async fn new_device(app: &TestApp) -> (String, String) {
    let a = app.authorize_device().await;
    (
        a.body["device_code"].as_str().unwrap().to_owned(),
        a.body["user_code"].as_str().unwrap().to_owned(),
    )
}

/// Approves in `browser` and signs in at cognito-local: returns the callback URL.
async fn approve_and_sign_in(app: &TestApp, browser: &mut Browser, user_code: &str) -> String {
    let page = browser.decide(app, user_code, "approve").await;
    assert_eq!(page.status, 302, "{}", page.html);
    let authorize = page.location.expect("redirect to Cognito");
    assert!(authorize.starts_with(&format!("{}/oauth2/authorize?", app.pool.endpoint)));
    for p in [
        "response_type=code",
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "redirect_uri=https%3A%2F%2Fportal.test%2Fprod%2Fdevice%2Fcallback",
    ] {
        assert!(authorize.contains(p), "{p} in {authorize}");
    }
    browser.sign_in_at_cognito(&authorize).await
}

#[tokio::test]
async fn a_person_approves_signs_in_and_the_device_gets_tokens_once() {
    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let mut browser = Browser::default();

    let confirm = browser
        .open_verification(&app, Some(&user_code.to_lowercase()))
        .await;
    assert_eq!(confirm.status, 200);
    for shown in [
        "Portal CLI",
        &user_code,
        "openid",
        "198.51.100.7",
        "portal-cli/1.0 (test)",
        "Only continue if you started",
    ] {
        assert!(
            confirm.html.contains(shown),
            "{shown} on the confirmation page"
        );
    }

    let callback = approve_and_sign_in(&app, &mut browser, &user_code).await;
    let done = browser.follow_callback(&app, &callback).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Return to it"));

    app.advance_secs(5);
    let tokens = app.poll(&app.pool.public_client_id, &device_code).await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
    assert_eq!(tokens.cache_control.as_deref(), Some("no-store"));
    for member in [
        "access_token",
        "id_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "scope",
    ] {
        assert!(
            !tokens.body[member].is_null(),
            "{member} in {:?}",
            tokens.body
        );
    }
    let access = claims(tokens.body["access_token"].as_str().unwrap());
    assert_eq!(access["username"], DEMO_USERNAME);
    assert_eq!(access["client_id"], app.pool.public_client_id);

    // Tokens are handed out once: the grant is consumed.
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_code)
            .await
            .error(),
        "invalid_grant"
    );
    // The used user code is now unknown.
    assert_eq!(
        browser
            .open_verification(&app, Some(&user_code))
            .await
            .status,
        404
    );

    // Refresh through /device/token, without knowing Cognito's domain.
    let refresh = format!(
        "grant_type=refresh_token&client_id={}&refresh_token={}",
        app.pool.public_client_id,
        tokens.body["refresh_token"].as_str().unwrap()
    );
    let refreshed = app
        .call_token(form_post("/prod/device/token", &refresh))
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_eq!(
        claims(refreshed.body["access_token"].as_str().unwrap())["username"],
        DEMO_USERNAME
    );
    let bad = format!(
        "grant_type=refresh_token&client_id={}&refresh_token=nope",
        app.pool.public_client_id
    );
    assert_eq!(
        app.call_token(form_post("/prod/device/token", &bad))
            .await
            .error(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn deny_ends_the_grant_with_access_denied() {
    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let page = Browser::default().decide(&app, &user_code, "deny").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Device denied"));
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_code)
            .await
            .error(),
        "access_denied"
    );
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let mut browser = Browser::default();
    let page = browser.open_verification(&app, Some(&user_code)).await;
    let csrf = hidden_field(&page.html, "csrf").unwrap();
    for fields in [
        format!("user_code={user_code}&decision=approve"),
        format!("csrf=forged&user_code={user_code}&decision=approve"),
    ] {
        assert_eq!(browser.submit(&app, &fields).await.status, 403);
    }
    // The right token from a browser without the cookie (a cross-site form post).
    let fields = format!("csrf={csrf}&user_code={user_code}&decision=deny");
    assert_eq!(Browser::default().submit(&app, &fields).await.status, 403);
    let grant = app.grant_of_user_code(&user_code).await;
    assert_eq!(grant.status, GrantStatus::Pending);
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_code)
            .await
            .error(),
        "authorization_pending"
    );
}

#[tokio::test]
async fn a_callback_in_another_browser_or_replayed_changes_nothing() {
    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let mut victim = Browser::default();
    let callback = approve_and_sign_in(&app, &mut victim, &user_code).await;

    // The URL forwarded to another browser: no binding cookie, nothing happens.
    let other = Browser::default().follow_callback(&app, &callback).await;
    assert_eq!(other.status, 400);
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_code)
            .await
            .error(),
        "authorization_pending"
    );

    // A forged state, even with the cookie: nothing.
    let forged = callback.replace("state=", "state=A");
    assert_eq!(
        victim.clone().follow_callback(&app, &forged).await.status,
        400
    );

    assert_eq!(
        victim.clone().follow_callback(&app, &callback).await.status,
        200
    );
    // Replayed: refused, and the grant stays approved for its device.
    assert_eq!(victim.follow_callback(&app, &callback).await.status, 400);
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_code)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn cognito_error_at_the_callback_denies_the_grant() {
    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let mut browser = Browser::default();
    let callback = approve_and_sign_in(&app, &mut browser, &user_code).await;
    let state = callback
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let error_url =
        format!("https://portal.test/prod/device/callback?error=access_denied&state={state}");
    assert_eq!(browser.follow_callback(&app, &error_url).await.status, 200);
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_code)
            .await
            .error(),
        "access_denied"
    );
}

#[tokio::test]
async fn two_simultaneous_polls_after_approval_yield_tokens_once() {
    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let mut browser = Browser::default();
    let callback = approve_and_sign_in(&app, &mut browser, &user_code).await;
    assert_eq!(browser.follow_callback(&app, &callback).await.status, 200);
    app.advance_secs(5);
    let id = app.pool.public_client_id.clone();
    let (a, b) = tokio::join!(app.poll(&id, &device_code), app.poll(&id, &device_code));
    let mut outcomes = [
        a.status.to_string() + a.error(),
        b.status.to_string() + b.error(),
    ];
    outcomes.sort();
    assert_eq!(
        outcomes,
        ["200".to_owned(), "400invalid_grant".to_owned()],
        "{a:?} {b:?}"
    );
}

#[tokio::test]
async fn cognito_down_at_exchange_is_slow_down_and_tokens_once_it_is_back() {
    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let mut browser = Browser::default();
    let callback = approve_and_sign_in(&app, &mut browser, &user_code).await;
    assert_eq!(browser.follow_callback(&app, &callback).await.status, 200);

    let cognito_down = app.with_cognito_domain(&portal_auth_tests::app::closed_url());
    app.advance_secs(5);
    let poll = format!(
        "grant_type={DEVICE_CODE_GRANT}&client_id={}&device_code={device_code}",
        app.pool.public_client_id
    );
    let a = answer_of(
        device_token::handle(&cognito_down, form_post("/prod/device/token", &poll)).await,
    )
    .await;
    assert_eq!((a.status, a.error()), (400, "slow_down"), "{:?}", a.body);

    app.advance_secs(10);
    let tokens = app.poll(&app.pool.public_client_id, &device_code).await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
}

#[tokio::test]
async fn the_eleventh_wrong_code_from_one_ip_is_429_even_if_the_twelfth_is_right() {
    let app = spawn_app().await;
    let (_, user_code) = new_device(&app).await;
    let mut browser = Browser::default();
    for i in 0..10 {
        let page = browser.open_verification(&app, Some("BCDF-GHJK")).await;
        assert_eq!(page.status, 404, "attempt {}", i + 1);
    }
    let malformed = browser.open_verification(&app, Some("not-a-code")).await;
    assert_eq!(malformed.status, 429, "the 11th failure");
    let right = browser.open_verification(&app, Some(&user_code)).await;
    assert_eq!(right.status, 429, "a right code does not escape the limit");
    // Unknown, malformed and used codes look alike: same status, same words.
    let fresh = spawn_app().await;
    let unknown = Browser::default()
        .open_verification(&fresh, Some("BCDF-GHJK"))
        .await;
    let garbage = Browser::default()
        .open_verification(&fresh, Some("<script>"))
        .await;
    assert_eq!((unknown.status, garbage.status), (404, 404));
    assert_eq!(unknown.html, garbage.html);
    assert!(!garbage.html.contains("<script>"));
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_work_without_javascript() {
    let app = spawn_app().await;
    let req =
        portal_auth_tests::app::request("GET", "/prod/device", None, lambda_http::Body::Empty);
    let response = device_verify::handle(&app.deps, req).await;
    let h = |n: &str| {
        response
            .headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
    assert!(h("content-security-policy").contains("default-src 'none'"));
    assert_eq!(h("cache-control"), "no-store");
    assert_eq!(h("referrer-policy"), "no-referrer");
    assert!(h("content-type").starts_with("text/html"));
    let lambda_http::Body::Text(html) = response.body() else {
        panic!("html")
    };
    assert!(!html.contains("<script"));
    assert!(html.contains("autocomplete=\"off\""));
}

#[tokio::test]
async fn a_confidential_clients_exchange_carries_its_secret_pkce_and_redirect_uri() {
    use base64::Engine;
    use portal_auth_tests::app::with_header;
    use portal_auth_tests::recorder::Recorder;

    let app = spawn_app().await;
    let id = app.pool.confidential_client_id.clone();
    let secret = app.pool.confidential_client_secret.clone();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    );
    let code_req = with_header(
        form_post("/prod/device/code", "scope=openid"),
        "authorization",
        &basic,
    );
    let a = app.call_device_code(code_req).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let device_code = a.body["device_code"].as_str().unwrap().to_owned();
    let mut browser = Browser::default();
    let callback =
        approve_and_sign_in(&app, &mut browser, a.body["user_code"].as_str().unwrap()).await;
    assert_eq!(browser.follow_callback(&app, &callback).await.status, 200);
    let cognito_code = callback
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();

    // Cognito's token endpoint, recorded: cognito-local would not check the secret.
    let recorder = Recorder::start(
        200,
        r#"{"access_token":"a.b.c","id_token":"d.e.f","refresh_token":"r","token_type":"Bearer","expires_in":3600}"#,
    )
    .await;
    let deps = app.with_cognito_domain(&recorder.url);
    app.advance_secs(5);
    let poll = format!("grant_type={DEVICE_CODE_GRANT}&device_code={device_code}");
    let req = with_header(
        form_post("/prod/device/token", &poll),
        "authorization",
        &basic,
    );
    let tokens = answer_of(device_token::handle(&deps, req).await).await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
    assert_eq!(tokens.body["scope"], "openid");

    let sent = recorder.received();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].head.starts_with("POST /oauth2/token "),
        "{}",
        sent[0].head
    );
    assert_eq!(
        sent[0].header("authorization").as_deref(),
        Some(basic.as_str())
    );
    let form = sent[0].form();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("grant_type"), Some("authorization_code"));
    assert_eq!(get("client_id"), Some(id.as_str()));
    assert_eq!(get("code"), Some(cognito_code.as_str()));
    assert_eq!(
        get("redirect_uri"),
        Some("https://portal.test/prod/device/callback")
    );
    assert_eq!(get("code_verifier").map(str::len), Some(43));
    assert_eq!(
        get("client_secret"),
        None,
        "the secret travels in the header only"
    );
}

#[tokio::test]
async fn cognitos_invalid_grant_ends_the_grant_and_refresh_carries_the_secret() {
    use portal_auth_tests::recorder::Recorder;

    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let mut browser = Browser::default();
    let callback = approve_and_sign_in(&app, &mut browser, &user_code).await;
    assert_eq!(browser.follow_callback(&app, &callback).await.status, 200);

    let refusing = Recorder::start(400, r#"{"error":"invalid_grant"}"#).await;
    let deps = app.with_cognito_domain(&refusing.url);
    app.advance_secs(5);
    let poll = format!(
        "grant_type={DEVICE_CODE_GRANT}&client_id={}&device_code={device_code}",
        app.pool.public_client_id
    );
    let a =
        answer_of(device_token::handle(&deps, form_post("/prod/device/token", &poll)).await).await;
    assert_eq!(
        (a.status, a.error()),
        (400, "expired_token"),
        "{:?}",
        a.body
    );
    // Failed for good: even with Cognito healthy again, the grant yields nothing.
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_code)
            .await
            .error(),
        "expired_token"
    );

    // A confidential client's refresh goes to Cognito with its secret, by HTTP Basic.
    let id = app.pool.confidential_client_id.clone();
    let secret = app.pool.confidential_client_secret.clone();
    // Cognito-shaped (a JWE compact serialization): garbage is refused before Cognito.
    let rt =
        "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.a2V5.aXY.Y2lwaGVy.dGFn";
    let refresh = format!(
        "grant_type=refresh_token&client_id={id}&client_secret={secret}&refresh_token={rt}"
    );
    let a = answer_of(device_token::handle(&deps, form_post("/prod/device/token", &refresh)).await)
        .await;
    assert_eq!(
        (a.status, a.error()),
        (400, "invalid_grant"),
        "{:?}",
        a.body
    );
    let sent = refusing.received();
    let last = sent.last().expect("a refresh request");
    assert!(
        last.header("authorization")
            .is_some_and(|h| h.starts_with("Basic "))
    );
    assert!(
        last.form()
            .contains(&("grant_type".into(), "refresh_token".into()))
    );
    assert!(last.form().contains(&("refresh_token".into(), rt.into())));
}
