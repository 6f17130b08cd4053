//! `device-verify`: the verification page of RFC 8628 §3.3, `GET /device` and `POST /device`.
//!
//! - `GET /device`: the code-entry page; with `?user_code=` (as in `verification_uri_complete`)
//!   the confirmation page: which application asks, for which scopes, when and from where, the
//!   code to compare, a warning (§5.4), and Approve / Deny. A GET never changes a grant.
//! - `POST /device` (CSRF-protected: a per-browser secret cookie, and a form token that binds
//!   it to the one user code the page showed): Approve moves the grant pending → redirected
//!   (or restarts a redirected sign-in that never came back) with a fresh `state` and a
//!   browser-binding cookie of this grant's own, and sends the browser to Cognito's hosted UI
//!   with the S256 challenge stored at issue; Deny moves it to denied and deletes the user
//!   code, so a used code is an unknown code (the callback deletes it after a sign-in).
//!
//! - `GET /api/v2/authn/device?code=` (the portal dialect's page, when `PORTAL_COMPAT_ENABLED`):
//!   a redirect to `GET /device?user_code=`, so a link a portal client printed before the
//!   switch still leads to the same confirmation page; off, the path is an unknown page (404).
//!
//! Proximity (the cross-device BCP, RFC 10027): the page compares the approving browser's
//! address with the device's ([`portal_auth_domain::proximity`]). On another network — or with
//! an address unknown on either side — it names both addresses and warns, and under the app
//! client's `DEVICE_REMOTE_APPROVAL` policy Approve needs a ticked, server-checked
//! confirmation (`confirm`, the default), is refused (`deny`), or proceeds (`allow`). A refused
//! Approve changes nothing. The grant records whether its approval was remote, and from where.
//! Deny comes first and looks as strong as Approve (the BCP asks it be at least as prominent).
//!
//! Unknown, expired, used and malformed codes all get the same page (no oracle). Every look-up
//! reserves an attempt against the client IP first (§5.1): past `VERIFY_MAX_FAILURES` held in
//! the window the page answers 429 without looking, and only a live code gives its attempt
//! back, so a success never resets failures. DynamoDB cost: a failed look-up 2 calls (reserve,
//! `GetItem`), a refused one 1, a view or decision 3 (its write carries the refund).

use lambda_http::{Body, Request, Response};
use portal_auth_device::Deps;
use portal_auth_device::audit::{self, Event, Record};
use portal_auth_device::pages::{self, CSRF_COOKIE, Confirmation, Message, RemoteNotice};
use portal_auth_device::request::{self, Form};
use portal_auth_device::store::{Attempt, SignInBinding, UserCodeEntry};
use portal_auth_device::wire::portal;
use portal_auth_domain::codes::{RandomnessUnavailable, random_token};
use portal_auth_domain::proximity::proximity;
use portal_auth_domain::{
    Approver, CallbackState, DeviceInfo, Proximity, RemoteApproval, Secret, UserCode,
};

/// What this function's code asks of AWS, for its IAM role (checked against the template).
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "cognito-idp:DescribeUserPoolClient",
];

/// How long the binding cookie lives: the sign-in at Cognito must finish within it.
const BINDING_COOKIE_SECONDS: u64 = 900;
/// The length of a CSRF secret as [`random_token`] draws it (32 bytes, base64url).
const CSRF_SECRET_CHARS: usize = 43;
const UNKNOWN_CODE: &str =
    "That code is not valid. It may be mistyped, used already, or expired: check your device.";

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    if req
        .uri()
        .path()
        .trim_end_matches('/')
        .ends_with(portal::VERIFICATION_PATH)
    {
        return portal_verification(deps, &req);
    }
    match *req.method() {
        http::Method::GET | http::Method::HEAD => show(deps, &req).await,
        http::Method::POST => decide(deps, &req).await,
        _ => pages::message(&deps.config, Message::VerifyMethodNotAllowed, &[]),
    }
}

