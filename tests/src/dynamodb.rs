//! A fresh DynamoDB table per test on moto, shaped like the deployed one (key `pk`, TTL on
//! `expires_at`), and a client that counts the requests it sends, by operation.
//!
//! The same client holds every request to what IAM would allow the deployed function: each
//! function crate declares the actions its code needs (`IAM_ACTIONS`, which
//! tests/tests/deploy_config.rs compares with its role in template.yaml), and a request whose
//! action the function under test did not declare panics the test: in production it would be
//! an AccessDenied that no offline test sees. A TransactWriteItems is authorised by the actions
//! of its items (Put, Update, Delete, ConditionCheck), so those are what is checked. The function
//! under test is named by [`as_function`] (the handler wrappers of `app` and `browser` do it);
//! a handler called without it is held to the union of the device functions' declarations.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

pub fn endpoint() -> String {
    crate::emulator_endpoint("PORTAL_TEST_DYNAMODB_ENDPOINT")
}

/// The device functions, by binary name, with the IAM actions each declares beside its code.
pub const DEVICE_FUNCTIONS: [(&str, &[&str]); 4] = [
    ("device-code", device_code::IAM_ACTIONS),
    ("device-token", device_token::IAM_ACTIONS),
    ("device-verify", device_verify::IAM_ACTIONS),
    ("device-callback", device_callback::IAM_ACTIONS),
];

/// Who is sending: a function's handler, or the test's own set-up (table creation).
#[derive(Debug, Clone, Copy)]
enum Sender {
    Function(&'static str),
    Harness,
}

tokio::task_local! {
    static SENDER: Sender;
}

/// Runs `fut` (a handler call) as the function `name` (its binary name): every DynamoDB request
/// it sends must be of an action in that function's `IAM_ACTIONS`.
pub async fn as_function<F: Future>(name: &'static str, fut: F) -> F::Output {
    SENDER.scope(Sender::Function(name), fut).await
}

/// Runs the test's own set-up, which no function's role covers (CreateTable, ...).
async fn as_harness<F: Future>(fut: F) -> F::Output {
    SENDER.scope(Sender::Harness, fut).await
}

/// The IAM actions a DynamoDB request needs: `dynamodb:<Operation>`, except a transaction,
/// which needs the actions of its items (`TransactItems[].Put` is `dynamodb:PutItem`, ...).
/// A body that cannot be read yields `dynamodb:<Operation>`, which no function declares.
pub fn iam_actions(operation: &str, body: Option<&[u8]>) -> Vec<String> {
    let items: &[(&str, &str)] = match operation {
        "TransactWriteItems" => &[
            ("Put", "dynamodb:PutItem"),
            ("Update", "dynamodb:UpdateItem"),
            ("Delete", "dynamodb:DeleteItem"),
            ("ConditionCheck", "dynamodb:ConditionCheckItem"),
        ],
        "TransactGetItems" => &[("Get", "dynamodb:GetItem")],
        _ => return vec![format!("dynamodb:{operation}")],
    };
    let request: serde_json::Value = body
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default();
    let actions: Option<Vec<String>> = request["TransactItems"].as_array().map(|list| {
        list.iter()
            .map(|item| {
                items
                    .iter()
                    .find(|(kind, _)| item.get(kind).is_some())
                    .map(|(_, action)| (*action).to_owned())
                    .unwrap_or_else(|| format!("dynamodb:{operation}"))
            })
            .collect()
    });
    match actions {
        Some(a) if !a.is_empty() => a,
        _ => vec![format!("dynamodb:{operation}")],
    }
}

/// Requests sent to DynamoDB, by operation name (`UpdateItem`, `GetItem`, ...), and the IAM
/// actions they needed.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    by_operation: Arc<Mutex<HashMap<String, usize>>>,
    /// Function name ("" when none was named) -> the IAM actions its requests needed.
    actions: Arc<Mutex<BTreeMap<&'static str, BTreeSet<String>>>>,
}

impl CallCounter {
    pub fn total(&self) -> usize {
        self.by_operation
            .lock()
            .map(|m| m.values().sum())
            .unwrap_or_default()
    }

