//! Device-code phishing defences (issue 12, items 1–3) against moto and cognito-local, with the
//! real handlers: the proximity check on the confirmation page and its per-client policies,
//! and the issuance ceilings at `/device/code`. Addresses reach the functions the way API
//! Gateway delivers them, in the event's request context (`app::from_address`), never in a
//! header a client could set.

use portal_auth_domain::{ClientId, GrantStatus, RemoteApproval};
use portal_auth_tests::app::{TestApp, form_post, from_address, spawn_app};
use portal_auth_tests::browser::{Browser, Page, hidden_field, urlencode};

const DEVICE_V6: &str = "2001:db8:1:2::7";

/// A device authorization for the public client from `ip`: its user code.
async fn device_at(app: &TestApp, ip: Option<&str>) -> String {
    let form = format!("client_id={}&scope=openid", app.pool.public_client_id);
    let answer = app
        .call_device_code(from_address(form_post("/prod/device/code", &form), ip))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["user_code"].as_str().unwrap().to_owned()
}

/// Opens the confirmation page in `browser` and presses Approve, ticking the remote box or not.
async fn approve(
    app: &TestApp,
    browser: &mut Browser,
    user_code: &str,
    tick: bool,
) -> (Page, Page) {
    let page = browser.open_verification(app, Some(user_code)).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let csrf = hidden_field(&page.html, "csrf").expect("csrf");
    let mut fields = format!(
        "csrf={csrf}&user_code={}&decision=approve",
        urlencode(user_code)
    );
    if tick {
        fields.push_str("&remote_confirmed=yes");
    }
    let decided = browser.submit(app, &fields).await;
    (page, decided)
}

fn shows_remote_warning(page: &Page) -> bool {
    page.html
        .contains("This device is on another network than you")
}

async fn status_of(app: &TestApp, user_code: &str) -> (GrantStatus, Option<bool>) {
    let grant = app.grant_of_user_code(user_code).await;
    (grant.status, grant.approver.map(|a| a.remote))
}

#[tokio::test]
async fn the_same_address_or_network_approves_as_before() {
    let app = spawn_app().await;
    for (device, browser) in [
        (Some("198.51.100.7"), Some("198.51.100.7")),
        (Some("198.51.100.7"), Some("198.51.100.250")),
        (Some(DEVICE_V6), Some("2001:db8:1:ffff::1")),
        (Some("::ffff:198.51.100.7"), Some("198.51.100.9")),
    ] {
        let user_code = device_at(&app, device).await;
        let mut b = Browser::at(browser);
        let (page, decided) = approve(&app, &mut b, &user_code, false).await;
        assert!(!shows_remote_warning(&page), "{device:?} / {browser:?}");
        assert!(!page.html.contains("remote_confirmed"));
        assert_eq!(
            decided.status, 302,
            "{device:?} / {browser:?}: {}",
            decided.html
        );
        assert_eq!(
            status_of(&app, &user_code).await,
            (GrantStatus::Redirected, Some(false))
        );
    }
}

#[tokio::test]
async fn a_remote_approval_needs_the_server_checked_confirmation() {
    let app = spawn_app().await;
    for (device, browser, device_shown, browser_shown) in [
        (
            Some("198.51.100.7"),
            Some("203.0.113.9"),
            "198.51.100.7",
            "203.0.113.9",
        ),
        (
            Some("198.51.100.7"),
            Some("198.51.101.7"),
            "198.51.100.7",
            "198.51.101.7",
        ),
        (
            Some(DEVICE_V6),
            Some("2001:db8:2::1"),
            DEVICE_V6,
            "2001:db8:2::1",
        ),
        (
            Some("198.51.100.7"),
            Some(DEVICE_V6),
            "198.51.100.7",
            DEVICE_V6,
        ),
        (Some("198.51.100.7"), None, "198.51.100.7", "unknown"),
        (None, Some("198.51.100.7"), "unknown", "198.51.100.7"),
    ] {
        let user_code = device_at(&app, device).await;
        let mut b = Browser::at(browser);
        let (page, refused) = approve(&app, &mut b, &user_code, false).await;
        assert!(shows_remote_warning(&page), "{device:?} / {browser:?}");
        let named = format!(
            "The device that asked for this code is at <strong class=\"addr\">{device_shown}</strong>. You are at <strong class=\"addr\">{browser_shown}</strong>."
        );
        assert!(page.html.contains(&named), "{named} in {}", page.html);
        assert!(
            page.html
                .contains("I started this on a remote machine that I control")
        );
        assert_eq!(refused.status, 400, "{}", refused.html);
        assert!(refused.html.contains("Confirm the remote machine"));
        assert_eq!(
            status_of(&app, &user_code).await,
            (GrantStatus::Pending, None)
        );

        let (_, approved) = approve(&app, &mut b, &user_code, true).await;
        assert_eq!(approved.status, 302, "{}", approved.html);
        let location = approved.location.unwrap();
        assert!(location.starts_with(&format!("{}/oauth2/authorize?", app.pool.endpoint)));
        let grant = app.grant_of_user_code(&user_code).await;
        assert_eq!(grant.status, GrantStatus::Redirected);
        let approver = grant.approver.expect("the approval is recorded");
        assert!(approver.remote, "the grant records a remote approval");
        assert_eq!(approver.browser.ip.as_deref(), browser);
    }
}

