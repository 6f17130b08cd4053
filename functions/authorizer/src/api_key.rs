//! The Data Product Portal's API-key clients, when this stack fronts the portal's API.
//!
//! Besides a bearer token, the portal accepts a key in the `x-key` header and checks it itself
//! against its own database (`backend/app/core/auth/api_key.py` in the portal; its SDK's
//! `Client(base_url, headers={"x-key": api_key})`, used by provisioners and scripts). Such a
//! request carries no `Authorization` header, so an authorizer that demands a token answers it
//! 401 at the gateway and the key never reaches the one party that can check it.
//!
//! With [`ApiKeyClients::Forward`] (`AUTHORIZER_FORWARD_API_KEYS=true`, which the template sets
//! only when `PortalBackendUrl` is set and `PortalApiKeyClients=forward`), a REST REQUEST event
//! that presents exactly one non-blank `x-key` and **no** `Authorization` header is allowed for
//! exactly its own `methodArn` (no wildcard), with principal `api-key` and context
//! `{"auth": "api_key"}`: the backend judges the key, as it does today. This function never
//! checks, copies or logs the key ([`crate::event`] only counts the header's values).
//!
//! Nothing else changes: a request with an `Authorization` header is judged by its token as
//! always, so an invalid token is never rescued by a key beside it; TOKEN events (which carry
//! only the `Authorization` value) and HTTP API events never forward; a blank, repeated or
//! mistyped key is not forwarded. The template pairs this with a REQUEST authorizer without
//! identity sources, whose result TTL must be 0 (API Gateway caches nothing without an identity
//! source to key the cache on): every request is decided afresh, and an Allow for one
//! request's ARN serves that request only.

use crate::event::{ApiKey, Authorization};

/// The portal's API-key header (matched in any case).
pub const HEADER: &str = "x-key";

/// The `principalId` of a forwarded API-key request: no person is known here.
pub const PRINCIPAL: &str = "api-key";

/// What to do with a REST REQUEST that presents an API key and no token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiKeyClients {
    /// 401 like any request without a token (the default, and what `refuse` deploys).
    #[default]
    Refuse,
    /// Allow it for its own method ARN and let the backend check the key.
    Forward,
}

impl ApiKeyClients {
    /// Whether this request is an API-key client's to forward: the policy says so, it
    /// presented exactly one key, and no `Authorization` header at all (present but blank, or
    /// twice, is a credential to judge, not an absence).
    pub fn forwards(self, authorization: &Authorization, api_key: ApiKey) -> bool {
        self == Self::Forward && *authorization == Authorization::Missing && api_key == ApiKey::One
    }
}

/// The resource of an API-key Allow: the event's own method ARN,
/// `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`, unchanged.
/// `None` when it does not have that shape, or when it holds an IAM wildcard (`*`, `?`: a
/// request path may contain them), which would allow more than this one request.
pub fn exact_resource(method_arn: &str) -> Option<String> {
    let mut parts = method_arn.splitn(4, '/');
    let (api, stage, method) = (parts.next()?, parts.next()?, parts.next()?);
    let well_formed = api.starts_with("arn:")
        && api.split(':').count() == 6
        && !stage.is_empty()
        && !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_uppercase())
        && !method_arn.contains(['*', '?']);
    well_formed.then(|| method_arn.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_key_without_any_authorization_header_is_forwarded() {
        let one = Authorization::One("Bearer t".into());
        let cases = [
            (
                ApiKeyClients::Forward,
                Authorization::Missing,
                ApiKey::One,
                true,
            ),
            (
                ApiKeyClients::Refuse,
                Authorization::Missing,
                ApiKey::One,
                false,
            ),
            (ApiKeyClients::Forward, one.clone(), ApiKey::One, false),
            (
                ApiKeyClients::Forward,
                Authorization::One(String::new()),
                ApiKey::One,
                false,
            ),
            (
                ApiKeyClients::Forward,
                Authorization::Ambiguous,
                ApiKey::One,
                false,
            ),
            (
                ApiKeyClients::Forward,
                Authorization::Missing,
                ApiKey::Absent,
                false,
            ),
            (
                ApiKeyClients::Forward,
                Authorization::Missing,
                ApiKey::Unusable,
                false,
            ),
            (ApiKeyClients::Forward, one, ApiKey::Absent, false),
        ];
        for (policy, authorization, key, expected) in cases {
            assert_eq!(
                policy.forwards(&authorization, key),
                expected,
                "{policy:?} {authorization:?} {key:?}"
            );
        }
    }

    #[test]
    fn the_resource_is_the_method_arn_itself_and_never_a_wildcard() {
        let exact = [
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/api/v2/data_products",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/POST/api/datasets/7/users",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/DELETE/",
            "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod/PUT/api/x",
        ];
        for arn in exact {
            assert_eq!(exact_resource(arn).as_deref(), Some(arn));
        }
        let refused = [
            "",
            "garbage",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123//GET/api/x",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1//api/x",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*/api/x",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/api/*",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/*/GET/api/x",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/api/x?y",
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/get/api/x",
            "not-an-arn/v1/GET/api/x",
        ];
        for arn in refused {
            assert_eq!(exact_resource(arn), None, "{arn}");
        }
    }
}
