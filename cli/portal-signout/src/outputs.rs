//! The stack's outputs, from the JSON file the AWS CLI writes:
//!
//! ```text
//! aws cloudformation describe-stacks --stack-name portal-auth \
//!     --query 'Stacks[0].Outputs' > outputs.json
//! ```
//!
//! That is a list of `{"OutputKey": …, "OutputValue": …}` (`sam list stack-outputs --output json`
//! prints the same list). The whole `describe-stacks` answer (`{"Stacks": [{"Outputs": …}]}`)
//! and a single stack (`{"Outputs": …}`) are accepted too. Reading a file rather than calling
//! CloudFormation keeps the command usable where only the two APIs it needs are allowed, and
//! lets the operator see the names it will act on.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

/// The outputs this command reads (template.yaml's `Outputs`).
pub const USER_POOL_ID: &str = "UserPoolId";
pub const TABLE_NAME: &str = "TableName";
/// An ARN in the stack's region: where the table is.
pub const AUTHORIZER_FUNCTION_ARN: &str = "AuthorizerFunctionArn";

/// Larger than any stack's outputs (CloudFormation allows 200 of at most 1 KB each).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackOutputs(BTreeMap<String, String>);

#[derive(Deserialize)]
struct Output {
    #[serde(rename = "OutputKey")]
    key: String,
    #[serde(rename = "OutputValue", default)]
    value: String,
}

impl StackOutputs {
    /// Reads `path` (`-`: standard input).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = if path == Path::new("-") {
            read_limited(std::io::stdin().lock())
        } else {
            std::fs::File::open(path).and_then(read_limited)
        }
        .map_err(|e| format!("cannot read --stack-outputs {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("--stack-outputs {}: {e}", path.display()))
    }

    /// Parses the JSON of `describe-stacks` (see the module docs).
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let list = outputs_list(value).ok_or_else(|| {
            "expected the list `aws cloudformation describe-stacks --stack-name <stack> \
             --query 'Stacks[0].Outputs'` prints"
                .to_owned()
        })?;
        let outputs: Vec<Output> = serde_json::from_value(list)
            .map_err(|e| format!("expected entries with OutputKey and OutputValue: {e}"))?;
        Ok(Self(
            outputs.into_iter().map(|o| (o.key, o.value)).collect(),
        ))
    }

    /// An output's value, when present and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// The stack's region, from the ARN of the authorizer function it created.
    pub fn region(&self) -> Option<&str> {
        let arn = self.get(AUTHORIZER_FUNCTION_ARN)?;
        let mut parts = arn.split(':');
        let region = (parts.next() == Some("arn")).then(|| parts.nth(2))??;
        (!region.is_empty()).then_some(region)
    }
}

fn read_limited(reader: impl std::io::Read) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    reader.take(MAX_FILE_BYTES).read_to_string(&mut text)?;
    Ok(text)
}

/// The outputs list inside any of the accepted shapes.
fn outputs_list(value: Value) -> Option<Value> {
    match value {
        list @ Value::Array(_) => Some(list),
        Value::Object(mut object) => match object.remove("Stacks") {
            Some(Value::Array(stacks)) if stacks.len() == 1 => {
                stacks.into_iter().next().and_then(outputs_list)
            }
            Some(_) => None,
            None => object.remove("Outputs").filter(Value::is_array),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"[
        {"OutputKey": "TableName", "OutputValue": "portal-auth-GrantsTable-1X2Y3Z",
         "Description": "Device grants table"},
        {"OutputKey": "UserPoolId", "OutputValue": "eu-west-1_AbC123"},
        {"OutputKey": "AuthorizerFunctionArn",
         "OutputValue": "arn:aws:lambda:eu-west-1:123456789012:function:portal-auth-authorizer"}
    ]"#;

    #[test]
    fn the_describe_stacks_query_output_is_read() {
        let outputs = StackOutputs::parse(LIST).expect("outputs");
        assert_eq!(
            outputs.get(TABLE_NAME),
            Some("portal-auth-GrantsTable-1X2Y3Z")
        );
        assert_eq!(outputs.get(USER_POOL_ID), Some("eu-west-1_AbC123"));
        assert_eq!(outputs.region(), Some("eu-west-1"));
        assert_eq!(outputs.get("Missing"), None);
    }

    #[test]
    fn the_whole_describe_stacks_answer_and_one_stack_are_read_too() {
        let whole = format!(r#"{{"Stacks": [{{"StackName": "x", "Outputs": {LIST}}}]}}"#);
        let one = format!(r#"{{"StackName": "x", "Outputs": {LIST}}}"#);
        let expected = StackOutputs::parse(LIST).expect("list");
        assert_eq!(StackOutputs::parse(&whole), Ok(expected.clone()));
        assert_eq!(StackOutputs::parse(&one), Ok(expected));
    }

    #[test]
    fn other_json_is_refused_with_the_command_that_makes_the_file() {
        for text in [
            "{}",
            "42",
            r#"{"Stacks": []}"#,
            r#"{"Stacks": [{}, {}]}"#,
            r#"{"Outputs": {"TableName": "t"}}"#,
        ] {
            let error = StackOutputs::parse(text).expect_err(text);
            assert!(error.contains("describe-stacks"), "{text}: {error}");
        }
        let error = StackOutputs::parse(r#"[{"Key": "TableName"}]"#).expect_err("no OutputKey");
        assert!(error.contains("OutputKey"), "{error}");
        assert!(StackOutputs::parse("not json").is_err());
    }

    #[test]
    fn empty_values_and_odd_arns_count_as_absent() {
        let outputs = StackOutputs::parse(
            r#"[{"OutputKey": "TableName", "OutputValue": " "},
                {"OutputKey": "AuthorizerFunctionArn", "OutputValue": "not-an-arn"}]"#,
        )
        .expect("outputs");
        assert_eq!(outputs.get(TABLE_NAME), None);
        assert_eq!(outputs.region(), None);
    }

    #[test]
    fn a_missing_file_is_named() {
        let error =
            StackOutputs::read(Path::new("/nonexistent/outputs.json")).expect_err("no file");
        assert!(error.contains("/nonexistent/outputs.json"), "{error}");
    }
}
