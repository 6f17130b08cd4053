//! `portal-login` end to end, as a person uses it: the real binary in a pseudo-terminal
//! against the deployed shape (`cargo lambda watch` in front of the real function binaries,
//! moto, cognito-local), a person approving in headless Chromium, and the access token it then
//! prints checked by the real `authorizer` function through the Lambda Invoke API.
//! Screenshots and the terminal transcript land in `test-output/<test>/`.

use std::sync::Arc;
use std::time::Duration;

use crate::portal_login_support::{Home, Terminal, printed_complete_uri, printed_user_code, run};
use authorizer::ManualClock;
use fantoccini::Locator;
use portal_auth_tests::authorizer_support::{
    assert_allowed_everywhere, assert_unauthorized_everywhere, build_authorizer, fixture_event,
    moto_revocation_table,
};
use portal_auth_tests::browser::claims;
use portal_auth_tests::chrome::Chrome;
use portal_auth_tests::cognito::{DEMO_GROUP, DEMO_USERNAME};
use portal_auth_tests::stack::{LocalStack, output_dir, workspace_root};
use serde_json::Value;

/// Generous: the first request to each function may still be starting it.
const LIMIT: Duration = Duration::from_secs(120);

fn cli<'a>(stack: &'a LocalStack, command: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--url",
        stack.base_url.as_str(),
        "--client-id",
        stack.pool.public_client_id.as_str(),
    ];
    v.extend_from_slice(command);
    v
}

/// Asks the real authorizer (an HTTP API v2 event, as API Gateway sends it) about `token`.
async fn authorize(stack: &LocalStack, token: &str) -> Value {
    let fixture = workspace_root().join("tests/fixtures/authorizer/http-api-v2.json");
    let event = std::fs::read_to_string(fixture)
        .expect("fixture")
        .replace("REPLACE_WITH_ACCESS_TOKEN", token);
    let response = reqwest::Client::new()
        .post(format!(
            "{}/2015-03-31/functions/authorizer/invocations",
            stack.base_url
        ))
        .header("content-type", "application/json")
        .body(event)
        .send()
        .await
        .expect("Lambda Invoke API");
    assert_eq!(response.status(), 200);
    response.json().await.expect("the authorizer's JSON answer")
}

async fn sign_in(chrome: &Chrome, uri: &str, user_code: &str) {
    chrome.client.goto(uri).await.unwrap();
    chrome
        .wait_for(Locator::Css("button[value=approve]"))
        .await
        .unwrap();
    let body = chrome.page_text().await;
    assert!(body.contains(user_code), "the page shows the code: {body}");
    chrome.screenshot("1-confirm").await;
    chrome.approve_and_sign_in("2").await;
}

