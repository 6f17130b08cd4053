"""What these rules know about portal-auth, and small helpers over a decoded template.

Not a rule module (cfn-lint loads only files that start with a letter or digit): the rule
modules beside it import it. The facts below are design.md's (endpoints, environment) and
the operator's guide's (outputs, alarms); the IAM actions each function needs are not here:
each function crate declares them (`IAM_ACTIONS`) and tests/tests/deploy_config.rs compares
those declarations with the roles in template.yaml.
"""

from __future__ import annotations

import json
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

# design.md's endpoint table: these and only these of portal-auth's own routes are public, the
# RFC 8628 dialect's (with RFC 7009's /device/revoke, issue 13) and the Data Product Portal
# dialect's (issue 11; always routed: the functions answer 404 while PortalClientCompatibility
# is false).
PUBLIC_ROUTES = {
    ("POST", "/device/code"): "device-code",
    ("GET", "/.well-known/oauth-authorization-server"): "device-code",
    ("POST", "/device/token"): "device-token",
    ("POST", "/device/revoke"): "device-token",
    ("GET", "/device"): "device-verify",
    ("POST", "/device"): "device-verify",
    ("GET", "/device/callback"): "device-callback",
    ("POST", "/api/v2/authn/device/device_token"): "device-code",
    ("POST", "/api/v2/authn/device/jwt_token"): "device-token",
    ("GET", "/api/v2/authn/device"): "device-verify",
}

# The front door (issue 11, item 3): with PortalBackendUrl set, the REST API proxies the Data
# Product Portal's API to it, behind the authorizer, except the routes that must stay public.
PORTAL_BACKEND_PARAMETER = "PortalBackendUrl"
PORTAL_API_KEYS_PARAMETER = "PortalApiKeyClients"
PORTAL_COMPAT_PARAMETER = "PortalClientCompatibility"
PROXY_ROUTE = ("X-AMAZON-APIGATEWAY-ANY-METHOD", "/api/{proxy+}")
PROXY_URI = "${PortalBackendUrl}/api/{proxy}"
# CORS preflights carry no credentials: the proxy's OPTIONS goes to the backend unauthorized.
PROXY_PREFLIGHT = ("OPTIONS", "/api/{proxy+}")
# The portal's own public routes (its backend/app/main.py), proxied to the same path without
# the authorizer.
PORTAL_PUBLIC_ROUTES = {
    ("GET", "/api/v2/version"),
    ("GET", "/api/docs"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/oauth2-redirect"),
}
# The rest of the portal backend's own device flow: 404 at the gateway (a mock), any method.
PORTAL_RETIRED_PATHS = {"/api/v2/authn/device/allow", "/api/v2/authn/device/deny", "/api/v2/authn/device/callback"}
# What each front-door value must look like (PortalBackendUrl's AllowedPattern is run on them).
BACKEND_URLS_ACCEPTED = ["", "https://portal.example.com", "https://portal.example.com:8443", "https://portal.example.com/base/path"]
BACKEND_URLS_REFUSED = [
    "http://portal.example.com", "https://portal.example.com/", "portal.example.com", "https://",
    "https://portal.example.com/api?x=1", "https://portal.example.com#f", "https://portal example.com",
    "ftp://portal.example.com",
]
# The parameter values E9201 and E9203 judge the template under: the front door off, and on with
# each API-key policy. Parameters a template does not declare are left out.
FRONT_DOOR_SCENARIOS = [
    ("PortalBackendUrl empty", {PORTAL_BACKEND_PARAMETER: ""}),
    ("PortalBackendUrl set, PortalApiKeyClients=forward", {PORTAL_BACKEND_PARAMETER: "https://portal.example.com", PORTAL_API_KEYS_PARAMETER: "forward"}),
    ("PortalBackendUrl set, PortalApiKeyClients=refuse", {PORTAL_BACKEND_PARAMETER: "https://portal.example.com", PORTAL_API_KEYS_PARAMETER: "refuse"}),
]
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
# Issue 13: the authorizer's one DynamoDB action, the read of the revocation hour buckets
# (pk = revoked#<hour>), allowed on the grants table only under this condition: every partition
# key of the request matches revoked#*, so it can read revocation records and never a grant.
# No other function may batch (device functions: item actions by key, one item at a time).
REVOCATION_READ_ACTION = "dynamodb:BatchGetItem"
REVOCATION_KEY_OPERATOR = "ForAllValues:StringLike"
REVOCATION_KEY_CONDITION_KEY = "dynamodb:LeadingKeys"
REVOCATION_KEY_PATTERNS = ["revoked#*"]
REVOCATION_CONDITION = {REVOCATION_KEY_OPERATOR: {REVOCATION_KEY_CONDITION_KEY: REVOCATION_KEY_PATTERNS}}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}

