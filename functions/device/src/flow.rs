//! The decisions of the device grant, apart from any wire format: issuing a grant (RFC 8628
//! §3.1–3.2), deciding a poll (§3.4–3.5) including the exchange at Cognito, and refreshing
//! (RFC 6749 §6). Each returns a verdict in domain terms; a writer per wire format
//! ([`crate::wire`]) turns it into a response, so a second dialect of the same grant is a
//! second writer, not a second flow.

use portal_auth_domain::grant::SLOW_DOWN_STEP_MS;
use portal_auth_domain::{
    DeviceCode, DeviceInfo, Dialect, ErrorCode, Grant, GrantRequest, OAuthError, PollVerdict,
    Scopes, UserCode,
};
use serde_json::{Map, Value};

use crate::audit::{self, Event, Record, User};
use crate::store::{CreateError, Quota};
use crate::token_client::TokenError;
use crate::{AppClient, Deps};
use portal_auth_runtime::metrics::{Dims, Metric};

/// Tries at storing a grant before giving up: with 20⁸ ≈ 2.6·10¹⁰ codes, a second user-code
/// collision in a row means something other than chance is wrong; a transaction conflict (a
/// burst from one address racing for its counter) clears on a retry.
const USER_CODE_ATTEMPTS: usize = 4;

/// Cognito's token response members, returned once and never stored.
pub type Tokens = Map<String, Value>;

/// A grant just issued: the device code (to hand out once) and the grant as stored.
#[derive(Debug)]
pub struct Issued {
    pub device_code: DeviceCode,
    pub grant: Grant,
}

/// What a poll comes to (RFC 8628 §3.5), before any wire format.
#[derive(Debug)]
pub enum PollOutcome {
    /// The grant was won and redeemed: Cognito's tokens, with the grant's `scope`.
    Tokens(Tokens),
    AuthorizationPending,
    /// Too early, or the store or Cognito could not be reached (the grant is untouched and
    /// the device keeps polling, slower). `interval_secs`: the interval now enforced, if known.
    SlowDown {
        interval_secs: Option<u64>,
    },
    AccessDenied,
    /// Expired, or the sign-in could not be completed: start over.
    ExpiredToken,
    /// Unknown, consumed, or another client's code (§3.4: all look the same).
    InvalidGrant,
}

impl PollOutcome {
    /// The outcome as the OAuth error of RFC 8628 §3.5, or the tokens.
    pub fn into_result(self) -> Result<Tokens, OAuthError> {
        Err(match self {
            PollOutcome::Tokens(tokens) => return Ok(tokens),
            PollOutcome::AuthorizationPending => OAuthError::new(
                ErrorCode::AuthorizationPending,
                "the user has not yet approved this device",
            ),
            PollOutcome::SlowDown { interval_secs } => {
                let err = OAuthError::new(
                    ErrorCode::SlowDown,
                    "polling too fast: add 5 seconds to the interval",
                );
                match interval_secs {
                    Some(secs) => err.with_number("interval", secs),
                    None => err,
                }
            }
            PollOutcome::AccessDenied => {
                OAuthError::new(ErrorCode::AccessDenied, "the user denied this device")
            }
            PollOutcome::ExpiredToken => OAuthError::new(
                ErrorCode::ExpiredToken,
                "the device code has expired or the sign-in could not be completed: start over",
            ),
            PollOutcome::InvalidGrant => OAuthError::invalid_grant(
                "the device code is unknown, already used, or not this client's",
            ),
        })
    }
}

/// A device authorization (RFC 8628 §3.1) by an authenticated `client`, in `dialect`: refuses
/// a client for which the sign-in would fail later, checks `scope`, then issues and stores the
/// grant, with a device code of the dialect's format.
pub async fn authorize(
    deps: &Deps,
    client: &AppClient,
    dialect: Dialect,
    scope: Option<&str>,
    device: DeviceInfo,
) -> Result<Issued, OAuthError> {
    ensure_code_flow(deps, client)?;
    let request = GrantRequest {
        client_id: client.client_id.clone(),
        dialect,
        scope: requested_scope(scope, client)?,
        device,
    };
    let issued = issue(deps, request).await?;
    tracing::info!(
        grant = issued.grant.device_code_hash.short(),
        client_id = %client.client_id,
        dialect = dialect.as_str(),
        "device authorization issued"
    );
    audit::record(
        deps.emf,
        Event::AuthorizationRequested,
        &Record::of_grant(&issued.grant),
    );
    Ok(issued)
}

/// The person will sign in at Cognito's hosted UI with the code flow, and Cognito will only
/// send them back to a registered callback: refuse now a client for which that would fail later.
fn ensure_code_flow(deps: &Deps, client: &AppClient) -> Result<(), OAuthError> {
    let redirect_uri = deps.config.redirect_uri();
    if !client.code_flow_enabled || !client.callback_urls.contains(&redirect_uri) {
        tracing::warn!(
            client_id = %client.client_id,
            redirect_uri,
            "app client lacks the code flow or our callback URL at Cognito"
        );
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not set up for the device flow (code flow and callback URL at Cognito)",
        ));
    }
    Ok(())
}