#[tokio::test]
async fn login_in_a_terminal_approved_in_chromium_then_token_status_refresh_and_logout() {
    let out_dir = output_dir("portal_login_e2e");
    let stack = LocalStack::start("portal_login_e2e").await;
    let home = Home::new("pl-e2e");

    // login, in a pseudo-terminal, with the default flags (no graphical session here, so it
    // says so instead of opening a browser).
    let terminal = Terminal::spawn(&home, &cli(&stack, &["login"]));
    let text = terminal.wait_for("Ctrl-C to cancel", LIMIT).await;
    let user_code = printed_user_code(&text);
    let uri = printed_complete_uri(&text);
    assert!(
        uri.starts_with(&format!("{}/device?user_code=", stack.base_url)),
        "{uri}"
    );
    assert_eq!(user_code.len(), 9, "XXXX-XXXX: {user_code}");
    assert!(text.contains("Or scan it with your phone:"), "{text}");
    assert!(text.contains("No browser here"), "{text}");

    let chrome = Chrome::start(&out_dir).await;
    sign_in(&chrome, &uri, &user_code).await;
    chrome.close().await;

    let (code, text) = terminal.exit(LIMIT).await;
    std::fs::write(out_dir.join("login-terminal.txt"), &text).expect("transcript");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "Logged in to {} as {DEMO_USERNAME}.",
            stack.base_url
        )),
        "{text}"
    );
    assert_eq!(home.mode(&home.dir()), 0o700);
    assert_eq!(home.mode(&home.cache()), 0o600);

    // token: a token the real authorizer accepts, for the demo user and this client.
    let out = run(&home, &cli(&stack, &["token"]), &[]);
    out.assert_code(0);
    let token = out.stdout.trim().to_owned();
    assert_eq!(claims(&token)["username"], DEMO_USERNAME);
    let answer = authorize(&stack, &token).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert_eq!(answer["context"]["username"], DEMO_USERNAME);
    assert_eq!(answer["context"]["client_id"], stack.pool.public_client_id);
    // The check is not vacuous: the same event with a damaged token is refused.
    let damaged = format!("{token}x");
    assert_eq!(authorize(&stack, &damaged).await["isAuthorized"], false);

    // status --json names the demo user.
    let out = run(&home, &cli(&stack, &["status", "--json"]), &[]);
    out.assert_code(0);
    let status: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(status["logged_in"], true);
    assert_eq!(status["client_id"], stack.pool.public_client_id);
    assert_eq!(status["session"]["username"], DEMO_USERNAME);
    assert_eq!(status["session"]["groups"][0], DEMO_GROUP);

    // About to expire: `token` refreshes through /device/token (proxied to cognito-local).
    let refresh_token = home.cache_json()["sessions"][0]["refresh_token"].clone();
    let soon = portal_login::time::now_unix() + 30;
    home.edit_cache(|c| c["sessions"][0]["expires_at"] = soon.into());
    let out = run(&home, &cli(&stack, &["token"]), &[]);
    out.assert_code(0);
    let refreshed = out.stdout.trim().to_owned();
    let session = home.cache_json()["sessions"][0].clone();
    assert!(
        session["expires_at"].as_u64().unwrap() > soon + 60,
        "{session}"
    );
    assert_eq!(session["access_token"], refreshed.as_str());
    assert_eq!(
        session["refresh_token"], refresh_token,
        "the refresh token is kept"
    );
    assert_eq!(authorize(&stack, &refreshed).await["isAuthorized"], true);

    // logout revokes the access token, then the refresh token, at /device/revoke. An
    // authorizer on an injected clock, reading the stack's revocation records, allows the
    // token in all three event shapes before, and refuses it once its refresh interval has
    // passed; another user's token still passes. (cognito-local's tokens carry no
    // `origin_jti`, so the session is the refreshed token's `jti`; Cognito's own refreshed
    // tokens keep the sign-in's `origin_jti`, and all of them are refused together.)
    let clock = Arc::new(ManualClock::starting_now());
    let authorizer = revocation_aware_authorizer(&stack, clock.clone()).await;
    let bearer = format!("Bearer {refreshed}");
    assert_allowed_everywhere(&authorizer, &bearer).await;
    stack.pool.create_user("e2e-other", "Other-Passw0rd!").await;
    let (other, _, _) = stack
        .pool
        .tokens_of(&stack.pool.public_client_id, "e2e-other", "Other-Passw0rd!")
        .await;
    let other = format!("Bearer {other}");
    assert_allowed_everywhere(&authorizer, &other).await;

    let out = run(&home, &cli(&stack, &["logout"]), &[]);
    out.assert_code(0);
    for said in [
        "Revoked the access token at the server.",
        "Revoked the refresh token at the server.",
    ] {
        assert!(out.stderr.contains(said), "{}", out.stderr);
    }
    assert!(!home.cache().exists());
    run(&home, &cli(&stack, &["token"]), &[]).assert_code(3);

    clock.advance(Duration::from_secs(REFRESH_SECS));
    let _ = authorizer
        .handle(&fixture_event("http-api-v2", &bearer))
        .await;
    authorizer
        .revocations()
        .expect("configured")
        .settled()
        .await;
    assert_unauthorized_everywhere(&authorizer, &bearer).await;
    assert_allowed_everywhere(&authorizer, &other).await;

    // Cognito no longer honours the refresh token.
    let refused = reqwest::Client::new()
        .post(format!("{}/device/token", stack.base_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str().unwrap()),
            ("client_id", stack.pool.public_client_id.as_str()),
        ])
        .send()
        .await
        .expect("/device/token");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

const REFRESH_SECS: u64 = 30;

/// The authorizer as the stack configures it, honouring the stack's revocation records.
async fn revocation_aware_authorizer(
    stack: &LocalStack,
    clock: Arc<ManualClock>,
) -> authorizer::Authorizer {
    let issuer = format!("{}/{}", stack.pool.endpoint, stack.pool.pool_id);
    let config = authorizer::Config {
        jwks_url: format!("{issuer}/.well-known/jwks.json"),
        issuers: vec![issuer],
        client_ids: vec![stack.pool.public_client_id.clone()],
        required_scopes: Vec::new(),
        required_groups: Vec::new(),
        rules: Vec::new(),
        api_key_clients: authorizer::ApiKeyClients::Refuse,
        revocations: Some(moto_revocation_table(&stack.table, REFRESH_SECS)),
    };
    build_authorizer(config, clock).await
}

#[tokio::test]
async fn a_login_denied_in_chromium_exits_4() {
    let out_dir = output_dir("portal_login_e2e_deny");
    let stack = LocalStack::start("portal_login_e2e_deny").await;
    let home = Home::new("pl-e2e-deny");
    let terminal = Terminal::spawn(&home, &cli(&stack, &["login", "--no-browser", "--no-qr"]));
    let text = terminal.wait_for("Ctrl-C to cancel", LIMIT).await;
    let uri = printed_complete_uri(&text);

    let chrome = Chrome::start(&out_dir).await;
    chrome.client.goto(&uri).await.unwrap();
    chrome.click("button[value=deny]").await;
    chrome
        .wait_for(Locator::XPath("//h1[contains(., 'Device denied')]"))
        .await
        .unwrap();
    chrome.close().await;

    let (code, text) = terminal.exit(LIMIT).await;
    assert_eq!(code, 4, "{text}");
    assert!(
        text.contains("denied in the browser (access_denied)"),
        "{text}"
    );
    assert!(!home.cache().exists());
}
