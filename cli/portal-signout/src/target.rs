//! What a run acts on: the user, the pool, the table and their regions, from the flags and the
//! stack's outputs (a flag wins), checked before anything is contacted.
//!
//! Regions: `--region` sets both. Otherwise Cognito's is the pool id's prefix
//! (`eu-west-1_AbC123`, the runtime's rule), else the stack's; DynamoDB's is the stack's (from
//! its outputs), else the pool's; when neither is known the SDK's own (`AWS_REGION`, the
//! profile's `region`) is used.

use portal_auth_runtime::{ConfigError, Env, UserPool};

use crate::cli::Cli;
use crate::outputs::{StackOutputs, TABLE_NAME, USER_POOL_ID};

/// Cognito's limit on a username (and on an alias used as one).
const MAX_USERNAME_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// As given: a username or an alias; Cognito resolves it.
    pub username: String,
    pub user_pool_id: String,
    pub table: String,
    /// `None`: the SDK's default region.
    pub cognito_region: Option<String>,
    pub dynamodb_region: Option<String>,
}

impl Target {
    /// The target of `cli`, reading `--stack-outputs` when given.
    pub fn from_cli(cli: &Cli) -> Result<Self, String> {
        let outputs = match &cli.stack_outputs {
            Some(path) => StackOutputs::read(path)?,
            None => StackOutputs::default(),
        };
        Self::resolve(cli, &outputs)
    }

    /// The target of `cli` over already read `outputs`.
    pub fn resolve(cli: &Cli, outputs: &StackOutputs) -> Result<Self, String> {
        let username = username(&cli.username)?;
        let user_pool_id = pick(&cli.user_pool_id, outputs, USER_POOL_ID, "--user-pool-id")?;
        let pool_region = pool_region(&user_pool_id)?;
        let table = pick(&cli.table, outputs, TABLE_NAME, "--table")?;
        let region = given(&cli.region);
        let stack_region = outputs.region().map(str::to_owned);
        Ok(Self {
            username,
            user_pool_id,
            table,
            cognito_region: region
                .clone()
                .or_else(|| pool_region.clone())
                .or_else(|| stack_region.clone()),
            dynamodb_region: region.or(stack_region).or(pool_region),
        })
    }

    /// What a run with `--yes` does, as lines for the operator.
    pub fn plan(&self) -> Vec<String> {
        let region = |r: &Option<String>| {
            r.clone()
                .unwrap_or_else(|| "region of AWS_REGION or the profile".into())
        };
        vec![
            format!(
                "1. look up user {:?} in user pool {} ({}) for their sub (AdminGetUser)",
                self.username,
                self.user_pool_id,
                region(&self.cognito_region)
            ),
            format!(
                "2. record in table {} ({}) that their tokens authenticated until now are \
                 revoked (UpdateItem): the authorizer refuses them from its next refresh",
                self.table,
                region(&self.dynamodb_region)
            ),
            "3. sign them out at Cognito (AdminUserGlobalSignOut): their refresh tokens stop \
             working"
                .to_owned(),
        ]
    }
}

fn given(flag: &Option<String>) -> Option<String> {
    flag.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The flag, else the output, else an error naming both.
fn pick(
    flag: &Option<String>,
    outputs: &StackOutputs,
    key: &str,
    name: &str,
) -> Result<String, String> {
    given(flag)
        .or_else(|| outputs.get(key).map(str::to_owned))
        .ok_or_else(|| {
            format!("{name} is required (or --stack-outputs FILE with the {key} output)")
        })
}

fn username(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("--username is empty".into());
    }
    if name.chars().count() > MAX_USERNAME_CHARS || name.chars().any(char::is_control) {
        return Err("--username is not a Cognito username (at most 128 characters)".into());
    }
    Ok(name.to_owned())
}

