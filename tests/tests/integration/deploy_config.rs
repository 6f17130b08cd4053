//! The deployment files against the code: each function's role in template.yaml grants exactly
//! the DynamoDB and Cognito actions its crate declares (`IAM_ACTIONS`, the declaration the
//! integration tests' DynamoDB client holds every request to: tests/src/dynamodb.rs), and
//! samconfig.toml builds with the rust-cargolambda beta and without SAM's build cache.
//!
//! Least privilege means the actions the code performs, no more and no fewer: a missing one is
//! an AccessDenied in production that no offline test would otherwise see, an extra one a grant
//! nobody needs. The rest of the roles' shape (only the grants table, only the one pool, only
//! the function's own log group, no wildcard) is cfn-lint's, with the rules in
//! infra/deploy/rules/iam.py. The last test runs the device flow on the emulators and finds
//! every declared DynamoDB action used (an unused one is a grant nobody needs); the others need
//! no emulator. Self-contained: one file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use portal_auth_tests::app::spawn_app;
use portal_auth_tests::browser::Browser;
use serde_norway::Value;

/// Every function crate's declaration, by binary name (= `Metadata.BuildProperties.Binary`).
const DECLARED: [(&str, &[&str]); 5] = [
    ("device-code", device_code::IAM_ACTIONS),
    ("device-token", device_token::IAM_ACTIONS),
    ("device-verify", device_verify::IAM_ACTIONS),
    ("device-callback", device_callback::IAM_ACTIONS),
    ("authorizer", authorizer::IAM_ACTIONS),
];

/// The services whose actions a function's code performs (logs are the runtime's, not the code's).
const CODE_SERVICES: [&str; 2] = ["dynamodb:", "cognito-idp:"];

fn repo_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The logical id a `Role` names: `!GetAtt XRole.Arn` or `{"Fn::GetAtt": [XRole, Arn]}`.
fn getatt_arn(value: &Value) -> Option<String> {
    let target = match value {
        Value::Tagged(t) if t.tag == "GetAtt" => match &t.value {
            Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())),
            Value::Sequence(v) => pair(v),
            _ => None,
        },
        Value::Mapping(m) => match m.get("Fn::GetAtt") {
            Some(Value::String(s)) => s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())),
            Some(Value::Sequence(v)) => pair(v),
            _ => None,
        },
        _ => None,
    }?;
    (target.1 == "Arn").then_some(target.0)
}

fn pair(v: &[Value]) -> Option<(String, String)> {
    match v {
        [Value::String(a), Value::String(b)] => Some((a.clone(), b.clone())),
        _ => None,
    }
}

/// `Action` as a list of strings (a string or a sequence of them).
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(v)) => v
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

/// Binary -> the DynamoDB and Cognito actions its role allows; problems finding them.
fn granted(template: &str) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
    let doc: Value = serde_norway::from_str(template).expect("template.yaml parses as YAML");
    let resources = doc["Resources"].as_mapping().expect("Resources");
    let mut out = BTreeMap::new();
    let mut problems = vec![];
    for (lid, res) in resources {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let lid = lid.as_str().unwrap_or_default();
        let Some(binary) = res["Metadata"]["BuildProperties"]["Binary"].as_str() else {
            problems.push(format!("{lid}: no Metadata.BuildProperties.Binary"));
            continue;
        };
        let Some(role_id) = getatt_arn(&res["Properties"]["Role"]) else {
            problems.push(format!("{binary}: Role is not !GetAtt <role>.Arn"));
            continue;
        };
        let role = &resources[role_id.as_str()];
        if role["Type"].as_str() != Some("AWS::IAM::Role") {
            problems.push(format!(
                "{binary}: {role_id} is not an AWS::IAM::Role of the template"
            ));
            continue;
        }
        let mut actions = BTreeSet::new();
        for policy in role["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let statements = &policy["PolicyDocument"]["Statement"];
            let statements = match statements {
                Value::Sequence(v) => v.clone(),
                other => vec![other.clone()],
            };
            for st in statements
                .iter()
                .filter(|st| st["Effect"].as_str() == Some("Allow"))
            {
                actions.extend(
                    strings(st.get("Action"))
                        .into_iter()
                        .filter(|a| CODE_SERVICES.iter().any(|s| a.starts_with(s))),
                );
            }
        }
        out.insert(binary.to_owned(), actions);
    }
    (out, problems)
}

