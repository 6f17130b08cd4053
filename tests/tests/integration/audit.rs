//! The audit trail and the metrics of the device flow (issue 12, items 4 and 5), against moto
//! and cognito-local with the real handlers: a whole flow (code, view, approve, callback, poll,
//! refresh) and the refused paths (deny, rate limit, blocked code entry, expired poll), with
//! every log line at every level captured as the Lambda JSON formatter writes it, and every EMF
//! line captured as it would go to stdout.
//!
//! Asserted: each audit event is present exactly once, with its fields; no device code, user
//! code, `state`, authorization code, PKCE verifier, client secret or token appears in any
//! line; every EMF line is valid EMF with the expected metric names.

use std::cell::RefCell;
use std::io::Write;
use std::sync::OnceLock;

use portal_auth_domain::DeviceCode;
use portal_auth_runtime::metrics::{self, Metric};
use portal_auth_tests::app::{TestApp, form_post, spawn_app};
use portal_auth_tests::browser::{Browser, hidden_field, urlencode};
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

thread_local! {
    /// This thread's captured log output, while a [`LogCapture`] is alive.
    static CAPTURED: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Writes to this thread's capture, if any, else nowhere.
struct ThreadCapture;

impl Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURED.with_borrow_mut(|c| c.as_mut().map(|c| c.extend_from_slice(buf)));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log lines this thread writes while it lives (a `current_thread` test's handlers run on
/// the test's thread).
struct LogCapture;

impl LogCapture {
    /// Installs, once per test binary, the subscriber the functions install in Lambda (JSON,
    /// flattened, the same filter) with `RUST_LOG=trace` — every level the functions can be
    /// made to log at — as the global default, writing to per-thread captures. Global, not
    /// scoped: tracing caches each callsite's interest process-wide, and a callsite first hit
    /// by a parallel test while only a thread-scoped subscriber existed elsewhere is skipped.
    fn start() -> Self {
        static INSTALLED: OnceLock<()> = OnceLock::new();
        INSTALLED.get_or_init(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_target(false)
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(true)
                .without_time()
                .with_writer(|| ThreadCapture)
                .finish()
                .with(portal_auth_runtime::logging::filter("trace"));
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the test binary");
        });
        CAPTURED.with_borrow_mut(|c| *c = Some(Vec::new()));
        LogCapture
    }

    fn lines(&self) -> Vec<String> {
        CAPTURED.with_borrow(|c| {
            String::from_utf8_lossy(c.as_deref().unwrap_or_default())
                .lines()
                .map(str::to_owned)
                .collect()
        })
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURED.with_borrow_mut(|c| *c = None);
    }
}

fn confidential(app: &TestApp, path: &str, form: &str) -> lambda_http::Request {
    app.as_confidential(form_post(path, form))
}

/// The value of `name` in `url`'s query.
fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

const BROWSER_IP: &str = "203.0.113.9";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[tokio::test(flavor = "current_thread")]
async fn every_grant_event_is_audited_once_and_nothing_secret_is_logged() {
    let app = spawn_app().await.reconfigured(|c| c.issue_max_per_ip = 3);
    let logs = LogCapture::start();
    let emf = metrics::capture();
    let mut secrets: Vec<String> = vec![app.pool.confidential_client_secret.clone()];

    // The whole flow, the confidential client, approved from another network.
    let issued = app
        .call_device_code(confidential(&app, "/prod/device/code", "scope=openid"))
        .await;
    assert_eq!(issued.status, 200, "{:?}", issued.body);
    let device_code = issued.body["device_code"].as_str().unwrap().to_owned();
    let user_code = issued.body["user_code"].as_str().unwrap().to_owned();
    let verifier = DeviceCode::parse(&device_code).unwrap().pkce_verifier();
    secrets.extend([
        device_code.clone(),
        user_code.clone(),
        user_code.replace('-', ""),
        verifier.expose_secret().to_owned(),
    ]);
    let mut browser = Browser::at(Some(BROWSER_IP));
    let page = browser.open_verification(&app, Some(&user_code)).await;
    let csrf = hidden_field(&page.html, "csrf").unwrap();
    let approved = browser
        .submit(
            &app,
            &format!(
                "csrf={csrf}&user_code={}&decision=approve&remote_confirmed=yes",
                urlencode(&user_code)
            ),
        )
        .await;
    assert_eq!(approved.status, 302, "{}", approved.html);
    let authorize = approved.location.unwrap();
    let state = query_param(&authorize, "state");
    let callback = browser.sign_in_at_cognito(&authorize).await;
    let code = query_param(&callback, "code");
    secrets.extend([state, code]);
    assert_eq!(browser.follow_callback(&app, &callback).await.status, 200);
    app.advance_secs(5);
    let form = format!("grant_type={GRANT}&device_code={device_code}");
    let tokens = app
        .call_token(confidential(&app, "/prod/device/token", &form))
        .await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
    for t in ["access_token", "id_token", "refresh_token"] {
        secrets.push(tokens.body[t].as_str().unwrap().to_owned());
    }
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        tokens.body["refresh_token"].as_str().unwrap()
    );
    let refreshed = app
        .call_token(confidential(&app, "/prod/device/token", &form))
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    for t in ["access_token", "id_token"] {
        secrets.push(refreshed.body[t].as_str().unwrap().to_owned());
    }

    // The refused paths: a denial, an expired poll, an issuance limit, a blocked code entry.
    let denied = app
        .call_device_code(confidential(&app, "/prod/device/code", "scope=openid"))
        .await;
    let denied_user_code = denied.body["user_code"].as_str().unwrap().to_owned();
    secrets.push(denied.body["device_code"].as_str().unwrap().to_owned());
    secrets.push(denied_user_code.clone());
    assert_eq!(
        Browser::default()
            .decide(&app, &denied_user_code, "deny")
            .await
            .status,
        200
    );
    let expiring = app
        .call_device_code(confidential(&app, "/prod/device/code", "scope=openid"))
        .await;
    let expiring_code = expiring.body["device_code"].as_str().unwrap().to_owned();
    secrets.push(expiring_code.clone());
    secrets.push(expiring.body["user_code"].as_str().unwrap().to_owned());
    let limited = app
        .call_device_code(confidential(&app, "/prod/device/code", "scope=openid"))
        .await;
    assert_eq!(limited.status, 429, "the fourth from one address");
    app.advance_secs(601);
    let form = format!("grant_type={GRANT}&device_code={expiring_code}");
    let expired = app
        .call_token(confidential(&app, "/prod/device/token", &form))
        .await;
    assert_eq!(expired.error(), "expired_token");
    let mut guesser = Browser::at(Some("192.0.2.66"));
    for _ in 0..11 {
        guesser.open_verification(&app, Some("BCDF-GHJK")).await;
    }

    // Every line parses; the audit lines are the events, once each, with their fields.
    let lines = logs.lines();
    assert!(lines.len() > 20, "{} lines captured", lines.len());
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let audit: Vec<&Value> = parsed.iter().filter(|v| v["audit"] == true).collect();
    let event = |name: &str| -> Vec<&Value> {
        audit
            .iter()
            .copied()
            .filter(|v| v["event"] == name)
            .collect()
    };
    let confidential_id = app.pool.confidential_client_id.as_str();
    let ua = portal_auth_tests::app::DEVICE_UA;
    for name in [
        "device.authorization_requested",
        "device.confirmation_viewed",
        "device.approved",
        "device.denied",
        "device.callback_bound",
        "device.tokens_issued",
        "device.refreshed",
        "device.rate_limited",
        "device.code_entry_blocked",
        "device.expired_on_poll",
    ] {
        let found = event(name);
        // Three grants were issued; two confirmation pages were viewed (the approved grant's,
        // and the denied one's before its Deny).
        let expected = match name {
            "device.authorization_requested" => 3,
            "device.confirmation_viewed" => 2,
            _ => 1,
        };
        assert_eq!(found.len(), expected, "{name}: {found:?}");
    }

    let approved = event("device.approved")[0];
    let grant_ref = approved["grant"].as_str().unwrap();
    assert_eq!(grant_ref.len(), 8);
    for (field, value) in [
        ("client_id", confidential_id),
        ("device_ip", portal_auth_tests::app::DEVICE_IP),
        ("device_user_agent", ua),
        ("approver_ip", BROWSER_IP),
        ("approver_user_agent", ua),
    ] {
        assert_eq!(approved[field], value, "approved.{field}");
    }
    assert_eq!(approved["remote"], true);
    let issued = event("device.tokens_issued")[0];
    assert_eq!(issued["grant"], grant_ref);
    assert_eq!(issued["username"], "demo");
    assert!(issued["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        issued["approver_ip"], BROWSER_IP,
        "the approver, from the grant"
    );
    assert_eq!(issued["remote"], true);
    let bound = event("device.callback_bound")[0];
    assert_eq!(bound["grant"], grant_ref);
    assert_eq!(bound["approver_ip"], BROWSER_IP);
    let refreshed = event("device.refreshed")[0];
    assert_eq!(refreshed["username"], "demo");
    assert_eq!(refreshed["client_id"], confidential_id);
    assert_eq!(
        event("device.code_entry_blocked")[0]["approver_ip"],
        "192.0.2.66"
    );
    assert_eq!(
        event("device.rate_limited")[0]["device_ip"],
        portal_auth_tests::app::DEVICE_IP
    );
    assert!(event("device.expired_on_poll")[0]["grant"].is_string());

    // Nothing secret, in any line at any level.
    for secret in &secrets {
        assert!(secret.len() >= 8, "{secret:?} is too short to search for");
        for line in &lines {
            assert!(!line.contains(secret.as_str()), "a secret in: {line}");
        }
    }

    // The EMF lines: valid, and counting what happened.
    let emf_lines = emf.lines();
    for line in &emf_lines {
        metrics::validate_emf(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for secret in &secrets {
            assert!(!line.contains(secret.as_str()));
        }
    }
    for (metric, count) in [
        (Metric::DeviceAuthorizations, 3),
        (Metric::Approvals, 1),
        (Metric::RemoteApprovals, 1),
        (Metric::Denials, 1),
        (Metric::TokensIssued, 1),
        (Metric::Refreshes, 1),
        (Metric::RateLimited, 1),
        (Metric::CodeEntryBlocked, 1),
        (Metric::ExpiredPolls, 1),
    ] {
        assert_eq!(emf.total(metric), count, "{metric}");
    }
}
