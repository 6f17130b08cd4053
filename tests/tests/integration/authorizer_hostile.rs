//! The hostile-token suite: every case is a named test, and every one must end in 401 (REST:
//! the error `Unauthorized`; HTTP API: `isAuthorized: false`) for the reason named in its row.
//!
//! Each test gets its own cognito-local pool and a fresh authorizer configured like `make dev`
//! (the pool's issuer and JWKS, the public app client only). Before the hostile token, the
//! runner proves the setup accepts the genuine article (the demo user's real access token, and
//! a token minted with the same key and baseline claims), so no case can pass because the setup
//! itself was broken. An attacker's JWKS endpoint is running throughout, and must never be
//! contacted.
//!
//! Rows marked `aws` run against an AWS-shaped configuration instead: pool
//! `eu-west-1_PortalPool`, issuers derived from it (both of Cognito's formats, ORIGINAL
//! `https://cognito-idp.eu-west-1.amazonaws.com/…` and UPDATED
//! `https://issuer-cognito-idp.eu-west-1.amazonaws.com/…`), keys from the cognito-local pool's
//! JWKS.

use std::sync::Arc;

use authorizer::claims::{LEEWAY_SECONDS, MAX_LIFETIME_SECONDS};
use authorizer::{Authorizer, Clock, Config, ManualClock, Rejection, bearer::MAX_TOKEN_BYTES};
use aws_lc_rs::signature;
use portal_auth_runtime::Env;
use portal_auth_tests::authorizer_support::*;
use serde_json::{Value, json};

const AWS_POOL: &str = "eu-west-1_PortalPool";

struct Ctx {
    local: LocalPool,
    now: i64,
    /// The issuer the authorizer under test accepts.
    issuer: String,
    /// An attacker's key, and a JWKS endpoint serving it.
    attacker: SigningKey,
    attacker_jwks: JwksServer,
    authorizer: Authorizer,
}

#[derive(Clone, Copy)]
enum Setup {
    Local,
    Aws,
}

impl Ctx {
    async fn new(setup: Setup) -> Self {
        let local = LocalPool::create().await;
        let clock = Arc::new(ManualClock::starting_now());
        let config = match setup {
            Setup::Local => local.config(&[], &[]),
            Setup::Aws => aws_config(&local),
        };
        let issuer = config.issuers[0].clone();
        let attacker = SigningKey::generate(COGNITO_LOCAL_KID);
        let attacker_jwks = JwksServer::serving(&[&attacker]);
        let authorizer = build_authorizer(config, clock.clone()).await;
        Self {
            now: clock.unix_seconds(),
            local,
            issuer,
            attacker,
            attacker_jwks,
            authorizer,
        }
    }

    /// Baseline claims this setup accepts.
    fn claims(&self) -> Value {
        access_claims(&self.issuer, &self.local.pool.public_client_id, self.now)
    }

    fn with(&self, key: &str, value: Value) -> Value {
        let mut claims = self.claims();
        claims[key] = value;
        claims
    }

    fn without(&self, key: &str) -> Value {
        let mut claims = self.claims();
        claims.as_object_mut().expect("object").remove(key);
        claims
    }