/// What differs between the declarations and the template's roles (empty = they agree).
fn mismatches(template: &str, declared: &[(&str, &[&str])]) -> Vec<String> {
    let (granted, mut out) = granted(template);
    let declared: BTreeMap<&str, BTreeSet<String>> = declared
        .iter()
        .map(|(name, actions)| (*name, actions.iter().map(|a| (*a).to_owned()).collect()))
        .collect();
    for (name, wants) in &declared {
        let Some(has) = granted.get(*name) else {
            out.push(format!(
                "{name}: declares IAM_ACTIONS but is no function of template.yaml"
            ));
            continue;
        };
        let missing: Vec<_> = wants.difference(has).collect();
        let unused: Vec<_> = has.difference(wants).collect();
        if !missing.is_empty() {
            out.push(format!(
                "{name}: its code needs {missing:?}, which its role does not grant (AccessDenied in production)"
            ));
        }
        if !unused.is_empty() {
            out.push(format!(
                "{name}: its role grants {unused:?}, which its IAM_ACTIONS do not declare (least privilege)"
            ));
        }
    }
    for name in granted.keys() {
        if !declared.contains_key(name.as_str()) {
            out.push(format!(
                "{name}: a function of template.yaml without IAM_ACTIONS"
            ));
        }
    }
    out
}

#[test]
fn every_function_role_grants_exactly_the_actions_its_crate_declares() {
    let problems = mismatches(&repo_file("template.yaml"), &DECLARED);
    assert!(problems.is_empty(), "{problems:#?}");
    let (granted, _) = granted(&repo_file("template.yaml"));
    assert_eq!(granted.len(), 5, "five functions: {granted:?}");
}

#[test]
fn declarations_name_only_item_actions_and_describe_user_pool_client() {
    // TransactWriteItems is no IAM action (a transaction is authorised by its items'); Scan and
    // Query would break design.md's "every request is O(1), by key".
    let allowed = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "cognito-idp:DescribeUserPoolClient",
    ];
    let (_, authorizer) = DECLARED[4];
    for (name, actions) in &DECLARED[..4] {
        for action in *actions {
            assert!(allowed.contains(action), "{name} declares {action}");
        }
    }
    // The authorizer's one DynamoDB request is the revocation set's BatchGetItem, restricted
    // to `revoked#*` keys in its role (rule E9103); it never reads a grant.
    assert_eq!(
        authorizer,
        &["dynamodb:BatchGetItem"],
        "the authorizer's declaration"
    );
}

/// The comparison itself bites: each case is one of the old checker's code mutations, or a
/// role edited the way a careless change would.
#[test]
fn the_comparison_notices_every_kind_of_drift() {
    let template = repo_file("template.yaml");
    let with = |name: &str,
                actions: &'static [&'static str]|
     -> Vec<(&'static str, &'static [&'static str])> {
        DECLARED
            .iter()
            .map(|(n, a)| if *n == name { (*n, actions) } else { (*n, *a) })
            .collect()
    };
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "device-token starts reading grants with GetItem",
            mismatches(
                &template,
                &with("device-token", &["dynamodb:UpdateItem", "dynamodb:GetItem", "cognito-idp:DescribeUserPoolClient"]),
            ),
            "device-token: its code needs [\"dynamodb:GetItem\"]",
        ),
        (
            "device-callback starts describing app clients",
            mismatches(
                &template,
                &with("device-callback", &["dynamodb:UpdateItem", "dynamodb:DeleteItem", "cognito-idp:DescribeUserPoolClient"]),
            ),
            "device-callback: its code needs [\"cognito-idp:DescribeUserPoolClient\"]",
        ),
        (
            "device-code stops describing app clients (an unused grant)",
            mismatches(&template, &with("device-code", &["dynamodb:PutItem", "dynamodb:UpdateItem"])),
            "device-code: its role grants [\"cognito-idp:DescribeUserPoolClient\"]",
        ),
        (
            "device-code's transaction gains a ConditionCheck",
            mismatches(
                &template,
                &with("device-code", &["dynamodb:PutItem", "dynamodb:ConditionCheckItem", "cognito-idp:DescribeUserPoolClient"]),
            ),
            "device-code: its code needs [\"dynamodb:ConditionCheckItem\"]",
        ),
        (
            "device-callback's role loses dynamodb:UpdateItem",
            mismatches(
                &template.replacen(
                    "Action: [dynamodb:UpdateItem, dynamodb:DeleteItem]",
                    "Action: [dynamodb:DeleteItem]",
                    1,
                ),
                &DECLARED,
            ),
            "device-callback: its code needs [\"dynamodb:UpdateItem\"]",
        ),
        (
            "device-code's role gains dynamodb:Scan",
            mismatches(
                &template.replacen("Action: [dynamodb:PutItem, dynamodb:UpdateItem]", "Action: [dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:Scan]", 1),
                &DECLARED,
            ),
            "device-code: its role grants [\"dynamodb:Scan\"]",
        ),
        (
            "the authorizer's role gains a DynamoDB read",
            mismatches(
                &template.replacen(
                    "                Resource: !GetAtt AuthorizerLogGroup.Arn\n",
                    "                Resource: !GetAtt AuthorizerLogGroup.Arn\n              - Effect: Allow\n                Action: dynamodb:GetItem\n                Resource: !GetAtt GrantsTable.Arn\n",
                    1,
                ),
                &DECLARED,
            ),
            "authorizer: its role grants [\"dynamodb:GetItem\"]",
        ),
        (
            "device-token runs with device-code's role",
            mismatches(
                &template.replacen("Role: !GetAtt DeviceTokenRole.Arn", "Role: !GetAtt DeviceCodeRole.Arn", 1),
                &DECLARED,
            ),
            // device-code's role has UpdateItem too (the issuance counters): what gives it
            // away is the PutItem device-token never calls.
            "device-token: its role grants [\"dynamodb:PutItem\"]",
        ),
    ];
    for (what, found, expected) in cases {
        assert!(
            found.iter().any(|m| m.contains(expected)),
            "{what}: expected a mismatch containing {expected:?}, got {found:#?}"
        );
    }
}

