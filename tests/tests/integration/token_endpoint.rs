//! The token endpoint (RFC 8628 §3.4–3.5) against moto and cognito-local: every grant state
//! against every kind of request, the race of simultaneous polls, and what each poll costs.

use base64::Engine;
use portal_auth_domain::{Clock, DeviceCode, GrantStatus};
use portal_auth_tests::app::{
    Answer, DEVICE_CODE_GRANT, TestApp, form_post, spawn_app, with_header,
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending,
    Denied,
    ExpiredNotDeleted,
    Consumed,
    AnotherClients,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ask {
    EarlyPoll,
    OnTimePoll,
    WrongGrantType,
    MissingDeviceCode,
    DuplicatedDeviceCode,
}

/// A fresh grant brought to `state`; returns its device code.
async fn grant_in(app: &TestApp, state: State) -> String {
    let answer = app.authorize_device().await;
    let code = answer.body["device_code"]
        .as_str()
        .expect("device_code")
        .to_owned();
    let hash = DeviceCode::parse(&code).expect("well-formed").hash();
    let now = || app.clock.now();
    let store = &app.deps.store;
    let go = |from: GrantStatus, to: GrantStatus| {
        let hash = hash.clone();
        async move {
            assert!(
                store
                    .force_transition(&hash, from, to, now())
                    .await
                    .unwrap()
            );
        }
    };
    match state {
        State::Pending | State::AnotherClients | State::ExpiredNotDeleted => {}
        State::Denied => go(GrantStatus::Pending, GrantStatus::Denied).await,
        State::Consumed => {
            go(GrantStatus::Pending, GrantStatus::Redirected).await;
            go(GrantStatus::Redirected, GrantStatus::Approved).await;
            go(GrantStatus::Approved, GrantStatus::Consumed).await;
        }
    }
    code
}

/// Sends `ask` about `code`, as the owner, or as the confidential client for `AnotherClients`.
async fn send(app: &TestApp, state: State, ask: Ask, code: &str) -> Answer {
    match (state, ask) {
        // Poll once just before expiry, so the next poll is both early and past expiry.
        (State::ExpiredNotDeleted, Ask::EarlyPoll) => {
            app.advance_secs(598);
            assert_eq!(
                app.poll(&app.pool.public_client_id, code).await.error(),
                "authorization_pending"
            );
            app.advance_secs(3);
        }
        (State::ExpiredNotDeleted, _) => app.advance_secs(605),
        (_, Ask::EarlyPoll) => {}
        _ => app.advance_secs(5),
    }
    let params = match ask {
        Ask::EarlyPoll | Ask::OnTimePoll => {
            format!("grant_type={DEVICE_CODE_GRANT}&device_code={code}")
        }
        Ask::WrongGrantType => format!("grant_type=authorization_code&device_code={code}"),
        Ask::MissingDeviceCode => format!("grant_type={DEVICE_CODE_GRANT}"),
        Ask::DuplicatedDeviceCode => {
            format!("grant_type={DEVICE_CODE_GRANT}&device_code={code}&device_code={code}")
        }
    };
    if state == State::AnotherClients {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            app.pool.confidential_client_id, app.pool.confidential_client_secret
        ));
        let req = form_post("/prod/device/token", &params);
        app.call_token(with_header(req, "authorization", &format!("Basic {basic}")))
            .await
    } else {
        let form = format!("{params}&client_id={}", app.pool.public_client_id);
        app.call_token(form_post("/prod/device/token", &form)).await
    }
}

