//! How the corpora began: `cargo test -p portal-auth-fuzz-props --test seeds -- --ignored`
//! writes `fuzz/corpus/<target>/seed-*` from the fixtures (`tests/fixtures/authorizer/`) and
//! the unit tests' tables, plus tokens signed by the fixed key (`portal_auth_fuzz_props::
//! signing`) so the fuzzer starts on the paths a genuine token takes. Ignored: the committed
//! corpora are what `make test` replays; this only documents and regenerates their origin.

use std::path::{Path, PathBuf};

use portal_auth_domain::{CallbackState, DeviceCodeHash};
use portal_auth_fuzz_props::signing::{self, mint, mint_with_header, valid_claims};
use serde_json::json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write(target: &str, seeds: &[Vec<u8>]) {
    let dir = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:02}")), seed).unwrap();
    }
}

fn tagged(tag: u8, body: &str) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(body.as_bytes());
    v
}

fn tokens() -> Vec<String> {
    let mut claims = Vec::new();
    claims.push(valid_claims());
    let mut no_scope = valid_claims();
    no_scope["scope"] = json!("openid");
    claims.push(no_scope);
    for (field, value) in [
        ("exp", json!(signing::NOW_MS / 1000 - 60)),
        (
            "iss",
            json!("https://cognito-idp.eu-west-1.amazonaws.com/other"),
        ),
        ("client_id", json!("other-client")),
        ("token_use", json!("id")),
        ("nbf", json!(signing::NOW_MS / 1000 + 600)),
    ] {
        let mut c = valid_claims();
        c[field] = value;
        claims.push(c);
    }
    let mut minted: Vec<String> = claims.iter().map(mint).collect();
    minted.push(mint_with_header(
        &json!({"alg": "RS256", "kid": "unknown-kid"}),
        &valid_claims(),
    ));
    minted.push(mint_with_header(
        &json!({"alg": "none", "kid": signing::KID}),
        &valid_claims(),
    ));
    minted
}

