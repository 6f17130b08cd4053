//! The grant store: one DynamoDB table, string key `pk`, TTL attribute `expires_at`, behind
//! operations named for what the flow does (as ory/fosite's `handler/rfc8628/storage.go`):
//! [`create`](GrantStore::create), [`poll`](GrantStore::poll), [`approve`](GrantStore::approve),
//! [`deny`](GrantStore::deny), [`bind_callback`](GrantStore::bind_callback),
//! [`win`](GrantStore::win), [`release`](GrantStore::release), … Callers speak domain types;
//! the key layout and item encoding live in [`items`], the conditional-write builder in
//! [`transition`], and neither is visible outside this module.
//!
//! Every request is O(1) by key; there is no Scan. Every state change is a conditional write
//! whose condition re-checks status, client and expiry, so concurrent requests cannot both win.
//! DynamoDB deletes TTL-expired items late (up to days) and moto never does: expiry is checked
//! in every condition and on every read.
//!
//! Nothing stored is redeemable on its own: the device code is stored as its hash, the PKCE
//! verifier is derived from the device code at poll time (only the challenge is stored),
//! `state` and the browser binding as hashes, and Cognito's authorization code — useless
//! without the verifier — is removed by the write that consumes the grant.
//!
//! Costs (design.md's targets): creating a grant is one `TransactWriteItems` (the grant, its
//! user code, and one unit of each issuance counter, all or nothing); an on-time poll is
//! one `UpdateItem`; a poll that loses its condition (early, denied, expired, unknown) is that
//! same call, judged on the item DynamoDB returns with the failure (`ALL_OLD`), plus at most one
//! more to raise the interval on `slow_down`. A user-code look-up is a reservation
//! (`UpdateItem`) and a `GetItem`; a live code's view adds the reservation's refund, a
//! decision its `TransactWriteItems` (which carries the refund): 3 calls, the price of a
//! limit that holds under concurrency. The callback is 2 (bind, then the user code's delete).

mod items;
mod transition;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem,
};
use portal_auth_domain::grant::{POLL_JITTER_MS, SLOW_DOWN_STEP_MS};
use portal_auth_domain::revocation;
use portal_auth_domain::{
    Approver, ClientId, DeviceCodeHash, DeviceInfo, Dialect, Grant, GrantStatus, Millis,
    PollVerdict, Scopes, Secret, UserCode,
};

use items::{
    APPROVER_IP, APPROVER_USER_AGENT, ATTEMPTS, AUTHORIZATION_CODE, BINDING_HASH, CLIENT_ID,
    EXPIRES_AT, Item, PK, REMOTE_APPROVAL, STATE_HASH, grant_pk, n, s, user_code_pk,
};
use transition::{Expressions, Transition, conditional};

/// DynamoDB failed, or returned something this code did not write.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB {op} failed: {detail}")]
    Dynamo { op: &'static str, detail: String },
    #[error("stored item is malformed: {0}")]
    Malformed(String),
}

