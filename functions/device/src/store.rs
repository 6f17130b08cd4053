//! The grant store: one DynamoDB table, string key `pk`, TTL attribute `expires_at`.
//!
//! Three kinds of item share the table:
//!
//! | `pk` | what | attributes |
//! |---|---|---|
//! | `grant#<sha256(device_code)>` | a [`Grant`] | `client_id`, `scope`, `user_code`, `status`, `created_at`, `expires_at`, `interval_ms`, `next_poll_at`, `device_ip`, `device_user_agent`, `code_challenge`; from approve `state_hash`, `binding_hash`; between callback and redemption `authorization_code` |
//! | `user_code#<CODE>` | the user code's pointer to its grant, until deny or the callback | `grant_pk`, the grant's immutable attributes, `expires_at` |
//! | `code_entry#<ip>#<window>` | user-code look-ups held by an IP in a window (§5.1) | `attempts`, `expires_at` |
//!
//! Nothing stored is redeemable on its own: the device code is stored as its hash, the PKCE
//! verifier is derived from the device code at poll time (only the challenge is stored),
//! `state` and the browser binding as hashes, and Cognito's authorization code — useless
//! without the verifier — is removed by the write that consumes the grant.
//!
//! Every request is O(1) by key; there is no Scan. Every state change is a conditional write
//! whose condition re-checks status, client and expiry, so concurrent requests cannot both win.
//! DynamoDB deletes TTL-expired items late (up to days) and moto never does: expiry is checked
//! in every condition and on every read.
//!
//! Costs (design.md's targets): creating a grant is one `TransactWriteItems`; an on-time poll is
//! one `UpdateItem`; a poll that loses its condition (early, denied, expired, unknown) is that
//! same call, judged on the item DynamoDB returns with the failure (`ALL_OLD`), plus at most one
//! more to raise the interval on `slow_down`. A user-code look-up is a reservation
//! (`UpdateItem`) and a `GetItem`; a live code's view adds the reservation's refund, a
//! decision its `TransactWriteItems` (which carries the refund): 3 calls, the price of a
//! limit that holds under concurrency. The callback is 2 (bind, then the user code's delete).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use portal_auth_domain::grant::SLOW_DOWN_STEP_MS;
use portal_auth_domain::{
    DeviceCodeHash, Grant, GrantStatus, Millis, PollVerdict, Scopes, Secret, UserCode,
    grant::POLL_JITTER_MS,
};

type Item = HashMap<String, AttributeValue>;

/// The attribute that holds Cognito's authorization code between the callback and the poll
/// that wins the grant (whose write removes it).
pub const AUTHORIZATION_CODE: &str = "authorization_code";

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a poll found: the verdict, and the grant as stored when the verdict was reached on it.
#[derive(Debug, Clone)]
pub struct Poll {
    pub verdict: PollVerdict,
    pub grant: Option<Grant>,
}

#[derive(Clone, Debug)]
pub struct GrantStore {
    client: Client,
    table: String,
}

fn grant_pk(hash: &DeviceCodeHash) -> String {
    format!("grant#{}", hash.as_str())
}

