//! Bad input of every kind, at both device endpoints: a clear JSON error and a 4xx, never a
//! 5xx or a panic — and never a changed grant.

use lambda_http::Body;
use portal_auth_tests::app::{Answer, DEVICE_CODE_GRANT, TestApp, form_post, request, spawn_app};

/// Requests no endpoint should accept, each with what it is.
fn hostile_requests(path: &str, valid_form: &str) -> Vec<(String, lambda_http::Request)> {
    let form = Some("application/x-www-form-urlencoded");
    let text = |s: &str| Body::Text(s.to_owned());
    vec![
        ("GET".into(), request("GET", path, None, Body::Empty)),
        ("PUT".into(), request("PUT", path, form, text(valid_form))),
        (
            "no content type".into(),
            request("POST", path, None, text(valid_form)),
        ),
        (
            "JSON body".into(),
            request(
                "POST",
                path,
                Some("application/json"),
                text("{\"client_id\":\"x\"}"),
            ),
        ),
        (
            "text/plain".into(),
            request("POST", path, Some("text/plain"), text(valid_form)),
        ),
        (
            "multipart".into(),
            request(
                "POST",
                path,
                Some("multipart/form-data; boundary=x"),
                text(valid_form),
            ),
        ),
        (
            "empty body".into(),
            request("POST", path, form, Body::Empty),
        ),
        ("empty text".into(), request("POST", path, form, text(""))),
        (
            "9 KiB body".into(),
            request(
                "POST",
                path,
                form,
                text(&format!("{valid_form}&pad={}", "a".repeat(9 * 1024))),
            ),
        ),
        (
            "1 MiB body".into(),
            request("POST", path, form, Body::Binary(vec![b'a'; 1 << 20])),
        ),
        (
            "non-UTF-8 bytes".into(),
            request(
                "POST",
                path,
                form,
                Body::Binary(vec![0xff, 0xfe, 0x3d, 0x80]),
            ),
        ),
        (
            "bad percent-encoding".into(),
            request("POST", path, form, text(&format!("{valid_form}&x=%ff%fe"))),
        ),
        (
            "repeated client_id".into(),
            form_post(path, &format!("{valid_form}&client_id=again")),
        ),
        (
            "binary garbage".into(),
            request("POST", path, form, Body::Binary((0..=255u8).collect())),
        ),
        (
            "NUL bytes".into(),
            request("POST", path, form, text("client_id=\0\0&scope=\0")),
        ),
        (
            "unknown client".into(),
            form_post(path, "client_id=unknown&grant_type=x&device_code=y"),
        ),
        (
            "overlong client_id".into(),
            form_post(path, &format!("client_id={}", "a".repeat(4000))),
        ),
    ]
}

fn assert_clean_4xx(what: &str, a: &Answer) {
    assert!(
        (400..500).contains(&a.status),
        "{what}: status {} {:?}",
        a.status,
        a.body
    );
    assert!(
        !a.error().is_empty(),
        "{what}: no OAuth error in {:?}",
        a.body
    );
    assert!(
        a.body["error_description"].is_string(),
        "{what}: {:?}",
        a.body
    );
    assert_eq!(a.cache_control.as_deref(), Some("no-store"), "{what}");
}

#[tokio::test]
async fn the_device_code_endpoint_answers_bad_input_with_4xx_json() {
    let app = spawn_app().await;
    let valid = format!("client_id={}", app.pool.public_client_id);
    for (what, req) in hostile_requests("/prod/device/code", &valid) {
        assert_clean_4xx(&what, &app.call_device_code(req).await);
    }
    let a = app
        .call_device_code(request("POST", "/prod/device/elsewhere", None, Body::Empty))
        .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn the_token_endpoint_answers_bad_input_with_4xx_json_and_leaves_the_grant_alone() {
    let app = spawn_app().await;
    let code = app.authorize_device().await.body["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance_secs(5);
    let valid = format!(
        "grant_type={DEVICE_CODE_GRANT}&client_id={}&device_code={code}",
        app.pool.public_client_id
    );
    for (what, req) in hostile_requests("/prod/device/token", &valid) {
        assert_clean_4xx(&what, &app.call_token(req).await);
    }
    let more = [
        format!(
            "grant_type={DEVICE_CODE_GRANT}&client_id={}&device_code={code}&device_code={code}",
            app.pool.public_client_id
        ),
        format!(
            "grant_type={DEVICE_CODE_GRANT}&grant_type=refresh_token&client_id={}&device_code={code}",
            app.pool.public_client_id
        ),
        format!("grant_type={DEVICE_CODE_GRANT}&device_code={code}"),
        format!("client_id={}&device_code={code}", app.pool.public_client_id),
    ];
    for form in more {
        assert_clean_4xx(
            &form,
            &app.call_token(form_post("/prod/device/token", &form)).await,
        );
    }
    // None of it counted as a poll: the first real one, on time, is not slowed down.
    assert_unchanged(&app, &code).await;
}

async fn assert_unchanged(app: &TestApp, code: &str) {
    let a = app.poll(&app.pool.public_client_id, code).await;
    assert_eq!(a.error(), "authorization_pending", "{:?}", a.body);
}
