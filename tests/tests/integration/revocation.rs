//! `POST /device/revoke` (RFC 7009) against moto and cognito-local: every client type × every
//! kind of token × the hint present, absent or wrong, each with the RFC's answer and its effect
//! (a revocation record the authorizer reads, a refresh token Cognito no longer honours), and
//! nothing revoked when client authentication fails.

use portal_auth_tests::app::{Answer, TestApp, basic_auth, form_post, spawn_app, with_header};
use portal_auth_tests::authorizer_support::{SigningKey, access_claims, revocation_records};
use serde_json::json;

const REVOKE: &str = "/prod/device/revoke";

/// How a client authenticates at the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Public,
    ConfidentialBasic,
    ConfidentialPost,
}

const CLIENTS: [Auth; 3] = [
    Auth::Public,
    Auth::ConfidentialBasic,
    Auth::ConfidentialPost,
];
const HINTS: [Option<&str>; 4] = [
    None,
    Some("access_token"),
    Some("refresh_token"),
    Some("id_token"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ValidAccess,
    ValidRefresh,
    OtherClientsAccess,
    Garbage,
    ExpiredAccess,
}

const KINDS: [Kind; 5] = [
    Kind::ValidAccess,
    Kind::ValidRefresh,
    Kind::OtherClientsAccess,
    Kind::Garbage,
    Kind::ExpiredAccess,
];

fn client_id(app: &TestApp, auth: Auth) -> &str {
    match auth {
        Auth::Public => &app.pool.public_client_id,
        _ => &app.pool.confidential_client_id,
    }
}

fn issuer(app: &TestApp) -> String {
    format!("{}/{}", app.pool.endpoint, app.pool.pool_id)
}

/// A fresh token of `kind` for the client `auth` names.
async fn token(app: &TestApp, auth: Auth, kind: Kind) -> String {
    let mine = client_id(app, auth).to_owned();
    let theirs = match auth {
        Auth::Public => app.pool.confidential_client_id.clone(),
        _ => app.pool.public_client_id.clone(),
    };
    app.catch_up_with_wall_clock();
    let now = portal_login::time::now_unix() as i64;
    match kind {
        Kind::ValidAccess => app.pool.demo_tokens(&mine).await.0,
        Kind::ValidRefresh => app.pool.demo_tokens(&mine).await.2,
        Kind::OtherClientsAccess => app.pool.demo_tokens(&theirs).await.0,
        Kind::Garbage => "not-a-token".to_owned(),
        Kind::ExpiredAccess => {
            let mut claims = access_claims(&issuer(app), &mine, now - 7200);
            claims["jti"] = json!(format!("expired-{}", portal_auth_tests::unique_name("jti")));
            claims["origin_jti"] = claims["jti"].clone();
            SigningKey::cognito_local().mint(&claims)
        }
    }
}

async fn revoke(app: &TestApp, auth: Auth, token: &str, hint: Option<&str>) -> Answer {
    let mut form = format!("token={token}");
    if let Some(hint) = hint {
        form.push_str(&format!("&token_type_hint={hint}"));
    }
    match auth {
        Auth::Public => form.push_str(&format!("&client_id={}", app.pool.public_client_id)),
        Auth::ConfidentialPost => form.push_str(&format!(
            "&client_id={}&client_secret={}",
            app.pool.confidential_client_id, app.pool.confidential_client_secret
        )),
        Auth::ConfidentialBasic => {}
    }
    let request = form_post(REVOKE, &form);
    let request = match auth {
        Auth::ConfidentialBasic => app.as_confidential(request),
        _ => request,
    };
    app.call_token(request).await
}

/// A refresh at `/device/token`: whether Cognito still honours `refresh_token`.
async fn refreshes(app: &TestApp, auth: Auth, refresh_token: &str) -> bool {
    let form = format!(
        "grant_type=refresh_token&refresh_token={refresh_token}&client_id={}",
        client_id(app, auth)
    );
    let request = form_post("/prod/device/token", &form);
    let request = match auth {
        Auth::Public => request,
        _ => with_header(
            request,
            "authorization",
            &basic_auth(
                &app.pool.confidential_client_id,
                &app.pool.confidential_client_secret,
            ),
        ),
    };
    let answer = app.call_token(request).await;
    assert!(
        answer.status == 200 || answer.error() == "invalid_grant",
        "{answer:?}"
    );
    answer.status == 200
}

#[tokio::test]
async fn every_client_type_token_kind_and_hint_gets_the_rfcs_answer() {
    let app = spawn_app().await;
    let mut records = revocation_records(&app.table).await;
    assert_eq!(records, 0);
    for auth in CLIENTS {
        for kind in KINDS {
            for hint in HINTS {
                let case = format!("{auth:?} {kind:?} hint {hint:?}");
                let token = token(&app, auth, kind).await;
                if kind == Kind::ValidRefresh {
                    assert!(refreshes(&app, auth, &token).await, "{case}: usable before");
                }
                let answer = revoke(&app, auth, &token, hint).await;
                let now = revocation_records(&app.table).await;
                match kind {
                    Kind::OtherClientsAccess => {
                        assert_eq!(answer.status, 400, "{case}: {answer:?}");
                        assert_eq!(answer.error(), "invalid_request", "{case}");
                        assert_eq!(now, records, "{case}: nothing recorded");
                    }
                    Kind::ValidAccess => {
                        assert_eq!(answer.status, 200, "{case}: {answer:?}");
                        assert_eq!(now, records + 1, "{case}: the session is recorded");
                    }
                    Kind::ValidRefresh => {
                        assert_eq!(answer.status, 200, "{case}: {answer:?}");
                        assert!(
                            !refreshes(&app, auth, &token).await,
                            "{case}: revoked at Cognito"
                        );
                        assert_eq!(now, records, "{case}");
                    }
                    Kind::Garbage | Kind::ExpiredAccess => {
                        assert_eq!(answer.status, 200, "{case}: {answer:?}");
                        assert_eq!(now, records, "{case}: nothing to record");
                    }
                }
                if answer.status == 200 {
                    assert_eq!(answer.body, serde_json::Value::Null, "{case}: empty body");
                    assert_eq!(answer.cache_control.as_deref(), Some("no-store"), "{case}");
                }
                records = now;
            }
        }
    }
}

#[tokio::test]
async fn revoking_twice_is_a_200_and_one_record() {
    let app = spawn_app().await;
    let (access, _, refresh) = app.pool.demo_tokens(&app.pool.public_client_id).await;
    for _ in 0..2 {
        assert_eq!(revoke(&app, Auth::Public, &access, None).await.status, 200);
        assert_eq!(revoke(&app, Auth::Public, &refresh, None).await.status, 200);
    }
    assert_eq!(revocation_records(&app.table).await, 1);
}

#[tokio::test]
async fn a_failed_client_authentication_revokes_nothing() {
    let app = spawn_app().await;
    let confidential = app.pool.confidential_client_id.clone();
    let (access, _, refresh) = app.pool.demo_tokens(&confidential).await;
    let attempts = [
        format!("client_id={confidential}"),
        format!("client_id={confidential}&client_secret=wrong-secret"),
        "client_id=unknownclient123".to_owned(),
    ];
    for token in [&access, &refresh] {
        for credentials in &attempts {
            let form = format!("token={token}&{credentials}");
            let answer = app.call_token(form_post(REVOKE, &form)).await;
            assert_eq!(answer.status, 401, "{credentials}: {answer:?}");
            assert_eq!(answer.error(), "invalid_client");
            assert!(answer.www_authenticate.is_some());
        }
    }
    let wrong_basic = with_header(
        form_post(REVOKE, &format!("token={access}")),
        "authorization",
        &basic_auth(&confidential, "wrong-secret"),
    );
    assert_eq!(app.call_token(wrong_basic).await.error(), "invalid_client");
    assert_eq!(revocation_records(&app.table).await, 0, "nothing recorded");
    assert!(
        refreshes(&app, Auth::ConfidentialBasic, &refresh).await,
        "still honoured"
    );
}

#[tokio::test]
async fn malformed_requests_get_oauth_errors_and_revoke_nothing() {
    let app = spawn_app().await;
    let public = app.pool.public_client_id.clone();
    let (access, _, _) = app.pool.demo_tokens(&public).await;
    for form in [
        format!("client_id={public}"),
        format!("client_id={public}&token="),
        format!("client_id={public}&token={access}&token={access}"),
    ] {
        let answer = app.call_token(form_post(REVOKE, &form)).await;
        assert_eq!(answer.status, 400, "{form}: {answer:?}");
        assert_eq!(answer.error(), "invalid_request", "{form}");
    }
    let json_body = portal_auth_tests::app::request(
        "POST",
        REVOKE,
        Some("application/json"),
        lambda_http::Body::Text(format!(r#"{{"token":"{access}","client_id":"{public}"}}"#)),
    );
    let answer = app.call_token(json_body).await;
    assert_eq!(answer.status, 415, "as at /device/token: {answer:?}");
    assert_eq!(answer.error(), "invalid_request");
    assert_eq!(revocation_records(&app.table).await, 0);
}

#[tokio::test]
async fn the_metadata_advertises_the_revocation_endpoint() {
    let app = spawn_app().await;
    let answer = app
        .call_device_code(portal_auth_tests::app::request(
            "GET",
            "/prod/.well-known/oauth-authorization-server",
            None,
            lambda_http::Body::Empty,
        ))
        .await;
    assert_eq!(answer.status, 200);
    let base = answer.body["issuer"].as_str().unwrap().to_owned();
    assert_eq!(
        answer.body["revocation_endpoint"],
        format!("{base}/device/revoke")
    );
    assert_eq!(
        answer.body["revocation_endpoint_auth_methods_supported"],
        json!(["none", "client_secret_basic", "client_secret_post"])
    );
}
