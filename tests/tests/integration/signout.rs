//! Sign-out everywhere (issue 13, item 2): the real `portal-signout` binary against moto and
//! cognito-local, judged by a real authorizer reading the revocation records from moto.
//!
//! cognito-local does not implement `AdminUserGlobalSignOut`: the binary talks to Cognito
//! through [`CognitoProxy`], which answers that call itself and records it, and forwards
//! everything else (`AdminGetUser`) to cognito-local. The authorizer runs on a hand-moved
//! clock: "after the refresh interval" is a clock advance, not a sleep. The one wait is for
//! the wall clock's second to change before the user signs in again, since `auth_time` has
//! one-second resolution and a sign-in in the same second as the sign-out is refused by design.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authorizer::{ApiKeyClients, Authorizer, Config, ManualClock, Outcome, Rejection};
use aws_sdk_dynamodb::types::AttributeValue;
use portal_auth_tests::authorizer_support::{
    assert_allowed_everywhere, assert_unauthorized_everywhere, build_authorizer,
    moto_revocation_table,
};
use portal_auth_tests::cognito::{DEMO_PASSWORD, DEMO_USERNAME, TestPool};
use portal_auth_tests::cognito_proxy::{CognitoProxy, GLOBAL_SIGN_OUT};
use portal_auth_tests::stack::bin_dir;
use portal_auth_tests::{dynamodb, sdk_config, unique_name};

use crate::portal_login_support::{Output, assert_no_crash};

const REFRESH_SECS: u64 = 30;
const OTHER_USERNAME: &str = "bob";
const OTHER_PASSWORD: &str = "Bob-Passw0rd!";
const ADMIN_GET_USER: &str = "AWSCognitoIdentityProviderService.AdminGetUser";

/// A pool with the demo user and another, a table, the proxy, and a folder for the outputs.
struct Setup {
    pool: TestPool,
    table: String,
    proxy: CognitoProxy,
    folder: PathBuf,
}

impl Setup {
    async fn new() -> Setup {
        let pool = TestPool::create("http://127.0.0.1:9/device/callback").await;
        pool.create_user(OTHER_USERNAME, OTHER_PASSWORD).await;
        let (client, _) = dynamodb::counting_client();
        let table = dynamodb::create_table(&client).await;
        let proxy = CognitoProxy::start(&pool.endpoint).await;
        let folder = std::env::temp_dir().join(unique_name("signout"));
        std::fs::create_dir_all(&folder).expect("temp folder");
        Setup {
            pool,
            table,
            proxy,
            folder,
        }
    }

    /// The stack's outputs as `describe-stacks --query 'Stacks[0].Outputs'` writes them; the
    /// authorizer's ARN carries the region (cognito-local's pool ids name none).
    fn outputs_file(&self) -> PathBuf {
        let outputs = serde_json::json!([
            {"OutputKey": "TableName", "OutputValue": self.table, "Description": "Device grants table"},
            {"OutputKey": "UserPoolId", "OutputValue": self.pool.pool_id},
            {"OutputKey": "AuthorizerFunctionArn",
             "OutputValue": "arn:aws:lambda:us-east-1:123456789012:function:portal-auth-authorizer"},
        ]);
        let path = self.folder.join("outputs.json");
        std::fs::write(&path, outputs.to_string()).expect("outputs file");
        path
    }

