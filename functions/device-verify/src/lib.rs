//! `device-verify`: the verification page of RFC 8628 §3.3, `GET /device` and `POST /device`.
//!
//! - `GET /device`: the code-entry page; with `?user_code=` (as in `verification_uri_complete`)
//!   the confirmation page: which application asks, for which scopes, when and from where, the
//!   code to compare, a warning (§5.4), and Approve / Deny. A GET never changes a grant.
//! - `POST /device` (CSRF-protected by a double-submit cookie): Approve moves the grant
//!   pending → redirected with a fresh `state`, PKCE verifier and browser-binding cookie, and
//!   sends the browser to Cognito's hosted UI; Deny moves it to denied. Either deletes the user
//!   code in the same transaction, so a used code is an unknown code.
//!
//! Unknown, expired, used and malformed codes all get the same page (no oracle), and every such
//! failure counts against the client IP (§5.1): past `VERIFY_MAX_FAILURES` in the window the
//! page answers 429, and a later success does not reset the count. DynamoDB cost: one
//! `BatchGetItem` (the code and the IP's count), plus one write on a failure or a decision.

use lambda_http::{Body, Request, Response};
use portal_auth_device::Deps;
use portal_auth_device::http::{self as oauth_http, Form};
use portal_auth_device::pages::{self, BINDING_COOKIE, CSRF_COOKIE, Confirmation};
use portal_auth_device::store::{Transition, UserCodeEntry, s};
use portal_auth_domain::codes::{pkce_pair, random_token};
use portal_auth_domain::{CallbackState, ClientId, GrantStatus, Secret, UserCode};

/// How long the binding cookie lives: the sign-in at Cognito must finish within it.
const BINDING_COOKIE_SECONDS: u64 = 900;
const UNKNOWN_CODE: &str =
    "That code is not valid. It may be mistyped, used already, or expired: check your device.";

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    match *req.method() {
        http::Method::GET | http::Method::HEAD => show(deps, &req).await,
        http::Method::POST => decide(deps, &req).await,
        _ => pages::message(
            &deps.config,
            405,
            "Not allowed",
            "Use the page's buttons.",
            true,
            &[],
        ),
    }
}

async fn show(deps: &Deps, req: &Request) -> Response<Body> {
    let params = oauth_http::query(req);
    let Some(raw) = params.get("user_code") else {
        return pages::code_entry(&deps.config, 200, None);
    };
    let entry = match look_up(deps, req, raw).await {
        Ok(entry) => entry,
        Err(page) => return page,
    };
    let client_name = match ClientId::parse(&entry.client_id) {
        Some(id) => match deps.clients.get(&id).await {
            Ok(Some(client)) => client.name.clone(),
            Ok(None) => return unknown_code(deps),
            Err(e) => return unavailable(deps, &e),
        },
        None => return unknown_code(deps),
    };
    let csrf = match random_token(32) {
        Ok(t) => t,
        Err(e) => return unavailable(deps, &e),
    };
    let view = Confirmation {
        user_code: entry.user_code.formatted(),
        client_name: &client_name,
        scopes: entry.scope.iter().collect(),
        requested_at: pages::utc_time(entry.created_at),
        device_ip: entry.device_ip.as_deref().unwrap_or("unknown"),
        device_user_agent: entry.device_user_agent.as_deref().unwrap_or("unknown"),
    };
    pages::confirm(&deps.config, &view, &csrf)
}

async fn decide(deps: &Deps, req: &Request) -> Response<Body> {
    let form = match Form::parse(req) {
        Ok(form) => form,
        Err(e) => {
            return pages::message(
                &deps.config,
                e.status(),
                "Something is off",
                "That request could not be read. Start again from the code on your device.",
                true,
                &[],
            );
        }
    };
    let csrf_ok = match (
        pages::cookie(&deps.config, req, CSRF_COOKIE),
        form.get("csrf"),
    ) {
        (Some(cookie), Some(field)) => Secret::new(cookie).matches(field),
        _ => false,
    };
    if !csrf_ok {
        tracing::info!("decision refused: CSRF token missing or wrong");
        return pages::message(
            &deps.config,
            403,
            "Please try again",
            "This form expired or did not come from this page. Open the link or enter the code again.",
            true,
            &[],
        );
    }
    let Some(raw) = form.get("user_code") else {
        return unknown_code(deps);
    };
    let entry = match look_up(deps, req, raw).await {
        Ok(entry) => entry,
        Err(page) => return page,
    };
    match form.get("decision") {
        Some("approve") => approve(deps, &entry).await,
        Some("deny") => deny(deps, &entry).await,
        _ => pages::message(
            &deps.config,
            400,
            "Choose Approve or Deny",
            "Open the link or enter the code again.",
            true,
            &[],
        ),
    }
}