fn user_code_pk(code: &UserCode) -> String {
    format!("user_code#{}", code.normalized())
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
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

    /// Stores a new grant and its user code together, in one transaction. The user code must
    /// not belong to a live grant ([`CreateError::UserCodeTaken`] otherwise); an expired one
    /// that TTL has not deleted yet may be taken over.
    pub async fn create(&self, grant: &Grant, now: Millis) -> Result<(), CreateError> {
        let grant_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(grant_item(grant)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let code_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(user_code_item(grant)))
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now / 1000))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(grant_put).build())
            .transact_items(TransactWriteItem::builder().put(code_put).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                let user_code_lost = err
                    .as_service_error()
                    .and_then(|e| match e {
                        TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                        _ => None,
                    })
                    .map(|e| {
                        e.cancellation_reasons()
                            .get(1)
                            .and_then(|r| r.code())
                            .is_some_and(|c| c == "ConditionalCheckFailed")
                    })
                    .unwrap_or(false);
                if user_code_lost {
                    Err(CreateError::UserCodeTaken)
                } else {
                    Err(StoreError::sdk("TransactWriteItems", err).into())
                }
            }
        }
    }

    /// A poll by `client_id` at `now` (RFC 8628 §3.4–3.5), decided by one conditional write.
    ///
    /// The write succeeds only for an on-time poll of the client's own waiting, unexpired
    /// grant, and moves `next_poll_at` one interval ahead: that is `authorization_pending`, and
    /// of any number of simultaneous polls exactly one gets it. Every other case is judged on
    /// the item returned with the failed condition. A `slow_down` also raises the stored
    /// interval by 5 s — once per observed interval, so a burst raises it once, not per request.
    pub async fn poll(
        &self,
        hash: &DeviceCodeHash,
        client_id: &str,
        now: Millis,
    ) -> Result<Poll, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(grant_pk(hash)))
            .condition_expression(
                "client_id = :cid AND #status IN (:pending, :redirected) \
                 AND expires_at > :now_s AND next_poll_at <= :on_time",
            )
            .update_expression("SET next_poll_at = interval_ms + :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":cid", s(client_id))
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
            Some(item) if !item.is_empty() => Some(parse_grant(&item)?),
            _ => None,
        };
        let verdict = portal_auth_domain::grant::judge_poll(grant.as_ref(), client_id, now);
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
            .key("pk", s(grant_pk(&grant.device_code_hash)))
            .condition_expression("#status IN (:pending, :redirected) AND interval_ms = :seen")
            .update_expression("SET interval_ms = :raised, next_poll_at = :next")
            .expression_attribute_names("#status", "status")
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

    /// The grant, strongly consistent, whatever its state; `None` when there is no such item.
    /// Callers judge expiry with [`Grant::is_expired`].
    pub async fn get(&self, hash: &DeviceCodeHash) -> Result<Option<Grant>, StoreError> {
        self.get_item(grant_pk(hash))
            .await?
            .map(|item| parse_grant(&item))
            .transpose()
    }

    async fn get_item(&self, pk: String) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::sdk("GetItem", e))?;
        Ok(out.item.filter(|i| !i.is_empty()))
    }

    /// Moves the grant as `change` says, in one conditional write that re-checks the status,
    /// the expiry and `change.require`. `Ok(false)` when the condition failed: another request
    /// moved it first, or it expired, or a required attribute did not match.
    pub async fn transition(&self, change: &Transition<'_>) -> Result<bool, StoreError> {
        let e = change.expressions();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(grant_pk(change.grant)))
            .condition_expression(e.condition)
            .update_expression(e.update)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .send()
            .await;
        conditional(result, "UpdateItem", |e| {
            e.is_conditional_check_failed_exception()
        })
    }

    /// The person's decision on the confirmation page, in one transaction: `change` on the
    /// grant, the user code's deletion when the decision is final (`delete_code`: Deny), and
    /// the look-up's `attempt` given back. Approve keeps the user code, so a sign-in that never
    /// comes back can be restarted or denied from the same code until the callback ends it.
    pub async fn decide(
        &self,
        change: &Transition<'_>,
        delete_code: Option<&UserCode>,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let e = change.expressions();
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(grant_pk(change.grant)))
            .condition_expression(e.condition)
            .update_expression(e.update)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let refund = attempt.refund();
        let refund = Update::builder()
            .table_name(&self.table)
            .key("pk", s(&attempt.pk))
            .update_expression(refund.update)
            .set_expression_attribute_values(Some(refund.values))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().update(refund).build());
        if let Some(code) = delete_code {
            let delete = Delete::builder()
                .table_name(&self.table)
                .key("pk", s(user_code_pk(code)))
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

    /// The callback's `change` (redirected → approved or denied), then the user code's
    /// deletion, so a used code is an unknown code: two calls, since only the grant names its
    /// user code. Should the deletion fail, the code stays visible until it expires, but every
    /// decision on it fails the grant's condition (logged, not returned).
    pub async fn finish_sign_in(&self, change: &Transition<'_>) -> Result<bool, StoreError> {
        let e = change.expressions();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(grant_pk(change.grant)))
            .condition_expression(e.condition)
            .update_expression(e.update)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        let item = match result {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(false);
            }
            Err(err) => return Err(StoreError::sdk("UpdateItem", err)),
        };
        let code = Attributes(&item)
            .text("user_code")
            .ok()
            .and_then(UserCode::parse);
        if let Some(code) = code
            && let Err(err) = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(user_code_pk(&code)))
                .condition_expression("grant_pk = :grant")
                .expression_attribute_values(":grant", s(grant_pk(change.grant)))
                .send()
                .await
            && !err
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception())
        {
            tracing::warn!(
                grant = change.grant.short(),
                error = %DisplayErrorContext(&err),
                "could not delete the used user code; it expires with the grant"
            );
        }
        Ok(true)
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
        let entry = parse_user_code_item(&item)?;
        Ok(Some(entry).filter(|e| e.expires_at * 1000 > now && e.user_code == *code))
    }

    /// Reserves one user-code look-up from `ip` in the current window (RFC 8628 §5.1), before
    /// the look-up is made: one conditional `UpdateItem` that fails once `limit` attempts are
    /// held, so however many requests race, at most `limit` are ever evaluated in a window.
    /// `None` when the budget is spent. A look-up that finds a live code gives its attempt
    /// back ([`refund_attempt`](Self::refund_attempt), or inside [`decide`](Self::decide)), so
    /// the budget counts failures and in-flight look-ups, and a success never resets failures.
    ///
    /// The window is fixed (`now / window`): across a window's edge at most `2 × limit`
    /// look-ups can be evaluated within `window` seconds — the documented worst case.
    pub async fn reserve_attempt(
        &self,
        ip: &str,
        window: u64,
        limit: u64,
        now: Millis,
    ) -> Result<Option<Attempt>, StoreError> {
        let attempt = Attempt::new(ip, window, now);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&attempt.pk))
            .condition_expression("attribute_not_exists(attempts) OR attempts < :limit")
            .update_expression("ADD attempts :one SET expires_at = :end")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":end", n(attempt.window_end))
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
            .key("pk", s(&attempt.pk))
            .update_expression(refund.update)
            .set_expression_attribute_values(Some(refund.values))
            .send()
            .await
            .map_err(|e| StoreError::sdk("UpdateItem", e))?;
        Ok(())
    }

    /// The number of attempts held from `ip` in the current window (tests and operators).
    pub async fn attempts_held(
        &self,
        ip: &str,
        window: u64,
        now: Millis,
    ) -> Result<u64, StoreError> {
        let attempt = Attempt::new(ip, window, now);
        Ok(match self.get_item(attempt.pk).await? {
            Some(item) => Attributes(&item).number("attempts").unwrap_or(0),
            None => 0,
        })
    }
}