impl StoreError {
    fn sdk<E, R>(op: &'static str, err: SdkError<E, R>) -> Self
    where
        E: std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        StoreError::Dynamo {
            op,
            detail: DisplayErrorContext(&err).to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// A live grant already holds this user code: draw another and retry.
    #[error("user code already in use")]
    UserCodeTaken,
    /// Another transaction held one of the items (DynamoDB's `TransactionConflict`, as when
    /// requests from one address race for its counter): nothing was stored; try again.
    #[error("transaction conflict")]
    Contended,
    /// The quota is spent for its window: nothing was stored.
    #[error("issuance limit {} reached", .0.name)]
    Limited(Quota),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a poll found: the verdict, and the grant as stored when the verdict was reached on it.
#[derive(Debug, Clone)]
pub struct Poll {
    pub verdict: PollVerdict,
    pub grant: Option<Grant>,
}

/// What a user code's item tells the confirmation page (a copy of the grant's immutable part).
#[derive(Debug, Clone)]
pub struct UserCodeEntry {
    pub user_code: UserCode,
    pub grant: DeviceCodeHash,
    pub client_id: ClientId,
    pub scope: Scopes,
    pub created_at: Millis,
    pub expires_at: u64,
    pub device: DeviceInfo,
    /// The S256 challenge of the grant's sign-in leg (the verifier is the device's alone).
    pub code_challenge: String,
}

/// What ties a sign-in at Cognito to the approval that started it: the hashes of the `state`
/// sent to Cognito and of the binding cookie set in the approving browser.
#[derive(Debug, Clone)]
pub struct SignInBinding {
    pub state_hash: String,
    pub binding_hash: String,
}

/// A fixed-window counter item (`<kind>#<subject>#<window>`, `attempts`, TTL at the window's
/// end): the code-entry attempts of an IP, the device authorizations of an IP or of a client.
/// A unit is *taken* by a conditional write that fails once the limit is held, so however many
/// requests race, no more than the limit ever get through (read-check-write would leak).
///
/// The window is fixed (`now / window`): across a window's edge at most `2 × limit` can get
/// through within `window` seconds — the documented worst case.
#[derive(Debug, Clone)]
pub struct Counter {
    pk: String,
    window_end: u64,
}

/// One reserved user-code look-up (see [`GrantStore::reserve_attempt`]).
pub type Attempt = Counter;

impl Counter {
    fn new(kind: &str, subject: &str, window: u64, now: Millis) -> Self {
        let (pk, window_end) = items::counter_key(kind, subject, window, now);
        Counter { pk, window_end }
    }

    fn key(&self) -> AttributeValue {
        s(&self.pk)
    }

    /// Seconds from `now` until the window ends and the counter starts again (at least 1).
    pub fn retry_after(&self, now: Millis) -> u64 {
        self.window_end.saturating_sub(now / 1000).max(1)
    }

    /// The write that takes one unit, and fails once `limit` are held.
    fn take(&self, limit: u64) -> Expressions {
        Expressions {
            condition: Some(format!(
                "attribute_not_exists({ATTEMPTS}) OR {ATTEMPTS} < :limit"
            )),
            update: format!("ADD {ATTEMPTS} :one SET {EXPIRES_AT} = :end"),
            names: None,
            values: Item::from([
                (":one".to_owned(), n(1)),
                (":limit".to_owned(), n(limit)),
                (":end".to_owned(), n(self.window_end)),
            ]),
        }
    }

    /// The write that gives one unit back.
    fn refund(&self) -> Expressions {
        Expressions {
            condition: None,
            update: format!("ADD {ATTEMPTS} :minus_one SET {EXPIRES_AT} = :end"),
            names: None,
            values: Item::from([
                (":minus_one".to_owned(), AttributeValue::N("-1".to_owned())),
                (":end".to_owned(), n(self.window_end)),
            ]),
        }
    }
}

/// A ceiling a new grant is counted against ([`GrantStore::create`]).
#[derive(Debug, Clone)]
pub struct Quota {
    pub counter: Counter,
    pub limit: u64,
    /// What is limited, for the log and the error: `per_ip`, `per_client`.
    pub name: &'static str,
}

impl Quota {
    /// Device authorizations from `ip` (an unknown address counts as one shared `unknown`).
    pub fn issue_per_ip(ip: Option<&str>, limit: u64, window: u64, now: Millis) -> Self {
        Quota {
            counter: Counter::new("issue_ip", ip.unwrap_or("unknown"), window, now),
            limit,
            name: "per_ip",
        }
    }

    /// Device authorizations by `client_id` per minute.
    pub fn issue_per_client(client_id: &ClientId, limit: u64, now: Millis) -> Self {
        Quota {
            counter: Counter::new("issue_client", client_id.as_str(), 60, now),
            limit,
            name: "per_client",
        }
    }
}

#[derive(Clone, Debug)]
pub struct GrantStore {
    client: Client,
    table: String,
}

impl GrantStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Stores a new grant and its user code together, in one transaction that also takes one
    /// unit of each of `quotas`: all or nothing, so a request past a ceiling stores nothing,
    /// and however many race, no more than a ceiling get through. The user code must not belong
    /// to a live grant ([`CreateError::UserCodeTaken`] otherwise); an expired one that TTL has
    /// not deleted yet may be taken over.
    pub async fn create(
        &self,
        grant: &Grant,
        quotas: &[Quota],
        now: Millis,
    ) -> Result<(), CreateError> {
        let grant_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(items::grant_item(grant)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let code_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(items::user_code_item(grant)))
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now / 1000))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(grant_put).build())
            .transact_items(TransactWriteItem::builder().put(code_put).build());
        for quota in quotas {
            let take = quota
                .counter
                .take(quota.limit)
                .transact_update(&self.table, quota.counter.key())?;
            transaction =
                transaction.transact_items(TransactWriteItem::builder().update(take).build());
        }
        match transaction.send().await {
            Ok(_) => Ok(()),
            Err(err) if cancelled_by(&err, "TransactionConflict").is_some() => {
                Err(CreateError::Contended)
            }
            Err(err) => match cancelled_by(&err, "ConditionalCheckFailed") {
                Some(1) => Err(CreateError::UserCodeTaken),
                Some(i) if i >= 2 && i - 2 < quotas.len() => {
                    Err(CreateError::Limited(quotas[i - 2].clone()))
                }
                _ => Err(StoreError::sdk("TransactWriteItems", err).into()),
            },
        }
    }

    /// A poll by `client_id` through `dialect` at `now` (RFC 8628 §3.4–3.5), decided by one
    /// conditional write.
    ///
    /// The write succeeds only for an on-time poll of the client's own waiting, unexpired
    /// grant of that dialect, and moves `next_poll_at` one interval ahead: that is `authorization_pending`, and
    /// of any number of simultaneous polls exactly one gets it. Every other case is judged on
    /// the item returned with the failed condition. A `slow_down` also raises the stored
    /// interval by 5 s — once per observed interval, so a burst raises it once, not per request.
    pub async fn poll(
        &self,
        hash: &DeviceCodeHash,
        client_id: &ClientId,
        dialect: Dialect,
        now: Millis,
    ) -> Result<Poll, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(grant_pk(hash)))
            .condition_expression(
                "client_id = :cid AND #dialect = :dialect AND #status IN (:pending, :redirected) \
                 AND expires_at > :now_s AND next_poll_at <= :on_time",
            )
            .update_expression("SET next_poll_at = interval_ms + :now")
            .expression_attribute_names("#status", items::STATUS)
            .expression_attribute_names("#dialect", items::DIALECT)
            .expression_attribute_values(":cid", s(client_id.as_str()))
            .expression_attribute_values(":dialect", s(dialect.as_str()))
            .expression_attribute_values(":pending", s(GrantStatus::Pending.as_str()))
            .expression_attribute_values(":redirected", s(GrantStatus::Redirected.as_str()))
            .expression_attribute_values(":now_s", n(now / 1000))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":on_time", n(now + POLL_JITTER_MS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let stored = match result {
            Ok(_) => {
                return Ok(Poll {
                    verdict: PollVerdict::AuthorizationPending,
                    grant: None,
                });
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(e)) => e.item().cloned(),
                _ => return Err(StoreError::sdk("UpdateItem", err)),
            },
        };
        let grant = match stored {
            Some(item) if !item.is_empty() => Some(items::parse_grant(&item)?),
            _ => None,
        };
        let verdict =
            portal_auth_domain::grant::judge_poll(grant.as_ref(), client_id, dialect, now);
        if verdict == PollVerdict::SlowDown
            && let Some(g) = &grant
        {
            self.raise_interval(g, now).await;
        }
        Ok(Poll { verdict, grant })
    }

    /// Adds [`SLOW_DOWN_STEP_MS`] to the interval the device was seen polling under, and
    /// starts it anew from `now`. Losing the condition means a concurrent `slow_down` already
    /// raised it: fine. A failure here must not turn `slow_down` into an error, so it is
    /// logged, not returned.
    async fn raise_interval(&self, grant: &Grant, now: Millis) {
        let raised = grant.interval_ms + SLOW_DOWN_STEP_MS;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(grant_pk(&grant.device_code_hash)))
            .condition_expression("#status IN (:pending, :redirected) AND interval_ms = :seen")
            .update_expression("SET interval_ms = :raised, next_poll_at = :next")
            .expression_attribute_names("#status", items::STATUS)
            .expression_attribute_values(":pending", s(GrantStatus::Pending.as_str()))
            .expression_attribute_values(":redirected", s(GrantStatus::Redirected.as_str()))
            .expression_attribute_values(":seen", n(grant.interval_ms))
            .expression_attribute_values(":raised", n(raised))
            .expression_attribute_values(":next", n(now + raised))
            .send()
            .await;
        match result {
            Ok(_) => tracing::info!(
                grant = grant.device_code_hash.short(),
                interval_ms = raised,
                "slow_down raised the interval"
            ),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
            Err(err) => tracing::warn!(
                grant = grant.device_code_hash.short(),
                error = %DisplayErrorContext(&err),
                "could not raise the interval after slow_down"
            ),
        }
    }

    /// The live entry of a user code, strongly consistent: `None` when unknown, used or
    /// expired (expiry judged here, whatever TTL has or has not deleted).
    pub async fn user_code_entry(
        &self,
        code: &UserCode,
        now: Millis,
    ) -> Result<Option<UserCodeEntry>, StoreError> {
        let Some(item) = self.get_item(user_code_pk(code)).await? else {
            return Ok(None);
        };
        let entry = items::parse_user_code_item(&item)?;
        Ok(Some(entry).filter(|e| e.expires_at * 1000 > now && e.user_code == *code))
    }

    /// Reserves one user-code look-up from `ip` in the current window (RFC 8628 §5.1), before
    /// the look-up is made: one conditional `UpdateItem` that fails once `limit` attempts are
    /// held, so however many requests race, at most `limit` are ever evaluated in a window.
    /// `None` when the budget is spent. A look-up that finds a live code gives its attempt
    /// back ([`refund_attempt`](Self::refund_attempt), or inside the decision's write), so the
    /// budget counts failures and in-flight look-ups, and a success never resets failures.
    ///
    /// The window is fixed ([`Counter`]).
    pub async fn reserve_attempt(
        &self,
        ip: &str,
        window: u64,
        limit: u64,
        now: Millis,
    ) -> Result<Option<Attempt>, StoreError> {
        let attempt = Counter::new("code_entry", ip, window, now);
        let take = attempt.take(limit);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, attempt.key())
            .set_condition_expression(take.condition)
            .update_expression(take.update)
            .set_expression_attribute_values(Some(take.values))
            .send()
            .await;
        let reserved = conditional(result, "UpdateItem", |e| {
            e.is_conditional_check_failed_exception()
        })?;
        Ok(reserved.then_some(attempt))
    }

    /// Gives back an attempt whose look-up found a live code.
    pub async fn refund_attempt(&self, attempt: &Attempt) -> Result<(), StoreError> {
        let refund = attempt.refund();
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, attempt.key())
            .update_expression(refund.update)
            .set_expression_attribute_values(Some(refund.values))
            .send()
            .await
            .map_err(|e| StoreError::sdk("UpdateItem", e))?;
        Ok(())
    }

    /// Approve (RFC 8628 §3.3): pending — or a redirected sign-in that never came back — →
    /// redirected, bound to a new `state` and browser; the user code stays, so the sign-in
    /// can be restarted or denied until the callback ends it. The look-up's `attempt` goes
    /// back in the same transaction. `Ok(false)`: the grant moved on or expired first.
    pub async fn approve(
        &self,
        entry: &UserCodeEntry,
        binding: &SignInBinding,
        approver: &Approver,
        attempt: &Attempt,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let change = Transition::new(
            &entry.grant,
            GrantStatus::Pending,
            GrantStatus::Redirected,
            now,
        )
        .or_from(GrantStatus::Redirected)
        .require(CLIENT_ID, entry.client_id.as_str())
        .set(STATE_HASH, binding.state_hash.as_str())
        .set(BINDING_HASH, binding.binding_hash.as_str())
        .set_bool(REMOTE_APPROVAL, approver.remote)
        .set_or_remove(APPROVER_IP, approver.browser.ip.as_deref())
        .set_or_remove(APPROVER_USER_AGENT, approver.browser.user_agent.as_deref());
        self.decide(&change, None, attempt).await
    }

    /// Deny: pending or redirected → denied, the user code deleted and the `attempt` given
    /// back, in one transaction.
    pub async fn deny(
        &self,
        entry: &UserCodeEntry,
        attempt: &Attempt,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let change = Transition::new(&entry.grant, GrantStatus::Pending, GrantStatus::Denied, now)
            .or_from(GrantStatus::Redirected)
            .require(CLIENT_ID, entry.client_id.as_str());
        self.decide(&change, Some(&entry.user_code), attempt).await
    }

    /// The person's decision as one transaction: `change`, the user code's deletion when the
    /// decision is final, and the look-up's attempt given back.
    async fn decide(
        &self,
        change: &Transition<'_>,
        delete_code: Option<&UserCode>,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let update = change
            .expressions()
            .transact_update(&self.table, change.key())?;
        let refund = attempt
            .refund()
            .transact_update(&self.table, attempt.key())?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().update(refund).build());
        if let Some(code) = delete_code {
            let delete = Delete::builder()
                .table_name(&self.table)
                .key(PK, s(user_code_pk(code)))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(|e| StoreError::Malformed(e.to_string()))?;
            transaction =
                transaction.transact_items(TransactWriteItem::builder().delete(delete).build());
        }
        conditional(transaction.send().await, "TransactWriteItems", |e| {
            e.is_transaction_canceled_exception()
        })
    }

    /// The callback with Cognito's `authorization_code`: redirected → approved, if `state` and
    /// the browser match the approval (`binding`). Then the user code is deleted.
    pub async fn bind_callback(
        &self,
        grant: &DeviceCodeHash,
        binding: &SignInBinding,
        authorization_code: &Secret,
        now: Millis,
    ) -> Result<Option<Grant>, StoreError> {
        let change = Self::callback(grant, binding, GrantStatus::Approved, now)
            .set(AUTHORIZATION_CODE, authorization_code.expose_secret());
        self.finish_sign_in(&change).await
    }

    /// The callback with Cognito's `error=`: redirected → denied under the same conditions as
    /// [`bind_callback`](Self::bind_callback); the user code is deleted too.
    pub async fn cancel_sign_in(
        &self,
        grant: &DeviceCodeHash,
        binding: &SignInBinding,
        now: Millis,
    ) -> Result<Option<Grant>, StoreError> {
        let change = Self::callback(grant, binding, GrantStatus::Denied, now);
        self.finish_sign_in(&change).await
    }

    fn callback<'a>(
        grant: &'a DeviceCodeHash,
        binding: &SignInBinding,
        to: GrantStatus,
        now: Millis,
    ) -> Transition<'a> {
        Transition::new(grant, GrantStatus::Redirected, to, now)
            .require(STATE_HASH, binding.state_hash.as_str())
            .require(BINDING_HASH, binding.binding_hash.as_str())
    }

    /// `change`, then the user code's deletion, so a used code is an unknown code: two calls,
    /// since only the grant names its user code. Should the deletion fail, the code stays
    /// visible until it expires, but every decision on it fails the grant's condition (logged,
    /// not returned). `Some(grant)` as it now stands, `None` when the condition failed.
    async fn finish_sign_in(&self, change: &Transition<'_>) -> Result<Option<Grant>, StoreError> {
        let result = self
            .update(change)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let item = match result {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(None);
            }
            Err(err) => return Err(StoreError::sdk("UpdateItem", err)),
        };
        let grant = items::parse_grant(&item)?;
        self.delete_user_code(&grant.user_code, change.grant).await;
        Ok(Some(grant))
    }

    async fn delete_user_code(&self, code: &UserCode, grant: &DeviceCodeHash) {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(user_code_pk(code)))
            .condition_expression("grant_pk = :grant")
            .expression_attribute_values(":grant", s(grant_pk(grant)))
            .send()
            .await;
        if let Err(err) = result
            && !err
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception())
        {
            tracing::warn!(
                grant = grant.short(),
                error = %DisplayErrorContext(&err),
                "could not delete the used user code; it expires with the grant"
            );
        }
    }

    /// The poll that wins an approved grant (approved → consumed; exactly one does). The same
    /// write removes Cognito's code from the table: from here on only this request holds it.
    pub async fn win(&self, grant: &DeviceCodeHash, now: Millis) -> Result<bool, StoreError> {
        let change = Transition::new(grant, GrantStatus::Approved, GrantStatus::Consumed, now)
            .remove(AUTHORIZATION_CODE);
        self.transition(&change).await
    }

    /// Cognito could not be reached: the won grant goes back to approved with its code, for
    /// a later poll to redeem.
    pub async fn release(
        &self,
        grant: &DeviceCodeHash,
        authorization_code: &Secret,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let change = Transition::new(grant, GrantStatus::Consumed, GrantStatus::Approved, now)
            .set(AUTHORIZATION_CODE, authorization_code.expose_secret());
        self.transition(&change).await
    }

    /// Cognito refused the code: the won grant can never yield tokens.
    pub async fn fail(&self, grant: &DeviceCodeHash, now: Millis) -> Result<bool, StoreError> {
        let change = Transition::new(grant, GrantStatus::Consumed, GrantStatus::Failed, now);
        self.transition(&change).await
    }

    /// `change` as one conditional `UpdateItem`: `Ok(false)` when its condition failed
    /// (another request moved the grant first, it expired, or a required attribute differed).
    async fn transition(&self, change: &Transition<'_>) -> Result<bool, StoreError> {
        let result = self.update(change).send().await;
        conditional(result, "UpdateItem", |e| {
            e.is_conditional_check_failed_exception()
        })
    }

    /// `change` as a conditional `UpdateItem` request, ready to send.
    fn update(&self, change: &Transition<'_>) -> UpdateItemFluentBuilder {
        let e = change.expressions();
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, change.key())
            .set_condition_expression(e.condition)
            .update_expression(e.update)
            .set_expression_attribute_names(e.names)
            .set_expression_attribute_values(Some(e.values))
    }

    /// Records a revoked session (RFC 7009 at `/device/revoke`): its tokens are refused by
    /// the authorizer until `exp`, the revoked token's expiry ([`revocation`]). One
    /// `UpdateItem` on the bucket of `exp`, which it creates when missing; idempotent.
    pub async fn revoke_session(&self, session: &str, exp: u64) -> Result<(), StoreError> {
        self.add_revocation(exp, &revocation::session_attribute(session), exp)
            .await
    }

    /// Records a signed-out user (sign-out everywhere): their authentications at or before
    /// `at` are refused until no token of them can still be valid.
    pub async fn revoke_user(&self, sub: &str, at: u64) -> Result<(), StoreError> {
        let until = at + revocation::MAX_ACCESS_TOKEN_LIFETIME_SECS;
        self.add_revocation(until, &revocation::user_attribute(sub), at)
            .await
    }

    async fn add_revocation(
        &self,
        until: u64,
        attribute: &str,
        value: u64,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(revocation::bucket_key(until)))
            .update_expression("SET #record = :value, expires_at = :ttl")
            .expression_attribute_names("#record", attribute)
            .expression_attribute_values(":value", n(value))
            .expression_attribute_values(":ttl", n(revocation::bucket_expiry(until)))
            .send()
            .await
            .map_err(|e| StoreError::sdk("UpdateItem", e))?;
        Ok(())
    }

    async fn get_item(&self, pk: String) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::sdk("GetItem", e))?;
        Ok(out.item.filter(|i| !i.is_empty()))
    }
}