    fn key(&self) -> &SigningKey {
        &self.local.key
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    /// A genuine token, minted with the pool's key over baseline claims.
    fn minted(&self) -> String {
        self.key().mint(&self.claims())
    }

    /// The genuine header with some members changed.
    fn header_with(&self, changes: Value) -> Value {
        let mut header = self.key().header();
        for (k, v) in changes.as_object().expect("object") {
            header[k] = v.clone();
        }
        header
    }

    fn signature_of(token: &str) -> &str {
        token.rsplit('.').next().expect("three parts")
    }
}

fn aws_config(local: &LocalPool) -> Config {
    Config::from_env(&Env::from_pairs([
        ("COGNITO_USER_POOL_ID", AWS_POOL),
        ("COGNITO_JWKS_URL", local.jwks_url.as_str()),
        (
            "AUTHORIZER_CLIENT_IDS",
            local.pool.public_client_id.as_str(),
        ),
    ]))
    .expect("AWS-shaped configuration")
}

async fn run(setup: Setup, expected: Rejection, hostile: impl FnOnce(&Ctx) -> String) {
    let ctx = Ctx::new(setup).await;
    // The setup accepts the genuine article.
    if let Setup::Local = setup {
        let real = Ctx::bearer(&ctx.local.access_token);
        assert!(
            is_allow(&ctx.authorizer.decide(Some(&real)).await),
            "real token refused"
        );
    }
    let genuine = Ctx::bearer(&ctx.minted());
    assert!(
        is_allow(&ctx.authorizer.decide(Some(&genuine)).await),
        "minted token refused"
    );
    // The hostile one is refused, for its reason, in every event shape.
    let authorization = hostile(&ctx);
    assert_eq!(
        ctx.authorizer.decide(Some(&authorization)).await,
        authorizer::Outcome::Unauthorized(expected)
    );
    assert_unauthorized_everywhere(&ctx.authorizer, &authorization).await;
    assert_eq!(
        ctx.attacker_jwks.hits(),
        0,
        "the attacker's JWKS was fetched"
    );
}

/// A pool switched to the UPDATED issuer type keeps working with the default configuration,
/// in every event shape, and the original format still passes beside it.
#[tokio::test]
async fn the_updated_issuer_of_the_configured_pool_passes() {
    let ctx = Ctx::new(Setup::Aws).await;
    let updated = format!("https://issuer-cognito-idp.eu-west-1.amazonaws.com/{AWS_POOL}");
    assert_eq!(
        ctx.issuer,
        format!("https://cognito-idp.eu-west-1.amazonaws.com/{AWS_POOL}")
    );
    for iss in [updated.as_str(), ctx.issuer.as_str()] {
        let token = Ctx::bearer(&ctx.key().mint(&ctx.with("iss", json!(iss))));
        assert!(
            is_allow(&ctx.authorizer.decide(Some(&token)).await),
            "{iss}"
        );
        assert_allowed_everywhere(&ctx.authorizer, &token).await;
    }
    assert_eq!(ctx.attacker_jwks.hits(), 0);
}

macro_rules! hostile {
    ($($name:ident: $setup:ident, $expected:ident, $hostile:expr;)+) => {$(
        #[tokio::test]
        async fn $name() {
            run(Setup::$setup, Rejection::$expected, $hostile).await;
        }
    )+};
}

hostile! {
    // alg "none", in every case, with the empty signature it calls for, and with a real one.
    alg_none_with_empty_signature: Local, Segments,
        |c| Ctx::bearer(&unsigned(&json!({"alg": "none", "typ": "JWT"}), &c.claims(), ""));
    alg_capitalised_none_with_empty_signature: Local, Segments,
        |c| Ctx::bearer(&unsigned(&json!({"alg": "None"}), &c.claims(), ""));
    alg_upper_none_with_empty_signature: Local, Segments,
        |c| Ctx::bearer(&unsigned(&json!({"alg": "NONE"}), &c.claims(), ""));
    alg_none_with_kid_and_a_genuine_signature: Local, Algorithm,
        |c| Ctx::bearer(&unsigned(
            &c.header_with(json!({"alg": "none"})),
            &c.claims(),
            Ctx::signature_of(&c.minted()),
        ));
    alg_upper_none_with_kid_and_a_genuine_signature: Local, Algorithm,
        |c| Ctx::bearer(&unsigned(
            &c.header_with(json!({"alg": "NONE"})),
            &c.claims(),
            Ctx::signature_of(&c.minted()),
        ));
    rs256_with_empty_signature: Local, Segments,
        |c| Ctx::bearer(&unsigned(&c.key().header(), &c.claims(), ""));
    // HS256 keyed with the pool's RSA public key, in the forms a naive verifier might use.
    hs256_keyed_with_the_public_key_pem: Local, Algorithm,
        |c| Ctx::bearer(&mint_hs256(
            c.key().spki_pem().as_bytes(),
            &c.header_with(json!({"alg": "HS256"})),
            &c.claims(),
        ));
    hs256_keyed_with_the_public_key_der: Local, Algorithm,
        |c| Ctx::bearer(&mint_hs256(
            &c.key().spki_der(),
            &c.header_with(json!({"alg": "HS256"})),
            &c.claims(),
        ));
    // Other algorithms, each with a signature that is valid for its own algorithm.
    rs384_header_signed_rs384_by_the_pool_key: Local, Algorithm,
        |c| Ctx::bearer(&c.key().mint_with(
            &signature::RSA_PKCS1_SHA384,
            &c.header_with(json!({"alg": "RS384"})),
            &c.claims(),
        ));
    ps256_header_signed_pss_by_the_pool_key: Local, Algorithm,
        |c| Ctx::bearer(&c.key().mint_with(
            &signature::RSA_PSS_SHA256,
            &c.header_with(json!({"alg": "PS256"})),
            &c.claims(),
        ));
    es256_header_signed_es256: Local, Algorithm,
        |c| Ctx::bearer(&mint_es256(&c.header_with(json!({"alg": "ES256"})), &c.claims()));
    lowercase_rs256: Local, Algorithm,
        |c| Ctx::bearer(&c.key().mint_with_header(&c.header_with(json!({"alg": "rs256"})), &c.claims()));
    // Tampering.
    payload_altered_under_the_old_signature: Local, Signature,
        |c| {
            let real = &c.local.access_token;
            let mut parts: Vec<String> = real.split('.').map(str::to_owned).collect();
            let mut claims: Value = serde_json::from_slice(
                &base64_decode(&parts[1]),
            ).expect("real claims");
            claims["cognito:groups"] = json!(["portal-users", "admins"]);
            parts[1] = b64_json(&claims);
            Ctx::bearer(&parts.join("."))
        };
    truncated_signature: Local, Signature,
        |c| {
            let real = &c.local.access_token;
            let (input, signature) = real.rsplit_once('.').expect("three parts");
            let bytes = base64_decode(signature);
            Ctx::bearer(&format!("{input}.{}", b64(&bytes[..bytes.len() - 8])))
        };
    signature_of_another_token: Local, Signature,
        |c| {
            let other = c.key().mint(&c.with("username", json!("someone-else")));
            let genuine = c.minted();
            let (input, _) = genuine.rsplit_once('.').expect("three parts");
            Ctx::bearer(&format!("{input}.{}", Ctx::signature_of(&other)))
        };
    // Encoding and structure.
    standard_base64_alphabet_in_header: Local, Base64,
        |c| {
            let token = c.minted();
            let (header, rest) = token.split_once('.').expect("parts");
            Ctx::bearer(&format!("{}+.{rest}", &header[..header.len() - 1]))
        };
    padded_signature: Local, Base64,
        |c| Ctx::bearer(&format!("{}==", c.minted()));
    garbage_header_bytes: Local, Header,
        |c| Ctx::bearer(&format!("{}.{}", b64(b"\xff\xfe{not json"), c.minted().split_once('.').expect("parts").1));
    two_segments: Local, Segments,
        |c| Ctx::bearer(c.minted().rsplit_once('.').expect("parts").0);
    four_segments: Local, Segments,
        |c| Ctx::bearer(&format!("{}.{}", c.minted(), b64(b"extra")));
    // kid.
    missing_kid: Local, MissingKid,
        |c| Ctx::bearer(&c.key().mint_with_header(&json!({"alg": "RS256", "typ": "JWT"}), &c.claims()));
    unknown_kid: Local, UnknownKid,
        |c| Ctx::bearer(&c.key().mint_with_header(&c.header_with(json!({"kid": "no-such-key"})), &c.claims()));
    kid_not_a_string: Local, Header,
        |c| Ctx::bearer(&c.key().mint_with_header(&c.header_with(json!({"kid": 1})), &c.claims()));
    kid_10_kib_long: Local, TooLarge,
        |c| Ctx::bearer(&c.key().mint_with_header(&c.header_with(json!({"kid": "k".repeat(10 * 1024)})), &c.claims()));
    kid_1_kib_long_under_the_size_bound: Local, KidTooLong,
        |c| Ctx::bearer(&c.key().mint_with_header(&c.header_with(json!({"kid": "k".repeat(1024)})), &c.claims()));
    // Key-carrying headers pointing at the attacker's key, signed by the attacker, with the
    // pool's real kid: trusting any of them would verify.
    jku_pointing_at_the_attackers_jwks: Local, Signature,
        |c| Ctx::bearer(&c.attacker.mint_with_header(
            &c.header_with(json!({"jku": c.attacker_jwks.url})),
            &c.claims(),
        ));
    x5u_pointing_at_the_attackers_key: Local, Signature,
        |c| Ctx::bearer(&c.attacker.mint_with_header(
            &c.header_with(json!({"x5u": c.attacker_jwks.url})),
            &c.claims(),
        ));
    jwk_embedding_the_attackers_key: Local, Signature,
        |c| Ctx::bearer(&c.attacker.mint_with_header(
            &c.header_with(json!({"jwk": c.attacker.public_jwk()})),
            &c.claims(),
        ));
    x5c_carrying_the_attackers_key: Local, Signature,
        |c| Ctx::bearer(&c.attacker.mint_with_header(
            &c.header_with(json!({"x5c": [base64::Engine::encode(&base64::engine::general_purpose::STANDARD, c.attacker.spki_der())]})),
            &c.claims(),
        ));
    signed_by_a_different_key_with_the_right_kid: Local, Signature,
        |c| Ctx::bearer(&c.attacker.mint(&c.claims()));
    unknown_crit_extension: Local, Crit,
        |c| Ctx::bearer(&c.key().mint_with_header(
            &c.header_with(json!({"crit": ["exp"], "exp": 0})),
            &c.claims(),
        ));
    // Time.
    expired: Local, Expired,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(c.now - 10))));
    expired_within_jsonwebtokens_default_leeway: Local, Expired,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(c.now - 30))));
    exp_missing: Local, MissingExpiry,
        |c| Ctx::bearer(&c.key().mint(&c.without("exp")));
    exp_a_string: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!((c.now + 3600).to_string()))));
    nbf_in_the_future: Local, NotYetValid,
        |c| Ctx::bearer(&c.key().mint(&c.with("nbf", json!(c.now + 60))));
    iat_in_the_future: Local, IssuedInFuture,
        |c| Ctx::bearer(&c.key().mint(&c.with("iat", json!(c.now + 3600))));
    // Regression (issue 9, item 2): time claims written as floats were floored and saturated
    // into an i64, so `"exp": 1e19` or `1e300` became i64::MAX and never expired (while the
    // same integer was refused), a fractional `exp` was rounded, a huge negative `nbf` became
    // i64::MIN. Only integers (or floats that are exact integers) from 0 to the year 9999 are
    // NumericDates now, and `exp` may not lie further after `iat` (or now) than a Cognito
    // access token lives.
    exp_1e19_as_a_float: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(1e19))));
    exp_1e300_as_a_float: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(1e300))));
    exp_1_5: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(1.5))));
    exp_fractional_an_hour_ahead: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(c.now as f64 + 3600.5))));
    exp_negative: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(-1))));
    exp_i64_max_integer: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(i64::MAX))));
    exp_a_json_string_of_1e19: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!("1e19"))));
    exp_a_year_after_iat: Local, LifetimeTooLong,
        |c| Ctx::bearer(&c.key().mint(&c.with("exp", json!(c.now - 60 + 365 * 86_400))));
    exp_just_past_the_lifetime_bound_after_iat: Local, LifetimeTooLong,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "exp",
            json!(c.now - 60 + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS + 1),
        )));
    exp_a_year_ahead_without_iat: Local, LifetimeTooLong,
        |c| {
            let mut claims = c.without("iat");
            claims["exp"] = json!(c.now + 365 * 86_400);
            Ctx::bearer(&c.key().mint(&claims))
        };
    nbf_minus_1e300: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("nbf", json!(-1e300))));
    nbf_fractional: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("nbf", json!(c.now as f64 - 59.5))));
    iat_1e300: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("iat", json!(1e300))));
    iat_negative: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("iat", json!(-1))));
    auth_time_a_string: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("auth_time", json!((c.now - 60).to_string()))));
    auth_time_1e300: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("auth_time", json!(1e300))));
    auth_time_fractional: Local, Claims,
        |c| Ctx::bearer(&c.key().mint(&c.with("auth_time", json!(c.now as f64 - 60.25))));
    // Issuer.
    iss_of_another_pool: Local, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(format!("{}/local_0therPool", c.local.pool.endpoint)),
        )));
    iss_with_a_trailing_slash: Local, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with("iss", json!(format!("{}/", c.issuer)))));
    iss_on_another_host_spelling: Local, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(c.issuer.replace("127.0.0.1", "localhost")),
        )));
    iss_missing: Local, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.without("iss")));
    iss_of_another_region: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(format!("https://cognito-idp.us-east-1.amazonaws.com/{AWS_POOL}")),
        )));
    iss_of_another_aws_pool: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"),
        )));
    iss_with_a_trailing_slash_aws: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with("iss", json!(format!("{}/", c.issuer)))));
    // Cognito's UPDATED issuer format: only the configured pool's, in its region, exactly.
    iss_updated_format_of_another_aws_pool: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!("https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"),
        )));
    iss_updated_format_of_another_region: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(format!("https://issuer-cognito-idp.us-east-1.amazonaws.com/{AWS_POOL}")),
        )));
    iss_updated_format_on_a_lookalike_host: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(format!("https://issuer-cognito-idp.eu-west-1.amazonaws.com.evil.example/{AWS_POOL}")),
        )));
    iss_updated_format_with_a_dash_for_the_dot: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(format!("https://issuer-cognito-idp-eu-west-1.amazonaws.com/{AWS_POOL}")),
        )));
    iss_updated_format_under_another_host: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(format!("https://evil.example/issuer-cognito-idp.eu-west-1.amazonaws.com/{AWS_POOL}")),
        )));
    iss_updated_format_over_http: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(format!("http://issuer-cognito-idp.eu-west-1.amazonaws.com/{AWS_POOL}")),
        )));
    iss_updated_format_in_upper_case: Aws, Issuer,
        |c| Ctx::bearer(&c.key().mint(&c.with(
            "iss",
            json!(format!("https://ISSUER-COGNITO-IDP.eu-west-1.amazonaws.com/{AWS_POOL}")),
        )));
    // The UPDATED issuer is no way around the keys: signed by the attacker, it is refused
    // without the attacker's JWKS ever being asked.
    iss_updated_format_signed_by_the_attacker: Aws, Signature,
        |c| Ctx::bearer(&c.attacker.mint(&c.with(
            "iss",
            json!(format!("https://issuer-cognito-idp.eu-west-1.amazonaws.com/{AWS_POOL}")),
        )));
    // Token use and client.
    real_id_token_used_as_access_token: Local, NotAccessToken,
        |c| Ctx::bearer(&c.local.id_token);
    minted_id_token_use: Local, NotAccessToken,
        |c| Ctx::bearer(&c.key().mint(&c.with("token_use", json!("id"))));
    another_clients_real_access_token: Local, ClientNotAllowed,
        |c| Ctx::bearer(&c.local.other_client_access_token);
    client_id_missing_with_aud_instead: Local, MissingSubject,
        |c| {
            let mut claims = c.without("client_id");
            claims["aud"] = json!(c.local.pool.public_client_id);
            Ctx::bearer(&c.key().mint(&claims))
        };
    // Size.
    oversized_token: Local, TooLarge,
        |c| Ctx::bearer(&c.key().mint(&c.with("padding", json!("p".repeat(MAX_TOKEN_BYTES)))));
    // The Authorization header itself.
    token_without_bearer_scheme: Local, NotBearer,
        |c| c.minted();
    basic_scheme: Local, NotBearer,
        |_| "Basic ZGVtbzpwYXNzd29yZA==".to_owned();
    two_tokens_after_bearer: Local, MalformedBearer,
        |c| format!("Bearer {} {}", c.minted(), c.minted());
    two_bearer_credentials_comma_joined: Local, MalformedBearer,
        |c| format!("Bearer {}, Bearer {}", c.minted(), c.minted());
    empty_authorization: Local, MissingAuthorization,
        |_| String::new();
    bearer_with_nothing_after_it: Local, NotBearer,
        |_| "Bearer ".to_owned();
}

