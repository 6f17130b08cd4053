//! What API Gateway expects back from the authorizer.
//!
//! - REST API (TOKEN and REQUEST, and HTTP API payload 1.0): an IAM policy over the API stage
//!   (`arn:aws:execute-api:<region>:<account>:<api>/<stage>/…`) that says, for every route of
//!   the stage, what a fresh decision would, because API Gateway caches the answer for a token
//!   and applies it to every route, not only the first one asked for ([`crate::rules::policy`]).
//!   Without per-route rules that is one statement: `Allow` (or, for a valid token lacking the
//!   required scope or group, an explicit `Deny`: 403) on `<stage>/*`. With them it is an `Allow`
//!   listing the method-ARN patterns the principal may call and, where needed, a `Deny` listing
//!   the ones a later Allow would otherwise open. `principalId` is the token's `sub`. An invalid
//!   token gets no policy at all: the Lambda fails with the error message `Unauthorized`, which
//!   API Gateway turns into 401.
//! - HTTP API payload 2.0 with simple responses: `{"isAuthorized": bool, "context": {...}}`.
//! - A forwarded API-key request ([`crate::api_key`]): an `Allow` for exactly the event's own
//!   method ARN (never a wildcard: the REQUEST authorizer it serves caches nothing), principal
//!   `api-key`, context `{"auth": "api_key"}`.
//!
//! The context handed to the route, the same in all three shapes: `sub`, `username`,
//! `client_id`, `scope` (space-separated, as issued: a scope token cannot contain a space) and
//! `groups`, a JSON array of the group names in a string (`["portal-users","x,y"]`; `[]` for
//! none). API Gateway allows only string, number and boolean values there, and a group name can
//! contain any character, so a joined list could be forged (`["x,portal-admins"]` split on ","
//! reads as a member of `portal-admins`); a JSON array cannot.

use std::sync::Arc;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::claims::VerifiedToken;
use crate::rules::{Policy, RuleSet, policy::Allowed};

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AuthorizerResponse {
    Policy(PolicyResponse),
    Simple(SimpleResponse),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResponse {
    pub principal_id: String,
    pub policy_document: PolicyDocument,
    pub context: Context,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyDocument {
    #[serde(rename = "Version")]
    pub version: &'static str,
    #[serde(rename = "Statement")]
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub action: &'static str,
    pub effect: Effect,
    pub resource: Resource,
}

/// A statement's `Resource`: one ARN (a string), or the routes of some rules (a list, each
/// rule's method-ARN suffixes behind the stage's prefix, rendered while serializing).
#[derive(Debug, Clone)]
pub enum Resource {
    One(String),
    Rules {
        /// `arn:…:<api>/<stage>/`
        prefix: Arc<str>,
        rules: Arc<RuleSet>,
        /// Bit *i*: rule *i*.
        mask: u64,
    },
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (prefix, rules, mask) = match self {
            Self::One(arn) => return s.serialize_str(arn),
            Self::Rules {
                prefix,
                rules,
                mask,
            } => (prefix, rules, *mask),
        };
        let mut seq = s.serialize_seq(None)?;
        for index in (0..rules.rules().len()).filter(|i| mask & 1 << i != 0) {
            for suffix in rules.resources(index) {
                seq.serialize_element(&Joined(prefix, suffix))?;
            }
        }
        seq.end()
    }
}

/// Two strings serialized as one, without joining them first.
struct Joined<'a>(&'a str, &'a str);

impl Serialize for Joined<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}{}", self.0, self.1))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleResponse {
    pub is_authorized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
}

/// What the route is told about the caller.
#[derive(Debug, Clone)]
pub enum Context {
    /// The verified token's facts, serialized straight from the cached token (no copies).
    Token(Arc<VerifiedToken>),
    /// An API-key client the backend will judge: `{"auth": "api_key"}`, nothing about the key.
    ApiKey,
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = match self {
            Self::Token(t) => t,
            Self::ApiKey => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("auth", "api_key")?;
                return map.end();
            }
        };
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("sub", &t.sub)?;
        map.serialize_entry("username", &t.username)?;
        map.serialize_entry("client_id", &t.client_id)?;
        map.serialize_entry("scope", &t.scope)?;
        map.serialize_entry("groups", t.groups.as_context())?;
        map.end()
    }
}

impl AuthorizerResponse {
    pub fn policy(policy_document: PolicyDocument, token: Arc<VerifiedToken>) -> Self {
        Self::Policy(PolicyResponse {
            principal_id: token.sub.clone(),
            policy_document,
            context: Context::Token(token),
        })
    }

    /// The `Allow` for a forwarded API-key request; `resource` is the event's own method ARN
    /// ([`crate::api_key::exact_resource`]).
    pub fn api_key(resource: String) -> Self {
        Self::Policy(PolicyResponse {
            principal_id: crate::api_key::PRINCIPAL.to_owned(),
            policy_document: PolicyDocument::one(Effect::Allow, resource),
            context: Context::ApiKey,
        })
    }

    pub fn simple(token: Option<Arc<VerifiedToken>>) -> Self {
        Self::Simple(SimpleResponse {
            is_authorized: token.is_some(),
            context: token.map(Context::Token),
        })
    }
}

impl PolicyDocument {
    fn new(statement: Vec<Statement>) -> Self {
        Self {
            version: "2012-10-17",
            statement,
        }
    }

    pub fn one(effect: Effect, resource: String) -> Self {
        Self::new(vec![Statement::new(effect, Resource::One(resource))])
    }

