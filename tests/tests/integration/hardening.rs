//! Regressions of the adversarial review (issue 9): each test names the defect it pins, and
//! each failed on the code before its fix. Real handlers, one moto table, cognito-local.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use lambda_http::{Body, Request, RequestExt};
use portal_auth_device::Deps;
use portal_auth_domain::Clock;
use portal_auth_domain::GrantStatus;
use portal_auth_tests::app::{TestApp, answer_of, form_post, request, spawn_app, with_header};
use portal_auth_tests::browser::{Browser, hidden_field, urlencode};
use portal_auth_tests::dynamodb::{CallCounter, counting_client};
use portal_auth_tests::recorder::Recorder;
use sha2::Digest;
use std::sync::Arc;

async fn new_device(app: &TestApp) -> (String, String) {
    let a = app.authorize_device().await;
    (
        a.body["device_code"].as_str().unwrap().to_owned(),
        a.body["user_code"].as_str().unwrap().to_owned(),
    )
}

fn verification(user_code: &str) -> Request {
    request(
        "GET",
        &format!("/prod/device?user_code={}", urlencode(user_code)),
        None,
        Body::Empty,
    )
}

/// Every item of the test's table, as a thief with read access would see it.
async fn table_items(app: &TestApp) -> Vec<HashMap<String, AttributeValue>> {
    let client = aws_sdk_dynamodb::Client::new(&portal_auth_tests::sdk_config(
        &portal_auth_tests::dynamodb::endpoint(),
    ));
    let out = client
        .scan()
        .table_name(&app.table)
        .send()
        .await
        .expect("scan");
    out.items.unwrap_or_default()
}

fn strings(items: &[HashMap<String, AttributeValue>]) -> Vec<(String, String)> {
    items
        .iter()
        .flat_map(|item| item.iter())
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone())))
        .collect()
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

/// Eight handler instances on the app's table, each with its own DynamoDB client and counter.
fn instances(app: &TestApp) -> (Vec<Deps>, Vec<CallCounter>) {
    (0..8)
        .map(|_| {
            let (dynamodb, calls) = counting_client();
            let deps = Deps::new(
                app.deps.config.clone(),
                dynamodb,
                app.pool.client.clone(),
                Arc::new(app.clock.clone()) as Arc<dyn Clock>,
            );
            (deps, calls)
        })
        .unzip()
}

