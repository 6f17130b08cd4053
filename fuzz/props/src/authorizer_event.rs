//! Target `authorizer_event`: raw bytes as the Lambda runtime would hand them to the
//! authorizer — [`authorizer::AuthorizerEvent`]'s deserializer, then
//! [`authorizer::Authorizer::handle`] with the fixed authorizer of
//! [`crate::authorizer_header`].
//!
//! Properties: any bytes that are JSON deserialize to an event (the module doc of
//! `authorizer::event`: never a serde error for a JSON value); `handle` never panics; and an
//! answer that allows anything (an IAM policy with an `Allow` statement, or
//! `isAuthorized: true`) comes only from an event whose token the independent check finds
//! genuinely signed.

use authorizer::{Authorization, AuthorizerEvent};
use serde_json::Value;

use crate::authorizer_header::authorizer;
use crate::signing::genuinely_signed;

pub fn check_authorizer_event(data: &[u8]) {
    let event = serde_json::from_slice::<AuthorizerEvent>(data);
    if serde_json::from_slice::<Value>(data).is_ok() {
        assert!(
            event.is_ok(),
            "a JSON value failed to deserialize as an event: {:?}",
            event.err()
        );
    }
    let Ok(event) = event else { return };
    let Ok(answer) = crate::block_on(authorizer().handle(&event)) else {
        return;
    };
    let answer = serde_json::to_value(&answer).expect("an answer serializes");
    if allows(&answer) {
        let token = match &event {
            AuthorizerEvent::RestToken {
                authorization_token,
                ..
            } => authorization_token.as_deref(),
            AuthorizerEvent::RestRequest {
                authorization: Authorization::One(value),
                ..
            }
            | AuthorizerEvent::HttpApiV2 {
                authorization: Authorization::One(value),
                ..
            } => Some(value.as_str()),
            _ => None,
        };
        assert!(
            token.is_some_and(genuinely_signed),
            "allowed an event without a genuinely signed token: {event:?} -> {answer}"
        );
    }
}

/// Whether an answer lets the request through anywhere.
fn allows(answer: &Value) -> bool {
    let statements = answer["policyDocument"]["Statement"].as_array();
    answer["isAuthorized"] == Value::Bool(true)
        || statements.is_some_and(|s| s.iter().any(|st| st["Effect"] == "Allow"))
}
