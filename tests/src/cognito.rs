//! A fresh cognito-local user pool per test, shaped like `make dev`'s: a public app client
//! "Portal CLI", a confidential "Portal Device (confidential)", both with the device callback
//! and scopes `openid email profile`, and a user `demo` in group `portal-users`.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType, OAuthFlowType,
};

pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd!";
pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_GROUP: &str = "portal-users";
pub const SCOPES: [&str; 3] = ["openid", "email", "profile"];

pub struct TestPool {
    pub endpoint: String,
    pub client: Client,
    pub pool_id: String,
    pub public_client_id: String,
    pub confidential_client_id: String,
    pub confidential_client_secret: String,
}

pub fn endpoint() -> String {
    crate::emulator_endpoint("PORTAL_TEST_COGNITO_ENDPOINT")
}

pub fn client() -> Client {
    Client::new(&crate::sdk_config(&endpoint()))
}

impl TestPool {
    /// Creates the pool, its two app clients and the demo user; `callback` is the redirect URI.
    pub async fn create(callback: &str) -> TestPool {
        let client = client();
        let pool = client
            .create_user_pool()
            .pool_name(crate::unique_name("pool"))
            .send()
            .await
            .expect("CreateUserPool on cognito-local");
        let pool_id = pool
            .user_pool()
            .and_then(|p| p.id())
            .expect("pool id")
            .to_owned();
        let public = create_app_client(&client, &pool_id, "Portal CLI", false, callback).await;
        let confidential = create_app_client(
            &client,
            &pool_id,
            "Portal Device (confidential)",
            true,
            callback,
        )
        .await;
        let pool = TestPool {
            endpoint: endpoint(),
            client,
            pool_id,
            public_client_id: public.0,
            confidential_client_id: confidential.0,
            confidential_client_secret: confidential.1.expect("generated secret"),
        };
        pool.create_demo_user().await;
        pool
    }

    async fn create_demo_user(&self) {
        self.create_user(DEMO_USERNAME, DEMO_PASSWORD).await;
        self.client
            .create_group()
            .user_pool_id(&self.pool_id)
            .group_name(DEMO_GROUP)
            .send()
            .await
            .expect("CreateGroup");
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.pool_id)
            .username(DEMO_USERNAME)
            .group_name(DEMO_GROUP)
            .send()
            .await
            .expect("AdminAddUserToGroup");
    }

    /// The demo user's tokens for `client_id`, by USER_PASSWORD_AUTH: (access, id, refresh).
    pub async fn demo_tokens(&self, client_id: &str) -> (String, String, String) {
        self.tokens_of(client_id, DEMO_USERNAME, DEMO_PASSWORD)
            .await
    }

    /// A user's tokens for `client_id`, by USER_PASSWORD_AUTH: (access, id, refresh).
    pub async fn tokens_of(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> (String, String, String) {
        let out = self
            .client
            .initiate_auth()
            .client_id(client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .expect("InitiateAuth");
        let r = out.authentication_result().expect("authentication result");
        (
            r.access_token().expect("access token").to_owned(),
            r.id_token().expect("id token").to_owned(),
            r.refresh_token().unwrap_or_default().to_owned(),
        )
    }

    /// A user with the verified email `<username>@example.com` and a permanent `password`.
    pub async fn create_user(&self, username: &str, password: &str) {
        self.client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .temporary_password(password)
            .message_action(MessageActionType::Suppress)
            .user_attributes(attribute("email", &format!("{username}@example.com")))
            .user_attributes(attribute("email_verified", "true"))
            .send()
            .await
            .expect("AdminCreateUser");
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(username)
            .password(password)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
    }
}

async fn create_app_client(
    client: &Client,
    pool_id: &str,
    name: &str,
    secret: bool,
    callback: &str,
) -> (String, Option<String>) {
    let out = client
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(name)
        .generate_secret(secret)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .set_allowed_o_auth_scopes(Some(SCOPES.iter().map(|s| s.to_string()).collect()))
        .callback_urls(callback)
        .supported_identity_providers("COGNITO")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("CreateUserPoolClient");
    let c = out.user_pool_client().expect("user pool client");
    (
        c.client_id().expect("client id").to_owned(),
        c.client_secret().map(str::to_owned),
    )
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("attribute")
}