/// One reserved user-code look-up (see [`GrantStore::reserve_attempt`]).
#[derive(Debug, Clone)]
pub struct Attempt {
    pk: String,
    window_end: u64,
}

impl Attempt {
    fn new(ip: &str, window: u64, now: Millis) -> Self {
        let window = window.max(1);
        let bucket = (now / 1000) / window;
        Attempt {
            pk: format!("code_entry#{ip}#{bucket}"),
            window_end: (bucket + 1) * window,
        }
    }

    fn refund(&self) -> Expressions {
        Expressions {
            condition: String::new(),
            update: "ADD attempts :minus_one SET expires_at = :end".to_owned(),
            names: HashMap::new(),
            values: Item::from([
                (":minus_one".to_owned(), AttributeValue::N("-1".to_owned())),
                (":end".to_owned(), n(self.window_end)),
            ]),
        }
    }
}

/// A conditional write's outcome: `Ok(true)` when it went through, `Ok(false)` when its
/// condition failed (`lost` recognises that error), an error otherwise.
fn conditional<O, E, R>(
    result: Result<O, SdkError<E, R>>,
    op: &'static str,
    lost: impl Fn(&E) -> bool,
) -> Result<bool, StoreError>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().is_some_and(&lost) => Ok(false),
        Err(err) => Err(StoreError::sdk(op, err)),
    }
}