/// Decision (issue 9, item 2): a time claim written as a float that is an exact integer in
/// range (`1800003600.0`, `1.8e9`) names the same second as the integer, so it is accepted;
/// Cognito itself writes integers. The same token one second past the lifetime bound is not.
#[tokio::test]
async fn time_claims_written_as_exact_integer_floats_are_accepted() {
    let ctx = Ctx::new(Setup::Local).await;
    let genuine = Ctx::bearer(&ctx.minted());
    assert!(is_allow(&ctx.authorizer.decide(Some(&genuine)).await));
    let mut claims = ctx.claims();
    for (name, value) in [
        ("exp", ctx.now + 3600),
        ("iat", ctx.now - 60),
        ("nbf", ctx.now - 60),
        ("auth_time", ctx.now - 60),
    ] {
        claims[name] = json!(value as f64);
    }
    let payload = serde_json::to_string(&claims).expect("JSON");
    assert!(
        payload.contains(&format!("\"exp\":{}.0", ctx.now + 3600)),
        "the claims carry floats: {payload}"
    );
    let floats = Ctx::bearer(&ctx.key().mint(&claims));
    assert_allowed_everywhere(&ctx.authorizer, &floats).await;
    // At the bound (iat + lifetime + leeway) still accepted, one second later refused.
    let iat = ctx.now - 60;
    claims["exp"] = json!((iat + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS) as f64);
    let at_bound = Ctx::bearer(&ctx.key().mint(&claims));
    assert_allowed_everywhere(&ctx.authorizer, &at_bound).await;
    claims["exp"] = json!((iat + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS + 1) as f64);
    let past_bound = Ctx::bearer(&ctx.key().mint(&claims));
    assert_eq!(
        ctx.authorizer.decide(Some(&past_bound)).await,
        authorizer::Outcome::Unauthorized(Rejection::LifetimeTooLong)
    );
    assert_unauthorized_everywhere(&ctx.authorizer, &past_bound).await;
}

