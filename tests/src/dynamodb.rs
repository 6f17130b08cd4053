//! A fresh DynamoDB table per test on moto, shaped like the deployed one (key `pk`, TTL on
//! `expires_at`), and a client that counts the requests it sends, by operation.

use std::collections::HashMap;
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

/// Requests sent to DynamoDB, by operation name (`UpdateItem`, `GetItem`, ...).
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<HashMap<String, usize>>>);

impl CallCounter {
    pub fn total(&self) -> usize {
        self.0.lock().map(|m| m.values().sum()).unwrap_or_default()
    }

    pub fn by_operation(&self) -> HashMap<String, usize> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }

    pub fn reset(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    /// Once per request actually put on the wire, retries included.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        if let Ok(mut m) = self.0.lock() {
            *m.entry(op).or_default() += 1;
        }
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