/// One state change of a grant, as a conditional write.
pub struct Transition<'a> {
    pub grant: &'a DeviceCodeHash,
    /// The statuses the grant may be in for the change to apply.
    pub from: Vec<GrantStatus>,
    pub to: GrantStatus,
    pub now: Millis,
    /// Attributes that must hold these values (e.g. `state_hash` at the callback).
    pub require: Vec<(&'static str, AttributeValue)>,
    /// Attributes to set alongside the status.
    pub set: Vec<(&'static str, AttributeValue)>,
    /// Attributes to remove in the same write (what must not outlive its use).
    pub remove: Vec<&'static str>,
}

struct Expressions {
    condition: String,
    update: String,
    names: HashMap<String, String>,
    values: Item,
}

impl<'a> Transition<'a> {
    pub fn new(grant: &'a DeviceCodeHash, from: GrantStatus, to: GrantStatus, now: Millis) -> Self {
        debug_assert!(from.may_become(to), "{from:?} -> {to:?}");
        Self {
            grant,
            from: vec![from],
            to,
            now,
            require: Vec::new(),
            set: Vec::new(),
            remove: Vec::new(),
        }
    }

    /// The change applies from `from` too.
    pub fn or_from(mut self, from: GrantStatus) -> Self {
        debug_assert!(from.may_become(self.to), "{from:?} -> {:?}", self.to);
        self.from.push(from);
        self
    }

    pub fn require(mut self, attr: &'static str, value: AttributeValue) -> Self {
        self.require.push((attr, value));
        self
    }

    pub fn set(mut self, attr: &'static str, value: AttributeValue) -> Self {
        self.set.push((attr, value));
        self
    }

    pub fn remove(mut self, attr: &'static str) -> Self {
        self.remove.push(attr);
        self
    }

    fn expressions(&self) -> Expressions {
        let mut names = HashMap::from([("#status".to_owned(), "status".to_owned())]);
        let mut values = Item::from([
            (":to".to_owned(), s(self.to.as_str())),
            (":now_s".to_owned(), n(self.now / 1000)),
        ]);
        let from: Vec<String> = (0..self.from.len()).map(|i| format!(":f{i}")).collect();
        for (name, status) in from.iter().zip(&self.from) {
            values.insert(name.clone(), s(status.as_str()));
        }
        let mut condition = format!("#status IN ({}) AND expires_at > :now_s", from.join(", "));
        for (i, (attr, value)) in self.require.iter().enumerate() {
            condition.push_str(&format!(" AND #r{i} = :r{i}"));
            names.insert(format!("#r{i}"), (*attr).to_owned());
            values.insert(format!(":r{i}"), value.clone());
        }
        let mut update = String::from("SET #status = :to");
        for (i, (attr, value)) in self.set.iter().enumerate() {
            update.push_str(&format!(", #s{i} = :s{i}"));
            names.insert(format!("#s{i}"), (*attr).to_owned());
            values.insert(format!(":s{i}"), value.clone());
        }
        if !self.remove.is_empty() {
            let removed: Vec<String> = (0..self.remove.len()).map(|i| format!("#x{i}")).collect();
            for (name, attr) in removed.iter().zip(&self.remove) {
                names.insert(name.clone(), (*attr).to_owned());
            }
            update.push_str(&format!(" REMOVE {}", removed.join(", ")));
        }
        Expressions {
            condition,
            update,
            names,
            values,
        }
    }
}

/// What a user code's item tells the confirmation page (a copy of the grant's immutable part).
#[derive(Debug, Clone)]
pub struct UserCodeEntry {
    pub user_code: UserCode,
    pub grant: DeviceCodeHash,
    pub client_id: String,
    pub scope: Scopes,
    pub created_at: Millis,
    pub expires_at: u64,
    pub device_ip: Option<String>,
    pub device_user_agent: Option<String>,
    /// The S256 challenge of the grant's sign-in leg (the verifier is the device's alone).
    pub code_challenge: String,
}

/// What the grant and its user code's item both carry: the immutable facts the confirmation
/// page shows.
fn shared_attributes(g: &Grant) -> Item {
    let mut item = Item::from([
        ("client_id".to_owned(), s(&g.client_id)),
        ("scope".to_owned(), s(g.scope.to_string())),
        ("created_at".to_owned(), n(g.created_at)),
        ("expires_at".to_owned(), n(g.expires_at)),
        ("code_challenge".to_owned(), s(&g.code_challenge)),
    ]);
    if let Some(ip) = &g.device_ip {
        item.insert("device_ip".to_owned(), s(ip));
    }
    if let Some(ua) = &g.device_user_agent {
        item.insert("device_user_agent".to_owned(), s(ua));
    }
    item
}

fn user_code_item(g: &Grant) -> Item {
    let mut item = shared_attributes(g);
    item.insert("pk".to_owned(), s(user_code_pk(&g.user_code)));
    item.insert("grant_pk".to_owned(), s(grant_pk(&g.device_code_hash)));
    item
}

fn parse_user_code_item(item: &Item) -> Result<UserCodeEntry, StoreError> {
    let a = Attributes(item);
    Ok(UserCodeEntry {
        user_code: a
            .text("pk")?
            .strip_prefix("user_code#")
            .and_then(UserCode::parse)
            .ok_or_else(|| a.malformed("pk"))?,
        grant: a.grant_key("grant_pk")?,
        client_id: a.text("client_id")?.to_owned(),
        scope: Scopes::parse(a.text("scope")?).ok_or_else(|| a.malformed("scope"))?,
        created_at: a.number("created_at")?,
        expires_at: a.number("expires_at")?,
        device_ip: a.optional("device_ip"),
        device_user_agent: a.optional("device_user_agent"),
        code_challenge: a.text("code_challenge")?.to_owned(),
    })
}

/// Typed reads of a stored item's attributes.
struct Attributes<'a>(&'a Item);