fn base64_decode(part: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url")
}

/// Two `Authorization` headers on one REST REQUEST: ambiguous, refused, even when both
/// carry the same genuine token.
#[tokio::test]
async fn two_authorization_headers_on_a_rest_request() {
    let ctx = Ctx::new(Setup::Local).await;
    let genuine = Ctx::bearer(&ctx.local.access_token);
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/authorizer/rest-request.json"
        ))
        .expect("fixture"),
    )
    .expect("JSON");
    event["headers"]["Authorization"] = json!(genuine);
    event["multiValueHeaders"]["Authorization"] = json!([genuine, genuine]);
    let event = serde_json::from_value(event).expect("event");
    assert_eq!(
        ctx.authorizer.handle(&event).await.unwrap_err(),
        authorizer::Unauthorized
    );
}

/// No `Authorization` at all, in each shape.
#[tokio::test]
async fn no_authorization_header() {
    let ctx = Ctx::new(Setup::Local).await;
    for name in SHAPES {
        let mut event: Value = serde_json::from_str(
            &std::fs::read_to_string(format!(
                "{}/fixtures/authorizer/{name}.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("fixture"),
        )
        .expect("JSON");
        let object = event.as_object_mut().expect("object");
        object.remove("authorizationToken");
        for map in ["headers", "multiValueHeaders"] {
            if let Some(headers) = object.get_mut(map).and_then(Value::as_object_mut) {
                headers.retain(|k, _| !k.eq_ignore_ascii_case("authorization"));
            }
        }
        let event = serde_json::from_value(event).expect("event");
        let answer = ctx.authorizer.handle(&event).await;
        match name {
            "http-api-v2" => assert_eq!(
                serde_json::to_value(answer.expect("answer")).expect("JSON"),
                json!({"isAuthorized": false})
            ),
            _ => assert_eq!(answer.unwrap_err(), authorizer::Unauthorized, "{name}"),
        }
    }
}