/// The region the pool id names, by the runtime's rule (`None` for emulator ids such as
/// `local_AbC123`); an error when the id is malformed.
fn pool_region(id: &str) -> Result<Option<String>, String> {
    let env = Env::from_pairs([("COGNITO_USER_POOL_ID", id)]);
    match UserPool::from_env(&env) {
        Ok(pool) => Ok(Some(pool.region)),
        // Well-formed, but its prefix is no region.
        Err(ConfigError::Missing(_)) => Ok(None),
        Err(ConfigError::Invalid { .. }) => Err(format!(
            "--user-pool-id {id:?} is not a user pool id (<region>_<id>, e.g. eu-west-1_AbC123)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(
            ["portal-signout", "--username", "jane"]
                .iter()
                .chain(args)
                .copied(),
        )
        .expect("parses")
    }

    fn outputs() -> StackOutputs {
        StackOutputs::parse(
            r#"[{"OutputKey": "UserPoolId", "OutputValue": "eu-west-1_FromStack"},
                {"OutputKey": "TableName", "OutputValue": "stack-table"},
                {"OutputKey": "AuthorizerFunctionArn",
                 "OutputValue": "arn:aws:lambda:eu-central-1:1:function:a"}]"#,
        )
        .expect("outputs")
    }

    #[test]
    fn the_outputs_name_the_pool_the_table_and_the_regions() {
        let target = Target::resolve(&cli(&[]), &outputs()).expect("target");
        assert_eq!(
            target,
            Target {
                username: "jane".into(),
                user_pool_id: "eu-west-1_FromStack".into(),
                table: "stack-table".into(),
                cognito_region: Some("eu-west-1".into()),
                dynamodb_region: Some("eu-central-1".into()),
            }
        );
    }

    #[test]
    fn flags_override_the_outputs() {
        let args = [
            "--user-pool-id",
            "us-east-2_Flag",
            "--table",
            "flag-table",
            "--region",
            "ap-south-1",
        ];
        let target = Target::resolve(&cli(&args), &outputs()).expect("target");
        assert_eq!(target.user_pool_id, "us-east-2_Flag");
        assert_eq!(target.table, "flag-table");
        assert_eq!(target.cognito_region.as_deref(), Some("ap-south-1"));
        assert_eq!(target.dynamodb_region.as_deref(), Some("ap-south-1"));
    }

    #[test]
    fn without_outputs_the_pool_id_gives_both_regions_or_the_sdk_decides() {
        let args = ["--user-pool-id", "eu-west-1_X", "--table", "t"];
        let target = Target::resolve(&cli(&args), &StackOutputs::default()).expect("target");
        assert_eq!(target.cognito_region.as_deref(), Some("eu-west-1"));
        assert_eq!(target.dynamodb_region.as_deref(), Some("eu-west-1"));
        let args = ["--user-pool-id", "local_X", "--table", "t"];
        let target = Target::resolve(&cli(&args), &StackOutputs::default()).expect("target");
        assert_eq!(
            (target.cognito_region, target.dynamodb_region),
            (None, None)
        );
    }

    #[test]
    fn a_missing_pool_or_table_names_the_flag_and_the_output() {
        let error = Target::resolve(&cli(&["--table", "t"]), &StackOutputs::default())
            .expect_err("no pool");
        assert!(
            error.contains("--user-pool-id") && error.contains("UserPoolId"),
            "{error}"
        );
        let error = Target::resolve(
            &cli(&["--user-pool-id", "eu-west-1_X"]),
            &StackOutputs::default(),
        )
        .expect_err("no table");
        assert!(
            error.contains("--table") && error.contains("TableName"),
            "{error}"
        );
    }

    #[test]
    fn malformed_pool_ids_and_usernames_are_refused() {
        for id in ["nounderscore", "eu-west-1_", "_x", "eu west_1", "a_b/c"] {
            let args = ["--user-pool-id", id, "--table", "t"];
            let error = Target::resolve(&cli(&args), &StackOutputs::default()).expect_err(id);
            assert!(error.contains("not a user pool id"), "{id}: {error}");
        }
        let long = "x".repeat(129);
        for name in ["  ", long.as_str(), "a\nb"] {
            let cli = Cli {
                username: name.into(),
                ..cli(&["--user-pool-id", "eu-west-1_X", "--table", "t"])
            };
            assert!(
                Target::resolve(&cli, &StackOutputs::default()).is_err(),
                "{name:?}"
            );
        }
    }

    #[test]
    fn the_plan_names_every_step_and_resource() {
        let target = Target::resolve(&cli(&[]), &outputs()).expect("target");
        let plan = target.plan().join("\n");
        for needle in [
            "\"jane\"",
            "eu-west-1_FromStack",
            "stack-table",
            "eu-central-1",
            "AdminGetUser",
            "UpdateItem",
            "AdminUserGlobalSignOut",
        ] {
            assert!(plan.contains(needle), "{needle}: {plan}");
        }
    }
}