    /// Runs `portal-signout args…` with only the environment it needs: moto, the proxy, dummy
    /// credentials, no AWS config files, no instance metadata.
    async fn signout(&self, args: &[&str]) -> Output {
        let binary = bin_dir().join("portal-signout");
        assert!(
            binary.exists(),
            "{} is missing: build it first (`cargo build --workspace --all-targets`; make test does)",
            binary.display()
        );
        let missing = self.folder.join("no-such-file");
        let mut command = std::process::Command::new(binary);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.folder)
            .env("AWS_CONFIG_FILE", &missing)
            .env("AWS_SHARED_CREDENTIALS_FILE", &missing)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb::endpoint())
            .env(
                "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
                &self.proxy.url,
            )
            .stdin(std::process::Stdio::null());
        // Off the runtime's thread: the proxy is served by this test's runtime meanwhile.
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("run portal-signout");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Every revocation item in the table (`pk = revoked#…`), read straight from moto.
    async fn revocation_items(&self) -> Vec<HashMap<String, AttributeValue>> {
        let client = aws_sdk_dynamodb::Client::new(&sdk_config(&dynamodb::endpoint()));
        let items = client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .send()
            .await
            .expect("Scan on moto")
            .items
            .unwrap_or_default();
        items
            .into_iter()
            .filter(|item| {
                item.get("pk")
                    .and_then(|pk| pk.as_s().ok())
                    .is_some_and(|pk| pk.starts_with("revoked#"))
            })
            .collect()
    }

    /// The `user#<sub>` records of the table: (sub, signed out at).
    async fn user_records(&self) -> Vec<(String, u64)> {
        let mut records = Vec::new();
        for item in self.revocation_items().await {
            for (name, value) in item {
                if let (Some(sub), Ok(n)) = (name.strip_prefix("user#"), value.as_n()) {
                    records.push((sub.to_owned(), n.parse().expect("a number")));
                }
            }
        }
        records
    }

    /// An authorizer for both app clients, reading this table's revocation records.
    async fn authorizer(&self, clock: Arc<ManualClock>) -> Authorizer {
        let issuer = format!("{}/{}", self.pool.endpoint, self.pool.pool_id);
        let config = Config {
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuers: vec![issuer],
            client_ids: vec![
                self.pool.public_client_id.clone(),
                self.pool.confidential_client_id.clone(),
            ],
            required_scopes: Vec::new(),
            required_groups: Vec::new(),
            rules: Vec::new(),
            api_key_clients: ApiKeyClients::Refuse,
            revocations: Some(moto_revocation_table(&self.table, REFRESH_SECS)),
        };
        build_authorizer(config, clock).await
    }

    /// A sign-in by USER_PASSWORD_AUTH at `client_id`: its access token.
    async fn login(&self, client_id: &str, username: &str, password: &str) -> String {
        self.pool.tokens_of(client_id, username, password).await.0
    }

    async fn sub_of(&self, username: &str) -> String {
        let user = self
            .pool
            .client
            .admin_get_user()
            .user_pool_id(&self.pool.pool_id)
            .username(username)
            .send()
            .await
            .expect("AdminGetUser");
        user.user_attributes()
            .iter()
            .find(|a| a.name() == "sub")
            .and_then(|a| a.value())
            .expect("sub")
            .to_owned()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Waits until the wall clock's second is past `second`.
async fn next_second_after(second: u64) {
    while unix_now() <= second {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn assert_revoked(authorizer: &Authorizer, token: &str) {
    assert_eq!(
        authorizer.decide(Some(&bearer(token))).await,
        Outcome::Unauthorized(Rejection::Revoked)
    );
    assert_unauthorized_everywhere(authorizer, &bearer(token)).await;
}

/// One refresh interval on: the decision that finds the refresh due starts it beside itself
/// (judged by the set held, whatever it says); the next decisions see the new set.
async fn refresh(authorizer: &Authorizer, clock: &ManualClock, any_token: &str) {
    clock.advance(Duration::from_secs(REFRESH_SECS));
    let _ = authorizer.decide(Some(&bearer(any_token))).await;
    authorizer
        .revocations()
        .expect("a revocation table is configured")
        .settled()
        .await;
}

#[tokio::test]
async fn signing_a_user_out_refuses_all_their_sessions_and_nobody_elses() {
    let setup = Setup::new().await;
    let pool = &setup.pool;
    // Two sessions of the demo user (the CLI's client and the other one), one of another user.
    let first = setup
        .login(&pool.public_client_id, DEMO_USERNAME, DEMO_PASSWORD)
        .await;
    let second = setup
        .login(&pool.confidential_client_id, DEMO_USERNAME, DEMO_PASSWORD)
        .await;
    let other = setup
        .login(&pool.public_client_id, OTHER_USERNAME, OTHER_PASSWORD)
        .await;
    let clock = Arc::new(ManualClock::starting_now());
    let authorizer = setup.authorizer(Arc::clone(&clock)).await;
    for token in [&first, &second, &other] {
        assert_allowed_everywhere(&authorizer, &bearer(token)).await;
    }

    let outputs = setup.outputs_file();
    let before = unix_now();
    let run = setup
        .signout(&[
            "--stack-outputs",
            outputs.to_str().expect("UTF-8 path"),
            "--username",
            DEMO_USERNAME,
            "--yes",
        ])
        .await;
    let after = unix_now();
    run.assert_code(0);
    for needle in [
        "found user \"demo\"",
        "recorded in table",
        "signed out at Cognito",
        "done:",
    ] {
        assert!(run.stderr.contains(needle), "{needle}:\n{}", run.stderr);
    }

    // In order: the look-up, then (the record, then) Cognito's sign-out, by the pool and name.
    assert_eq!(setup.proxy.targets(), [ADMIN_GET_USER, GLOBAL_SIGN_OUT]);
    assert_eq!(
        setup.proxy.sign_outs(),
        [serde_json::json!({"UserPoolId": pool.pool_id, "Username": DEMO_USERNAME})]
    );
    let demo_sub = setup.sub_of(DEMO_USERNAME).await;
    let records = setup.user_records().await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].0, demo_sub);
    assert!(
        (before..=after).contains(&records[0].1),
        "signed out at {} outside the run ({before}..={after})",
        records[0].1
    );

    refresh(&authorizer, &clock, &other).await;
    assert_revoked(&authorizer, &first).await;
    assert_revoked(&authorizer, &second).await;
    assert_allowed_everywhere(&authorizer, &bearer(&other)).await;

    // A sign-in after the sign-out's second passes.
    next_second_after(records[0].1).await;
    let again = setup
        .login(&pool.public_client_id, DEMO_USERNAME, DEMO_PASSWORD)
        .await;
    assert_allowed_everywhere(&authorizer, &bearer(&again)).await;
    assert_revoked(&authorizer, &first).await;
}

#[tokio::test]
async fn without_yes_nothing_is_contacted_and_nothing_recorded() {
    let setup = Setup::new().await;
    let outputs = setup.outputs_file();
    let run = setup
        .signout(&[
            "--stack-outputs",
            outputs.to_str().expect("UTF-8 path"),
            "--username",
            DEMO_USERNAME,
        ])
        .await;
    run.assert_code(2);
    for needle in [
        "would",
        setup.pool.pool_id.as_str(),
        setup.table.as_str(),
        "AdminUserGlobalSignOut",
        "--yes",
    ] {
        assert!(run.stderr.contains(needle), "{needle}:\n{}", run.stderr);
    }
    assert!(
        setup.proxy.targets().is_empty(),
        "{:?}",
        setup.proxy.targets()
    );
    assert!(setup.revocation_items().await.is_empty());
}

#[tokio::test]
async fn an_unknown_user_is_refused_and_nothing_recorded() {
    let setup = Setup::new().await;
    let run = setup
        .signout(&[
            "--user-pool-id",
            &setup.pool.pool_id,
            "--table",
            &setup.table,
            "--region",
            "us-east-1",
            "--username",
            "nobody@example.com",
            "--yes",
        ])
        .await;
    run.assert_code(3);
    assert!(
        run.stderr.contains("no user \"nobody@example.com\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("NOT done: the revocation record and Cognito's sign-out"),
        "{}",
        run.stderr
    );
    assert_eq!(setup.proxy.targets(), [ADMIN_GET_USER]);
    assert!(setup.revocation_items().await.is_empty());
}

#[tokio::test]
async fn a_table_that_cannot_be_written_stops_before_cognito_is_asked() {
    let setup = Setup::new().await;
    let run = setup
        .signout(&[
            "--stack-outputs",
            setup.outputs_file().to_str().expect("UTF-8 path"),
            "--table",
            "no-such-table",
            "--username",
            DEMO_USERNAME,
            "--yes",
        ])
        .await;
    run.assert_code(1);
    assert!(run.stderr.contains("no-such-table"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("NOT done: the revocation record and Cognito's sign-out"),
        "{}",
        run.stderr
    );
    assert_eq!(setup.proxy.targets(), [ADMIN_GET_USER]);
    assert!(setup.revocation_items().await.is_empty());
}

/// The record comes first: when Cognito refuses the sign-out, the authorizer refuses the user
/// all the same, and the report says what is left to do.
#[tokio::test]
async fn when_cognito_fails_the_record_still_holds_and_the_report_says_so() {
    let setup = Setup::new().await;
    let token = setup
        .login(&setup.pool.public_client_id, DEMO_USERNAME, DEMO_PASSWORD)
        .await;
    let clock = Arc::new(ManualClock::starting_now());
    let authorizer = setup.authorizer(Arc::clone(&clock)).await;
    assert_allowed_everywhere(&authorizer, &bearer(&token)).await;
    setup.proxy.fail_sign_outs(400, "NotAuthorizedException");
    let run = setup
        .signout(&[
            "--stack-outputs",
            setup.outputs_file().to_str().expect("UTF-8 path"),
            "--username",
            DEMO_USERNAME,
            "--yes",
        ])
        .await;
    run.assert_code(4);
    assert!(
        run.stderr.contains("AdminUserGlobalSignOut"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("done:     recorded in table"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("NOT done: Cognito's global sign-out"),
        "{}",
        run.stderr
    );
    assert_no_crash(&run.stderr);
    assert_eq!(setup.proxy.sign_outs().len(), 1);
    assert_eq!(setup.user_records().await.len(), 1);
    refresh(&authorizer, &clock, &token).await;
    assert_revoked(&authorizer, &token).await;
}