    pub fn by_operation(&self) -> HashMap<String, usize> {
        self.by_operation
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// The IAM actions the requests since the last reset needed (a transaction's items each).
    pub fn actions(&self) -> BTreeSet<String> {
        self.actions
            .lock()
            .map(|a| a.values().flatten().cloned().collect())
            .unwrap_or_default()
    }

    /// The IAM actions the requests of one function (named by [`as_function`]) needed.
    pub fn actions_of(&self, function: &str) -> BTreeSet<String> {
        self.actions
            .lock()
            .map(|a| a.get(function).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    pub fn reset(&self) {
        if let Ok(mut m) = self.by_operation.lock() {
            m.clear();
        }
        if let Ok(mut a) = self.actions.lock() {
            a.clear();
        }
    }
}

/// Panics unless the sender declared every action (see the module's doc).
fn check_declared(op: &str, actions: &[String]) {
    let sender = SENDER.try_with(|s| *s).ok();
    let (who, declared): (String, Vec<&str>) = match sender {
        Some(Sender::Harness) => return,
        Some(Sender::Function(name)) => (
            name.to_owned(),
            DEVICE_FUNCTIONS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, a)| a.to_vec())
                .unwrap_or_default(),
        ),
        None => (
            "a device function (none named: the union of their declarations)".to_owned(),
            DEVICE_FUNCTIONS
                .iter()
                .flat_map(|(_, a)| a.iter().copied())
                .collect(),
        ),
    };
    let undeclared: BTreeSet<&String> = actions
        .iter()
        .filter(|a| !declared.contains(&a.as_str()))
        .collect();
    assert!(
        undeclared.is_empty(),
        "{who} sent DynamoDB {op}, which needs {undeclared:?}: not in its IAM_ACTIONS {declared:?} \
         (functions/<name>/src/lib.rs). Its role in template.yaml would deny it (AccessDenied in \
         production): declare the action and grant it in the role, or do without the call."
    );
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    /// Once per request actually put on the wire, retries included.
    /// (Checking here, before the wire, also holds requests the SDK would retry.)
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let actions = iam_actions(&op, context.request().body().bytes());
        let sender = match SENDER.try_with(|s| *s) {
            Ok(Sender::Function(name)) => name,
            Ok(Sender::Harness) => "test harness",
            Err(_) => "",
        };
        if let Ok(mut a) = self.actions.lock() {
            a.entry(sender).or_default().extend(actions.iter().cloned());
        }
        if let Ok(mut m) = self.by_operation.lock() {
            *m.entry(op.clone()).or_default() += 1;
        }
        check_declared(&op, &actions);
        Ok(())
    }
}

/// A DynamoDB client for moto that counts its requests.
pub fn counting_client() -> (Client, CallCounter) {
    let counter = CallCounter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&crate::sdk_config(&endpoint()))
        .interceptor(counter.clone())
        .build();
    (Client::from_conf(config), counter)
}

/// Creates a table named after the test, with TTL on `expires_at`, and returns its name.
pub async fn create_table(client: &Client) -> String {
    as_harness(create_table_unchecked(client)).await
}

async fn create_table_unchecked(client: &Client) -> String {
    let name = crate::unique_name("grants");
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .send()
        .await
        .expect("CreateTable on moto");
    client
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()
                .expect("ttl spec"),
        )
        .send()
        .await
        .expect("UpdateTimeToLive on moto");
    name
}

#[cfg(test)]
mod tests {
    use super::iam_actions;

    #[test]
    fn a_transaction_needs_the_actions_of_its_items() {
        let body = br#"{"TransactItems":[{"Put":{"TableName":"t","Item":{}}},
            {"Update":{"TableName":"t","Key":{}}},{"Delete":{"TableName":"t","Key":{}}},
            {"ConditionCheck":{"TableName":"t","Key":{}}}]}"#;
        assert_eq!(
            iam_actions("TransactWriteItems", Some(body)),
            [
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem"
            ]
        );
        assert_eq!(
            iam_actions(
                "TransactGetItems",
                Some(br#"{"TransactItems":[{"Get":{}}]}"#)
            ),
            ["dynamodb:GetItem"]
        );
    }

    #[test]
    fn an_unreadable_transaction_or_any_other_request_is_its_own_operation() {
        // No function declares dynamodb:TransactWriteItems (it is no IAM action): a body this
        // cannot read fails the check rather than passing it.
        assert_eq!(
            iam_actions("TransactWriteItems", Some(b"not json")),
            ["dynamodb:TransactWriteItems"]
        );
        assert_eq!(
            iam_actions("TransactWriteItems", None),
            ["dynamodb:TransactWriteItems"]
        );
        assert_eq!(iam_actions("GetItem", None), ["dynamodb:GetItem"]);
        assert_eq!(
            iam_actions("BatchWriteItem", Some(b"{}")),
            ["dynamodb:BatchWriteItem"]
        );
    }
}
