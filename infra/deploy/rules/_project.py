"""What these rules know about portal-auth, and small helpers over a decoded template.

Not a rule module (cfn-lint loads only files that start with a letter or digit): the rule
modules beside it import it. The facts below are design.md's (endpoints, environment) and
the operator's guide's (outputs, alarms); the IAM actions each function needs are not here:
each function crate declares them (`IAM_ACTIONS`) and tests/tests/deploy_config.rs compares
those declarations with the roles in template.yaml.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

# function (= binary = package) -> logical id in template.yaml
FUNCTIONS = {
    "device-code": "DeviceCodeFunction",
    "device-token": "DeviceTokenFunction",
    "device-verify": "DeviceVerifyFunction",
    "device-callback": "DeviceCallbackFunction",
    "authorizer": "AuthorizerFunction",
}
DEVICE_FUNCTIONS = [f for f in FUNCTIONS if f.startswith("device-")]
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
API_TYPES = ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi")

# design.md's endpoint table: these and only these routes are public.
PUBLIC_ROUTES = {
    ("POST", "/device/code"): "device-code",
    ("GET", "/.well-known/oauth-authorization-server"): "device-code",
    ("POST", "/device/token"): "device-token",
    ("GET", "/device"): "device-verify",
    ("POST", "/device"): "device-verify",
    ("GET", "/device/callback"): "device-callback",
}
# The sample protected portal route; there must be at least this one behind the authorizer.
SAMPLE_PROTECTED_ROUTE = ("GET", "/me")
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "x-amazon-apigateway-any-method"}

# The only DynamoDB actions a role may hold: item actions by key. TransactWriteItems is not an
# IAM action (a transaction is authorised by the actions of its items); Scan and Query are
# not allowed at all (design.md: every request is O(1), by key).
DYNAMODB_ITEM_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}
COGNITO_ACTIONS = {"cognito-idp:DescribeUserPoolClient"}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}

DEVICE_ENV = {"TABLE_NAME", "PUBLIC_BASE_URL", "COGNITO_USER_POOL_ID", "COGNITO_DOMAIN", "DEVICE_CLIENT_IDS"}
REQUIRED_ENV = {
    "device-code": DEVICE_ENV | {"DEVICE_CODE_TTL_SECONDS", "DEVICE_POLL_INTERVAL_SECONDS"},
    "device-token": DEVICE_ENV,
    "device-verify": DEVICE_ENV,
    "device-callback": DEVICE_ENV,
    "authorizer": {"COGNITO_USER_POOL_ID", "AUTHORIZER_CLIENT_IDS"},
}
ALLOWED_ENV = {
    **{f: REQUIRED_ENV[f] | {"COGNITO_REGION"} for f in DEVICE_FUNCTIONS},
    "authorizer": REQUIRED_ENV["authorizer"]
    | {"COGNITO_REGION", "COGNITO_ISSUER", "COGNITO_JWKS_URL", "AUTHORIZER_REQUIRED_SCOPES", "AUTHORIZER_REQUIRED_GROUPS"},
}

REQUIRED_OUTPUTS = {
    "ApiBaseUrl", "VerificationUrl", "MetadataUrl", "DeviceAuthorizationEndpoint", "TokenEndpoint",
    "DeviceCallbackUrl", "TableName", "UserPoolId", "CognitoDomainUrl", "DeviceClientIds",
    "AuthorizerClientIds", "PortalCliClientId", "PortalWebClientId", "AuthorizerFunctionArn",
}
OPTIONAL_ALARM_TOPIC = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}

WAF_ENABLED_PARAMETER = "DeviceWafEnabled"
WAF_LIMIT_PARAMETER = "DeviceWafRateLimit"
WAF_MIN_LIMIT = 10  # AWS WAF's minimum for a rate-based rule
# design.md's device routes and the Data Product Portal dialect's, the ones the template does
# not route yet included: the rule must cover them when they arrive. The last one stands for
# the glob /api/v2/authn/device*: a sibling of the dialect's path, not a sub-path.
WAF_DEVICE_PATHS = {
    "/device", "/device/code", "/device/token", "/device/revoke", "/device/callback",
    "/api/v2/authn/device", "/api/v2/authn/device/device_token", "/api/v2/authn/device/jwt_token",
    "/api/v2/authn/device_token",
}


# --------------------------------------------------------------------------- helpers


def plain(value: Any) -> Any:
    """cfn-lint's decoded nodes as plain dicts, lists and strings (for == and json)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def alternatives(value: Any) -> list[Any]:
    """Both branches of every Fn::If: the values a property can take."""
    if isinstance(value, dict) and set(value) == {"Fn::If"} and len(value["Fn::If"]) == 3:
        _, a, b = value["Fn::If"]
        return alternatives(a) + alternatives(b)
    return [value]