impl Attributes<'_> {
    fn malformed(&self, name: &str) -> StoreError {
        StoreError::Malformed(format!("attribute {name}"))
    }

    fn text(&self, name: &str) -> Result<&str, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Ok(v.as_str()),
            _ => Err(self.malformed(name)),
        }
    }

    fn number(&self, name: &str) -> Result<u64, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| self.malformed(name)),
            _ => Err(self.malformed(name)),
        }
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

fn grant_item(g: &Grant) -> Item {
    let mut item = shared_attributes(g);
    item.extend([
        ("pk".to_owned(), s(grant_pk(&g.device_code_hash))),
        ("user_code".to_owned(), s(g.user_code.normalized())),
        ("status".to_owned(), s(g.status.as_str())),
        ("interval_ms".to_owned(), n(g.interval_ms)),
        ("next_poll_at".to_owned(), n(g.next_poll_at)),
    ]);
    item
}

fn parse_grant(item: &Item) -> Result<Grant, StoreError> {
    let a = Attributes(item);
    Ok(Grant {
        device_code_hash: a.grant_key("pk")?,
        user_code: UserCode::parse(a.text("user_code")?).ok_or_else(|| a.malformed("user_code"))?,
        client_id: a.text("client_id")?.to_owned(),
        scope: Scopes::parse(a.text("scope")?).ok_or_else(|| a.malformed("scope"))?,
        status: GrantStatus::parse(a.text("status")?).ok_or_else(|| a.malformed("status"))?,
        created_at: a.number("created_at")?,
        expires_at: a.number("expires_at")?,
        interval_ms: a.number("interval_ms")?,
        next_poll_at: a.number("next_poll_at")?,
        device_ip: a.optional("device_ip"),
        device_user_agent: a.optional("device_user_agent"),
        code_challenge: a.text("code_challenge")?.to_owned(),
        authorization_code: a.optional(AUTHORIZATION_CODE).map(Secret::new),
    })
}
