//! The table's layout: keys, attribute names and how each kind of item is encoded and read
//! back. Nothing outside the store sees a key, an attribute name or an `AttributeValue`.
//!
//! | `pk` | what | attributes |
//! |---|---|---|
//! | `grant#<sha256(device_code)>` | a [`Grant`] | `client_id`, `dialect`, `scope`, `user_code`, `status`, `created_at`, `expires_at`, `interval_ms`, `next_poll_at`, `device_ip`, `device_user_agent`, `code_challenge`; from approve `state_hash`, `binding_hash`, `remote_approval`, `approver_ip`, `approver_user_agent`; between callback and redemption `authorization_code` |
//! | `user_code#<CODE>` | the user code's pointer to its grant, until deny or the callback | `grant_pk`, the grant's immutable attributes, `expires_at` |
//! | `code_entry#<ip>#<window>` | user-code look-ups held by an IP in a window (RFC 8628 §5.1) | `attempts`, `expires_at` |
//! | `issue_ip#<ip>#<window>` | device authorizations started from an IP in a window | `attempts`, `expires_at` |
//! | `revoked#<hour>` | revoked sessions and signed-out users whose records end in that hour ([`portal_auth_domain::revocation`]) | `session#<id>`, `user#<sub>`, `expires_at` |
//! | `issue_client#<client_id>#<minute>` | device authorizations started by an app client in a minute | `attempts`, `expires_at` |

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use portal_auth_domain::{
    Approver, ClientId, DeviceCodeHash, DeviceInfo, Dialect, Grant, GrantStatus, Millis, Scopes,
    Secret, UserCode,
};

use super::{StoreError, UserCodeEntry};

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) const PK: &str = "pk";
pub(super) const STATUS: &str = "status";
pub(super) const CLIENT_ID: &str = "client_id";
/// The grant's [`Dialect`]; grants written before dialects existed have none and are RFC 8628.
pub(super) const DIALECT: &str = "dialect";
pub(super) const EXPIRES_AT: &str = "expires_at";
pub(super) const STATE_HASH: &str = "state_hash";
pub(super) const BINDING_HASH: &str = "binding_hash";
/// Cognito's authorization code, between the callback and the poll that wins the grant.
pub(super) const AUTHORIZATION_CODE: &str = "authorization_code";
pub(super) const USER_CODE: &str = "user_code";
/// Set by approve: whether the approving browser was on another network than the device.
pub(super) const REMOTE_APPROVAL: &str = "remote_approval";
pub(super) const APPROVER_IP: &str = "approver_ip";
pub(super) const APPROVER_USER_AGENT: &str = "approver_user_agent";
pub(super) const GRANT_PK: &str = "grant_pk";
pub(super) const ATTEMPTS: &str = "attempts";

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn grant_pk(hash: &DeviceCodeHash) -> String {
    format!("grant#{}", hash.as_str())
}

pub(super) fn user_code_pk(code: &UserCode) -> String {
    format!("user_code#{}", code.normalized())
}

/// The key of a fixed-window counter of `kind` for `subject` (an IP, a client id) in the
/// window of `window` seconds that contains `now`, and when that window ends (epoch seconds).
pub(super) fn counter_key(kind: &str, subject: &str, window: u64, now: Millis) -> (String, u64) {
    let window = window.max(1);
    let bucket = (now / 1000) / window;
    (format!("{kind}#{subject}#{bucket}"), (bucket + 1) * window)
}

/// What the grant and its user code's item both carry: the immutable facts the confirmation
/// page shows, and the PKCE challenge approve sends to Cognito.
fn shared_attributes(g: &Grant) -> Item {
    let mut item = Item::from([
        (CLIENT_ID.to_owned(), s(g.client_id.as_str())),
        ("scope".to_owned(), s(g.scope.to_string())),
        ("created_at".to_owned(), n(g.created_at)),
        (EXPIRES_AT.to_owned(), n(g.expires_at)),
        ("code_challenge".to_owned(), s(&g.code_challenge)),
    ]);
    if let Some(ip) = &g.device.ip {
        item.insert("device_ip".to_owned(), s(ip));
    }
    if let Some(ua) = &g.device.user_agent {
        item.insert("device_user_agent".to_owned(), s(ua));
    }
    item
}

pub(super) fn user_code_item(g: &Grant) -> Item {
    let mut item = shared_attributes(g);
    item.insert(PK.to_owned(), s(user_code_pk(&g.user_code)));
    item.insert(GRANT_PK.to_owned(), s(grant_pk(&g.device_code_hash)));
    item
}

