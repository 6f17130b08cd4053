//! One state change of a grant as a conditional write: the statuses it may leave, the
//! attributes that must match, the attributes it sets and removes. The condition always
//! re-checks the status and the expiry, so of concurrent requests at most one wins and an
//! expired grant never moves, whatever TTL has or has not deleted.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Update};
use portal_auth_domain::{DeviceCodeHash, GrantStatus, Millis};

use super::StoreError;
use super::items::{EXPIRES_AT, Item, PK, STATUS, grant_pk, n, s};

pub(super) struct Transition<'a> {
    pub(super) grant: &'a DeviceCodeHash,
    from: Vec<GrantStatus>,
    pub(super) to: GrantStatus,
    now: Millis,
    require: Vec<(&'static str, AttributeValue)>,
    set: Vec<(&'static str, AttributeValue)>,
    remove: Vec<&'static str>,
}

/// A write's condition and update, with their placeholders.
pub(super) struct Expressions {
    pub(super) condition: Option<String>,
    pub(super) update: String,
    pub(super) names: Option<HashMap<String, String>>,
    pub(super) values: Item,
}

impl<'a> Transition<'a> {
    pub(super) fn new(
        grant: &'a DeviceCodeHash,
        from: GrantStatus,
        to: GrantStatus,
        now: Millis,
    ) -> Self {
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
    pub(super) fn or_from(mut self, from: GrantStatus) -> Self {
        debug_assert!(from.may_become(self.to), "{from:?} -> {:?}", self.to);
        self.from.push(from);
        self
    }

    pub(super) fn require(mut self, attr: &'static str, value: impl Into<String>) -> Self {
        self.require.push((attr, s(value)));
        self
    }

    pub(super) fn set(mut self, attr: &'static str, value: impl Into<String>) -> Self {
        self.set.push((attr, s(value)));
        self
    }

    pub(super) fn set_bool(mut self, attr: &'static str, value: bool) -> Self {
        self.set.push((attr, AttributeValue::Bool(value)));
        self
    }

    /// Sets `attr` when `value` is known, and removes it otherwise (a re-approval from a
    /// browser that sends no `User-Agent` must not keep the previous one's).
    pub(super) fn set_or_remove(self, attr: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.set(attr, v),
            None => self.remove(attr),
        }
    }

    pub(super) fn remove(mut self, attr: &'static str) -> Self {
        self.remove.push(attr);
        self
    }

    pub(super) fn key(&self) -> AttributeValue {
        s(grant_pk(self.grant))
    }

    pub(super) fn expressions(&self) -> Expressions {
        let mut names = HashMap::from([
            ("#status".to_owned(), STATUS.to_owned()),
            ("#expires".to_owned(), EXPIRES_AT.to_owned()),
        ]);
        let mut values = Item::from([
            (":to".to_owned(), s(self.to.as_str())),
            (":now_s".to_owned(), n(self.now / 1000)),
        ]);
        let from: Vec<String> = (0..self.from.len()).map(|i| format!(":f{i}")).collect();
        for (name, status) in from.iter().zip(&self.from) {
            values.insert(name.clone(), s(status.as_str()));
        }
        let mut condition = format!("#status IN ({}) AND #expires > :now_s", from.join(", "));
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
            condition: Some(condition),
            update,
            names: Some(names),
            values,
        }
    }
}

impl Expressions {
    /// This write as one item of a `TransactWriteItems`, on `table`'s item `key`.
    pub(super) fn transact_update(
        self,
        table: &str,
        key: AttributeValue,
    ) -> Result<Update, StoreError> {
        Update::builder()
            .table_name(table)
            .key(PK, key)
            .set_condition_expression(self.condition)
            .update_expression(self.update)
            .set_expression_attribute_names(self.names)
            .set_expression_attribute_values(Some(self.values))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))
    }
}

/// A conditional write's outcome: `Ok(true)` when it went through, `Ok(false)` when its
/// condition failed (`lost` recognises that error), an error otherwise.
pub(super) fn conditional<O, E, R>(
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