#[tokio::test]
async fn every_grant_state_against_every_request() {
    use Ask::*;
    use State::*;
    let table: [(State, [&str; 5]); 5] = [
        // [EarlyPoll, OnTimePoll, WrongGrantType, MissingDeviceCode, DuplicatedDeviceCode]
        (
            Pending,
            [
                "slow_down",
                "authorization_pending",
                "unsupported_grant_type",
                "invalid_request",
                "invalid_request",
            ],
        ),
        (
            Denied,
            [
                "access_denied",
                "access_denied",
                "unsupported_grant_type",
                "invalid_request",
                "invalid_request",
            ],
        ),
        (
            ExpiredNotDeleted,
            [
                "expired_token",
                "expired_token",
                "unsupported_grant_type",
                "invalid_request",
                "invalid_request",
            ],
        ),
        (
            Consumed,
            [
                "invalid_grant",
                "invalid_grant",
                "unsupported_grant_type",
                "invalid_request",
                "invalid_request",
            ],
        ),
        (
            AnotherClients,
            [
                "invalid_grant",
                "invalid_grant",
                "unsupported_grant_type",
                "invalid_request",
                "invalid_request",
            ],
        ),
    ];
    let asks = [
        EarlyPoll,
        OnTimePoll,
        WrongGrantType,
        MissingDeviceCode,
        DuplicatedDeviceCode,
    ];
    let app = spawn_app().await;
    let mut failures = Vec::new();
    for (state, expected) in table {
        for (ask, want) in asks.into_iter().zip(expected) {
            let code = grant_in(&app, state).await;
            let got = send(&app, state, ask, &code).await;
            let ok = got.status == 400
                && got.error() == want
                && got.cache_control.as_deref() == Some("no-store")
                && got.body["error_description"].is_string();
            if !ok {
                failures.push(format!(
                    "{state:?} × {ask:?}: want 400 {want}, got {} {}",
                    got.status, got.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn twenty_simultaneous_polls_get_one_pending_and_nineteen_slow_downs() {
    let app = spawn_app().await;
    let code = app.authorize_device().await.body["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance_secs(5);
    let client_id = app.pool.public_client_id.clone();
    let polls = (0..20).map(|_| app.poll(&client_id, &code));
    let answers = futures::future::join_all(polls).await;
    let pending = answers
        .iter()
        .filter(|a| a.error() == "authorization_pending")
        .count();
    let slow = answers.iter().filter(|a| a.error() == "slow_down").count();
    assert_eq!((pending, slow), (1, 19), "{answers:?}");
    assert!(answers.iter().all(|a| a.status == 400));

    // The burst raised the interval once, to 10 s, counted from the slow_downs: a poll 5 s
    // later (the old interval) is early, one 10 s later is on time.
    app.advance_secs(5);
    let early = app.poll(&client_id, &code).await;
    assert_eq!(early.error(), "slow_down", "{:?}", early.body);
    assert_eq!(
        early.body["interval"], 15,
        "the raised interval is reported: {:?}",
        early.body
    );
    app.advance_secs(15);
    assert_eq!(
        app.poll(&client_id, &code).await.error(),
        "authorization_pending"
    );
}

#[tokio::test]
async fn an_on_time_poll_costs_one_dynamodb_call_and_a_slow_down_at_most_two() {
    let app = spawn_app().await;
    let code = app.authorize_device().await.body["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_id = app.pool.public_client_id.clone();
    // Warm the app-client cache, so the counts below are the poll's own.
    app.advance_secs(5);
    assert_eq!(
        app.poll(&client_id, &code).await.error(),
        "authorization_pending"
    );

    app.advance_secs(5);
    app.calls.reset();
    assert_eq!(
        app.poll(&client_id, &code).await.error(),
        "authorization_pending"
    );
    assert_eq!(app.calls.total(), 1, "{:?}", app.calls.by_operation());
    assert_eq!(app.calls.by_operation().get("UpdateItem"), Some(&1));

    app.calls.reset();
    assert_eq!(app.poll(&client_id, &code).await.error(), "slow_down");
    assert!(app.calls.total() <= 2, "{:?}", app.calls.by_operation());

    app.calls.reset();
    let fresh = app.authorize_device().await;
    assert!(fresh.body["device_code"].is_string());
    assert_eq!(
        app.calls.total(),
        1,
        "creating a grant: {:?}",
        app.calls.by_operation()
    );
}

#[tokio::test]
async fn slow_down_adds_five_seconds_each_time_for_a_client_that_keeps_polling_early() {
    let app = spawn_app().await;
    let code = app.authorize_device().await.body["device_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_id = app.pool.public_client_id.clone();
    let first = app.poll(&client_id, &code).await;
    assert_eq!(
        (first.error(), first.body["interval"].as_u64()),
        ("slow_down", Some(10))
    );
    app.advance_secs(1);
    let second = app.poll(&client_id, &code).await;
    assert_eq!(
        (second.error(), second.body["interval"].as_u64()),
        ("slow_down", Some(15))
    );
    // A client that obeys (waits the raised interval) is never slowed again.
    app.advance_secs(15);
    assert_eq!(
        app.poll(&client_id, &code).await.error(),
        "authorization_pending"
    );
    app.advance_secs(15);
    assert_eq!(
        app.poll(&client_id, &code).await.error(),
        "authorization_pending"
    );
}

#[tokio::test]
async fn unknown_and_malformed_device_codes_are_invalid_grant() {
    let app = spawn_app().await;
    let client_id = app.pool.public_client_id.clone();
    let unknown = DeviceCode::generate().unwrap();
    for code in [unknown.expose_secret(), "short", "%00"] {
        let a = app.poll(&client_id, code).await;
        assert_eq!((a.status, a.error()), (400, "invalid_grant"), "{code}");
    }
}