/// The portal's verification page: ours, by redirect. A GET changes nothing, so the code is
/// passed on as given and judged (and counted) by [`show`].
fn portal_verification(deps: &Deps, req: &Request) -> Response<Body> {
    if !deps.config.portal_compat_enabled {
        return pages::message(&deps.config, Message::NotFound, &[]);
    }
    if !matches!(*req.method(), http::Method::GET | http::Method::HEAD) {
        return pages::message(&deps.config, Message::VerifyMethodNotAllowed, &[]);
    }
    let params = request::query(req);
    let location =
        portal::verification_redirect(&deps.config, params.get("code").map(String::as_str));
    pages::redirect(&deps.config, &location, &[])
}

async fn show(deps: &Deps, req: &Request) -> Response<Body> {
    let params = request::query(req);
    let Some(raw) = params.get("user_code") else {
        return pages::code_entry(&deps.config, 200, None);
    };
    let (entry, attempt) = match look_up(deps, req, raw).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    // A live code is not a failure: its attempt goes back to the IP's budget.
    if let Err(e) = deps.store.refund_attempt(&attempt).await {
        tracing::warn!(error = %e, "could not refund a look-up attempt");
    }
    let client_name = match deps.clients.get(&entry.client_id).await {
        Ok(Some(client)) => client.name.clone(),
        Ok(None) => return unknown_code(deps),
        Err(e) => return unavailable(deps, &e),
    };
    let browser_secret = match csrf_secret(deps, req) {
        Ok(secret) => secret,
        Err(e) => return unavailable(deps, &e),
    };
    let stance = Stance::of(deps, req, &entry);
    let device_ip = entry.device.ip.as_deref().unwrap_or("unknown");
    let view = Confirmation {
        user_code: entry.user_code.formatted(),
        client_name: &client_name,
        scopes: entry.scope.iter().collect(),
        requested_at: pages::utc_time(entry.created_at),
        device_ip,
        device_user_agent: entry.device.user_agent.as_deref().unwrap_or("unknown"),
        remote: stance.notice(device_ip),
    };
    audit::record(deps.emf, Event::ConfirmationViewed, &stance.record(&entry));
    let csrf = pages::csrf_token(&browser_secret, &entry.user_code);
    pages::confirm(&deps.config, &view, &csrf, &browser_secret)
}

/// Where the approving browser stands to the device (the cross-device BCP's proximity check,
/// [`portal_auth_domain::proximity`]), and what the client's policy makes of it.
struct Stance {
    browser: DeviceInfo,
    remote: bool,
    policy: RemoteApproval,
}

impl Stance {
    fn of(deps: &Deps, req: &Request, entry: &UserCodeEntry) -> Self {
        let browser = request::device_info(req);
        let near = proximity(
            entry.device.ip.as_deref(),
            browser.ip.as_deref(),
            deps.config.network_prefixes,
        );
        Stance {
            browser,
            remote: near == Proximity::Remote,
            policy: deps.config.remote_approval.for_client(&entry.client_id),
        }
    }

    /// The page's warning, unless the browser is near or the policy lets remote approvals be.
    fn notice<'a>(&'a self, device_ip: &'a str) -> Option<RemoteNotice<'a>> {
        (self.remote && self.policy != RemoteApproval::Allow).then(|| RemoteNotice {
            device_ip,
            browser_ip: self.browser.ip.as_deref().unwrap_or("unknown"),
            refused: self.policy == RemoteApproval::Deny,
        })
    }

    /// The audit record of `entry` seen from this browser.
    fn record<'a>(&'a self, entry: &'a UserCodeEntry) -> Record<'a> {
        Record {
            grant: Some(&entry.grant),
            client_id: Some(&entry.client_id),
            device: Some(&entry.device),
            approver: Some(&self.browser),
            remote: Some(self.remote),
            user: None,
        }
    }

