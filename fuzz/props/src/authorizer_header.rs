//! Target `authorizer_header`: an `Authorization` value through the whole decision —
//! bearer syntax, JWS split, header, key, signature, claims, client, rules —
//! [`authorizer::Authorizer::decide`], with the fixed JWKS preloaded (the JWKS URL is a closed
//! port on 127.0.0.1, so an unknown `kid` fetches nothing) and a fixed clock.
//!
//! Property: an authenticated outcome (Allow, or a 403 Deny) only for a token that the
//! independent check ([`crate::signing::genuinely_signed`]) finds signed by the fixed key and
//! valid; every other input is `Unauthorized`, never a panic.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use authorizer::{Authorizer, Config, ManualClock, Options, Outcome};

use crate::signing::{self, CLIENT_ID, ISSUER, REQUIRED_SCOPE};

/// A few rules, so that route-dependent verdicts are exercised by the event target.
const RULES: &str = "POST,DELETE /api/admin/* groups=portal-admins; GET /public/* public; \
                     * /blocked deny";

static AUTHORIZER: LazyLock<Authorizer> = LazyLock::new(|| {
    let config = Config {
        issuers: vec![ISSUER.into()],
        // Nothing listens there: keys come from the preloaded JWKS only.
        jwks_url: "http://127.0.0.1:9/jwks.json".into(),
        client_ids: vec![CLIENT_ID.into()],
        required_scopes: vec![REQUIRED_SCOPE.into()],
        required_groups: Vec::new(),
        rules: authorizer::rules::parse::parse(RULES).expect("the fixed rules"),
        api_key_clients: authorizer::ApiKeyClients::Refuse,
        revocations: None,
    };
    let options = Options::default()
        .with_clock(Arc::new(ManualClock::new(signing::NOW_MS)))
        // No cache: every input is judged on its own, whatever came before it.
        .with_verified_cache(0)
        .with_http_timeout(Duration::from_millis(200));
    let authorizer = Authorizer::new(config, options).expect("the fixed authorizer");
    authorizer
        .preload_jwks(&signing::jwks())
        .expect("the fixed JWKS");
    authorizer
});

/// The fixed authorizer both authorizer targets decide with.
pub(crate) fn authorizer() -> &'static Authorizer {
    &AUTHORIZER
}

pub fn check_authorizer_header(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    match crate::block_on(authorizer().decide(Some(&header))) {
        Outcome::Allow(token) | Outcome::Deny(token, _) => {
            assert!(
                signing::genuinely_signed(&header),
                "authenticated an Authorization value that is not a genuinely signed token: {header:?}"
            );
            assert_eq!(token.client_id, CLIENT_ID);
        }
        Outcome::Unauthorized(_) => {}
        Outcome::ApiKey => panic!("a bare Authorization value was taken for an API key"),
    }
}
