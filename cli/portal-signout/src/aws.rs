//! The two AWS clients, from the operator's own configuration: the SDK's default credential
//! chain (environment, `AWS_PROFILE` or `--profile`, SSO, `credential_process`, instance
//! roles) and its endpoint variables (`AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`,
//! `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`), with the regions [`Target`] chose.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use portal_auth_device::GrantStore;

use crate::exit::{Exit, Failure};
use crate::target::Target;

pub struct Clients {
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    /// The device store: its `revoke_user` writes the record the authorizer reads.
    pub store: GrantStore,
}

impl Clients {
    /// Loads the operator's configuration and builds both clients; nothing is sent yet.
    pub async fn connect(target: &Target, profile: Option<&str>) -> Result<Self, Failure> {
        // The functions' transport (their TLS policy), for the clients and for aws-config's
        // own providers (SSO, STS) alike.
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).http_client(
                portal_auth_device::aws::SdkTransport::new(
                    portal_auth_runtime::https::Trust::default(),
                ),
            );
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        let sdk = loader.load().await;
        let cognito = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
            .region(region(&sdk, &target.cognito_region)?)
            .build();
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .region(region(&sdk, &target.dynamodb_region)?)
            .build();
        Ok(Self {
            cognito: aws_sdk_cognitoidentityprovider::Client::from_conf(cognito),
            store: GrantStore::new(
                aws_sdk_dynamodb::Client::from_conf(dynamodb),
                target.table.clone(),
            ),
        })
    }
}

/// The chosen region, else the SDK's; an error when there is none at all.
fn region(sdk: &SdkConfig, chosen: &Option<String>) -> Result<Region, Failure> {
    chosen
        .clone()
        .map(Region::new)
        .or_else(|| sdk.region().filter(|r| !r.as_ref().is_empty()).cloned())
        .ok_or_else(|| {
            Failure::new(
                Exit::Usage,
                "no AWS region: pass --region, or set AWS_REGION (or the profile's region)",
            )
            .not_done(crate::NOTHING_CONTACTED)
        })
}
