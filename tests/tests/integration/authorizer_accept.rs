//! What the authorizer accepts, against a real cognito-local pool: the demo user's real access
//! token in all three event shapes, and tokens minted with cognito-local's own key carrying
//! the custom scopes and groups cognito-local never issues, checked against required scopes
//! and groups (any-of): a valid token lacking them is an explicit Deny (403), not a 401.

use std::sync::Arc;

use authorizer::{Clock, Config, ManualClock, Outcome};
use portal_auth_runtime::Env;
use portal_auth_tests::authorizer_support::*;
use portal_auth_tests::cognito::DEMO_GROUP;
use serde_json::{Value, json};

const REQUIRED_SCOPES: [&str; 2] = ["portal/read", "portal/admin"];
const REQUIRED_GROUPS: [&str; 2] = [DEMO_GROUP, "admins"];

fn claims_with(pool: &LocalPool, now: i64, scope: &str, groups: Option<&[&str]>) -> Value {
    let mut claims = pool.claims(now);
    claims["scope"] = json!(scope);
    match groups {
        Some(groups) => claims["cognito:groups"] = json!(groups),
        None => {
            claims
                .as_object_mut()
                .expect("object")
                .remove("cognito:groups");
        }
    }
    claims
}

#[tokio::test]
async fn the_demo_users_real_access_token_is_allowed_in_every_shape() {
    let pool = LocalPool::create().await;
    let clock = Arc::new(ManualClock::starting_now());
    let authorizer = build_authorizer(pool.config(&[], &[]), clock).await;
    let contexts =
        assert_allowed_everywhere(&authorizer, &format!("Bearer {}", pool.access_token)).await;
    for context in contexts {
        assert_eq!(context["username"], "demo");
        assert_eq!(context["client_id"], json!(pool.pool.public_client_id));
        assert_eq!(context["scope"], "aws.cognito.signin.user.admin");
        assert_eq!(context["groups"], format!(r#"["{DEMO_GROUP}"]"#));
        assert!(
            context["sub"].as_str().is_some_and(|s| s.len() >= 10),
            "{context}"
        );
    }
}

#[tokio::test]
async fn the_real_token_lacking_a_required_scope_is_denied_not_unauthorized() {
    let pool = LocalPool::create().await;
    let clock = Arc::new(ManualClock::starting_now());
    let authorizer = build_authorizer(pool.config(&REQUIRED_SCOPES, &[]), clock).await;
    assert_denied_everywhere(&authorizer, &format!("Bearer {}", pool.access_token)).await;
}

#[tokio::test]
async fn the_real_token_passes_a_group_requirement_it_meets() {
    let pool = LocalPool::create().await;
    let clock = Arc::new(ManualClock::starting_now());
    let authorizer = build_authorizer(pool.config(&[], &REQUIRED_GROUPS), clock).await;
    assert_allowed_everywhere(&authorizer, &format!("Bearer {}", pool.access_token)).await;
}

#[tokio::test]
async fn minted_tokens_with_custom_scopes_and_groups_meet_the_any_of_rules() {
    let pool = LocalPool::create().await;
    let clock = Arc::new(ManualClock::starting_now());
    let now = clock.unix_seconds();
    let authorizer = build_authorizer(pool.config(&REQUIRED_SCOPES, &REQUIRED_GROUPS), clock).await;
    let allowed: [(&str, &[&str]); 3] = [
        ("openid portal/read", &[DEMO_GROUP]),
        ("portal/admin", &["guests", "admins"]),
        ("email portal/read portal/admin", &[DEMO_GROUP, "admins"]),
    ];
    for (scope, groups) in allowed {
        let token = pool.key.mint(&claims_with(&pool, now, scope, Some(groups)));
        let contexts = assert_allowed_everywhere(&authorizer, &format!("Bearer {token}")).await;
        assert_eq!(contexts[0]["scope"], scope);
        assert_eq!(contexts[0]["groups"], json!(groups).to_string());
    }
}

/// Regression (issue 9, item 1): the context's `groups` used to be the groups joined with ","
/// and routes were told to split on ","; a token whose `cognito:groups` is
/// `["x,portal-admins"]` reached the route looking like a member of `portal-admins`. It is now
/// the list as a JSON array in a string, in all three shapes, so a comma, a quote or a
/// backslash in a group name stays inside that name.
#[tokio::test]
async fn a_group_name_cannot_forge_another_group_in_the_context() {
    let pool = LocalPool::create().await;
    let clock = Arc::new(ManualClock::starting_now());
    let now = clock.unix_seconds();
    let authorizer = build_authorizer(pool.config(&[], &[]), clock).await;
    let cases: [(&[&str], &str); 5] = [
        (&["x,portal-admins"], r#"["x,portal-admins"]"#),
        (&[r#"x","portal-admins"#], r#"["x\",\"portal-admins"]"#),
        (&[r#"x\"#, "portal-admins"], r#"["x\\","portal-admins"]"#),
        (&[DEMO_GROUP, "a b"], r#"["portal-users","a b"]"#),
        (&[], "[]"),
    ];
    for (groups, encoded) in cases {
        let token = pool
            .key
            .mint(&claims_with(&pool, now, "openid", Some(groups)));
        let contexts = assert_allowed_everywhere(&authorizer, &format!("Bearer {token}")).await;
        for (shape, context) in SHAPES.iter().zip(&contexts) {
            assert_eq!(context["groups"], encoded, "{shape}: {groups:?}");
            let decoded: Vec<String> = serde_json::from_str(encoded).expect("a JSON array");
            assert_eq!(decoded, groups, "{shape}");
        }
    }
    // No `cognito:groups` at all: the empty list, not an empty string.
    let token = pool.key.mint(&claims_with(&pool, now, "openid", None));
    let contexts = assert_allowed_everywhere(&authorizer, &format!("Bearer {token}")).await;
    for context in contexts {
        assert_eq!(context["groups"], "[]");
    }
    // The authorizer's own group rule was never fooled, and still is not.
    let admins = build_authorizer(
        pool.config(&[], &["portal-admins"]),
        Arc::new(ManualClock::starting_now()),
    )
    .await;
    let token = pool.key.mint(&claims_with(
        &pool,
        now,
        "openid",
        Some(&["x,portal-admins"]),
    ));
    assert_denied_everywhere(&admins, &format!("Bearer {token}")).await;
}

#[tokio::test]
async fn minted_tokens_lacking_every_required_scope_or_group_are_denied() {
    let pool = LocalPool::create().await;
    let clock = Arc::new(ManualClock::starting_now());
    let now = clock.unix_seconds();
    let authorizer = build_authorizer(pool.config(&REQUIRED_SCOPES, &REQUIRED_GROUPS), clock).await;
    let denied: [(&str, Option<&[&str]>); 5] = [
        ("openid portal/write", Some(&[DEMO_GROUP])),
        ("portal/reader", Some(&[DEMO_GROUP])),
        ("", Some(&[DEMO_GROUP])),
        ("portal/read", Some(&["guests"])),
        ("portal/read", None),
    ];
    for (scope, groups) in denied {
        let token = pool.key.mint(&claims_with(&pool, now, scope, groups));
        assert_denied_everywhere(&authorizer, &format!("Bearer {token}")).await;
    }
}

#[tokio::test]
async fn the_issuer_defaults_to_cognitos_for_the_pool_id() {
    let pool = LocalPool::create().await;
    let config = Config::from_env(&Env::from_pairs([
        ("COGNITO_USER_POOL_ID", "eu-west-1_PortalPool"),
        ("COGNITO_JWKS_URL", pool.jwks_url.as_str()),
        ("AUTHORIZER_CLIENT_IDS", pool.pool.public_client_id.as_str()),
    ]))
    .expect("config");
    let clock = Arc::new(ManualClock::starting_now());
    let now = clock.unix_seconds();
    let authorizer = build_authorizer(config, clock).await;
    let claims = access_claims(
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_PortalPool",
        &pool.pool.public_client_id,
        now,
    );
    let token = pool.key.mint(&claims);
    assert_allowed_everywhere(&authorizer, &format!("Bearer {token}")).await;
    // The cognito-local token's own issuer is not this pool's.
    let real = format!("Bearer {}", pool.access_token);
    assert_eq!(
        authorizer.decide(Some(&real)).await,
        Outcome::Unauthorized(authorizer::Rejection::Issuer)
    );
}

#[tokio::test]
async fn a_token_is_accepted_again_from_the_verified_cache_and_refused_once_expired() {
    let pool = LocalPool::create().await;
    let clock = Arc::new(ManualClock::starting_now());
    let now = clock.unix_seconds();
    let authorizer = build_authorizer(pool.config(&[], &[]), clock.clone()).await;
    let mut claims = pool.claims(now);
    claims["exp"] = json!(now + 120);
    let header = format!("Bearer {}", pool.key.mint(&claims));
    for _ in 0..3 {
        assert!(is_allow(&authorizer.decide(Some(&header)).await));
    }
    assert_eq!(authorizer.verified_cache_len(), 1);
    clock.advance(std::time::Duration::from_secs(125));
    assert_unauthorized_everywhere(&authorizer, &header).await;
}

#[tokio::test]
async fn a_token_minted_by_an_independent_jwt_library_with_cognito_locals_key_is_allowed() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let pool = LocalPool::create().await;
    let clock = Arc::new(ManualClock::starting_now());
    let now = clock.unix_seconds();
    let modules = portal_auth_tests::emulator_endpoint("PORTAL_TEST_NODE_MODULES");
    let path = format!("{modules}/cognito-local/lib/keys/cognitoLocal.private.json");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("key file")).expect("key JSON");
    let key =
        EncodingKey::from_rsa_pem(file["pem"].as_str().expect("pem").as_bytes()).expect("RSA key");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = file["jwk"]["kid"].as_str().map(str::to_owned);
    let claims = claims_with(&pool, now, "portal/read", Some(&[DEMO_GROUP]));
    let token = jsonwebtoken::encode(&header, &claims, &key).expect("encode");
    let authorizer = build_authorizer(pool.config(&REQUIRED_SCOPES, &REQUIRED_GROUPS), clock).await;
    assert_allowed_everywhere(&authorizer, &format!("Bearer {token}")).await;
}