/// Item 1: the code-entry limit leaked under concurrency (read the count, look the code up,
/// then count): every request in flight was evaluated. Forty wrong guesses at once from one IP,
/// over eight handler instances sharing the table: the user-code reads they cause (what
/// "evaluated" means) are counted at each instance's DynamoDB client.
#[tokio::test]
async fn concurrent_wrong_codes_from_one_ip_never_exceed_the_limit() {
    let app = spawn_app().await;
    let (_, right) = new_device(&app).await;
    let (instances, calls) = instances(&app);
    let guesses = (0..40).map(|i| {
        let deps = &instances[i % instances.len()];
        // Well-formed codes that name no grant.
        let code: String = (0..8)
            .map(|k| b"BCDFGHJKLMNPQRSTVWXZ"[(i * 7 + k * 3) % 20] as char)
            .collect();
        async move {
            device_verify::handle(deps, verification(&code))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let evaluated = statuses.iter().filter(|s| **s == 404).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (evaluated, refused),
        (10, 30),
        "exactly the limit answered 404: {statuses:?}"
    );
    let reads: usize = calls
        .iter()
        .map(|c| {
            let ops = c.by_operation();
            ops.get("GetItem").copied().unwrap_or(0) + ops.get("BatchGetItem").copied().unwrap_or(0)
        })
        .sum();
    assert_eq!(reads, 10, "user codes looked up: no more than the limit");
    // Every later look-up is 429, right codes included, on every instance, concurrently too.
    let right = &right;
    let later = instances.iter().map(|deps| async move {
        device_verify::handle(deps, verification(right))
            .await
            .status()
            .as_u16()
    });
    assert!(
        futures::future::join_all(later)
            .await
            .iter()
            .all(|s| *s == 429)
    );
}

/// Item 1, the other half: a right code gives its attempt back, so viewing and deciding are
/// not failures, while wrong codes still count.
#[tokio::test]
async fn right_codes_do_not_spend_the_budget_wrong_ones_do() {
    let app = spawn_app().await;
    for _ in 0..12 {
        let (_, code) = new_device(&app).await;
        let page = Browser::default().decide(&app, &code, "deny").await;
        assert_eq!(page.status, 200, "{}", page.html);
    }
    let mut browser = Browser::default();
    for i in 0..10 {
        let page = browser.open_verification(&app, Some("BCDF-GHJK")).await;
        assert_eq!(page.status, 404, "failure {}", i + 1);
    }
    let (_, code) = new_device(&app).await;
    assert_eq!(
        browser.open_verification(&app, Some(&code)).await.status,
        429
    );
}

/// Item 2: any web page could lock a network out with `<img src=".../device?user_code=…">`.
#[tokio::test]
async fn cross_site_subresources_are_refused_and_not_counted() {
    let app = spawn_app().await;
    let (_, right) = new_device(&app).await;
    for mode in ["no-cors", "cors", "no-cors", "same-origin"] {
        for _ in 0..4 {
            let req = with_header(verification("BCDF-GHJK"), "sec-fetch-site", "cross-site");
            let req = with_header(req, "sec-fetch-mode", mode);
            let response = device_verify::handle(&app.deps, req).await;
            assert_eq!(response.status().as_u16(), 403, "mode {mode}");
        }
    }
    // A link followed from a mail (cross-site, top-level navigation) still works.
    let req = with_header(verification(&right), "sec-fetch-site", "cross-site");
    let req = with_header(req, "sec-fetch-mode", "navigate");
    assert_eq!(device_verify::handle(&app.deps, req).await.status(), 200);
    // Requests without fetch metadata (scripts) still count: 10 failures, then 429.
    let mut browser = Browser::default();
    for i in 0..10 {
        let page = browser.open_verification(&app, Some("BCDF-GHJK")).await;
        assert_eq!(page.status, 404, "failure {}", i + 1);
    }
    assert_eq!(
        browser.open_verification(&app, Some(&right)).await.status,
        429
    );
}

/// Item 3: the PKCE verifier and Cognito's code were stored in plain, and kept after use: a
/// read of the table between callback and poll redeemed the person's tokens.
#[tokio::test]
async fn nothing_in_the_table_redeems_at_any_step_and_the_code_goes_with_the_grant() {
    let app = spawn_app().await;
    let (device_code, user_code) = new_device(&app).await;
    let mut browser = Browser::default();
    let approve = browser.decide(&app, &user_code, "approve").await;
    assert_eq!(approve.status, 302, "{}", approve.html);
    let authorize = approve.location.expect("to Cognito");
    let challenge = query_param(&authorize, "code_challenge");
    let no_verifier_stored = |stored: &[(String, String)], step: &str| {
        for (name, value) in stored {
            assert_ne!(
                s256(value),
                challenge,
                "after {step}: attribute {name} is the PKCE verifier"
            );
            assert_ne!(
                value, &device_code,
                "after {step}: attribute {name} is the device code"
            );
        }
    };
    no_verifier_stored(&strings(&table_items(&app).await), "approve");

    let callback = browser.sign_in_at_cognito(&authorize).await;
    let cognito_code = query_param(&callback, "code");
    assert_eq!(browser.follow_callback(&app, &callback).await.status, 200);
    no_verifier_stored(&strings(&table_items(&app).await), "the callback");

    app.advance_secs(5);
    let tokens = app.poll(&app.pool.public_client_id, &device_code).await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
    let stored = strings(&table_items(&app).await);
    no_verifier_stored(&stored, "the exchange");
    for (name, value) in &stored {
        assert_ne!(
            value, &cognito_code,
            "after the exchange: {name} still holds Cognito's code"
        );
        assert_ne!(name, "authorization_code");
    }
}

/// Item 4, first sequence: opening B's page overwrote A's CSRF cookie, so A's form got 403.
#[tokio::test]
async fn two_confirmation_pages_side_by_side_both_work() {
    let app = spawn_app().await;
    let (_, a) = new_device(&app).await;
    let (_, b) = new_device(&app).await;
    let mut browser = Browser::default();
    let page_a = browser.open_verification(&app, Some(&a)).await;
    let page_b = browser.open_verification(&app, Some(&b)).await;
    let csrf_a = hidden_field(&page_a.html, "csrf").unwrap();
    let csrf_b = hidden_field(&page_b.html, "csrf").unwrap();
    let submit =
        |csrf: &str, code: &str| format!("csrf={csrf}&user_code={}&decision=deny", urlencode(code));
    assert_eq!(browser.submit(&app, &submit(&csrf_a, &a)).await.status, 200);
    assert_eq!(browser.submit(&app, &submit(&csrf_b, &b)).await.status, 200);
}

/// Item 4, second sequence: B's token could deny A.
#[tokio::test]
async fn one_codes_csrf_token_cannot_decide_another() {
    let app = spawn_app().await;
    let (device_a, a) = new_device(&app).await;
    let (_, b) = new_device(&app).await;
    let mut browser = Browser::default();
    browser.open_verification(&app, Some(&a)).await;
    let page_b = browser.open_verification(&app, Some(&b)).await;
    let csrf_b = hidden_field(&page_b.html, "csrf").unwrap();
    let fields = format!("csrf={csrf_b}&user_code={}&decision=deny", urlencode(&a));
    assert_eq!(browser.submit(&app, &fields).await.status, 403);
    assert_eq!(
        app.grant_of_user_code(&a).await.status,
        GrantStatus::Pending
    );
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_a)
            .await
            .error(),
        "authorization_pending"
    );
}