/// samconfig.toml: `sam build`/`sam sync` opt into the rust-cargolambda beta, SAM's build cache is
/// off (each function compiles shared crates outside its CodeUri, which the cache does not
/// hash), and `sam deploy` asks for CAPABILITY_IAM only.
#[test]
fn samconfig_builds_with_cargo_lambda_and_no_cache() {
    let config: toml::Table = repo_file("samconfig.toml")
        .parse()
        .expect("samconfig.toml parses");
    let default = &config["default"];
    let param = |section: &str, key: &str| {
        default
            .get(section)
            .and_then(|s| s.get("parameters"))
            .and_then(|p| p.get(key))
            .cloned()
    };
    assert_eq!(
        param("build", "beta_features"),
        Some(toml::Value::Boolean(true))
    );
    assert_eq!(param("build", "cached"), Some(toml::Value::Boolean(false)));
    assert_eq!(
        param("sync", "beta_features"),
        Some(toml::Value::Boolean(true))
    );
    assert_eq!(
        param("deploy", "capabilities"),
        Some(toml::Value::String("CAPABILITY_IAM".to_owned()))
    );
}

/// The other direction of least privilege, for DynamoDB (the calls the test client sees): the
/// whole device flow, approved and denied, plus a wrong user code, uses every DynamoDB action
/// each device function declares. The client already fails any call a function did not
/// declare (tests/src/dynamodb.rs), so together: used == declared.
#[tokio::test]
async fn the_device_flow_uses_every_declared_dynamodb_action() {
    let app = spawn_app().await;
    let issued = app.authorize_device().await;
    let device_code = issued.body["device_code"].as_str().expect("device_code");
    let user_code = issued.body["user_code"].as_str().expect("user_code");

    // A wrong code first (the look-up and the attempt reserved and counted), then approve,
    // sign in, the callback, and the poll that redeems.
    let mut browser = Browser::default();
    assert_eq!(
        browser
            .open_verification(&app, Some("BCDF-GHJK"))
            .await
            .status,
        404
    );
    let approved = browser.decide(&app, user_code, "approve").await;
    let authorize = approved.location.expect("redirect to Cognito");
    let callback = browser.sign_in_at_cognito(&authorize).await;
    assert_eq!(browser.follow_callback(&app, &callback).await.status, 200);
    app.advance_secs(5);
    assert_eq!(
        app.poll(&app.pool.public_client_id, device_code)
            .await
            .status,
        200
    );
    // And a second device, denied.
    let other = app.authorize_device().await;
    let other_code = other.body["user_code"].as_str().expect("user_code");
    let denied = Browser::default().decide(&app, other_code, "deny").await;
    assert!(denied.status < 400, "{}", denied.html);

    for (name, declared) in DECLARED.iter().filter(|(n, _)| n.starts_with("device-")) {
        let declared: BTreeSet<String> = declared
            .iter()
            .filter(|a| a.starts_with("dynamodb:"))
            .map(|a| (*a).to_owned())
            .collect();
        assert_eq!(
            app.calls.actions_of(name),
            declared,
            "{name}: the DynamoDB actions the flow used, against its IAM_ACTIONS"
        );
    }
}
