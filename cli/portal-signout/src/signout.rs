//! The three steps, in their order, each reporting what it did:
//!
//! 1. [`look_up`]: `AdminGetUser` gives the user's `sub` (and canonical username, when they
//!    were named by an alias). An unknown user stops here: nothing is recorded.
//! 2. [`record`]: "tokens of this `sub` authenticated at or before now are revoked", written by
//!    the device store ([`GrantStore::revoke_user`], one `UpdateItem`) in the layout the
//!    authorizer reads ([`portal_auth_domain::revocation`]).
//! 3. [`sign_out_at_cognito`]: `AdminUserGlobalSignOut`, which invalidates the user's refresh
//!    tokens but not the access tokens already issued — hence step 2, and hence step 2 first:
//!    if Cognito fails, the authorizer refuses the user all the same, and the report says
//!    the sign-out is still to do.

use std::io::Write;

use aws_sdk_cognitoidentityprovider::Client as Cognito;
use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
use portal_auth_device::GrantStore;
use portal_auth_domain::{Clock, UtcDateTime};

use crate::aws::Clients;
use crate::exit::{Exit, Failure};
use crate::say;
use crate::target::Target;

const NOTHING_RECORDED: &str =
    "the revocation record and Cognito's sign-out (nothing was recorded, Cognito was not asked)";
const COGNITO_NOT_SIGNED_OUT: &str = "Cognito's global sign-out (AdminUserGlobalSignOut): the \
     user's refresh tokens still work at Cognito; re-run the same command to finish";

/// The user, as Cognito knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Canonical: what Cognito calls them, whatever alias the operator typed.
    pub username: String,
    pub sub: String,
    pub enabled: bool,
    pub status: String,
}

/// Runs the three steps for `target`, reporting each on `out`.
pub async fn sign_out(
    clients: &Clients,
    target: &Target,
    clock: &dyn Clock,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let user = look_up(&clients.cognito, target).await?;
    say(out, &describe(&user));
    let at = u64::try_from(clock.unix_seconds()).unwrap_or_default();
    let recorded = record(&clients.store, &user, at).await?;
    say(out, &recorded);
    sign_out_at_cognito(&clients.cognito, target, &user)
        .await
        .map_err(|failure| failure.done(recorded))?;
    say(
        out,
        "signed out at Cognito (AdminUserGlobalSignOut): the user's refresh tokens no longer work",
    );
    say(out, &summary(&user, at));
    Ok(())
}

/// Step 1: the user's `sub`.
pub async fn look_up(cognito: &Cognito, target: &Target) -> Result<User, Failure> {
    let answer = cognito
        .admin_get_user()
        .user_pool_id(&target.user_pool_id)
        .username(&target.username)
        .send()
        .await;
    match answer {
        Ok(output) => user_of(&output).ok_or_else(|| {
            Failure::new(
                Exit::Failed,
                format!(
                    "Cognito's AdminGetUser answer for {:?} has no sub",
                    target.username
                ),
            )
            .not_done(NOTHING_RECORDED)
        }),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_user_not_found_exception()) =>
        {
            Err(Failure::new(
                Exit::NoSuchUser,
                format!(
                    "no user {:?} in user pool {} (Cognito: UserNotFoundException)",
                    target.username, target.user_pool_id
                ),
            )
            .not_done(NOTHING_RECORDED))
        }
        Err(error) => Err(Failure::new(
            Exit::Failed,
            format!(
                "Cognito AdminGetUser for {:?} failed: {}",
                target.username,
                concise(&DisplayErrorContext(&error).to_string())
            ),
        )
        .not_done(NOTHING_RECORDED)),
    }
}

fn user_of(output: &AdminGetUserOutput) -> Option<User> {
    let sub = output
        .user_attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .filter(|s| !s.is_empty())?;
    Some(User {
        username: output.username().to_owned(),
        sub: sub.to_owned(),
        enabled: output.enabled(),
        status: output
            .user_status()
            .map_or_else(|| "status unknown".to_owned(), |s| s.as_str().to_owned()),
    })
}

fn describe(user: &User) -> String {
    format!(
        "found user {:?} (sub {}), {}, {}",
        user.username,
        user.sub,
        user.status,
        if user.enabled { "enabled" } else { "disabled" }
    )
}