pub(super) fn grant_item(g: &Grant) -> Item {
    let mut item = shared_attributes(g);
    item.extend([
        (PK.to_owned(), s(grant_pk(&g.device_code_hash))),
        (USER_CODE.to_owned(), s(g.user_code.normalized())),
        (STATUS.to_owned(), s(g.status.as_str())),
        (DIALECT.to_owned(), s(g.dialect.as_str())),
        ("interval_ms".to_owned(), n(g.interval_ms)),
        ("next_poll_at".to_owned(), n(g.next_poll_at)),
    ]);
    item
}

pub(super) fn parse_grant(item: &Item) -> Result<Grant, StoreError> {
    let a = Attributes(item);
    Ok(Grant {
        device_code_hash: a.grant_key(PK)?,
        user_code: a.user_code(USER_CODE)?,
        client_id: a.client_id()?,
        dialect: a.dialect()?,
        scope: a.scope()?,
        status: GrantStatus::parse(a.text(STATUS)?).ok_or_else(|| a.malformed(STATUS))?,
        created_at: a.number("created_at")?,
        expires_at: a.number(EXPIRES_AT)?,
        interval_ms: a.number("interval_ms")?,
        next_poll_at: a.number("next_poll_at")?,
        device: a.device(),
        code_challenge: a.text("code_challenge")?.to_owned(),
        authorization_code: a.optional(AUTHORIZATION_CODE).map(Secret::new),
        approver: a.approver(),
    })
}

pub(super) fn parse_user_code_item(item: &Item) -> Result<UserCodeEntry, StoreError> {
    let a = Attributes(item);
    Ok(UserCodeEntry {
        user_code: a
            .text(PK)?
            .strip_prefix("user_code#")
            .and_then(UserCode::parse)
            .ok_or_else(|| a.malformed(PK))?,
        grant: a.grant_key(GRANT_PK)?,
        client_id: a.client_id()?,
        scope: a.scope()?,
        created_at: a.number("created_at")?,
        expires_at: a.number(EXPIRES_AT)?,
        device: a.device(),
        code_challenge: a.text("code_challenge")?.to_owned(),
    })
}

/// Typed reads of a stored item's attributes.
pub(super) struct Attributes<'a>(pub(super) &'a Item);

impl Attributes<'_> {
    fn malformed(&self, name: &str) -> StoreError {
        StoreError::Malformed(format!("attribute {name}"))
    }

    pub(super) fn text(&self, name: &str) -> Result<&str, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Ok(v.as_str()),
            _ => Err(self.malformed(name)),
        }
    }

    pub(super) fn number(&self, name: &str) -> Result<u64, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| self.malformed(name)),
            _ => Err(self.malformed(name)),
        }
    }

    pub(super) fn user_code(&self, name: &str) -> Result<UserCode, StoreError> {
        UserCode::parse(self.text(name)?).ok_or_else(|| self.malformed(name))
    }

    fn client_id(&self) -> Result<ClientId, StoreError> {
        ClientId::parse(self.text(CLIENT_ID)?).ok_or_else(|| self.malformed(CLIENT_ID))
    }

    fn dialect(&self) -> Result<Dialect, StoreError> {
        match self.0.get(DIALECT) {
            None => Ok(Dialect::Rfc8628),
            Some(_) => Dialect::parse(self.text(DIALECT)?).ok_or_else(|| self.malformed(DIALECT)),
        }
    }

    fn scope(&self) -> Result<Scopes, StoreError> {
        Scopes::parse(self.text("scope")?).ok_or_else(|| self.malformed("scope"))
    }

    fn device(&self) -> DeviceInfo {
        DeviceInfo {
            ip: self.optional("device_ip"),
            user_agent: self.optional("device_user_agent"),
        }
    }

    /// The approval's record, once approve has written one.
    fn approver(&self) -> Option<Approver> {
        let remote = match self.0.get(REMOTE_APPROVAL) {
            Some(AttributeValue::Bool(remote)) => *remote,
            _ => return None,
        };
        Some(Approver {
            browser: DeviceInfo {
                ip: self.optional(APPROVER_IP),
                user_agent: self.optional(APPROVER_USER_AGENT),
            },
            remote,
        })
    }

    /// A grant's key (`grant#<hash>`), as the hash it names.
    fn grant_key(&self, name: &str) -> Result<DeviceCodeHash, StoreError> {
        self.text(name)?
            .strip_prefix("grant#")
            .and_then(DeviceCodeHash::from_stored)
            .ok_or_else(|| self.malformed(name))
    }

    fn optional(&self, name: &str) -> Option<String> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        }
    }
}
