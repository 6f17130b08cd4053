//! End to end, as a person and a device would do it: `cargo lambda watch` in front of the real
//! function binaries, moto, cognito-local's hosted UI, and headless Chromium clicking through
//! the pages. Screenshots of every page land in `test-output/<test>/`.

use fantoccini::Locator;
use portal_auth_tests::browser::claims;
use portal_auth_tests::chrome::Chrome;
use portal_auth_tests::cognito::DEMO_USERNAME;
use portal_auth_tests::stack::{LocalStack, output_dir, workspace_root};
use serde_json::Value;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Sends `request`: its status and JSON body.
async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the local stack answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

async fn request_code(http: &reqwest::Client, stack: &LocalStack) -> Value {
    let request = http
        .post(format!("{}/device/code", stack.base_url))
        .form(&[("client_id", stack.pool.public_client_id.as_str())]);
    let (status, body) = send(request).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn poll(http: &reqwest::Client, stack: &LocalStack, device_code: &str) -> (u16, Value) {
    send(
        http.post(format!("{}/device/token", stack.base_url))
            .form(&[
                ("grant_type", DEVICE_GRANT),
                ("client_id", stack.pool.public_client_id.as_str()),
                ("device_code", device_code),
            ]),
    )
    .await
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
    chrome.click("form button[type=submit]").await;

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

/// A portal-dialect POST (no body, the confidential client's Basic): status and JSON body.
async fn portal_post(
    http: &reqwest::Client,
    stack: &LocalStack,
    path_and_query: &str,
) -> (u16, Value) {
    send(
        http.post(format!("{}{path_and_query}", stack.base_url))
            .basic_auth(
                &stack.pool.confidential_client_id,
                Some(&stack.pool.confidential_client_secret),
            ),
    )
    .await
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
    let (status, flow) = portal_post(
        &http,
        &stack,
        "/api/v2/authn/device/device_token?scope=openid",
    )
    .await;
    assert_eq!(status, 200, "{flow}");
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
        let path = format!(
            "/api/v2/authn/device/jwt_token?device_code={device_code}&grant_type={DEVICE_GRANT}"
        );
        let (status, body) = portal_post(&http, &stack, &path).await;
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

    let refresh = http
        .post(format!("{}/device/token", stack.base_url))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", id),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ]);
    let (status, refreshed) = send(refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    let again = claims(refreshed["access_token"].as_str().unwrap());
    assert_eq!(again["username"], DEMO_USERNAME);
}

/// Copies a screenshot to `docs/img/<name>` (the README shows it) when that is missing or
/// `PORTAL_REFRESH_DOCS_IMAGES=1`: each run's code and time differ, so rewriting it on every run
/// would leave the work tree changed after every `make test`.
fn refresh_docs_image(shot: &std::path::Path, name: &str) {
    let target = workspace_root().join("docs/img").join(name);
    let asked = std::env::var("PORTAL_REFRESH_DOCS_IMAGES").is_ok_and(|v| v == "1");
    if asked || !target.exists() {
        std::fs::create_dir_all(target.parent().unwrap()).expect("docs/img");
        std::fs::copy(shot, &target).expect("the README's screenshot");
    }
}

/// Where the remote device of [`a_remote_approval_needs_the_confirmation_in_chromium`] is.
const REMOTE_DEVICE_IP: &str = "198.51.100.7";

/// A remote approval (issue 12's proximity check), end to end: the device asks for a code from
/// one network, a person approves in Chromium from another.
///
/// How the two addresses reach the functions: the deployed code reads a caller's address only
/// from the API Gateway event's request context (`requestContext.http.sourceIp` for the HTTP
/// API's payload 2.0, `requestContext.identity.sourceIp` for a REST API), which API Gateway
/// fills in from the connection; never from a header a client could set. `cargo lambda watch`
/// builds that event from its own TCP connection, so through its HTTP routing every caller
/// is 127.0.0.1. The device's `POST /device/code` therefore goes through its Lambda Invoke API
/// instead (`POST /2015-03-31/functions/device-code/invocations`, the route `aws lambda invoke`
/// uses), with an HTTP API event written here whose `requestContext.http.sourceIp` is
/// 198.51.100.7 ([`LocalStack::request_code_from`]): the same real binary handles it, and the
/// grant records 198.51.100.7. Chromium's requests then arrive through the routing as
/// 127.0.0.1, and the device's poll is an ordinary HTTP request.
#[tokio::test]
async fn a_remote_approval_needs_the_confirmation_in_chromium() {
    let shots = output_dir("browser_remote");
    let stack = LocalStack::start("browser_remote").await;
    let http = reqwest::Client::new();
    let code = stack
        .request_code_from(REMOTE_DEVICE_IP, "portal-login/0.1.0")
        .await;
    let user_code = code["user_code"].as_str().unwrap();
    let device_code = code["device_code"].as_str().unwrap();
    let chrome = Chrome::start(&shots).await;

    chrome
        .client
        .goto(code["verification_uri_complete"].as_str().unwrap())
        .await
        .unwrap();
    chrome
        .wait_for(Locator::Id("remote_confirmed"))
        .await
        .expect("the remote-approval checkbox");
    let confirm = chrome.page_text().await;
    assert!(
        confirm.contains("This device is on another network than you"),
        "{confirm}"
    );
    assert!(
        confirm.contains(&format!(
            "The device that asked for this code is at {REMOTE_DEVICE_IP}. You are at 127.0.0.1."
        )),
        "the warning names both addresses: {confirm}"
    );
    assert!(
        confirm.contains("I started this on a remote machine that I control"),
        "{confirm}"
    );
    assert!(confirm.contains(user_code), "{confirm}");
    // Tall enough that the README's screenshot shows the checkbox and both buttons.
    chrome.client.set_window_size(900, 1250).await.unwrap();
    chrome.screenshot("1-remote-warning").await;
    refresh_docs_image(
        &chrome.screenshot_path("1-remote-warning"),
        "remote-approval.png",
    );

    // Approve without the box ticked: the browser refuses to submit (`required`), so the page
    // stays, the very document (a marker set on its window survives), nothing was sent.
    let page_url = chrome.client.current_url().await.unwrap();
    chrome
        .client
        .execute("window.__stillHere = true;", vec![])
        .await
        .unwrap();
    chrome.click("button[value=approve]").await;
    tokio::time::sleep(std::time::Duration::from_millis(750)).await;
    assert_eq!(chrome.client.current_url().await.unwrap(), page_url);
    let blocked = chrome
        .client
        .execute(
            "const box = document.getElementById('remote_confirmed'); \
             return [window.__stillHere === true, box.validity.valueMissing, \
                     box.form.checkValidity()];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        blocked,
        serde_json::json!([true, true, false]),
        "the same page, the checkbox missing, the form invalid"
    );
    chrome.screenshot("2-approve-blocked").await;
    // Still pending (a poll this soon may be told to slow down: also not approved).
    let (status, answer) = poll(&http, &stack, device_code).await;
    assert!(
        status == 400
            && matches!(
                answer["error"].as_str(),
                Some("authorization_pending" | "slow_down")
            ),
        "nothing was approved: {status} {answer}"
    );

    // Ticked: Approve goes through to Cognito's sign-in, and back to our success page.
    chrome.confirm_remote_approve_and_sign_in("3").await;
    assert!(
        chrome
            .client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&format!("{}/device/callback", stack.base_url))
    );
    chrome.close().await;

    let (status, tokens) = poll(&http, &stack, device_code).await;
    assert_eq!(status, 200, "{tokens}");
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["username"], DEMO_USERNAME);
    assert_eq!(access["client_id"], stack.pool.public_client_id);
}