#[tokio::test]
async fn policies_allow_confirm_and_deny_per_client() {
    let app = spawn_app().await;
    let public = ClientId::parse(&app.pool.public_client_id).unwrap();
    let app = app.reconfigured(|c| {
        c.remote_approval.default = RemoteApproval::Allow;
        c.remote_approval
            .per_client
            .insert(public, RemoteApproval::Deny);
    });
    // The public client: deny. No Approve button, and an Approve posted anyway is refused.
    let user_code = device_at(&app, Some("198.51.100.7")).await;
    let mut far = Browser::at(Some("203.0.113.9"));
    let (page, refused) = approve(&app, &mut far, &user_code, true).await;
    assert!(shows_remote_warning(&page));
    assert!(
        page.html
            .contains("does not allow approvals from another network")
    );
    assert!(
        !page.html.contains("value=\"approve\""),
        "no Approve button"
    );
    assert!(page.html.contains("value=\"deny\""), "Deny stays");
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .html
            .contains("Approval from another network is not allowed")
    );
    assert_eq!(
        status_of(&app, &user_code).await,
        (GrantStatus::Pending, None)
    );
    // Deny still works from afar, and from nearby Approve works as ever.
    let page = far.decide(&app, &user_code, "deny").await;
    assert_eq!(page.status, 200);
    let near_code = device_at(&app, Some("198.51.100.7")).await;
    let (_, ok) = approve(
        &app,
        &mut Browser::at(Some("198.51.100.8")),
        &near_code,
        false,
    )
    .await;
    assert_eq!(ok.status, 302);

    // The confidential client falls under the default: allow. No warning, no box, but the
    // grant still records that the approval was remote.
    let form = "scope=openid";
    let req = app.as_confidential(from_address(
        form_post("/prod/device/code", form),
        Some("198.51.100.7"),
    ));
    let answer = app.call_device_code(req).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let confidential_code = answer.body["user_code"].as_str().unwrap().to_owned();
    let (page, approved) = approve(&app, &mut far, &confidential_code, false).await;
    assert!(!shows_remote_warning(&page));
    assert_eq!(approved.status, 302);
    assert_eq!(
        status_of(&app, &confidential_code).await,
        (GrantStatus::Redirected, Some(true))
    );
}

#[tokio::test]
async fn deny_is_first_and_as_prominent_as_approve() {
    let app = spawn_app().await;
    let user_code = device_at(&app, Some("198.51.100.7")).await;
    let page = Browser::at(Some("203.0.113.9"))
        .open_verification(&app, Some(&user_code))
        .await;
    let deny = page.html.find("value=\"deny\"").expect("Deny");
    let approve = page.html.find("value=\"approve\"").expect("Approve");
    assert!(deny < approve, "Deny comes first in the tab order");
    // Both are submit buttons of the one form (no script needed); Deny skips the box's check.
    assert!(
        page.html
            .contains("value=\"deny\" class=\"deny\" formnovalidate")
    );
    assert!(!page.html.contains("<script"));
}

async fn issue_from(app: &TestApp, ip: &str) -> portal_auth_tests::app::Answer {
    let form = format!("client_id={}", app.pool.public_client_id);
    app.call_device_code(from_address(
        form_post("/prod/device/code", &form),
        Some(ip),
    ))
    .await
}

#[tokio::test]
async fn the_21st_device_authorization_from_one_ip_is_429_and_stores_nothing() {
    let app = spawn_app().await.reconfigured(|c| c.issue_max_per_ip = 20);
    for i in 0..20 {
        assert_eq!(
            issue_from(&app, "198.51.100.7").await.status,
            200,
            "request {i}"
        );
    }
    let before = app.table_items().await.len();
    let refused = issue_from(&app, "198.51.100.7").await;
    assert_eq!(refused.status, 429, "{:?}", refused.body);
    assert_eq!(refused.error(), "slow_down");
    assert!(refused.body["error_description"].is_string());
    let retry: u64 = refused
        .retry_after
        .as_deref()
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(
        app.table_items().await.len(),
        before,
        "nothing stored for the 21st"
    );
    // Another address is unaffected; the window's end frees the first.
    assert_eq!(issue_from(&app, "203.0.113.9").await.status, 200);
    app.advance_secs(retry);
    assert_eq!(issue_from(&app, "198.51.100.7").await.status, 200);
}

#[tokio::test]
async fn the_per_client_ceiling_holds_across_addresses() {
    let app = spawn_app()
        .await
        .reconfigured(|c| c.issue_max_per_client_per_minute = 5);
    for i in 0..5 {
        let ip = format!("203.0.113.{}", i + 1);
        assert_eq!(issue_from(&app, &ip).await.status, 200);
    }
    let before = app.table_items().await.len();
    let refused = issue_from(&app, "198.51.100.99").await;
    assert_eq!(refused.status, 429);
    assert!(refused.retry_after.is_some());
    assert_eq!(app.table_items().await.len(), before);
    // The other client has its own ceiling.
    let req = app.as_confidential(form_post("/prod/device/code", "scope=openid"));
    assert_eq!(app.call_device_code(req).await.status, 200);
    app.advance_secs(60);
    assert_eq!(issue_from(&app, "198.51.100.99").await.status, 200);
}

#[tokio::test]
async fn concurrent_authorizations_never_exceed_the_ceiling() {
    let app = spawn_app().await.reconfigured(|c| c.issue_max_per_ip = 20);
    let requests = (0..30).map(|_| issue_from(&app, "198.51.100.7"));
    let answers = futures::future::join_all(requests).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let limited = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!(
        (ok, limited),
        (20, 10),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let grants = app
        .table_items()
        .await
        .iter()
        .filter(|i| i["pk"].as_s().is_ok_and(|pk| pk.starts_with("grant#")))
        .count();
    assert_eq!(grants, 20);
}
