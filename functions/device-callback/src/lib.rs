//! `device-callback`: Cognito's redirect target, `GET /device/callback`.
//!
//! Binds Cognito's authorization code to the grant in one conditional write that requires:
//! the grant is `redirected` and unexpired, `state` is the one issued at approve (only its hash
//! is stored), and the browser presents the binding cookie set at approve (only its hash is
//! stored). The cookie is what RFC 6749 §10.12 / RFC 9700 §4.7 ask for: an authorization URL
//! forwarded to someone else's browser cannot bind *their* sign-in to the attacker's device,
//! because their browser lacks the cookie. Each grant has its own binding cookie (named by the
//! grant's short reference, which `state` carries), so two codes approved in one browser stay
//! bound each to its own sign-in. Cognito's `error=` (e.g. `access_denied`) moves the grant to
//! denied under the same conditions. Either outcome then deletes the user code (a used code is
//! an unknown code). Replayed, forged or cookie-less callbacks change nothing and get an error
//! page. Cognito's authorization code is stored until the winning poll removes it; it is not
//! redeemable alone, since the PKCE verifier is derived from the device code.

use lambda_http::{Body, Request, Response};
use portal_auth_device::Deps;
use portal_auth_device::audit::{self, Event, Record};
use portal_auth_device::pages::{self, Message};
use portal_auth_device::request;
use portal_auth_device::store::SignInBinding;
use portal_auth_domain::{CallbackState, Secret};

/// What this function's code asks of AWS, for its IAM role (checked against the template).
pub const IAM_ACTIONS: &[&str] = &["dynamodb:UpdateItem", "dynamodb:DeleteItem"];

/// Cognito's codes are UUID-like; anything far larger is not one.
const MAX_CODE_LEN: usize = 512;

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let c = &deps.config;
    if *req.method() != http::Method::GET {
        return pages::message(c, Message::CallbackMethodNotAllowed, &[]);
    }
    let params = request::query(&req);
    let Some(state) = params.get("state").and_then(|s| CallbackState::parse(s)) else {
        tracing::info!("callback refused: state missing or malformed");
        return invalid(deps);
    };
    let grant = state.grant();
    let cookie_name = pages::binding_cookie(&grant);
    let Some(binding) = pages::cookie(c, &req, &cookie_name) else {
        tracing::info!(
            grant = grant.short(),
            "callback refused: this grant's binding cookie is missing"
        );
        return invalid(deps);
    };
    let clear = pages::set_cookie(c, &cookie_name, "", 0);
    let proof = SignInBinding {
        state_hash: state.hash(),
        binding_hash: Secret::new(binding).hash(),
    };
    let now = deps.clock.now();
    if params.contains_key("error") {
        return match deps.store.cancel_sign_in(&grant, &proof, now).await {
            Ok(Some(denied)) => {
                tracing::info!(grant = grant.short(), "sign-in cancelled at Cognito");
                audit::record(deps.emf, Event::Denied, &Record::of_grant(&denied));
                pages::message(c, Message::SignInCancelled, &[clear])
            }
            Ok(None) => invalid(deps),
            Err(e) => unavailable(deps, &e),
        };
    }
    let code = params.get("code").map(String::as_str).filter(|c| {
        !c.is_empty() && c.len() <= MAX_CODE_LEN && c.bytes().all(|b| b.is_ascii_graphic())
    });
    let Some(code) = code else {
        return invalid(deps);
    };
    match deps
        .store
        .bind_callback(&grant, &proof, &Secret::new(code), now)
        .await
    {
        Ok(Some(bound)) => {
            tracing::info!(
                grant = grant.short(),
                "signed in: the device can collect its tokens"
            );
            audit::record(deps.emf, Event::CallbackBound, &Record::of_grant(&bound));
            pages::message(c, Message::SignedIn, &[clear])
        }
        Ok(None) => {
            tracing::info!(
                grant = grant.short(),
                "callback refused: replayed, forged, expired or another browser's"
            );
            invalid(deps)
        }
        Err(e) => unavailable(deps, &e),
    }
}

fn invalid(deps: &Deps) -> Response<Body> {
    pages::message(&deps.config, Message::InvalidCallback, &[])
}

fn unavailable(deps: &Deps, cause: &dyn std::fmt::Display) -> Response<Body> {
    tracing::error!(error = %cause, "callback could not be served");
    pages::message(&deps.config, Message::CallbackUnavailable, &[])
}
