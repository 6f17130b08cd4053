//! End to end, as a person and a device would do it: `cargo lambda watch` in front of the real
//! function binaries, moto, cognito-local's hosted UI, and headless Chromium clicking through
//! the pages. Screenshots of every page land in `test-output/<test>/`.

use fantoccini::Locator;
use portal_auth_tests::browser::claims;
use portal_auth_tests::chrome::Chrome;
use portal_auth_tests::cognito::DEMO_USERNAME;
use portal_auth_tests::stack::{LocalStack, output_dir};
use serde_json::Value;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn request_code(http: &reqwest::Client, stack: &LocalStack) -> Value {
    let response = http
        .post(format!("{}/device/code", stack.base_url))
        .form(&[("client_id", stack.pool.public_client_id.as_str())])
        .send()
        .await
        .expect("device code request");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

async fn poll(http: &reqwest::Client, stack: &LocalStack, device_code: &str) -> (u16, Value) {
    let response = http
        .post(format!("{}/device/token", stack.base_url))
        .form(&[
            ("grant_type", DEVICE_GRANT),
            ("client_id", stack.pool.public_client_id.as_str()),
            ("device_code", device_code),
        ])
        .send()
        .await
        .expect("poll");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_person_approves_in_chromium_and_the_device_receives_tokens() {
    let shots = output_dir("browser_approve");
    let stack = LocalStack::start("browser_approve").await;
    let http = reqwest::Client::new();
    let code = request_code(&http, &stack).await;
    let user_code = code["user_code"].as_str().unwrap();
    let chrome = Chrome::start(&shots).await;

    chrome
        .client
        .goto(code["verification_uri_complete"].as_str().unwrap())
        .await
        .unwrap();
    let confirm = chrome.page_text().await;
    assert!(confirm.contains("Portal CLI"), "{confirm}");
    assert!(confirm.contains(user_code), "{confirm}");
    chrome.screenshot("1-confirm").await;

    chrome.approve_and_sign_in("2").await;
    assert!(
        chrome
            .client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&format!("{}/device/callback", stack.base_url))
    );

    let (status, tokens) = poll(&http, &stack, code["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["username"], DEMO_USERNAME);
    assert_eq!(access["client_id"], stack.pool.public_client_id);
    chrome.close().await;
}

#[tokio::test]
async fn a_person_types_the_code_and_denies_in_chromium() {
    let shots = output_dir("browser_deny");
    let stack = LocalStack::start("browser_deny").await;
    let http = reqwest::Client::new();
    let code = request_code(&http, &stack).await;
    let chrome = Chrome::start(&shots).await;

    chrome
        .client
        .goto(code["verification_uri"].as_str().unwrap())
        .await
        .unwrap();
    chrome.screenshot("1-code-entry").await;
    let typed = code["user_code"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .replace('-', " ");
    chrome
        .client
        .find(Locator::Id("user_code"))
        .await
        .unwrap()
        .send_keys(&typed)
        .await
        .unwrap();
    chrome
        .client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let deny = chrome
        .wait_for(Locator::Css("button[value=deny]"))
        .await
        .unwrap();
    chrome.screenshot("2-confirm").await;
    deny.click().await.unwrap();
    chrome
        .wait_for(Locator::XPath("//h1[contains(., 'Device denied')]"))
        .await
        .unwrap();
    chrome.screenshot("3-denied").await;

    let (status, answer) = poll(&http, &stack, code["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("access_denied")),
        "{answer}"
    );
    chrome.close().await;
}

/// The portal dialect end to end (issue 11), as the portal's Python SDK does it: a grant from
/// `/api/v2/authn/device/device_token`, approved in Chromium at the printed
/// `verification_uri_complete`, redeemed at `/api/v2/authn/device/jwt_token` polling every
/// `interval`, then the SDK's refresh at `/device/token`.
#[tokio::test]
async fn a_portal_sdk_style_client_logs_in_through_chromium_and_refreshes() {
    let shots = output_dir("browser_portal");
    let stack = LocalStack::start("browser_portal").await;
    let http = reqwest::Client::new();
    let (id, secret) = (
        stack.pool.confidential_client_id.as_str(),
        stack.pool.confidential_client_secret.as_str(),
    );
    let response = http
        .post(format!(
            "{}/api/v2/authn/device/device_token?scope=openid",
            stack.base_url
        ))
        .basic_auth(id, Some(secret))
        .send()
        .await
        .expect("device_token");
    assert_eq!(response.status(), 200);
    let flow: Value = response.json().await.expect("DeviceFlow");
    assert_eq!(flow["status"], "authorization_pending");
    let device_code = flow["device_code"].as_str().unwrap().to_owned();
    let interval = flow["interval"].as_u64().unwrap();

    let chrome = Chrome::start(&shots).await;
    chrome
        .client
        .goto(flow["verification_uri_complete"].as_str().unwrap())
        .await
        .unwrap();
    let confirm = chrome.page_text().await;
    assert!(
        confirm.contains("Portal Device (confidential)"),
        "{confirm}"
    );
    chrome.screenshot("1-confirm").await;
    chrome.approve_and_sign_in("2").await;
    chrome.close().await;

    let mut tokens = None;
    for _ in 0..4 {
        let response = http
            .post(format!(
                "{}/api/v2/authn/device/jwt_token?device_code={device_code}&grant_type={DEVICE_GRANT}",
                stack.base_url
            ))
            .basic_auth(id, Some(secret))
            .send()
            .await
            .expect("jwt_token");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON");
        if status == 200 {
            tokens = Some(body);
            break;
        }
        assert_eq!(
            (status, body["detail"].as_str()),
            (400, Some("authorization_pending")),
            "{body}"
        );
        tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
    }
    let tokens = tokens.expect("tokens within a few intervals");
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["username"], DEMO_USERNAME);

    let refreshed = http
        .post(format!("{}/device/token", stack.base_url))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", id),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.expect("JSON");
    let again = claims(refreshed["access_token"].as_str().unwrap());
    assert_eq!(again["username"], DEMO_USERNAME);
}