DEVICE_ENV = {"TABLE_NAME", "PUBLIC_BASE_URL", "COGNITO_USER_POOL_ID", "COGNITO_DOMAIN", "DEVICE_CLIENT_IDS"}
# PORTAL_COMPAT_ENABLED (the portal dialect's switch) is read by the shared device config;
# the three functions that serve the dialect's routes must be told it, device-callback may be.
REQUIRED_ENV = {
    "device-code": DEVICE_ENV | {"DEVICE_CODE_TTL_SECONDS", "DEVICE_POLL_INTERVAL_SECONDS", "PORTAL_COMPAT_ENABLED"},
    "device-token": DEVICE_ENV | {"PORTAL_COMPAT_ENABLED"},
    "device-verify": DEVICE_ENV | {"PORTAL_COMPAT_ENABLED"},
    "device-callback": DEVICE_ENV,
    "authorizer": {"COGNITO_USER_POOL_ID", "AUTHORIZER_CLIENT_IDS", "AUTHORIZER_REVOCATION_TABLE"},
}
ALLOWED_ENV = {
    **{f: REQUIRED_ENV[f] | {"COGNITO_REGION", "PORTAL_COMPAT_ENABLED"} for f in DEVICE_FUNCTIONS},
    "authorizer": REQUIRED_ENV["authorizer"]
    | {"COGNITO_REGION", "COGNITO_ISSUER", "COGNITO_JWKS_URL", "AUTHORIZER_REQUIRED_SCOPES", "AUTHORIZER_REQUIRED_GROUPS",
       "AUTHORIZER_FORWARD_API_KEYS", "AUTHORIZER_REVOCATION_REFRESH_SECONDS", "AUTHORIZER_RULES"},
}

# Issue 14: the authorizer's per-route rules arrive as one String parameter, whose MaxLength must
# keep the authorizer's whole environment under Lambda's limit. Lambda measures an environment
# as the JSON object {"KEY":"value",...} (its error quotes the "String measured") and refuses
# more than 4 KB. RESERVE is kept free beyond the template's own variables: for the optional
# COGNITO_ISSUER (both issuer formats), COGNITO_JWKS_URL and COGNITO_REGION an operator may
# add (about 425 bytes together) and for JSON escapes (a newline between rules counts 2 bytes).
RULES_PARAMETER = "AuthorizerRules"
RULES_VARIABLE = "AUTHORIZER_RULES"
LAMBDA_ENVIRONMENT_LIMIT = 4096
AUTHORIZER_ENVIRONMENT_RESERVE = 512
# The new pool's issuer format (AWS::Cognito::UserPool IssuerConfiguration.Type). ORIGINAL is
# the default: a stack update must not change the iss under a portal that checks it.
ISSUER_TYPE_PARAMETER = "UserPoolIssuerType"
ISSUER_TYPES = ["ORIGINAL", "UPDATED"]
ISSUER_TYPE_DEFAULT = "ORIGINAL"
# The longest value a Ref to these resources yields (the services' own limits: Cognito's
# UserPoolIdType and ClientIdType, DynamoDB's table names), and the pseudo parameters'.
REF_MAX_LENGTH = {"AWS::Cognito::UserPool": 55, "AWS::Cognito::UserPoolClient": 128, "AWS::DynamoDB::Table": 255}
PSEUDO_MAX_LENGTH = {
    "AWS::Region": 25, "AWS::URLSuffix": 20, "AWS::Partition": 16, "AWS::AccountId": 12,
    "AWS::StackName": 128,
}