    /// Why an Approve with this `form` must be refused, if it must.
    fn refusal(&self, form: &Form) -> Option<Message> {
        match (self.remote, self.policy) {
            (false, _) | (true, RemoteApproval::Allow) => None,
            (true, RemoteApproval::Deny) => Some(Message::RemoteRefused),
            (true, RemoteApproval::Confirm) => {
                (form.get("remote_confirmed") != Some("yes")).then_some(Message::RemoteNotConfirmed)
            }
        }
    }
}

/// The browser's CSRF secret: the one its cookie holds when well-formed, else a new one.
fn csrf_secret(deps: &Deps, req: &Request) -> Result<String, RandomnessUnavailable> {
    match pages::cookie(&deps.config, req, CSRF_COOKIE) {
        Some(secret) if secret.len() == CSRF_SECRET_CHARS => Ok(secret),
        _ => random_token(32),
    }
}

async fn decide(deps: &Deps, req: &Request) -> Response<Body> {
    let form = match Form::parse(req) {
        Ok(form) => form,
        Err(e) => return pages::message(&deps.config, Message::Unreadable(e.status()), &[]),
    };
    let Some(raw) = form.get("user_code") else {
        return unknown_code(deps);
    };
    let csrf_ok = match (
        pages::cookie(&deps.config, req, CSRF_COOKIE),
        form.get("csrf"),
        UserCode::parse(raw),
    ) {
        (Some(secret), Some(field), Some(code)) => pages::csrf_matches(&secret, &code, field),
        _ => false,
    };
    if !csrf_ok {
        tracing::info!("decision refused: CSRF token missing, wrong or another code's");
        return pages::message(&deps.config, Message::FormExpired, &[]);
    }
    let (entry, attempt) = match look_up(deps, req, raw).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    match form.get("decision") {
        Some("approve") => approve(deps, req, &form, &entry, &attempt).await,
        Some("deny") => deny(deps, req, &entry, &attempt).await,
        _ => pages::message(&deps.config, Message::ChooseDecision, &[]),
    }
}

/// The live entry of `raw` and the attempt reserved for it, or the page to answer with.
///
/// The attempt is reserved *before* the code is looked up (RFC 8628 §5.1): past
/// `VERIFY_MAX_FAILURES` held in the window the answer is 429 without a look-up, so however
/// many requests race, no more than the limit are evaluated, and a right code does not escape
/// it. A cross-site subresource request (an `<img>` on someone else's page) is refused before
/// anything is counted, so no web page can lock a network out (issue 9, item 2).
async fn look_up(
    deps: &Deps,
    req: &Request,
    raw: &str,
) -> Result<(UserCodeEntry, Attempt), Response<Body>> {
    let c = &deps.config;
    if is_cross_site_subresource(req) {
        tracing::info!("user code look-up refused: cross-site subresource request");
        return Err(pages::message(c, Message::CrossSite, &[]));
    }
    let now = deps.clock.now();
    let ip = request::source_ip(req).unwrap_or_else(|| "unknown".to_owned());
    let window = c.verify_failure_window_secs;
    let attempt = deps
        .store
        .reserve_attempt(&ip, window, c.verify_max_failures, now)
        .await
        .map_err(|e| unavailable(deps, &e))?
        .ok_or_else(|| {
            tracing::info!("user code look-up refused: the IP's attempts are spent");
            let browser = request::device_info(req);
            let record = Record {
                approver: Some(&browser),
                ..Record::default()
            };
            audit::record(deps.emf, Event::CodeEntryBlocked, &record);
            too_many(deps)
        })?;
    let entry = match UserCode::parse(raw) {
        Some(code) => deps
            .store
            .user_code_entry(&code, now)
            .await
            .map_err(|e| unavailable(deps, &e))?,
        None => None,
    };
    match entry {
        Some(entry) => Ok((entry, attempt)),
        None => {
            tracing::info!("user code look-up failed");
            Err(unknown_code(deps))
        }
    }
}