/// `scope` must be within the app client's scopes; when omitted, the client's scopes are
/// granted (RFC 6749 §3.3 lets the server pick a documented default).
fn requested_scope(raw: Option<&str>, client: &AppClient) -> Result<Scopes, OAuthError> {
    let Some(raw) = raw else {
        return Ok(client.scopes.clone());
    };
    let scope = Scopes::parse(raw)
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidScope, "scope is malformed"))?;
    if !scope.is_subset_of(&client.scopes) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "scope asks for more than this client is allowed",
        ));
    }
    Ok(if scope.is_empty() {
        client.scopes.clone()
    } else {
        scope
    })
}

/// Draws the codes and stores the grant, counted against the issuance ceilings (per source
/// IP and window, per client and minute) in the same write, drawing a new user code on the
/// rare collision with a live one. Past a ceiling: 429 with `Retry-After`, nothing stored.
async fn issue(deps: &Deps, request: GrantRequest) -> Result<Issued, OAuthError> {
    let now = deps.clock.now();
    let c = &deps.config;
    let quotas = [
        Quota::issue_per_ip(
            request.device.ip.as_deref(),
            c.issue_max_per_ip,
            c.issue_window_secs,
            now,
        ),
        Quota::issue_per_client(&request.client_id, c.issue_max_per_client_per_minute, now),
    ];
    let device_code = request
        .dialect
        .device_code_format()
        .generate()
        .map_err(OAuthError::unavailable)?;
    for _ in 0..USER_CODE_ATTEMPTS {
        let grant = Grant::issue(
            &device_code,
            UserCode::generate().map_err(OAuthError::unavailable)?,
            request.clone(),
            now,
            deps.config.device_code_ttl_secs,
            deps.config.poll_interval_secs,
        );
        match deps.store.create(&grant, &quotas, now).await {
            Ok(()) => return Ok(Issued { device_code, grant }),
            Err(CreateError::UserCodeTaken) => {
                tracing::warn!("user code collision, drawing another")
            }
            Err(CreateError::Contended) => {
                tracing::info!("grant write contended with another, trying again")
            }
            Err(CreateError::Limited(quota)) => {
                tracing::info!(
                    client_id = %request.client_id,
                    limit = quota.name,
                    "device authorization refused: issuance limit reached"
                );
                let record = Record {
                    client_id: Some(&request.client_id),
                    device: Some(&request.device),
                    ..Record::default()
                };
                audit::record(deps.emf, Event::RateLimited, &record);
                return Err(OAuthError::rate_limited(
                    "too many device authorizations: retry later",
                    quota.counter.retry_after(now),
                ));
            }
            Err(CreateError::Store(e)) => return Err(OAuthError::unavailable(e)),
        }
    }
    Err(OAuthError::unavailable(
        "no free user code after several draws",
    ))
}

/// A poll by an authenticated `client` with `device_code` through `dialect` (RFC 8628 §3.4),
/// decided by one conditional write; on an approved grant, the winning poll redeems Cognito's
/// code.
///
/// When DynamoDB fails mid-poll the grant is untouched and the device is told `slow_down`:
/// RFC 8628 clients keep polling on it (slower), where an unknown 5xx would end their loop.
pub async fn poll(
    deps: &Deps,
    client: &AppClient,
    dialect: Dialect,
    device_code: &DeviceCode,
) -> PollOutcome {
    let hash = device_code.hash();
    let now = deps.clock.now();
    let poll = match deps
        .store
        .poll(&hash, &client.client_id, dialect, now)
        .await
    {
        Ok(poll) => poll,
        Err(e) => {
            tracing::error!(grant = hash.short(), error = %e, "poll could not reach the store");
            return PollOutcome::SlowDown {
                interval_secs: None,
            };
        }
    };
    tracing::info!(grant = hash.short(), client_id = %client.client_id, verdict = ?poll.verdict, "poll");
    match (poll.verdict, poll.grant) {
        (PollVerdict::Redeem, Some(grant)) => redeem(deps, client, &grant, device_code).await,
        (PollVerdict::AuthorizationPending, _) => PollOutcome::AuthorizationPending,
        (PollVerdict::SlowDown, grant) => PollOutcome::SlowDown {
            interval_secs: grant.map(|g| (g.interval_ms + SLOW_DOWN_STEP_MS).div_ceil(1000)),
        },
        (PollVerdict::AccessDenied, _) => PollOutcome::AccessDenied,
        (PollVerdict::ExpiredToken, grant) => {
            if let Some(g) = &grant {
                audit::record(deps.emf, Event::ExpiredOnPoll, &Record::of_grant(g));
            }
            PollOutcome::ExpiredToken
        }
        (PollVerdict::InvalidGrant | PollVerdict::Redeem, _) => PollOutcome::InvalidGrant,
    }
}