REQUIRED_OUTPUTS = {
    "ApiBaseUrl", "VerificationUrl", "MetadataUrl", "DeviceAuthorizationEndpoint", "TokenEndpoint",
    "RevocationEndpoint",
    "DeviceCallbackUrl", "TableName", "UserPoolId", "CognitoDomainUrl", "DeviceClientIds",
    "AuthorizerClientIds", "PortalCliClientId", "PortalWebClientId", "AuthorizerFunctionArn",
}
OPTIONAL_ALARM_TOPIC = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}

# Issue 12, item 5: the functions' embedded-metric-format metrics (functions/runtime/src/metrics.rs,
# `Metric`), which the dashboard must show summed over every client id, and the two whose surge
# is a device-code phishing campaign's signature, each with its alarm (docs/operations.md,
# "Metrics").
METRICS_NAMESPACE = "PortalAuth"
DEVICE_METRICS = [
    "DeviceAuthorizations", "Approvals", "RemoteApprovals", "Denials", "TokensIssued", "ExpiredPolls",
    "RateLimited", "CodeEntryBlocked", "CognitoExchangeFailures", "Refreshes", "Revocations",
]
AUTHORIZER_METRICS = [
    "Allowed", "Unauthorized", "Forbidden", "TokenCacheHits", "JwksFetches", "JwksFetchErrors",
    "RevocationRefreshes", "RevocationRefreshErrors",
]
SURGE_ALARM_METRICS = ["RemoteApprovals", "Denials"]
# A Metrics Insights alarm evaluates at most the latest 3 hours of data.
METRICS_INSIGHTS_ALARM_WINDOW_SECONDS = 3 * 3600

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


def table_arn_problems(template: dict, binary: str, action: str, statement: dict) -> list[str]:
    """Why `statement`'s Resource is not exactly the one DynamoDB table's Arn (empty: it is)."""
    tables = resources(template, "AWS::DynamoDB::Table")
    table = next(iter(tables)) if len(tables) == 1 else None
    out = []
    for r in as_list(statement.get("Resource")):
        if table is None or getatt(r) != (table, "Arn"):
            out.append(f"{binary}: {action} on {json.dumps(plain(r))}, not only the grants table")
    return out


def revocation_condition_problem(statement: dict) -> str | None:
    """Why `statement`'s Condition does not restrict every partition key of the request to the
    revocation buckets (None: it does). REVOCATION_CONDITION must be there as written; other
    operators may stand beside it, since IAM requires every operator of a Condition to hold
    (they can only narrow it). ForAnyValue, a single-valued operator, an IfExists variant, more
    patterns or another prefix would let a request name a grant's key."""
    cond = plain(statement.get("Condition"))
    if not cond:
        return "without a Condition"
    keys = cond.get(REVOCATION_KEY_OPERATOR) if isinstance(cond, dict) else None
    value = keys.get(REVOCATION_KEY_CONDITION_KEY) if isinstance(keys, dict) else None
    if value is None or as_list(value) != REVOCATION_KEY_PATTERNS:
        return f"under Condition {json.dumps(cond)}"
    return None


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


NO_VALUE = {"Ref": "AWS::NoValue"}


def routes(body: dict) -> dict[tuple[str, str], dict]:
    """(METHOD, path) -> operation. A path item or operation under Fn::If counts with both of
    its branches (AWS::NoValue is no route): the routes some parameter values create. Rules
    that judge one set of parameter values resolve the body first (`resolve`)."""
    out = {}
    for path, item in (body.get("paths") or {}).items():
        for alt in alternatives(item):
            if not isinstance(alt, dict) or alt == NO_VALUE:
                continue
            for method, op in alt.items():
                if str(method).lower() not in HTTP_METHODS:
                    continue
                for op_alt in alternatives(op):
                    if isinstance(op_alt, dict) and op_alt != NO_VALUE:
                        out.setdefault((str(method).upper(), str(path)), op_alt)
    return out


def route_name(method: str, path: str) -> str:
    """`GET /me`, `ANY /api/{proxy+}` (x-amazon-apigateway-any-method), for messages."""
    return f"{'ANY' if method == 'X-AMAZON-APIGATEWAY-ANY-METHOD' else method} {path}"