def strings_in(value: Any) -> list[str]:
    """Every literal string inside a value, intrinsic arguments included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    return []


def getatt(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            target = target.split(".", 1)
        if isinstance(target, list) and len(target) == 2:
            return str(target[0]), str(target[1])
    return None


def ref(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return str(value["Ref"])
    return None


def sub_string(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        arg = value["Fn::Sub"]
        s = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg else None)
        return str(s) if isinstance(s, str) else None
    return None


def resources(template: dict, *types: str) -> dict[str, dict]:
    return {
        str(k): v
        for k, v in (template.get("Resources") or {}).items()
        if isinstance(v, dict) and v.get("Type") in types
    }


def props(resource: dict) -> dict:
    p = resource.get("Properties")
    return p if isinstance(p, dict) else {}


def function_names(template: dict) -> dict[str, str]:
    """Binary -> logical id of the function whose FunctionName is ${AWS::StackName}-<binary>."""
    out = {}
    for lid, res in resources(template, *FUNCTION_TYPES).items():
        m = re.fullmatch(r"\$\{AWS::StackName\}-([a-z0-9-]+)", sub_string(props(res).get("FunctionName")) or "")
        if m:
            out[m.group(1)] = lid
    return out


def role_of(template: dict, function_lid: str) -> str | None:
    """The logical id of the AWS::IAM::Role whose Arn the function's Role is."""
    target = getatt(props(template["Resources"][function_lid]).get("Role"))
    if not target or target[1] != "Arn":
        return None
    role = template["Resources"].get(target[0])
    return target[0] if isinstance(role, dict) and role.get("Type") == "AWS::IAM::Role" else None


def role_statements(role: dict) -> Iterator[tuple[list, dict]]:
    """(path, statement) of every statement of a role's inline policies."""
    for i, policy in enumerate(as_list(props(role).get("Policies") or [])):
        doc = policy.get("PolicyDocument") if isinstance(policy, dict) else None
        for j, st in enumerate(as_list((doc or {}).get("Statement") or [])):
            if isinstance(st, dict):
                yield ["Properties", "Policies", i, "PolicyDocument", "Statement", j], st


def integration_function(uri: Any) -> str | None:
    """The binary an OpenAPI Lambda integration (or authorizer) URI invokes."""
    s = sub_string(uri) or (uri if isinstance(uri, str) else None)
    m = re.search(r":function:\$\{AWS::StackName\}-([a-z0-9-]+)/invocations$", s or "")
    return m.group(1) if m else None


def openapi(template: dict) -> tuple[str, dict] | None:
    """(logical id, OpenAPI body) of the template's one API, None if there is not exactly one."""
    apis = resources(template, *API_TYPES)
    if len(apis) != 1:
        return None
    ((lid, api),) = apis.items()
    body = props(api).get("DefinitionBody", props(api).get("Body"))
    return (lid, body) if isinstance(body, dict) else None


def routes(body: dict) -> dict[tuple[str, str], dict]:
    return {
        (str(method).upper(), str(path)): op
        for path, item in (body.get("paths") or {}).items()
        if isinstance(item, dict)
        for method, op in item.items()
        if str(method).lower() in HTTP_METHODS and isinstance(op, dict)
    }


def security_schemes(body: dict) -> dict[str, dict]:
    return (body.get("components") or {}).get("securitySchemes") or body.get("securityDefinitions") or {}


def parameter_default(template: dict, value: Any) -> Any:
    name = ref(value)
    return (template.get("Parameters") or {}).get(name, {}).get("Default") if name else value
