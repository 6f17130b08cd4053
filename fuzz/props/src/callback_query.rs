//! Target `callback_query`: the query of Cognito's redirect to `GET /device/callback`
//! (`code`, `state`, `error`), read by [`request::query`] and answered by
//! [`device_callback::handle`] for a browser without the grant's binding cookie, so the
//! handler stops before storage (its DynamoDB endpoint is a closed port on 127.0.0.1 anyway).
//!
//! Properties: never a panic; the answer is a 4xx page, never 5xx, whatever the query; the
//! parameters read are exactly those the query gives once, with a value (a name given twice
//! is absent, not one of its values), and never one beyond the first
//! [`request::MAX_QUERY_PARAMS`] pairs.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_dynamodb as dynamodb;
use lambda_http::Body;
use portal_auth_device::Deps;
use portal_auth_device::request::{self, MAX_QUERY_PARAMS};
use portal_auth_domain::{Clock, ManualClock};

const CLOSED: &str = "http://127.0.0.1:9";

static DEPS: LazyLock<Deps> = LazyLock::new(|| {
    let credentials = dynamodb::config::Credentials::new("fuzz", "fuzz", None, None, "fuzz");
    let region = dynamodb::config::Region::new("eu-west-1");
    let dynamodb = dynamodb::Client::from_conf(
        dynamodb::Config::builder()
            .behavior_version(dynamodb::config::BehaviorVersion::latest())
            .region(region.clone())
            .endpoint_url(CLOSED)
            .credentials_provider(credentials.clone())
            .build(),
    );
    let cognito = cognito::Client::from_conf(
        cognito::Config::builder()
            .behavior_version(cognito::config::BehaviorVersion::latest())
            .region(region)
            .endpoint_url(CLOSED)
            .credentials_provider(credentials)
            .build(),
    );
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(crate::signing::NOW_MS));
    Deps::new(
        crate::cookies::config("https://portal.test/prod"),
        dynamodb,
        cognito,
        clock,
    )
});

pub fn check_callback_query(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(req) = http::Request::builder()
        .method("GET")
        .uri(format!("https://portal.test/prod/device/callback?{query}"))
        .body(Body::Empty)
    else {
        return;
    };
    if req.uri().query() != Some(query) {
        return;
    }
    let read = request::query(&req);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let considered = &pairs[..pairs.len().min(MAX_QUERY_PARAMS)];
    for (name, value) in &read {
        let given: Vec<&String> = pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            given,
            [value],
            "parameter {name:?} was read as {value:?} but the query gives {given:?}"
        );
        assert!(!value.is_empty());
    }
    let mut once: HashMap<&str, Vec<&str>> = HashMap::new();
    for (k, v) in considered {
        once.entry(k).or_default().push(v);
    }
    if pairs.len() <= MAX_QUERY_PARAMS {
        for (name, values) in once {
            if let [value] = values[..]
                && !value.is_empty()
            {
                assert_eq!(read.get(name).map(String::as_str), Some(value), "{name:?}");
            }
        }
    }
    let response = crate::block_on(device_callback::handle(&DEPS, req));
    assert!(
        response.status().is_client_error(),
        "the callback answered {} to a query",
        response.status()
    );
}