    /// A principal's [`Policy`] over the stage whose ARN prefix is `prefix`
    /// ([`stage_prefix`]).
    pub fn of(policy: Policy, rules: &Arc<RuleSet>, prefix: &str) -> Self {
        let of_rules = |mask| Resource::Rules {
            prefix: Arc::from(prefix),
            rules: Arc::clone(rules),
            mask,
        };
        let whole_stage = || Resource::One(format!("{prefix}*"));
        let mut statement = vec![match policy.allow {
            Allowed::Stage => Statement::new(Effect::Allow, whole_stage()),
            Allowed::Rules(mask) => Statement::new(Effect::Allow, of_rules(mask)),
            Allowed::Nothing => Statement::new(Effect::Deny, whole_stage()),
        }];
        if policy.deny != 0 {
            statement.push(Statement::new(Effect::Deny, of_rules(policy.deny)));
        }
        Self::new(statement)
    }
}

impl Statement {
    fn new(effect: Effect, resource: Resource) -> Self {
        Self {
            action: "execute-api:Invoke",
            effect,
            resource,
        }
    }
}

/// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<method>/<path>` →
/// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/`, what every resource of the policy
/// starts with. `None` when the ARN does not have that shape.
pub fn stage_prefix(method_arn: &str) -> Option<String> {
    let mut parts = method_arn.splitn(3, '/');
    let (api, stage) = (parts.next()?, parts.next()?);
    let well_formed = api.starts_with("arn:") && api.split(':').count() == 6 && !stage.is_empty();
    well_formed.then(|| format!("{api}/{stage}/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Groups;
    use aws_lambda_events::apigw::{
        ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
    };
    use aws_lambda_events::iam::IamPolicyEffect;
    use serde_json::json;

    fn token() -> Arc<VerifiedToken> {
        Arc::new(VerifiedToken {
            sub: "sub-1".into(),
            username: "demo".into(),
            client_id: "client-1".into(),
            scope: "openid portal/read".into(),
            groups: Groups::new(vec!["a".into(), "b".into()]),
            exp: 0,
            session: None,
            authenticated_at: 0,
        })
    }

    #[test]
    fn the_prefix_is_the_stage() {
        let cases = [
            (
                "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/products/7",
                Some("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/"),
            ),
            (
                "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/",
                Some("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/"),
            ),
            (
                "arn:aws:execute-api:eu-west-1:1:abc/$default",
                Some("arn:aws:execute-api:eu-west-1:1:abc/$default/"),
            ),
            ("", None),
            ("arn:aws:execute-api:eu-west-1:1:abc", None),
            ("not-an-arn/prod/GET", None),
            ("arn:aws:execute-api:eu-west-1:1:abc//GET", None),
        ];
        for (arn, expected) in cases {
            assert_eq!(stage_prefix(arn).as_deref(), expected, "{arn}");
        }
    }

    #[test]
    fn policy_matches_api_gateway_and_the_reference_types() {
        let resource = "arn:aws:execute-api:eu-west-1:1:abc/prod/*".to_owned();
        let value = serde_json::to_value(AuthorizerResponse::policy(
            PolicyDocument::one(Effect::Allow, resource.clone()),
            token(),
        ))
        .unwrap();
        assert_eq!(
            value,
            json!({
                "principalId": "sub-1",
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}
                ]},
                "context": {"sub": "sub-1", "username": "demo", "client_id": "client-1",
                            "scope": "openid portal/read", "groups": r#"["a","b"]"#}
            })
        );
        let reference: ApiGatewayCustomAuthorizerResponse = serde_json::from_value(value).unwrap();
        let statement = &reference.policy_document.statement[0];
        assert_eq!(statement.effect, IamPolicyEffect::Allow);
        assert_eq!(statement.resource, [resource]);
        assert_eq!(statement.action, ["execute-api:Invoke"]);
        assert_eq!(reference.principal_id.as_deref(), Some("sub-1"));
    }

    #[test]
    fn an_api_key_allow_names_one_method_and_no_person() {
        let resource = "arn:aws:execute-api:eu-west-1:1:abc/v1/GET/api/v2/data_products".to_owned();
        let value = serde_json::to_value(AuthorizerResponse::api_key(resource.clone())).unwrap();
        assert_eq!(
            value,
            json!({
                "principalId": "api-key",
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}
                ]},
                "context": {"auth": "api_key"}
            })
        );
        let reference: ApiGatewayCustomAuthorizerResponse = serde_json::from_value(value).unwrap();
        assert_eq!(reference.policy_document.statement[0].resource, [resource]);
    }

    #[test]
    fn deny_is_explicit() {
        let value = serde_json::to_value(AuthorizerResponse::policy(
            PolicyDocument::one(
                Effect::Deny,
                "arn:aws:execute-api:eu-west-1:1:abc/prod/*".into(),
            ),
            token(),
        ))
        .unwrap();
        let reference: ApiGatewayCustomAuthorizerResponse = serde_json::from_value(value).unwrap();
        assert_eq!(
            reference.policy_document.statement[0].effect,
            IamPolicyEffect::Deny
        );
    }

    #[test]
    fn simple_responses_match_the_reference_type() {
        let allowed = serde_json::to_value(AuthorizerResponse::simple(Some(token()))).unwrap();
        assert_eq!(allowed["isAuthorized"], true);
        assert_eq!(allowed["context"]["groups"], r#"["a","b"]"#);
        let reference: ApiGatewayV2CustomAuthorizerSimpleResponse =
            serde_json::from_value(allowed).unwrap();
        assert!(reference.is_authorized);
        let refused = serde_json::to_value(AuthorizerResponse::simple(None)).unwrap();
        assert_eq!(refused, json!({"isAuthorized": false}));
    }
}