/// Step 2: the revocation record, at `at` (epoch seconds). Returns the report line.
pub async fn record(store: &GrantStore, user: &User, at: u64) -> Result<String, Failure> {
    store.revoke_user(&user.sub, at).await.map_err(|error| {
        Failure::new(
            Exit::Failed,
            format!(
                "recording the revocation in table {} failed: {}",
                store.table(),
                concise(&error.to_string())
            ),
        )
        .not_done(NOTHING_RECORDED)
    })?;
    Ok(format!(
        "recorded in table {}: tokens of sub {} authenticated at or before {} ({at}) are \
         revoked; the authorizer refuses them from its next refresh",
        store.table(),
        user.sub,
        UtcDateTime::from_unix(at)
    ))
}

/// Step 3: Cognito's global sign-out, by the canonical username.
pub async fn sign_out_at_cognito(
    cognito: &Cognito,
    target: &Target,
    user: &User,
) -> Result<(), Failure> {
    cognito
        .admin_user_global_sign_out()
        .user_pool_id(&target.user_pool_id)
        .username(&user.username)
        .send()
        .await
        .map(|_| ())
        .map_err(|error| {
            Failure::new(
                Exit::Partial,
                format!(
                    "Cognito AdminUserGlobalSignOut for {:?} failed: {}",
                    user.username,
                    concise(&DisplayErrorContext(&error).to_string())
                ),
            )
            .not_done(COGNITO_NOT_SIGNED_OUT)
        })
}

/// An SDK error's message chain without the `Debug` dump `DisplayErrorContext` appends
/// (` (ServiceError(ServiceError { … raw: Response { … } }))`): the chain names the error code
/// and Cognito's or DynamoDB's message, which is what an operator acts on.
fn concise(detail: &str) -> String {
    const DUMPS: [&str; 5] = [
        " (ServiceError(",
        " (DispatchFailure(",
        " (TimeoutError(",
        " (ResponseError(",
        " (ConstructionFailure(",
    ];
    let end = DUMPS
        .iter()
        .filter_map(|dump| detail.find(dump))
        .min()
        .unwrap_or(detail.len());
    detail[..end].to_owned()
}

fn summary(user: &User, at: u64) -> String {
    let mut line = format!(
        "done: every session of {:?} (CLI and browser) must sign in again; access tokens issued \
         until {} are refused by each authorizer instance within 2 × \
         AUTHORIZER_REVOCATION_REFRESH_SECONDS, plus the API Gateway authorizer cache TTL",
        user.username,
        UtcDateTime::from_unix(at)
    );
    if user.enabled {
        line.push_str(
            "; the user can still sign in anew: to keep them out, aws cognito-idp \
             admin-disable-user",
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, UserStatusType};

    fn attribute(name: &str, value: &str) -> AttributeType {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .expect("attribute")
    }

    #[test]
    fn the_sub_and_canonical_username_come_from_admin_get_user() {
        let output = AdminGetUserOutput::builder()
            .username("7d1c-uuid")
            .user_attributes(attribute("email", "jane@example.com"))
            .user_attributes(attribute("sub", "7d1c-sub"))
            .enabled(true)
            .user_status(UserStatusType::Confirmed)
            .build()
            .expect("output");
        let user = user_of(&output).expect("user");
        assert_eq!(
            user,
            User {
                username: "7d1c-uuid".into(),
                sub: "7d1c-sub".into(),
                enabled: true,
                status: "CONFIRMED".into(),
            }
        );
        assert!(describe(&user).contains("enabled"));
        assert!(summary(&user, 0).contains("admin-disable-user"));
    }

    #[test]
    fn sdk_errors_are_reported_without_their_debug_dump() {
        let detail = "DynamoDB UpdateItem failed: service error: ResourceNotFoundException: \
            Requested resource not found (ServiceError(ServiceError { source: x, raw: Response \
            { status: StatusCode(400) } }))";
        assert_eq!(
            concise(detail),
            "DynamoDB UpdateItem failed: service error: ResourceNotFoundException: Requested \
             resource not found"
        );
        let detail = "dispatch failure: io error: Connection refused (DispatchFailure(x))";
        assert_eq!(
            concise(detail),
            "dispatch failure: io error: Connection refused"
        );
        assert_eq!(concise("plain (words)"), "plain (words)");
    }

    #[test]
    fn an_answer_without_a_sub_is_no_user() {
        let output = AdminGetUserOutput::builder()
            .username("x")
            .user_attributes(attribute("sub", ""))
            .build()
            .expect("output");
        assert_eq!(user_of(&output), None);
    }
}
