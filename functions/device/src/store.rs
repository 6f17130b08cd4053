//! The grant store: one DynamoDB table, string key `pk`, TTL attribute `expires_at`.
//!
//! Two kinds of item share the table:
//!
//! | `pk` | what | attributes |
//! |---|---|---|
//! | `grant#<sha256(device_code)>` | a [`Grant`] | `client_id`, `scope`, `user_code`, `status`, `created_at`, `expires_at`, `interval_ms`, `next_poll_at`, `device_ip`, `device_user_agent` |
//! | `user_code#<CODE>` | the user code's pointer to its grant | `grant_pk`, `expires_at` |
//!
//! Every request is O(1) by key; there is no Scan. Every state change is a conditional write
//! whose condition re-checks status, client and expiry, so concurrent requests cannot both win.
//! DynamoDB deletes TTL-expired items late (up to days) and moto never does: expiry is checked
//! in every condition and on every read.
//!
//! Costs (design.md's targets): creating a grant is one `TransactWriteItems`; an on-time poll is
//! one `UpdateItem`; a poll that loses its condition (early, denied, expired, unknown) is that
//! same call, judged on the item DynamoDB returns with the failure (`ALL_OLD`), plus at most one
//! more to raise the interval on `slow_down`.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use portal_auth_domain::grant::SLOW_DOWN_STEP_MS;
use portal_auth_domain::{
    DeviceCodeHash, Grant, GrantStatus, Millis, PollVerdict, Scopes, UserCode,
    grant::POLL_JITTER_MS,
};

type Item = HashMap<String, AttributeValue>;

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

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
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
            .item("pk", s(user_code_pk(&grant.user_code)))
            .item("grant_pk", s(grant_pk(&grant.device_code_hash)))
            .item("expires_at", n(grant.expires_at))
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

    /// The live grant a user code names (two reads by key), or `None` when the code is
    /// unknown or its grant has expired.
    pub async fn find_by_user_code(
        &self,
        code: &UserCode,
        now: Millis,
    ) -> Result<Option<Grant>, StoreError> {
        let Some(pointer) = self.get_item(user_code_pk(code)).await? else {
            return Ok(None);
        };
        let Some(AttributeValue::S(pk)) = pointer.get("grant_pk") else {
            return Err(StoreError::Malformed(
                "user code item without grant_pk".into(),
            ));
        };
        let Some(item) = self.get_item(pk.clone()).await? else {
            return Ok(None);
        };
        let grant = parse_grant(&item)?;
        Ok((grant.user_code == *code && !grant.is_expired(now)).then_some(grant))
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

    /// Moves the grant from one of `from` to `to` at `now`, also setting `extra` attributes, in
    /// one conditional write that re-checks the status and expiry. `Ok(false)` when the
    /// condition failed: another request moved it first, or it expired.
    pub async fn transition(
        &self,
        hash: &DeviceCodeHash,
        from: &[GrantStatus],
        to: GrantStatus,
        now: Millis,
        extra: &[(&str, AttributeValue)],
    ) -> Result<bool, StoreError> {
        debug_assert!(from.iter().all(|f| f.may_become(to)), "{from:?} -> {to:?}");
        let from_names: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
        let mut update = String::from("SET #status = :to");
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(grant_pk(hash)))
            .condition_expression(format!(
                "#status IN ({}) AND expires_at > :now_s",
                from_names.join(", ")
            ))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":now_s", n(now / 1000));
        for (name, status) in from_names.iter().zip(from) {
            req = req.expression_attribute_values(name, s(status.as_str()));
        }
        for (i, (attr, value)) in extra.iter().enumerate() {
            update.push_str(&format!(", #x{i} = :x{i}"));
            req = req
                .expression_attribute_names(format!("#x{i}"), *attr)
                .expression_attribute_values(format!(":x{i}"), value.clone());
        }
        match req.update_expression(update).send().await {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(err) => Err(StoreError::sdk("UpdateItem", err)),
        }
    }
}

fn grant_item(g: &Grant) -> Item {
    let mut item = Item::from([
        ("pk".to_owned(), s(grant_pk(&g.device_code_hash))),
        ("client_id".to_owned(), s(&g.client_id)),
        ("scope".to_owned(), s(g.scope.to_string())),
        ("user_code".to_owned(), s(g.user_code.normalized())),
        ("status".to_owned(), s(g.status.as_str())),
        ("created_at".to_owned(), n(g.created_at)),
        ("expires_at".to_owned(), n(g.expires_at)),
        ("interval_ms".to_owned(), n(g.interval_ms)),
        ("next_poll_at".to_owned(), n(g.next_poll_at)),
    ]);
    if let Some(ip) = &g.device_ip {
        item.insert("device_ip".to_owned(), s(ip));
    }
    if let Some(ua) = &g.device_user_agent {
        item.insert("device_user_agent".to_owned(), s(ua));
    }
    item
}

fn parse_grant(item: &Item) -> Result<Grant, StoreError> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.as_str()),
        _ => Err(StoreError::Malformed(format!("grant attribute {name}"))),
    };
    let number = |name: &str| match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse::<u64>()
            .map_err(|_| StoreError::Malformed(format!("grant attribute {name}"))),
        _ => Err(StoreError::Malformed(format!("grant attribute {name}"))),
    };
    let optional = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    let malformed = |name: &str| StoreError::Malformed(format!("grant attribute {name}"));
    let hash = text("pk")?
        .strip_prefix("grant#")
        .and_then(DeviceCodeHash::from_stored)
        .ok_or_else(|| malformed("pk"))?;
    Ok(Grant {
        device_code_hash: hash,
        user_code: UserCode::parse(text("user_code")?).ok_or_else(|| malformed("user_code"))?,
        client_id: text("client_id")?.to_owned(),
        scope: Scopes::parse(text("scope")?).ok_or_else(|| malformed("scope"))?,
        status: GrantStatus::parse(text("status")?).ok_or_else(|| malformed("status"))?,
        created_at: number("created_at")?,
        expires_at: number("expires_at")?,
        interval_ms: number("interval_ms")?,
        next_poll_at: number("next_poll_at")?,
        device_ip: optional("device_ip"),
        device_user_agent: optional("device_user_agent"),
    })
}