#[test]
#[ignore = "regenerates the seed corpora; run by hand"]
fn write_seeds() {
    let tokens = tokens();
    let valid = &tokens[0];

    let mut header: Vec<Vec<u8>> = tokens
        .iter()
        .map(|t| format!("Bearer {t}").into_bytes())
        .collect();
    for h in [
        format!("bearer   {valid}"),
        format!("Bearer {valid}, Bearer {valid}"),
        format!("Bearer {valid} x"),
        "Basic dXNlcjpwYXNz".to_owned(),
        "Bearer a.b.c".to_owned(),
        "Bearer ".to_owned(),
        String::new(),
    ] {
        header.push(h.into_bytes());
    }
    write("authorizer_header", &header);

    let mut events = Vec::new();
    for fixture in ["rest-token", "rest-request", "http-api-v2"] {
        let raw = std::fs::read_to_string(
            root().join(format!("tests/fixtures/authorizer/{fixture}.json")),
        )
        .unwrap();
        events.push(raw.clone().into_bytes());
        events.push(raw.replace("REPLACE_WITH_ACCESS_TOKEN", valid).into_bytes());
        events.push(
            raw.replace("REPLACE_WITH_ACCESS_TOKEN", &tokens[1])
                .into_bytes(),
        );
    }
    for e in [
        "null",
        "[]",
        "{}",
        r#"{"type":"TOKEN"}"#,
        r#"{"version":"2.0","headers":7}"#,
    ] {
        events.push(e.as_bytes().to_vec());
    }
    write("authorizer_event", &events);

    let grant = DeviceCodeHash::from_stored(&"ab".repeat(32)).unwrap();
    let state = CallbackState::new(&grant).unwrap();
    let state = state.expose_secret();
    let callback: Vec<Vec<u8>> = [
        format!("code=5f0c2c1e-9a7b-4b8e-bd5e-0a1b2c3d4e5f&state={state}"),
        format!("error=access_denied&state={state}"),
        format!("state={state}&state={state}&code=x"),
        "code=abc".to_owned(),
        String::new(),
        "state=%ff&code=%00".to_owned(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    write("callback_query", &callback);

    let codes: Vec<Vec<u8>> = [
        "BDFG-HJKL",
        " bdfg-hjkl ",
        "BD FG HJ KL",
        "BDFG-HJKA",
        "ßDFGHJKL",
        "0f8fad5b-d9cb-469d-a8d3-1a2b3c4d5e6f",
        "0F8FAD5B-D9CB-469D-A8D3-1A2B3C4D5E6F",
        "0f8fad5b-d9cb-169d-a8d3-1a2b3c4d5e6f",
        "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE",
        state,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    write("codes", &codes);

    let cookies = vec![
        tagged(0, "device_csrf=abc; device_binding_0123abcd=xyz"),
        tagged(
            1,
            "__Host-device_csrf=abc; __Host-device_binding_0123abcd=xyz",
        ),
        tagged(0, "device_csrf=a\ndevice_csrf=b"),
        tagged(
            1,
            "__Host-device_binding_1=a; __Host-device_binding_2=b; __Host-device_binding_3=c; \
             __Host-device_binding_4=d",
        ),
        tagged(0, "device_csrf=; other=1"),
    ];
    write("cookies", &cookies);

    let form = vec![
        tagged(0, "client_id=fuzz-client&scope=openid+portal%2Fread"),
        tagged(0, "a=1&a=2"),
        tagged(0, "a=&b=x+y&c=%41"),
        tagged(0, "%3Cscript%3E=1&%3Cscript%3E=2"),
        tagged(1, "device_code=a&grant_type=b"),
        tagged(1, "a=1&a=2"),
        tagged(0, "a=%ff"),
    ];
    write("form", &form);

    let metadata = json!({
        "issuer": "https://portal.test/prod",
        "device_authorization_endpoint": "https://portal.test/prod/device/code",
        "token_endpoint": "https://portal.test/prod/device/token",
        "revocation_endpoint": "https://portal.test/prod/device/revoke",
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:device_code"],
    });
    let device = json!({
        "device_code": "abc", "user_code": "BDFG-HJKL",
        "verification_uri": "https://portal.test/prod/device",
        "verification_uri_complete": "https://portal.test/prod/device?user_code=BDFG-HJKL",
        "expires_in": 600, "interval": 5,
    });
    let token = json!({"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 3600});
    let error =
        json!({"error": "slow_down", "error_description": "poll \u{1b}[2J less", "interval": 10});
    let login = vec![
        [&[0u8, 0][..], metadata.to_string().as_bytes()].concat(),
        [&[1u8, 0][..], device.to_string().as_bytes()].concat(),
        [&[2u8, 0][..], token.to_string().as_bytes()].concat(),
        [&[2u8, 4][..], error.to_string().as_bytes()].concat(),
        [&[1u8, 4][..], error.to_string().as_bytes()].concat(),
        [
            &[3u8, 0][..],
            "a\u{1b}[2Jb\r\nc\u{7}x\u{202E}y\u{2066}z résumé ✓".as_bytes(),
        ]
        .concat(),
    ];
    write("portal_login", &login);

    let rules: Vec<Vec<u8>> = [
        "* /api/v2/authz/role_assignments/global/* groups=portal-admins;\n\
         POST,PUT,PATCH,DELETE /api/v2/authz/roles/* groups=portal-admins",
        "GET /a/* scopes=x; * /a/* deny; * /* scopes=y",
        "* /api/v2/authz/* scopes=portal/write groups=portal-admins; POST /* scopes=portal/write",
        "GET /api/public/* public; * /api/* groups=portal-users; * /* deny",
        "ANY /api/{proxy+} public",
        "GET /a/b*c public",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    write("rules", &rules);
}