def security_schemes(body: dict) -> dict[str, dict]:
    """Scheme name -> scheme; a scheme under Fn::If with its first real branch."""
    schemes = (body.get("components") or {}).get("securitySchemes") or body.get("securityDefinitions") or {}
    out = {}
    for name, scheme in schemes.items() if isinstance(schemes, dict) else []:
        real = [a for a in alternatives(scheme) if isinstance(a, dict) and a != NO_VALUE]
        if real:
            out[str(name)] = real[0]
    return out


# --------------------------------------------------------------------------- parameter values


class Unresolvable(Exception):
    """A condition or Fn::If these helpers do not evaluate (so a rule cannot vouch for it)."""


def parameter_values(template: dict, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Every declared parameter's default as CloudFormation passes it (a string), with
    `overrides` for the parameters the template declares."""
    declared = template.get("Parameters") or {}
    out = {}
    for name, param in declared.items():
        v = param.get("Default", "") if isinstance(param, dict) else ""
        if isinstance(v, list):
            v = ",".join(map(str, v))
        out[str(name)] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    out.update({k: v for k, v in (overrides or {}).items() if k in declared})
    return out


def _operand(template: dict, value: Any, params: dict[str, str], seen: tuple[str, ...]) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return str(value)
    name = ref(value)
    if name is not None:
        if name not in params:
            raise Unresolvable(f"Ref {name} is not a parameter")
        return params[name]
    return condition_expr(template, value, params, seen)


def condition_expr(template: dict, expr: Any, params: dict[str, str], seen: tuple[str, ...] = ()) -> bool:
    """A condition expression's value under these parameter values."""
    if not isinstance(expr, dict) or len(expr) != 1:
        raise Unresolvable(f"not a condition: {expr!r}")
    ((fn, args),) = expr.items()
    if fn == "Condition":
        return condition(template, str(args), params, seen)
    if fn == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
        a, b = (_operand(template, x, params, seen) for x in args)
        return a == b
    if fn == "Fn::Not" and isinstance(args, list) and len(args) == 1:
        return not condition_expr(template, args[0], params, seen)
    if fn == "Fn::And" and isinstance(args, list):
        return all(condition_expr(template, x, params, seen) for x in args)
    if fn == "Fn::Or" and isinstance(args, list):
        return any(condition_expr(template, x, params, seen) for x in args)
    raise Unresolvable(f"{fn} is not evaluated")


def condition(template: dict, name: str, params: dict[str, str], seen: tuple[str, ...] = ()) -> bool:
    """The named condition's value under these parameter values."""
    conditions = template.get("Conditions") or {}
    if name not in conditions or name in seen:
        raise Unresolvable(f"condition {name} is {'circular' if name in seen else 'not defined'}")
    return condition_expr(template, conditions[name], params, seen + (name,))


def resolve(value: Any, template: dict, params: dict[str, str]) -> Any:
    """`value` with every Fn::If replaced by the branch these parameter values choose, and every
    member or item that is then AWS::NoValue removed (as CloudFormation does)."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            args = value["Fn::If"]
            if not (isinstance(args, list) and len(args) == 3 and isinstance(args[0], str)):
                raise Unresolvable(f"malformed Fn::If {args!r}")
            return resolve(args[1] if condition(template, args[0], params) else args[2], template, params)
        out = {}
        for k, v in value.items():
            r = resolve(v, template, params)
            if r != NO_VALUE:
                out[str(k)] = r
        return out
    if isinstance(value, list):
        return [r for r in (resolve(v, template, params) for v in value) if r != NO_VALUE]
    return value


def front_door_scenarios(template: dict) -> list[tuple[str, dict[str, str]]]:
    """(label, parameter values) for each of FRONT_DOOR_SCENARIOS the template's parameters
    allow; a template without PortalBackendUrl has one: its defaults."""
    declared = template.get("Parameters") or {}
    if PORTAL_BACKEND_PARAMETER not in declared:
        return [("defaults", parameter_values(template))]
    out, seen = [], set()
    for label, overrides in FRONT_DOOR_SCENARIOS:
        if PORTAL_API_KEYS_PARAMETER not in declared:
            label = label.split(",")[0]
        params = parameter_values(template, overrides)
        key = tuple(sorted((k, params.get(k)) for k in overrides))
        if key in seen:
            continue
        seen.add(key)
        out.append((label, params))
    return out


def merge_by_scenario(found: dict[str, list[str]], labels: list[str]) -> list[str]:
    """Messages found under some scenarios: once each, naming the scenarios unless it is all."""
    return [msg if len(where) == len(labels) else f"{msg} (with {'; '.join(where)})" for msg, where in found.items()]


def parameter_default(template: dict, value: Any) -> Any:
    name = ref(value)
    return (template.get("Parameters") or {}).get(name, {}).get("Default") if name else value


# --------------------------------------------------------------------------- value lengths


def max_length(template: dict, value: Any) -> tuple[int | None, str]:
    """(the most bytes `value` can take once CloudFormation has resolved it, measured as Lambda
    measures an environment value: JSON-escaped UTF-8; None and why when it has no bound). A
    Ref to a parameter counts its MaxLength, the longest of its AllowedValues, or for a Number
    its MinValue/MaxValue; a Ref to a resource REF_MAX_LENGTH; Fn::If its longest branch."""
    params = template.get("Parameters") or {}
    res = template.get("Resources") or {}

    def named(name: str) -> tuple[int | None, str]:
        if name in PSEUDO_MAX_LENGTH:
            return PSEUDO_MAX_LENGTH[name], ""
        param = params.get(name)
        if isinstance(param, dict):
            if isinstance(param.get("MaxLength"), (int, str)) and str(param["MaxLength"]).isdigit():
                return int(param["MaxLength"]), ""
            if isinstance(param.get("AllowedValues"), list) and param["AllowedValues"]:
                return max(len(str(v)) for v in param["AllowedValues"]), ""
            bounds = [param.get("MinValue"), param.get("MaxValue")]
            if param.get("Type") == "Number" and all(isinstance(b, (int, float, str)) for b in bounds):
                return max(len(str(b)) for b in bounds), ""
            return None, f"parameter {name} has no MaxLength"
        resource = res.get(name)
        if isinstance(resource, dict) and resource.get("Type") in REF_MAX_LENGTH:
            return REF_MAX_LENGTH[resource["Type"]], ""
        return None, f"no known bound for Ref {name}"

    def total(parts: list[tuple[int | None, str]], extra: int = 0) -> tuple[int | None, str]:
        for n, why in parts:
            if n is None:
                return None, why
        return sum(n for n, _ in parts) + extra, ""

    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return len(json.dumps(str(value), ensure_ascii=False).encode()) - 2, ""
    name = ref(value)
    if name is not None:
        return named(name)
    if isinstance(value, dict) and set(value) == {"Fn::If"} and isinstance(value["Fn::If"], list) and len(value["Fn::If"]) == 3:
        branches = [max_length(template, b) for b in value["Fn::If"][1:]]
        missing = [why for n, why in branches if n is None]
        return (None, missing[0]) if missing else (max(n for n, _ in branches), "")
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        args = value["Fn::Join"]
        if isinstance(args, list) and len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], list):
            parts = [max_length(template, v) for v in args[1]]
            return total(parts, len(args[0]) * max(len(args[1]) - 1, 0))
        return None, f"Fn::Join of {json.dumps(plain(args))}"
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        arg = value["Fn::Sub"]
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (None, None)
        if not isinstance(text, str) or not isinstance(local, dict):
            return None, f"Fn::Sub of {json.dumps(plain(arg))}"
        parts = []
        for i, piece in enumerate(re.split(r"\$\{([^}]*)\}", text)):
            if i % 2 == 0:
                parts.append(max_length(template, piece))
            elif piece.startswith("!"):
                parts.append((len(piece) + 2, ""))
            elif piece in local:
                parts.append(max_length(template, local[piece]))
            else:
                parts.append(named(piece))
        return total(parts)
    return None, f"no known bound for {json.dumps(plain(value))}"


def environment_size(template: dict, variables: dict) -> tuple[int | None, str]:
    """The most bytes a function environment can take as Lambda measures it,
    {"KEY":"value",...}: None and why when a value has no bound."""
    size = 2 + max(len(variables) - 1, 0)  # braces, commas
    for name, value in variables.items():
        n, why = max_length(template, value)
        if n is None:
            return None, f"{name}: {why}"
        size += len(str(name)) + 5 + n  # "NAME":"value"
    return size, ""
