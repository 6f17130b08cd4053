//! The targets' one signing key and the independent check of "genuinely signed".
//!
//! `testdata/fuzz-only-signing-key.pem` was generated for these tests and signs nothing
//! else; its public half is the fixed JWKS the authorizer targets preload. [`genuinely_signed`]
//! judges a token with jsonwebtoken, not with the authorizer's own code, so the two would have
//! to be wrong the same way for a forged token to pass a target.

use std::sync::LazyLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

/// The pool the fixed authorizer accepts tokens of.
pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Fuzz0001";
pub const CLIENT_ID: &str = "fuzz-client";
pub const KID: &str = "fuzz-key-1";
/// The scope the fixed authorizer requires: tokens without it get a Deny, not an Allow.
pub const REQUIRED_SCOPE: &str = "portal/read";
/// The fixed clock (epoch milliseconds), so committed tokens never expire.
pub const NOW_MS: u64 = 1_800_000_000_000;
const NOW: i64 = (NOW_MS / 1000) as i64;
/// The authorizer's clock-skew allowance (`authorizer::claims::LEEWAY_SECONDS`).
const LEEWAY: i64 = authorizer::claims::LEEWAY_SECONDS;

const KEY_PEM: &str = include_str!("../testdata/fuzz-only-signing-key.pem");

struct Key {
    pair: KeyPair,
    n: String,
    e: String,
}

static KEY: LazyLock<Key> = LazyLock::new(|| {
    let body: String = KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).expect("the test key's PEM");
    let pair = KeyPair::from_pkcs8(&der).expect("the test key is PKCS#8 RSA");
    let public: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
    Key {
        n: URL_SAFE_NO_PAD.encode(&public.n),
        e: URL_SAFE_NO_PAD.encode(&public.e),
        pair,
    }
});

/// The fixed JWKS: the test key's public half under [`KID`].
pub fn jwks() -> Vec<u8> {
    let key = &*KEY;
    let jwk = json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": key.n, "e": key.e,
    });
    serde_json::to_vec(&json!({ "keys": [jwk] })).expect("JSON")
}

/// Claims the fixed authorizer allows: right issuer, client, use, scope and times.
pub fn valid_claims() -> Value {
    json!({
        "iss": ISSUER, "exp": NOW + 3600, "iat": NOW - 60, "token_use": "access",
        "sub": "fuzz-sub", "client_id": CLIENT_ID, "username": "fuzz",
        "scope": format!("openid {REQUIRED_SCOPE}"), "cognito:groups": ["portal-users"],
        "jti": "fuzz-jti", "origin_jti": "fuzz-origin",
    })
}

/// A compact RS256 token over `claims` with the fixed key and [`KID`] (seeds only).
pub fn mint(claims: &Value) -> String {
    mint_with_header(&json!({ "alg": "RS256", "kid": KID, "typ": "JWT" }), claims)
}

pub fn mint_with_header(header: &Value, claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
    let input = format!("{}.{}", b64(header), b64(claims));
    let key = &*KEY;
    let mut signature = vec![0; key.pair.public_modulus_len()];
    key.pair
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .expect("RSA signing");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Whether `authorization` (an `Authorization` value, or a REST TOKEN event's token) carries a
/// token that jsonwebtoken finds signed by the fixed key, with `alg` RS256 and [`KID`], and
/// whose claims say what an authenticated decision needs: [`ISSUER`], [`CLIENT_ID`], an
/// access token, unexpired at [`NOW_MS`]. The token is the last space- or tab-separated word:
/// looser than the authorizer's bearer syntax, which only makes this check stricter.
pub fn genuinely_signed(authorization: &str) -> bool {
    let Some(token) = authorization.split([' ', '\t']).rfind(|w| !w.is_empty()) else {
        return false;
    };
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return false;
    };
    if header.alg != Algorithm::RS256 || header.kid.as_deref() != Some(KID) {
        return false;
    }
    let Ok(key) = DecodingKey::from_rsa_components(&KEY.n, &KEY.e) else {
        return false;
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    // Times are judged against the fixed clock below, not the machine's.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    let Ok(data) = jsonwebtoken::decode::<Value>(token, &key, &validation) else {
        return false;
    };
    let claims = data.claims;
    let exp_ok = claims["exp"].as_i64().is_some_and(|exp| exp + LEEWAY > NOW);
    exp_ok && claims["token_use"] == "access" && claims["client_id"] == CLIENT_ID
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_independent_check_accepts_minted_tokens_and_nothing_altered() {
        let token = mint(&valid_claims());
        assert!(genuinely_signed(&format!("Bearer {token}")));
        let mut expired = valid_claims();
        expired["exp"] = json!(NOW - 60);
        assert!(!genuinely_signed(&mint(&expired)));
        let at = token.len() - 10;
        let other = if &token[at..=at] == "A" { "B" } else { "A" };
        let flipped = format!("{}{other}{}", &token[..at], &token[at + 1..]);
        assert!(!genuinely_signed(&flipped));
        assert!(!genuinely_signed("Bearer a.b.c"));
    }
}