/// The live entry of `raw`, or the page to answer with: 429 past the IP's failure budget
/// (checked before the code, so a right code does not escape it), else the one "not valid" page.
async fn look_up(deps: &Deps, req: &Request, raw: &str) -> Result<UserCodeEntry, Response<Body>> {
    let c = &deps.config;
    let now = deps.clock.now();
    let ip = oauth_http::source_ip(req).unwrap_or_else(|| "unknown".to_owned());
    let window = c.verify_failure_window_secs;
    let (entry, failures) = match UserCode::parse(raw) {
        Some(code) => deps
            .store
            .look_up_user_code(&code, &ip, window, now)
            .await
            .map_err(|e| unavailable(deps, &e))?,
        None => (None, 0),
    };
    if failures >= c.verify_max_failures {
        return Err(too_many(deps));
    }
    if let Some(entry) = entry {
        return Ok(entry);
    }
    let failures = deps
        .store
        .count_failure(&ip, window, now)
        .await
        .map_err(|e| unavailable(deps, &e))?;
    tracing::info!(failures, "user code look-up failed");
    Err(if failures > c.verify_max_failures {
        too_many(deps)
    } else {
        unknown_code(deps)
    })
}

async fn approve(deps: &Deps, entry: &UserCodeEntry) -> Response<Body> {
    let c = &deps.config;
    let prepared = CallbackState::new(&entry.grant).and_then(|state| {
        let (verifier, challenge) = pkce_pair()?;
        let binding = random_token(32)?;
        Ok((state, verifier, challenge, binding))
    });
    let (state, verifier, challenge, binding) = match prepared {
        Ok(p) => p,
        Err(e) => return unavailable(deps, &e),
    };
    let change = Transition::new(
        &entry.grant,
        GrantStatus::Pending,
        GrantStatus::Redirected,
        deps.clock.now(),
    )
    .require("client_id", s(&entry.client_id))
    .set("state_hash", s(state.hash()))
    .set("code_verifier", s(verifier.expose_secret()))
    .set("binding_hash", s(Secret::new(binding.clone()).hash()));
    match deps.store.decide(&change, &entry.user_code).await {
        Ok(true) => {}
        Ok(false) => return unknown_code(deps),
        Err(e) => return unavailable(deps, &e),
    }
    tracing::info!(
        grant = entry.grant.short(),
        "approved: sending the browser to sign in"
    );
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &entry.client_id)
        .append_pair("redirect_uri", &c.redirect_uri())
        .append_pair("scope", &entry.scope.to_string())
        .append_pair("state", state.expose_secret())
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let location = format!("{}?{query}", c.cognito_authorize_endpoint());
    let cookie = pages::set_cookie(c, BINDING_COOKIE, &binding, BINDING_COOKIE_SECONDS);
    pages::redirect(&location, &[cookie])
}

async fn deny(deps: &Deps, entry: &UserCodeEntry) -> Response<Body> {
    let change = Transition::new(
        &entry.grant,
        GrantStatus::Pending,
        GrantStatus::Denied,
        deps.clock.now(),
    )
    .require("client_id", s(&entry.client_id));
    match deps.store.decide(&change, &entry.user_code).await {
        Ok(true) => {
            tracing::info!(grant = entry.grant.short(), "denied by the person");
            pages::message(
                &deps.config,
                200,
                "Device denied",
                "The device was not signed in. You can close this page.",
                false,
                &[],
            )
        }
        Ok(false) => unknown_code(deps),
        Err(e) => unavailable(deps, &e),
    }
}

fn unknown_code(deps: &Deps) -> Response<Body> {
    pages::code_entry(&deps.config, 404, Some(UNKNOWN_CODE))
}

fn too_many(deps: &Deps) -> Response<Body> {
    pages::message(
        &deps.config,
        429,
        "Too many attempts",
        "Too many codes were tried from your network. Wait a few minutes, then try again.",
        false,
        &[],
    )
}

fn unavailable(deps: &Deps, cause: &dyn std::fmt::Display) -> Response<Body> {
    tracing::error!(error = %cause, "verification page could not be served");
    pages::message(
        &deps.config,
        503,
        "Please try again",
        "The service is busy. Try again in a moment.",
        true,
        &[],
    )
}
