//! Who is calling: the `client_id`, and for confidential app clients proof of the secret
//! (RFC 6749 §2.3.1, as RFC 8628 §3.1 requires at the device authorization endpoint).
//!
//! The secret comes by HTTP Basic (`client_id:client_secret`, each form-urlencoded, then
//! base64) or as `client_secret` in the body — never both (§2.3: one method per request). It is
//! compared in constant time. A public client (no secret at Cognito) identifies itself with
//! `client_id` alone and must not send a secret. Every failure is `invalid_client`, 401, with no
//! hint of which part was wrong.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::Request;
use portal_auth_domain::{ClientId, OAuthError};

use crate::clients::{AppClient, AppClients};
use crate::config::DeviceConfig;
use crate::request::Form;

/// What the request presents, before anything is checked against Cognito.
#[derive(Default)]
pub struct Presented {
    pub client_id: Option<String>,
    pub secret: Option<String>,
    pub via_basic: bool,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("via_basic", &self.via_basic)
            .finish()
    }
}

/// Reads the client's credentials from the `Authorization: Basic` header and the body.
pub fn presented(req: &Request, form: &Form) -> Result<Presented, OAuthError> {
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    let Some((basic_id, basic_secret)) = basic_credentials(req)? else {
        return Ok(Presented {
            client_id: body_id.map(str::to_owned),
            secret: body_secret.map(str::to_owned),
            via_basic: false,
        });
    };
    if body_secret.is_some() {
        return Err(OAuthError::invalid_request(
            "use one client authentication method: HTTP Basic or client_secret, not both",
        ));
    }
    if body_id.is_some_and(|id| id != basic_id) {
        return Err(OAuthError::invalid_client("client authentication failed"));
    }
    Ok(Presented {
        client_id: Some(basic_id),
        secret: Some(basic_secret),
        via_basic: true,
    })
}

/// The client's credentials from `Authorization: Basic` and nowhere else: the portal dialect's
/// only method (its `client_id` query parameter is deprecated and ignored, as the portal does).
/// Without the header: `invalid_client`, so a public client cannot use that dialect.
pub fn presented_by_basic(req: &Request) -> Result<Presented, OAuthError> {
    let presented = presented(req, &Form::default())?;
    if !presented.via_basic {
        return Err(OAuthError::invalid_client(
            "HTTP Basic client authentication is required",
        ));
    }
    Ok(presented)
}

/// `Some((id, secret))` when an `Authorization: Basic` header is present; other schemes are
/// not ours and are ignored.
fn basic_credentials(req: &Request) -> Result<Option<(String, String)>, OAuthError> {
    let Some(header) = req.headers().get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("client authentication failed");
    let value = header.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    match (unescape(id), unescape(secret)) {
        (Some(id), Some(secret)) if !id.is_empty() => Ok(Some((id, secret))),
        _ => Err(bad()),
    }
}

/// Checks the presented credentials: the client must be allowed to use the device grant,
/// exist at Cognito, and prove its secret when it has one.
pub async fn authenticate(
    presented: &Presented,
    config: &DeviceConfig,
    clients: &AppClients,
) -> Result<Arc<AppClient>, OAuthError> {
    let failed = || OAuthError::invalid_client("client authentication failed");
    let raw_id = presented
        .client_id
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("parameter client_id is required"))?;
    let client_id = ClientId::parse(raw_id).ok_or_else(failed)?;
    if !config.allows(&client_id) {
        return Err(failed());
    }
    let client = clients
        .get(&client_id)
        .await
        .map_err(OAuthError::unavailable)?
        .ok_or_else(failed)?;
    let proven = match (&client.secret, &presented.secret) {
        (Some(expected), Some(given)) => expected.matches(given),
        (None, None) => true,
        _ => false,
    };
    if !proven {
        tracing::info!(client_id = %client_id, "client authentication failed");
        return Err(failed());
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(auth: Option<&str>) -> Request {
        let mut builder = http::Request::builder().method("POST");
        if let Some(a) = auth {
            builder = builder.header("authorization", a);
        }
        builder.body(lambda_http::Body::Empty).unwrap()
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20id:s%3Acret"));
        let form = Form::default();
        let p = presented(&request(Some(&header)), &form).unwrap();
        assert_eq!(p.client_id.as_deref(), Some("my id"));
        assert_eq!(p.secret.as_deref(), Some("s:cret"));
        assert!(p.via_basic);
        assert!(!format!("{p:?}").contains("s:cret"));
    }

    #[test]
    fn broken_basic_is_invalid_client_and_bearer_is_ignored() {
        let form = Form::default();
        for bad in ["Basic !!!", "Basic bm9jb2xvbg=="] {
            let err = presented(&request(Some(bad)), &form).unwrap_err();
            assert_eq!(err.status(), 401, "{bad}");
        }
        let p = presented(&request(Some("Bearer abc")), &form).unwrap();
        assert!(!p.via_basic);
    }

    #[test]
    fn the_basic_only_method_refuses_everything_else() {
        let header = format!("Basic {}", STANDARD.encode("id:secret"));
        assert!(
            presented_by_basic(&request(Some(&header)))
                .unwrap()
                .via_basic
        );
        for other in [None, Some("Bearer abc")] {
            assert_eq!(
                presented_by_basic(&request(other)).unwrap_err().status(),
                401
            );
        }
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("id:secret"));
        let form = Form::from_bytes(b"client_secret=secret").unwrap();
        let err = presented(&request(Some(&header)), &form).unwrap_err();
        assert_eq!(err.code, portal_auth_domain::ErrorCode::InvalidRequest);
    }
}