/// The grant is approved: win it (exactly one poll does; the winning write removes Cognito's
/// code from the table), redeem the code with the PKCE verifier derived from the presented
/// device code, and return the tokens once; they are never stored. Cognito unreachable → the
/// grant is released with its code put back and the device told `slow_down`; Cognito's
/// refusal → the grant fails (`expired_token`).
async fn redeem(
    deps: &Deps,
    client: &AppClient,
    grant: &Grant,
    device_code: &DeviceCode,
) -> PollOutcome {
    let hash = &grant.device_code_hash;
    let now = deps.clock.now();
    match deps.store.win(hash, now).await {
        Ok(true) => {}
        Ok(false) => return PollOutcome::InvalidGrant,
        Err(e) => {
            tracing::error!(grant = hash.short(), error = %e, "could not win the grant");
            return PollOutcome::SlowDown {
                interval_secs: None,
            };
        }
    }
    let Some(code) = &grant.authorization_code else {
        tracing::error!(grant = hash.short(), "approved grant lacks its code");
        return fail(deps, grant).await;
    };
    let verifier = device_code.pkce_verifier();
    let redirect_uri = deps.config.redirect_uri();
    match deps
        .tokens
        .redeem_code(
            client,
            code.expose_secret(),
            verifier.expose_secret(),
            &redirect_uri,
        )
        .await
    {
        Ok(mut tokens) => {
            tracing::info!(grant = hash.short(), client_id = %client.client_id, "tokens issued");
            let user = User::from_token_response(&tokens);
            audit::record(
                deps.emf,
                Event::TokensIssued,
                &Record::of_grant(grant).with_user(&user),
            );
            tokens.insert("scope".into(), grant.scope.to_string().into());
            PollOutcome::Tokens(tokens)
        }
        Err(TokenError::Rejected(code)) => {
            tracing::warn!(
                grant = hash.short(),
                cognito_error = code,
                "Cognito refused the code"
            );
            exchange_failed(deps, client, "rejected");
            fail(deps, grant).await
        }
        Err(TokenError::Unavailable(why)) => {
            tracing::warn!(
                grant = hash.short(),
                error = why,
                "Cognito unreachable: grant released"
            );
            exchange_failed(deps, client, "unavailable");
            if let Err(e) = deps.store.release(hash, code, now).await {
                tracing::error!(grant = hash.short(), error = %e, "could not release the grant: it stays consumed");
            }
            PollOutcome::SlowDown {
                interval_secs: None,
            }
        }
    }
}

/// Counts a failed redemption at Cognito: `rejected` (the grant fails) or `unavailable`
/// (the grant is released).
fn exchange_failed(deps: &Deps, client: &AppClient, outcome: &'static str) {
    let dims = Dims::client(client.client_id.as_str()).with_outcome(outcome);
    deps.emf.count(Metric::CognitoExchangeFailures, 1, dims);
}

/// A won grant that can never yield tokens. A failed write leaves it consumed (never
/// redeemable twice), which the log records.
async fn fail(deps: &Deps, grant: &Grant) -> PollOutcome {
    let hash = &grant.device_code_hash;
    if let Err(e) = deps.store.fail(hash, deps.clock.now()).await {
        tracing::error!(grant = hash.short(), error = %e, "could not fail the grant: it stays consumed");
    }
    PollOutcome::ExpiredToken
}

/// `grant_type=refresh_token` (RFC 6749 §6) for device clients, proxied to Cognito with the
/// app client's secret when it has one. A token that cannot be Cognito's by shape is refused
/// before it is forwarded (it would spend the account's `UserAuthentication` quota).
pub async fn refresh(
    deps: &Deps,
    client: &AppClient,
    refresh_token: &str,
    device: &DeviceInfo,
) -> Result<Tokens, OAuthError> {
    let refused = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    if !deps.tokens.accepts_refresh_token_shape(refresh_token) {
        tracing::info!(client_id = %client.client_id, "refresh refused: not a Cognito refresh token");
        return Err(refused());
    }
    match deps.tokens.refresh(client, refresh_token).await {
        Ok(tokens) => {
            let user = User::from_token_response(&tokens);
            let record = Record {
                client_id: Some(&client.client_id),
                device: Some(device),
                ..Record::default()
            };
            audit::record(deps.emf, Event::Refreshed, &record.with_user(&user));
            Ok(tokens)
        }
        Err(TokenError::Rejected(code)) => {
            tracing::info!(client_id = %client.client_id, cognito_error = code, "refresh refused");
            Err(refused())
        }
        Err(TokenError::Unavailable(why)) => Err(OAuthError::unavailable(why)),
    }
}