/// Item 4, third sequence: approving C then D in one browser broke C's callback (one binding
/// cookie), and a grant left in `redirected` had no way back (its user code was gone).
#[tokio::test]
async fn two_approvals_in_one_browser_keep_both_sign_ins_and_a_stuck_one_can_be_redone() {
    let app = spawn_app().await;
    let (device_c, c) = new_device(&app).await;
    let (device_d, d) = new_device(&app).await;
    let mut browser = Browser::default();
    let to_c = browser.decide(&app, &c, "approve").await.location.unwrap();
    let to_d = browser.decide(&app, &d, "approve").await.location.unwrap();
    let callback_c = browser.sign_in_at_cognito(&to_c).await;
    assert_eq!(browser.follow_callback(&app, &callback_c).await.status, 200);
    app.advance_secs(5);
    let tokens = app.poll(&app.pool.public_client_id, &device_c).await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);

    // D's sign-in never came back: its code still opens the page, and Approve restarts it
    // (the first sign-in's state is dead), or Deny ends it.
    let again = browser.decide(&app, &d, "approve").await;
    assert_eq!(again.status, 302, "{}", again.html);
    let stale = browser.sign_in_at_cognito(&to_d).await;
    assert_eq!(browser.follow_callback(&app, &stale).await.status, 400);
    assert_eq!(browser.decide(&app, &d, "deny").await.status, 200);
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, &device_d)
            .await
            .error(),
        "access_denied"
    );
    // And a used code is an unknown code again.
    assert_eq!(browser.open_verification(&app, Some(&c)).await.status, 404);
    assert_eq!(browser.open_verification(&app, Some(&d)).await.status, 404);
}

/// Item 5: the device's `User-Agent` was shown as fact, whole: it could write our words.
#[tokio::test]
async fn the_devices_self_description_is_shown_short_and_unverified() {
    let app = spawn_app().await;
    let claim = "portal-login/1.0 (Verified by IT Security - safe to approve this device now)";
    let form = format!("client_id={}&scope=openid", app.pool.public_client_id);
    let req = with_header(form_post("/prod/device/code", &form), "user-agent", claim);
    let issued = app.call_device_code(req).await;
    let user_code = issued.body["user_code"].as_str().unwrap().to_owned();
    let page = Browser::default()
        .open_verification(&app, Some(&user_code))
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.html.contains("safe to approve"), "{}", page.html);
    assert!(page.html.contains("portal-login/1.0 (Verified"));
    assert!(page.html.contains("not verified"));
}

