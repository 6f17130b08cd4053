//! The template deploys a REST API, whose proxy events (payload 1.0) differ from the HTTP API
//! events the other tests build: the stage is in the path, the source IP is under
//! `requestContext.identity`, the query arrives as `multiValueQueryStringParameters`. These
//! tests feed REST events (fixtures derived from `aws_lambda_events`' own) through
//! `lambda_http`'s real event parsing into the handlers.

use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request};
use portal_auth_tests::app::{TestApp, answer_of, spawn_app};

fn rest_event(name: &str, replace: &[(&str, &str)]) -> Request {
    let path = format!("{}/fixtures/device/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut raw = std::fs::read_to_string(path).expect("fixture");
    for (from, to) in replace {
        raw = raw.replace(from, to);
    }
    let event: LambdaRequest = serde_json::from_str(&raw).expect("a REST API proxy event");
    Request::from(event)
}

async fn device_code_over_rest(app: &TestApp) -> serde_json::Value {
    let event = rest_event(
        "rest-post-device-code.json",
        &[("REPLACE_CLIENT_ID", &app.pool.public_client_id)],
    );
    let a = answer_of(device_code::handle(&app.deps, event).await).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body
}

#[tokio::test]
async fn a_rest_api_device_authorization_records_the_source_ip_and_user_agent() {
    let app = spawn_app().await;
    let body = device_code_over_rest(&app).await;
    let grant = app
        .grant_of_user_code(body["user_code"].as_str().unwrap())
        .await;
    assert_eq!(grant.device.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(
        grant.device.user_agent.as_deref(),
        Some("portal-cli/1.0 (rest fixture)")
    );
}

#[tokio::test]
async fn a_rest_api_verification_page_reads_the_user_code_from_the_query() {
    let app = spawn_app().await;
    let body = device_code_over_rest(&app).await;
    let user_code = body["user_code"].as_str().unwrap();
    let event = rest_event("rest-get-device.json", &[("REPLACE_USER_CODE", user_code)]);
    let response = device_verify::handle(&app.deps, event).await;
    assert_eq!(response.status(), 200);
    let Body::Text(html) = response.body() else {
        panic!("an HTML page")
    };
    assert!(
        html.contains(user_code),
        "the confirmation page shows the code"
    );
    assert!(
        html.contains("203.0.113.9"),
        "and where the device asked from"
    );
}