/// Fetch metadata (`Sec-Fetch-Site: cross-site` with a mode other than `navigate`): an image,
/// script or fetch from another site's page. Requests without `Sec-Fetch-*` (scripts, old
/// browsers) are not exempt from counting: they are looked up and counted as usual.
fn is_cross_site_subresource(req: &Request) -> bool {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    header("sec-fetch-site").as_deref() == Some("cross-site")
        && header("sec-fetch-mode").as_deref() != Some("navigate")
}

/// Approve: pending (or a redirected sign-in that never came back) → redirected, with a new
/// `state` and a new binding cookie for this grant alone; the browser goes to Cognito with the
/// S256 challenge stored at issue (the verifier is derived from the device code at poll time).
async fn approve(
    deps: &Deps,
    req: &Request,
    form: &Form,
    entry: &UserCodeEntry,
    attempt: &Attempt,
) -> Response<Body> {
    let c = &deps.config;
    let stance = Stance::of(deps, req, entry);
    if let Some(refusal) = stance.refusal(form) {
        // A live code is not a failed look-up: its attempt goes back; the grant is untouched.
        if let Err(e) = deps.store.refund_attempt(attempt).await {
            tracing::warn!(error = %e, "could not refund a look-up attempt");
        }
        tracing::info!(
            grant = entry.grant.short(),
            policy = stance.policy.as_str(),
            "remote approval refused"
        );
        return pages::message(c, refusal, &[]);
    }
    let approver = Approver {
        browser: stance.browser.clone(),
        remote: stance.remote,
    };
    let prepared =
        CallbackState::new(&entry.grant).and_then(|state| Ok((state, random_token(32)?)));
    let (state, binding) = match prepared {
        Ok(p) => p,
        Err(e) => return unavailable(deps, &e),
    };
    let binding_proof = SignInBinding {
        state_hash: state.hash(),
        binding_hash: Secret::new(binding.clone()).hash(),
    };
    match deps
        .store
        .approve(entry, &binding_proof, &approver, attempt, deps.clock.now())
        .await
    {
        Ok(true) => {}
        Ok(false) => return unknown_code(deps),
        Err(e) => return unavailable(deps, &e),
    }
    tracing::info!(
        grant = entry.grant.short(),
        remote = approver.remote,
        "approved: sending the browser to sign in"
    );
    audit::record(deps.emf, Event::Approved, &stance.record(entry));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", entry.client_id.as_str())
        .append_pair("redirect_uri", &c.redirect_uri())
        .append_pair("scope", &entry.scope.to_string())
        .append_pair("state", state.expose_secret())
        .append_pair("code_challenge", &entry.code_challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let location = format!("{}?{query}", c.cognito_authorize_endpoint());
    let mut cookies = pages::expire_old_bindings(c, req);
    cookies.push(pages::set_cookie(
        c,
        &pages::binding_cookie(&entry.grant),
        &binding,
        BINDING_COOKIE_SECONDS,
    ));
    pages::redirect(c, &location, &cookies)
}

async fn deny(
    deps: &Deps,
    req: &Request,
    entry: &UserCodeEntry,
    attempt: &Attempt,
) -> Response<Body> {
    match deps.store.deny(entry, attempt, deps.clock.now()).await {
        Ok(true) => {
            tracing::info!(grant = entry.grant.short(), "denied by the person");
            let stance = Stance::of(deps, req, entry);
            audit::record(deps.emf, Event::Denied, &stance.record(entry));
            pages::message(&deps.config, Message::Denied, &[])
        }
        Ok(false) => unknown_code(deps),
        Err(e) => unavailable(deps, &e),
    }
}

fn unknown_code(deps: &Deps) -> Response<Body> {
    pages::code_entry(&deps.config, 404, Some(UNKNOWN_CODE))
}

fn too_many(deps: &Deps) -> Response<Body> {
    pages::message(&deps.config, Message::TooManyAttempts, &[])
}

fn unavailable(deps: &Deps, cause: &dyn std::fmt::Display) -> Response<Body> {
    tracing::error!(error = %cause, "verification page could not be served");
    pages::message(&deps.config, Message::VerifyUnavailable, &[])
}