/// Item 8: every refresh token, garbage included, went to Cognito and spent its quota.
#[tokio::test]
async fn refresh_tokens_that_cannot_be_cognitos_are_not_forwarded() {
    let app = spawn_app().await;
    let cognito = Recorder::start(400, r#"{"error":"invalid_grant"}"#).await;
    let deps = app.with_cognito_domain(&cognito.url);
    let id = &app.pool.public_client_id;
    for garbage in ["nope", "a.b.c.d.e", "x.y", &"A".repeat(5000)] {
        let form = format!("grant_type=refresh_token&client_id={id}&refresh_token={garbage}");
        let a =
            answer_of(device_token::handle(&deps, form_post("/prod/device/token", &form)).await)
                .await;
        assert_eq!((a.status, a.error()), (400, "invalid_grant"), "{garbage}");
    }
    assert!(cognito.received().is_empty(), "garbage reached Cognito");
    let jwe =
        "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.a2V5.aXY.Y2lwaGVy.dGFn";
    let form = format!("grant_type=refresh_token&client_id={id}&refresh_token={jwe}");
    let a =
        answer_of(device_token::handle(&deps, form_post("/prod/device/token", &form)).await).await;
    assert_eq!(a.error(), "invalid_grant");
    assert_eq!(
        cognito.received().len(),
        1,
        "a Cognito-shaped token is forwarded"
    );
}

/// Item 9: `curl -u id:secret -X POST …/device/code` (no body, no Content-Type) got 415.
#[tokio::test]
async fn a_confidential_client_may_post_an_empty_untyped_body() {
    let app = spawn_app().await;
    let basic = STANDARD.encode(format!(
        "{}:{}",
        app.pool.confidential_client_id, app.pool.confidential_client_secret
    ));
    let req = with_header(
        request("POST", "/prod/device/code", None, Body::Empty),
        "authorization",
        &format!("Basic {basic}"),
    );
    let a = app.call_device_code(req).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(a.body["device_code"].is_string());
    // A body of another type is still refused.
    let req = with_header(
        request(
            "POST",
            "/prod/device/code",
            Some("application/json"),
            Body::Text("{}".into()),
        ),
        "authorization",
        &format!("Basic {basic}"),
    );
    assert_eq!(app.call_device_code(req).await.status, 415);
}

/// Item 9: pages behind https sent no `Strict-Transport-Security`.
#[tokio::test]
async fn pages_behind_https_send_strict_transport_security() {
    let app = spawn_app().await;
    let (_, user_code) = new_device(&app).await;
    let hsts = |r: &lambda_http::Response<Body>| {
        r.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let entry =
        device_verify::handle(&app.deps, request("GET", "/prod/device", None, Body::Empty)).await;
    assert_eq!(hsts(&entry).as_deref(), Some("max-age=31536000"));
    let confirm = device_verify::handle(&app.deps, verification(&user_code)).await;
    assert_eq!(hsts(&confirm).as_deref(), Some("max-age=31536000"));
}

/// Item 9: behind an ALB the grant had no device address; now it is the ALB's own hop.
#[tokio::test]
async fn behind_an_alb_the_device_address_is_the_last_forwarded_hop() {
    use lambda_http::aws_lambda_events::alb::AlbTargetGroupRequestContext;
    use lambda_http::request::RequestContext;
    let app = spawn_app().await;
    let form = format!("client_id={}&scope=openid", app.pool.public_client_id);
    let req = http::Request::builder()
        .method("POST")
        .uri("https://portal.test/prod/device/code")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "203.0.113.66, 198.51.100.99")
        .body(Body::Text(form))
        .unwrap()
        .with_request_context(RequestContext::Alb(AlbTargetGroupRequestContext::default()));
    let a = app.call_device_code(req).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let grant = app
        .grant_of_user_code(a.body["user_code"].as_str().unwrap())
        .await;
    assert_eq!(grant.device.ip.as_deref(), Some("198.51.100.99"));
}