/// The index of the first item a `TransactWriteItems` was cancelled for with reason `code`
/// (`ConditionalCheckFailed`: its condition; `TransactionConflict`: a concurrent write).
fn cancelled_by<R>(err: &SdkError<TransactWriteItemsError, R>, code: &str) -> Option<usize> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => c
            .cancellation_reasons()
            .iter()
            .position(|r| r.code() == Some(code)),
        _ => None,
    }
}

/// Reads and writes only tests make: the stored grant whatever its state, the attempts an IP
/// holds, and a grant put straight into a state (to test every state against every request).
#[cfg(feature = "testkit")]
impl GrantStore {
    /// The grant, strongly consistent, whatever its state; `None` when there is no such item.
    pub async fn get(&self, hash: &DeviceCodeHash) -> Result<Option<Grant>, StoreError> {
        self.get_item(grant_pk(hash))
            .await?
            .map(|item| items::parse_grant(&item))
            .transpose()
    }

    /// The number of attempts held from `ip` in the current window.
    pub async fn attempts_held(
        &self,
        ip: &str,
        window: u64,
        now: Millis,
    ) -> Result<u64, StoreError> {
        let attempt = Counter::new("code_entry", ip, window, now);
        Ok(match self.get_item(attempt.pk).await? {
            Some(item) => items::Attributes(&item).number(ATTEMPTS).unwrap_or(0),
            None => 0,
        })
    }

    /// Moves the grant `from` → `to` along one arrow of the diagram, as the flow would.
    pub async fn force_transition(
        &self,
        grant: &DeviceCodeHash,
        from: GrantStatus,
        to: GrantStatus,
        now: Millis,
    ) -> Result<bool, StoreError> {
        self.transition(&Transition::new(grant, from, to, now))
            .await
    }
}
