"""Creates the local stack's resources and writes their configuration to .env.local.

On moto (DynamoDB): the grants table, key `pk`, TTL on `expires_at`.
On cognito-local (Cognito): a user pool, a public app client "Portal CLI" and a confidential
"Portal Device (confidential)" (with a secret), both allowed the code flow back to the device
callback with scopes `openid email profile`, and a user `demo` in group `portal-users`.

The output is one NAME=value a line: design.md's configuration plus the AWS SDK's endpoint
variables, read by `cargo lambda watch --env-file` for every function (the authorizer's
revocation reads included: AUTHORIZER_REVOCATION_TABLE, AWS_REGION, the credentials and
AWS_ENDPOINT_URL_DYNAMODB), and a few PORTAL_LOCAL_* values for the README's walk-through.
"""

import argparse

import boto3

TABLE = "portal-auth-grants"
SCOPES = ["openid", "email", "profile"]
DEMO_USER = "demo"
DEMO_GROUP = "portal-users"


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def create_table(dynamodb) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    dynamodb.update_time_to_live(
        TableName=TABLE,
        TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True},
    )


def create_app_client(cognito, pool_id: str, name: str, secret: bool, callback: str) -> dict:
    return cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=name,
        GenerateSecret=secret,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=SCOPES,
        CallbackURLs=[callback],
        SupportedIdentityProviders=["COGNITO"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]


def create_pool(cognito, callback: str, password: str) -> tuple[str, dict, dict]:
    pool_id = cognito.create_user_pool(PoolName="portal-auth-local")["UserPool"]["Id"]
    public = create_app_client(cognito, pool_id, "Portal CLI", False, callback)
    confidential = create_app_client(
        cognito, pool_id, "Portal Device (confidential)", True, callback
    )
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=DEMO_USER,
        TemporaryPassword=password,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "demo@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=DEMO_USER, Password=password, Permanent=True
    )
    cognito.create_group(UserPoolId=pool_id, GroupName=DEMO_GROUP)
    cognito.admin_add_user_to_group(
        UserPoolId=pool_id, Username=DEMO_USER, GroupName=DEMO_GROUP
    )
    return pool_id, public, confidential


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dynamodb", required=True)
    parser.add_argument("--cognito", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    create_table(client("dynamodb", args.dynamodb))
    callback = f"{args.base_url}/device/callback"
    pool_id, public, confidential = create_pool(
        client("cognito-idp", args.cognito), callback, args.password
    )
    clients = f"{public['ClientId']},{confidential['ClientId']}"
    issuer = f"{args.cognito}/{pool_id}"
    env = {
        "TABLE_NAME": TABLE,
        "PUBLIC_BASE_URL": args.base_url,
        "COGNITO_USER_POOL_ID": pool_id,
        "COGNITO_REGION": "us-east-1",
        "COGNITO_DOMAIN": args.cognito,
        "COGNITO_ISSUER": issuer,
        "COGNITO_JWKS_URL": f"{issuer}/.well-known/jwks.json",
        "DEVICE_CLIENT_IDS": clients,
        "DEVICE_CODE_TTL_SECONDS": "600",
        "DEVICE_POLL_INTERVAL_SECONDS": "5",
        "AUTHORIZER_CLIENT_IDS": clients,
        # The authorizer honours revocations (issue 13): it reads the revocation buckets of the
        # same table from moto, signing with the AWS_* credentials and endpoint below (its own
        # SigV4 client reads AWS_ENDPOINT_URL_DYNAMODB as the SDK does), every
        # AUTHORIZER_REVOCATION_REFRESH_SECONDS (default 30).
        "AUTHORIZER_REVOCATION_TABLE": TABLE,
        # The portal's own clients (Go CLI, Python SDK) log in against the local stack too;
        # the template keeps the dialect off by default (docs/portal-migration.md).
        "PORTAL_COMPAT_ENABLED": "true",
        # Everyone trying the local stack, and every script against it, arrives as 127.0.0.1:
        # a per-IP ceiling of 20 device authorizations per 15 minutes would stop a morning's
        # experiments. The template keeps the defaults (README, "Configuration").
        "DEVICE_ISSUE_MAX_PER_IP": "10000",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_ENDPOINT_URL_DYNAMODB": args.dynamodb,
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": args.cognito,
        "RUST_LOG": "info",
        "PORTAL_LOCAL_PUBLIC_CLIENT_ID": public["ClientId"],
        "PORTAL_LOCAL_CONFIDENTIAL_CLIENT_ID": confidential["ClientId"],
        "PORTAL_LOCAL_CONFIDENTIAL_CLIENT_SECRET": confidential["ClientSecret"],
        "PORTAL_LOCAL_DEMO_USERNAME": DEMO_USER,
        "PORTAL_LOCAL_DEMO_PASSWORD": args.password,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        f.writelines(f"{name}={value}\n" for name, value in env.items())


if __name__ == "__main__":
    main()
