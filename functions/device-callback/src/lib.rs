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
use portal_auth_device::http as oauth_http;
use portal_auth_device::pages;
use portal_auth_device::store::{AUTHORIZATION_CODE, Transition, s};
use portal_auth_domain::{CallbackState, GrantStatus, Secret};

/// Cognito's codes are UUID-like; anything far larger is not one.
const MAX_CODE_LEN: usize = 512;

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let c = &deps.config;
    if *req.method() != http::Method::GET {
        return pages::message(
            c,
            405,
            "Not allowed",
            "Start again from your device.",
            false,
            &[],
        );
    }
    let params = oauth_http::query(&req);
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
    let change = |to| {
        Transition::new(&grant, GrantStatus::Redirected, to, deps.clock.now())
            .require("state_hash", s(state.hash()))
            .require("binding_hash", s(Secret::new(binding.clone()).hash()))
    };
    if params.contains_key("error") {
        return match deps
            .store
            .finish_sign_in(&change(GrantStatus::Denied))
            .await
        {
            Ok(true) => {
                tracing::info!(grant = grant.short(), "sign-in cancelled at Cognito");
                pages::message(
                    c,
                    200,
                    "Sign-in cancelled",
                    "The device was not signed in. You can close this page.",
                    false,
                    &[clear],
                )
            }
            Ok(false) => invalid(deps),
            Err(e) => unavailable(deps, &e),
        };
    }
    let code = params.get("code").map(String::as_str).filter(|c| {
        !c.is_empty() && c.len() <= MAX_CODE_LEN && c.bytes().all(|b| b.is_ascii_graphic())
    });
    let Some(code) = code else {
        return invalid(deps);
    };
    let approved = change(GrantStatus::Approved).set(AUTHORIZATION_CODE, s(code));
    match deps.store.finish_sign_in(&approved).await {
        Ok(true) => {
            tracing::info!(
                grant = grant.short(),
                "signed in: the device can collect its tokens"
            );
            pages::message(
                c,
                200,
                "Device signed in",
                "You are signed in on your device. Return to it; you can close this page.",
                false,
                &[clear],
            )
        }
        Ok(false) => {
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
    pages::message(
        &deps.config,
        400,
        "This sign-in link is not valid",
        "It was used already, has expired, or was opened in a different browser from the one that approved. Start again from your device.",
        false,
        &[],
    )
}

fn unavailable(deps: &Deps, cause: &dyn std::fmt::Display) -> Response<Body> {
    tracing::error!(error = %cause, "callback could not be served");
    pages::message(
        &deps.config,
        503,
        "Please try again",
        "The service is busy. Reload this page in a moment.",
        false,
        &[],
    )
}
