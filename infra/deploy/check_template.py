"""Offline checks of template.yaml, run by infra/deploy/check.sh (and so by `make test`).

What is checked, and why each layer exists:

1. `sam validate --lint` and `cfn-lint` on template.yaml: schema, intrinsics, references.
2. The template translated from SAM to plain CloudFormation (aws-sam-translator, in-process,
   offline) and `cfn-lint` on that. cfn-lint validates SAM resources against their SAM schema
   only: the resources SAM generates (the functions, the RestApi with its OpenAPI body) are not
   linted, so a dependency cycle through the API, or a bad runtime in Globals, passes 1. and
   fails only here (the mutation tests below prove it).
3. Deliberately broken copies of the template, each of which must fail the linters named for
   it: a check that cannot fail proves nothing.
4. The security properties of issue 5, asserted on the translated template (what CloudFormation
   deploys): no wildcard IAM, least-privilege DynamoDB per function, the authorizer without
   DynamoDB, the table's TTL / PITR / SSE, every non-public route behind the authorizer, every
   function on provided.al2023 / arm64, every integration naming a function that exists and
   may be invoked. Each property is also broken on purpose, and the check must notice.
5. The optional AWS WAF web ACL of issue 9, the same way: with the default parameters a
   regional web ACL associated with the API stage, whose rate-based rule counts per client IP
   and blocks with 429 on every device route (its scope-down statement is evaluated on the
   URI paths AWS WAF sees, stage prefix or not); with DeviceWafEnabled=false no web ACL and no
   association, CloudFormation's conditions evaluated, and nothing created left referring to
   them. Broken on purpose too (rule, association, key, action, paths, condition).

Nothing here touches the network: check.sh runs it without one where the kernel allows, and
with fake credentials and a dead proxy in any case. Prints `template: N passed, M failed` and
exits non-zero when anything failed.
"""

from __future__ import annotations

import concurrent.futures
import copy
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
# An argument checks another copy (how the checks themselves are tested to fail).
TEMPLATE = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "template.yaml"
VENV_BIN = ROOT / ".venv" / "bin"
SAM = VENV_BIN / "sam"
CFN_LINT = VENV_BIN / "cfn-lint"

# function (= binary = package) -> logical id in template.yaml
FUNCTIONS = {
    "device-code": "DeviceCodeFunction",
    "device-token": "DeviceTokenFunction",
    "device-verify": "DeviceVerifyFunction",
    "device-callback": "DeviceCallbackFunction",
    "authorizer": "AuthorizerFunction",
}
DEVICE_FUNCTIONS = [f for f in FUNCTIONS if f.startswith("device-")]

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

# The DynamoDB actions each function's code performs, by key, never Scan or Query
# (check_iam_matches_code re-derives them from the Rust sources). TransactWriteItems is not an
# IAM action: a transaction is authorised by the item actions inside it.
EXPECTED_DYNAMODB = {
    "device-code": {"dynamodb:PutItem"},  # create: TransactWriteItems(Put grant, Put user code)
    "device-token": {"dynamodb:UpdateItem"},  # poll, slow_down, transition
    # user_code_entry: GetItem; reserve/refund_attempt: UpdateItem; decide: TransactWriteItems(Update, Update, Delete)
    "device-verify": {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
    "device-callback": {"dynamodb:UpdateItem", "dynamodb:DeleteItem"},  # finish_sign_in
    "authorizer": set(),
}
# The functions that call DescribeUserPoolClient (through AppClients).
COGNITO_FUNCTIONS = {"device-code", "device-token", "device-verify"}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
COGNITO_ACTIONS = {"cognito-idp:DescribeUserPoolClient"}

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

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "x-amazon-apigateway-any-method"}

# --------------------------------------------------------------------------- results


@dataclass
class Results:
    passed: int = 0
    failed: list[str] = field(default_factory=list)

    def record(self, name: str, ok: bool, detail: str = "") -> None:
        if ok:
            self.passed += 1
            detail = detail if len(detail) <= 160 else detail[:157] + "..."
            print(f"ok    {name}" + (f"  ({detail})" if detail else ""), flush=True)
        else:
            self.failed.append(name)
            print(f"FAIL  {name}", flush=True)
            for line in detail.strip().splitlines()[:40]:
                print(f"        {line}", flush=True)


# --------------------------------------------------------------------------- translation


def load_sam(text: str) -> dict:
    # samcli's loader turns the short-form tags (!Sub, !GetAtt, ...) into Fn:: dictionaries.
    from samcli.yamlhelper import yaml_parse

    return yaml_parse(text)


class _NoManagedPolicies:
    """The translator asks for the account's managed policies only when a template names one;
    this template must not (it would need the IAM API, and the policies allow wildcards)."""

    def load(self) -> dict:
        raise RuntimeError("the template names an AWS managed policy; use the per-function roles")


def translate(sam: dict) -> dict:
    """SAM -> plain CloudFormation, as CloudFormation's transform would, without AWS."""
    from samtranslator.translator.transform import transform

    sam = copy.deepcopy(sam)
    for resource in sam.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        # Local code paths are what `sam build`/`sam package` replace with S3 locations; the
        # translator accepts only the latter.
        if resource.get("Type") == "AWS::Serverless::Function":
            uri = props.get("CodeUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                props["CodeUri"] = "s3://offline-placeholder/" + uri
    return transform(sam, {}, _NoManagedPolicies())


# --------------------------------------------------------------------------- linters


def run(cmd: list[str], cwd: Path) -> tuple[int, str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def sam_validate(path: Path) -> tuple[int, str]:
    return run([str(SAM), "validate", "--lint", "--template-file", str(path)], cwd=path.parent)


def cfn_lint(path: Path) -> tuple[int, str]:
    return run([str(CFN_LINT), str(path)], cwd=path.parent)


def cfn_lint_many(paths: list[Path]) -> dict[Path, list[str]]:
    """One cfn-lint process for many templates; the matches of each (warnings included)."""
    if not paths:
        return {}
    rc, out = run([str(CFN_LINT), "--format", "json", *map(str, paths)], cwd=paths[0].parent)
    try:
        matches = json.loads(out[out.index("[") :]) if "[" in out else []
    except ValueError as exc:
        raise RuntimeError(f"cfn-lint exited {rc} with unparsable output:\n{out[:2000]}") from exc
    by_file: dict[Path, list[str]] = {p: [] for p in paths}
    for m in matches:
        by_file.setdefault(Path(m["Filename"]), []).append(f'{m["Rule"]["Id"]} {m["Message"]}')
    for found in by_file.values():  # errors first: they are what a report should name
        found.sort(key=lambda s: not s.startswith("E"))
    if rc != 0 and not matches:
        raise RuntimeError(f"cfn-lint exited {rc} without matches:\n{out[:2000]}")
    return by_file


# --------------------------------------------------------------------------- template helpers


def alternatives(value: Any) -> list[Any]:
    """Both branches of every Fn::If: the values a property can take."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
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
        return [s for k, v in value.items() for s in strings_in(v)]
    return []


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def getatt(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            target = target.split(".", 1)
        return target[0], target[1]
    return None


def ref(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]
    return None


def sub_string(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        arg = value["Fn::Sub"]
        return arg if isinstance(arg, str) else arg[0]
    return None


def resources(cfn: dict, rtype: str) -> dict[str, dict]:
    return {k: v for k, v in cfn["Resources"].items() if v.get("Type") == rtype}


def function_names(cfn: dict) -> dict[str, str]:
    """Binary name -> logical id of the AWS::Lambda::Function whose FunctionName is
    ${AWS::StackName}-<binary>."""
    out = {}
    for lid, res in resources(cfn, "AWS::Lambda::Function").items():
        name = sub_string(res["Properties"].get("FunctionName"))
        m = re.fullmatch(r"\$\{AWS::StackName\}-([a-z0-9-]+)", name or "")
        if m:
            out[m.group(1)] = lid
    return out


def role_of(cfn: dict, function_lid: str) -> tuple[str, dict] | None:
    target = getatt(cfn["Resources"][function_lid]["Properties"].get("Role"))
    if not target or target[1] != "Arn":
        return None
    role = cfn["Resources"].get(target[0])
    return (target[0], role) if role and role.get("Type") == "AWS::IAM::Role" else None


def statements(policy_document: Any) -> list[dict]:
    return [s for s in as_list((policy_document or {}).get("Statement", [])) if isinstance(s, dict)]


def role_statements(role: dict) -> list[dict]:
    return [s for p in role["Properties"].get("Policies", []) for s in statements(p.get("PolicyDocument"))]


def integration_function(uri: Any) -> str | None:
    """The binary an OpenAPI Lambda integration (or authorizer) URI invokes."""
    s = sub_string(uri) or (uri if isinstance(uri, str) else None)
    m = re.search(r":function:\$\{AWS::StackName\}-([a-z0-9-]+)/invocations$", s or "")
    return m.group(1) if m else None


def openapi(cfn: dict) -> dict:
    apis = resources(cfn, "AWS::ApiGateway::RestApi")
    if len(apis) != 1:
        raise AssertionError(f"expected one REST API, found {sorted(apis)}")
    (lid, api), = apis.items()
    body = api["Properties"].get("Body")
    if not isinstance(body, dict):
        raise AssertionError(f"REST API {lid} has no inline OpenAPI body")
    return body


def routes(body: dict) -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path): op
        for path, item in body.get("paths", {}).items()
        for method, op in item.items()
        if method.lower() in HTTP_METHODS
    }


def security_schemes(body: dict) -> dict[str, dict]:
    return body.get("components", {}).get("securitySchemes", {}) or body.get("securityDefinitions", {})


def parameter_default(cfn: dict, value: Any) -> Any:
    name = ref(value)
    return cfn.get("Parameters", {}).get(name, {}).get("Default") if name else value


# --------------------------------------------------------------------------- security checks
# Each returns a list of violations (empty = holds). They run on the real template, and each
# mutation below must make the named check report a violation.


def check_no_wildcard_iam(cfn: dict) -> list[str]:
    """No '*' in any IAM action or resource, no NotAction/NotResource, no managed policies (AWS
    managed ones such as AWSLambdaBasicExecutionRole allow logs actions on '*').

    GetAtt <LogGroup>.Arn is written without a wildcard; its value ends in ':*', meaning the
    log streams of that one group, which is the narrowest resource logs:PutLogEvents takes."""
    out = []
    documents: list[tuple[str, Any]] = []
    for lid, res in cfn["Resources"].items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::IAM::Role":
            if props.get("ManagedPolicyArns"):
                out.append(f"{lid}: managed policies attached: {props['ManagedPolicyArns']}")
            documents += [(f"{lid}/{p.get('PolicyName')}", p.get("PolicyDocument")) for p in props.get("Policies", [])]
        elif res.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            documents.append((lid, props.get("PolicyDocument")))
        elif res.get("Type") == "AWS::Lambda::Permission":
            if "*" in strings_in(props.get("Action")) or props.get("Principal") in ("*", None):
                out.append(f"{lid}: Lambda permission with a wildcard action or principal")
            if not props.get("SourceArn"):
                out.append(f"{lid}: Lambda permission without SourceArn")
    for where, doc in documents:
        for st in statements(doc):
            for key in ("NotAction", "NotResource", "NotPrincipal"):
                if key in st:
                    out.append(f"{where}: {key} is not allowed")
            for action in strings_in(st.get("Action")):
                if "*" in action:
                    out.append(f"{where}: wildcard action {action!r}")
            for value in strings_in(st.get("Resource")):
                if "*" in value:
                    out.append(f"{where}: wildcard resource {value!r}")
    return out


def function_actions(cfn: dict, binary: str) -> tuple[dict[str, list[Any]], list[str]]:
    """action -> resources granted to the function's role, and any problems finding it."""
    fns = function_names(cfn)
    if binary not in fns:
        return {}, [f"no function named ${{AWS::StackName}}-{binary}"]
    found = role_of(cfn, fns[binary])
    if not found:
        return {}, [f"{fns[binary]}: Role is not GetAtt <an AWS::IAM::Role in this template>.Arn"]
    granted: dict[str, list[Any]] = {}
    for st in role_statements(found[1]):
        if st.get("Effect") != "Allow":
            continue
        for action in strings_in(st.get("Action")):
            granted.setdefault(action, []).extend(as_list(st.get("Resource")))
    return granted, []


def check_least_privilege(cfn: dict) -> list[str]:
    """Each function: exactly its DynamoDB actions on the grants table only, Cognito
    DescribeUserPoolClient on the one pool only (the functions that describe app clients), its
    own log group only, and nothing else. One role per function."""
    out = []
    tables = resources(cfn, "AWS::DynamoDB::Table")
    if len(tables) != 1:
        return [f"expected one DynamoDB table, found {sorted(tables)}"]
    (table,) = tables
    fns = function_names(cfn)
    roles_seen: dict[str, str] = {}
    for binary in FUNCTIONS:
        granted, problems = function_actions(cfn, binary)
        out += problems
        if problems:
            continue
        role_lid, _ = role_of(cfn, fns[binary])
        if role_lid in roles_seen:
            out.append(f"{binary} shares role {role_lid} with {roles_seen[role_lid]}")
        roles_seen[role_lid] = binary

        dynamo = {a for a in granted if a.lower().startswith("dynamodb:")}
        if dynamo != EXPECTED_DYNAMODB[binary]:
            out.append(
                f"{binary}: unexpected DynamoDB actions {sorted(dynamo)}, expected {sorted(EXPECTED_DYNAMODB[binary])}"
            )
        for action in dynamo:
            for res in granted[action]:
                if getatt(res) != (table, "Arn"):
                    out.append(f"{binary}: {action} on {json.dumps(res)}, not only the grants table")

        cognito = {a for a in granted if a.lower().startswith("cognito-idp:")}
        expected_cognito = COGNITO_ACTIONS if binary in COGNITO_FUNCTIONS else set()
        if cognito != expected_cognito:
            out.append(f"{binary}: unexpected Cognito actions {sorted(cognito)}, expected {sorted(expected_cognito)}")
        for action in cognito:
            for res in granted[action]:
                for alt in alternatives(res):
                    if getatt(alt) == ("UserPool", "Arn"):
                        continue
                    s = sub_string(alt) or ""
                    if not s.endswith(":userpool/${ExistingUserPoolId}"):
                        out.append(f"{binary}: {action} on {json.dumps(alt)}, not the one user pool")

        logs = {a for a in granted if a.lower().startswith("logs:")}
        if logs - LOG_ACTIONS:
            out.append(f"{binary}: unexpected logs actions {sorted(logs - LOG_ACTIONS)}")
        own_group = ref(cfn["Resources"][fns[binary]]["Properties"].get("LoggingConfig", {}).get("LogGroup"))
        for action in logs:
            for res in granted[action]:
                if getatt(res) != (own_group, "Arn"):
                    out.append(f"{binary}: {action} on {json.dumps(res)}, not its own log group {own_group}")

        other = set(granted) - dynamo - cognito - logs
        if other:
            out.append(f"{binary}: unexpected actions {sorted(other)}")
    return out


def check_authorizer_isolated(cfn: dict) -> list[str]:
    """The authorizer has no DynamoDB (or Cognito API) access and is not told the table."""
    out = []
    granted, problems = function_actions(cfn, "authorizer")
    out += problems
    for action in granted:
        if not action.lower().startswith("logs:"):
            out.append(f"authorizer: may {action} (only its own logs are allowed)")
    fns = function_names(cfn)
    if "authorizer" in fns:
        env = cfn["Resources"][fns["authorizer"]]["Properties"].get("Environment", {}).get("Variables", {})
        if "TABLE_NAME" in env:
            out.append("authorizer: has TABLE_NAME in its environment")
    return out


def check_table(cfn: dict) -> list[str]:
    """On-demand, key pk only, TTL on expires_at, point-in-time recovery, server-side encryption."""
    out = []
    tables = resources(cfn, "AWS::DynamoDB::Table")
    if len(tables) != 1:
        return [f"expected one DynamoDB table, found {sorted(tables)}"]
    (lid, table), = tables.items()
    p = table["Properties"]
    if p.get("BillingMode") != "PAY_PER_REQUEST":
        out.append(f"{lid}: BillingMode {p.get('BillingMode')!r}, expected PAY_PER_REQUEST")
    if p.get("KeySchema") != [{"AttributeName": "pk", "KeyType": "HASH"}]:
        out.append(f"{lid}: KeySchema {p.get('KeySchema')}, expected the single hash key pk")
    if {"AttributeName": "pk", "AttributeType": "S"} not in p.get("AttributeDefinitions", []):
        out.append(f"{lid}: pk is not a string attribute")
    ttl = p.get("TimeToLiveSpecification") or {}
    if ttl.get("AttributeName") != "expires_at" or ttl.get("Enabled") is not True:
        out.append(f"{lid}: TTL {ttl}, expected enabled on expires_at")
    pitr = p.get("PointInTimeRecoverySpecification") or {}
    if pitr.get("PointInTimeRecoveryEnabled") is not True:
        out.append(f"{lid}: point-in-time recovery is not enabled")
    sse = p.get("SSESpecification") or {}
    if sse.get("SSEEnabled") is not True:
        out.append(f"{lid}: SSESpecification.SSEEnabled is not true")
    if p.get("GlobalSecondaryIndexes") or p.get("LocalSecondaryIndexes"):
        out.append(f"{lid}: has secondary indexes (the design is key lookups only)")
    return out


def check_routes(cfn: dict) -> list[str]:
    """The public routes are exactly design.md's, each integrated with its function; every
    other route carries the Lambda authorizer, which is the authorizer function, reads the
    Authorization header and caches for a chosen TTL; the sample route exists."""
    out = []
    body = openapi(cfn)
    table = routes(body)
    schemes = security_schemes(body)

    authorizer_schemes = set()
    for name, scheme in schemes.items():
        auth = scheme.get("x-amazon-apigateway-authorizer")
        if not auth:
            continue
        if auth.get("type") not in ("token", "request"):
            out.append(f"scheme {name}: authorizer type {auth.get('type')!r} is not a Lambda TOKEN/REQUEST authorizer")
            continue
        if integration_function(auth.get("authorizerUri")) != "authorizer":
            out.append(f"scheme {name}: authorizerUri {json.dumps(auth.get('authorizerUri'))} is not the authorizer function")
            continue
        if "method.request.header.Authorization" not in str(auth.get("identitySource", "")):
            out.append(f"scheme {name}: identity source is not the Authorization header")
        ttl = parameter_default(cfn, auth.get("authorizerResultTtlInSeconds"))
        if not isinstance(ttl, int) or not 0 < ttl <= 3600:
            out.append(f"scheme {name}: authorizer cache TTL {ttl!r} is not a chosen value in 1..3600")
        authorizer_schemes.add(name)
    if not authorizer_schemes:
        out.append("no security scheme is the Lambda authorizer")

    top_security = body.get("security")
    for (method, path), op in sorted(table.items()):
        integration = op.get("x-amazon-apigateway-integration") or {}
        route = f"{method} {path}"
        if (method, path) in PUBLIC_ROUTES:
            want = PUBLIC_ROUTES[(method, path)]
            if integration.get("type") != "aws_proxy" or integration_function(integration.get("uri")) != want:
                out.append(f"{route}: not a Lambda proxy integration of {want}")
            continue
        if path.endswith("{proxy+}") or method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            out.append(f"{route}: greedy routes are not allowed (the public/protected split must be explicit)")
        security = op.get("security", top_security) or []
        names = {n for req in security for n in req}
        if not names or not names <= authorizer_schemes:
            out.append(f"{route}: not behind the Lambda authorizer (security: {security})")
    for route in PUBLIC_ROUTES:
        if route not in table:
            out.append(f"{route[0]} {route[1]}: public route from design.md is missing")
    if SAMPLE_PROTECTED_ROUTE not in table:
        out.append("the sample protected route GET /me is missing")
    return out


def check_integrations_resolve(cfn: dict) -> list[str]:
    """The OpenAPI body names functions by ${AWS::StackName}-<binary> (to break the dependency
    cycle); linters cannot see those names, so: each must be a function of this template, and
    API Gateway must hold an invoke permission scoped to exactly that method and path (and
    /authorizers/* for the authorizer)."""
    out = []
    body = openapi(cfn)
    fns = function_names(cfn)
    permissions = []
    for lid, res in resources(cfn, "AWS::Lambda::Permission").items():
        p = res["Properties"]
        src = sub_string(p.get("SourceArn")) or ""
        m = re.fullmatch(
            r"arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{Api\}/(.+)", src
        )
        if p.get("Principal") != "apigateway.amazonaws.com" or p.get("Action") != "lambda:InvokeFunction" or not m:
            out.append(f"{lid}: not an API Gateway invoke permission scoped to this API")
            continue
        permissions.append((ref(p.get("FunctionName")), m.group(1)))

    uses: list[tuple[str, str, str]] = []  # (binary, what, expected source suffix)
    for (method, path), op in routes(body).items():
        integration = op.get("x-amazon-apigateway-integration") or {}
        if integration.get("type") in ("aws_proxy", "aws"):
            binary = integration_function(integration.get("uri"))
            if binary is None:
                out.append(f"{method} {path}: integration URI {json.dumps(integration.get('uri'))} names no function")
                continue
            uses.append((binary, f"{method} {path}", f"${{StageName}}/{method}{path}"))
    for name, scheme in security_schemes(body).items():
        auth = scheme.get("x-amazon-apigateway-authorizer")
        if auth:
            binary = integration_function(auth.get("authorizerUri"))
            if binary is None:
                out.append(f"scheme {name}: authorizerUri names no function")
                continue
            uses.append((binary, f"authorizer {name}", "authorizers/*"))
    for binary, what, source in uses:
        if binary not in fns:
            out.append(f"{what}: invokes ${{AWS::StackName}}-{binary}, which is no function of this template")
            continue
        if (fns[binary], source) not in permissions:
            out.append(f"{what}: no invoke permission for {fns[binary]} scoped to {source}")
    return out


def check_functions(cfn: dict) -> list[str]:
    """All five functions: provided.al2023, arm64, bootstrap, built by cargo-lambda from their
    own binary, JSON logs into their own log group with a retention."""
    out = []
    fns = function_names(cfn)
    lambdas = resources(cfn, "AWS::Lambda::Function")
    if set(fns) != set(FUNCTIONS) or len(lambdas) != len(FUNCTIONS):
        out.append(f"functions {sorted(fns)} (of {len(lambdas)} Lambda functions), expected exactly {sorted(FUNCTIONS)}")
    for binary, lid in fns.items():
        res = cfn["Resources"][lid]
        p = res["Properties"]
        if p.get("Runtime") != "provided.al2023":
            out.append(f"{binary}: Runtime {p.get('Runtime')!r}, expected provided.al2023")
        if p.get("Architectures") != ["arm64"]:
            out.append(f"{binary}: Architectures {p.get('Architectures')!r}, expected ['arm64']")
        if p.get("Handler") != "bootstrap":
            out.append(f"{binary}: Handler {p.get('Handler')!r}, expected bootstrap")
        meta = res.get("Metadata") or {}
        if meta.get("BuildMethod") != "rust-cargolambda":
            out.append(f"{binary}: Metadata.BuildMethod {meta.get('BuildMethod')!r}, expected rust-cargolambda")
        if (meta.get("BuildProperties") or {}).get("Binary") != binary:
            out.append(f"{binary}: Metadata.BuildProperties.Binary is not {binary!r}")
        logging_config = p.get("LoggingConfig") or {}
        if logging_config.get("LogFormat") != "JSON":
            out.append(f"{binary}: LoggingConfig.LogFormat is not JSON")
        group = cfn["Resources"].get(ref(logging_config.get("LogGroup")) or "", {})
        if group.get("Type") != "AWS::Logs::LogGroup" or not group.get("Properties", {}).get("RetentionInDays"):
            out.append(f"{binary}: LoggingConfig.LogGroup is not a log group of this template with a retention")
        elif sub_string(group["Properties"].get("LogGroupName")) != f"/aws/lambda/${{AWS::StackName}}-{binary}":
            out.append(f"{binary}: log group name is not /aws/lambda/<function name>")
    return out


def check_environment(cfn: dict) -> list[str]:
    """Each function gets design.md's variables, nothing unknown, and no secret: app client
    secrets come from DescribeUserPoolClient at run time, never from the template."""
    out = []
    fns = function_names(cfn)
    for binary, lid in fns.items():
        env = (cfn["Resources"][lid]["Properties"].get("Environment") or {}).get("Variables") or {}
        missing = REQUIRED_ENV.get(binary, set()) - set(env)
        unknown = set(env) - ALLOWED_ENV.get(binary, set())
        if missing:
            out.append(f"{binary}: missing environment {sorted(missing)}")
        if unknown:
            out.append(f"{binary}: unexpected environment {sorted(unknown)}")
        for name in env:
            if re.search(r"SECRET|PASSWORD|PRIVATE|CREDENTIAL", name, re.I):
                out.append(f"{binary}: secret-looking variable {name}")
    for lid, res in resources(cfn, "AWS::Cognito::UserPoolClient").items():
        if res["Properties"].get("GenerateSecret"):
            out.append(f"{lid}: generates a client secret (the portal's clients are public, PKCE)")
    return out


def check_callback_matches_base_url(cfn: dict) -> list[str]:
    """The Portal CLI client's callback URL is the functions' PUBLIC_BASE_URL + /device/callback
    (design.md), so Cognito redirects where device-callback expects."""
    out = []
    fns = function_names(cfn)
    bases = [
        (cfn["Resources"][fns[b]]["Properties"].get("Environment") or {}).get("Variables", {}).get("PUBLIC_BASE_URL")
        for b in DEVICE_FUNCTIONS
        if b in fns
    ]
    if not bases or any(b != bases[0] for b in bases):
        return ["the device functions do not share one PUBLIC_BASE_URL"]
    clients = resources(cfn, "AWS::Cognito::UserPoolClient")
    cli = [c for c in clients.values() if c["Properties"].get("ClientName") == "Portal CLI"]
    if len(cli) != 1:
        return ["no single 'Portal CLI' app client"]
    callbacks = cli[0]["Properties"].get("CallbackURLs") or []
    want = {"Fn::Sub": ["${Base}/device/callback", {"Base": bases[0]}]}
    if callbacks != [want]:
        out.append(f"Portal CLI callback URLs {json.dumps(callbacks)} are not PUBLIC_BASE_URL + /device/callback")
    return out


# --------------------------------------------------------------------------- AWS WAF (issue 9)
# The optional web ACL: a per-IP rate-based rule on the device routes. The checks evaluate
# CloudFormation's conditions for a set of parameter values (what would be created), and the
# rule's scope-down statement on the URI paths AWS WAF would see, as a small interpreter of
# the statement types it understands (anything else is reported, not guessed).

WAF_ENABLED_PARAMETER = "DeviceWafEnabled"
WAF_LIMIT_PARAMETER = "DeviceWafRateLimit"
WAF_MIN_LIMIT = 10  # AWS WAF's minimum for a rate-based rule
# design.md's device routes and the Data Product Portal dialect's, the ones the template does
# not route yet included: the rule must cover them when they arrive. The last one stands for
# the issue's glob /api/v2/authn/device*: a sibling of the dialect's path, not a sub-path.
WAF_DEVICE_PATHS = {
    "/device", "/device/code", "/device/token", "/device/revoke", "/device/callback",
    "/api/v2/authn/device", "/api/v2/authn/device/device_token", "/api/v2/authn/device/jwt_token",
    "/api/v2/authn/device_token",
}


def _is_device_path(path: str) -> bool:
    return path == "/device" or path.startswith("/device/") or path.startswith("/api/v2/authn/device")


class Unevaluable(Exception):
    """A construct these checks do not evaluate (so they cannot vouch for it)."""


def parameter_values(cfn: dict, overrides: dict[str, str]) -> dict[str, str]:
    """Every parameter's value as CloudFormation compares it (a string): the override, else the default."""
    out = {}
    for name, p in cfn.get("Parameters", {}).items():
        v = overrides.get(name, p.get("Default", ""))
        out[name] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


def condition_value(cfn: dict, name: str, params: dict[str, str], seen: tuple = ()) -> bool:
    if name in seen:
        raise Unevaluable(f"condition {name} refers to itself")
    expr = cfn.get("Conditions", {}).get(name)
    if expr is None:
        raise Unevaluable(f"condition {name} is not defined")
    return _evaluate_condition(cfn, expr, params, seen + (name,))


def _evaluate_condition(cfn: dict, expr: Any, params: dict[str, str], seen: tuple) -> bool:
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, arg),) = expr.items()
        if fn == "Condition":
            return condition_value(cfn, arg, params, seen)
        if fn == "Fn::Not":
            return not _evaluate_condition(cfn, arg[0], params, seen)
        if fn == "Fn::And":
            return all(_evaluate_condition(cfn, a, params, seen) for a in arg)
        if fn == "Fn::Or":
            return any(_evaluate_condition(cfn, a, params, seen) for a in arg)
        if fn == "Fn::Equals":
            a, b = (_condition_operand(x, params) for x in arg)
            return a == b
    raise Unevaluable(f"cannot evaluate condition {json.dumps(expr)}")


def _condition_operand(value: Any, params: dict[str, str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    name = ref(value)
    if name in params:
        return params[name]
    raise Unevaluable(f"cannot evaluate {json.dumps(value)} in a condition")


def deployed(cfn: dict, overrides: dict[str, str]) -> tuple[set[str], set[str], dict[str, str]]:
    """The resources and outputs CloudFormation would create with these parameter values."""
    params = parameter_values(cfn, overrides)

    def created(item: dict) -> bool:
        return "Condition" not in item or condition_value(cfn, item["Condition"], params)

    res = {lid for lid, r in cfn["Resources"].items() if created(r)}
    outs = {name for name, o in cfn.get("Outputs", {}).items() if created(o)}
    return res, outs, params


def references(value: Any, cfn: dict, params: dict[str, str]) -> set[str]:
    """The names a value refers to (Ref, GetAtt, Sub), following only the branch each Fn::If takes."""
    if isinstance(value, list):
        return set().union(*(references(v, cfn, params) for v in value))
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Fn::If"}:
        cond, then, other = value["Fn::If"]
        return references(then if condition_value(cfn, cond, params) else other, cfn, params)
    if set(value) == {"Ref"}:
        return {value["Ref"]}
    if set(value) == {"Fn::GetAtt"}:
        return {getatt(value)[0]}
    if set(value) == {"Fn::Sub"}:
        arg = value["Fn::Sub"]
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        names = {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)} - set(variables)
        return names | references(variables, cfn, params)
    return set().union(*(references(v, cfn, params) for v in value.values()))


def dangling_references(cfn: dict, overrides: dict[str, str]) -> list[str]:
    """Created resources and outputs that refer to a resource these parameter values do not create
    (CloudFormation would refuse the stack)."""
    out = []
    created, outputs, params = deployed(cfn, overrides)
    known = created | set(cfn.get("Parameters", {}))
    where = " ".join(f"{k}={v}" for k, v in overrides.items()) or "the default parameters"
    items = [(f"resource {lid}", r.get("Properties"), as_list(r.get("DependsOn", []))) for lid, r in cfn["Resources"].items() if lid in created]
    items += [(f"output {name}", o.get("Value"), []) for name, o in cfn.get("Outputs", {}).items() if name in outputs]
    for what, value, depends in items:
        for name in sorted(references(value, cfn, params) | set(depends)):
            if name not in known and not name.startswith("AWS::"):
                out.append(f"with {where}: {what} refers to {name}, which is not created")
    return out


def _waf_string(value: Any, params: dict[str, str]) -> str:
    if isinstance(value, str):
        return value
    s = sub_string(value)
    if s is not None and isinstance(value["Fn::Sub"], str):
        def param(m: re.Match) -> str:
            if m.group(1) not in params:
                raise Unevaluable(f"cannot resolve ${{{m.group(1)}}} in {s!r}")
            return params[m.group(1)]

        return re.sub(r"\$\{([^!}][^}]*)\}", param, s)
    raise Unevaluable(f"cannot resolve {json.dumps(value)}")


def _normalize_path(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path)
    parts: list[str] = []
    for seg in path.split("/"):
        if seg == ".":
            continue
        if seg == ".." and len(parts) > 1:
            parts.pop()
            continue
        parts.append(seg)
    return "/".join(parts)


WAF_TRANSFORMATIONS: dict[str, Callable[[str], str]] = {
    "NONE": lambda s: s,
    "URL_DECODE": urllib.parse.unquote,
    "LOWERCASE": str.lower,
    "UPPERCASE": str.upper,
    "NORMALIZE_PATH": _normalize_path,
}


def waf_statement_matches(stmt: dict, path: str, params: dict[str, str]) -> bool:
    """Whether an AWS WAF statement matches a request with this URI path (the statement types
    and text transformations a path-scoped rule needs; anything else is Unevaluable)."""
    if not isinstance(stmt, dict) or len(stmt) != 1:
        raise Unevaluable(f"not one statement: {json.dumps(stmt)[:200]}")
    ((kind, s),) = stmt.items()
    if kind == "OrStatement":
        return any(waf_statement_matches(x, path, params) for x in s["Statements"])
    if kind == "AndStatement":
        return all(waf_statement_matches(x, path, params) for x in s["Statements"])
    if kind == "NotStatement":
        return not waf_statement_matches(s["Statement"], path, params)
    if kind not in ("ByteMatchStatement", "RegexMatchStatement"):
        raise Unevaluable(f"{kind} is not evaluated by this check")
    if s.get("FieldToMatch") != {"UriPath": {}}:
        raise Unevaluable(f"{kind} inspects {json.dumps(s.get('FieldToMatch'))}, not the URI path")
    value = path
    for t in sorted(s.get("TextTransformations", []), key=lambda t: t.get("Priority", 0)):
        if t.get("Type") not in WAF_TRANSFORMATIONS:
            raise Unevaluable(f"text transformation {t.get('Type')} is not evaluated by this check")
        value = WAF_TRANSFORMATIONS[t["Type"]](value)
    if kind == "RegexMatchStatement":
        return re.search(_waf_string(s["RegexString"], params), value) is not None
    if "SearchStringBase64" in s:
        import base64

        needle = base64.b64decode(_waf_string(s["SearchStringBase64"], params)).decode()
    else:
        needle = _waf_string(s.get("SearchString"), params)
    position = s.get("PositionalConstraint")
    if position == "EXACTLY":
        return value == needle
    if position == "STARTS_WITH":
        return value.startswith(needle)
    if position == "ENDS_WITH":
        return value.endswith(needle)
    if position == "CONTAINS":
        return needle in value
    if position == "CONTAINS_WORD":
        return re.search(r"(?<![A-Za-z0-9_])" + re.escape(needle) + r"(?![A-Za-z0-9_])", value) is not None
    raise Unevaluable(f"PositionalConstraint {position!r}")


def waf_sample_paths(cfn: dict, params: dict[str, str]) -> tuple[list[str], list[str]]:
    """URI paths as AWS WAF sees them on this stage: (must count, must not count). On the
    execute-api URL the path starts with the stage name; through a custom domain with the
    mapping's base path, or nothing."""
    template_paths = {re.sub(r"\{[^}]+\}", "x", p) for _, p in routes(openapi(cfn))}
    device = sorted(WAF_DEVICE_PATHS | {p for p in template_paths if _is_device_path(p)})
    other = sorted(p for p in template_paths if not _is_device_path(p))
    stage = "/" + params.get("StageName", "v1")
    prefixes = list(dict.fromkeys([stage, "/prod", "", "/auth"]))
    must = [pre + p for p in device for pre in prefixes]
    # What else reaches the same route: a trailing slash, a percent-encoded letter, a doubled slash.
    must += [stage + p + "/" for p in device] + [stage + p.replace("device", "d%65vice", 1) for p in device]
    must += [stage + "/" + p for p in device]
    must_not = [pre + p for p in other for pre in prefixes]
    return must, must_not


def _visibility_problems(what: str, vis: Any) -> list[str]:
    vis = vis or {}
    out = []
    if vis.get("CloudWatchMetricsEnabled") is not True:
        out.append(f"{what}: CloudWatch metrics are off")
    if vis.get("SampledRequestsEnabled") is not False:
        out.append(f"{what}: sampled requests are on (they keep request headers, client secrets and cookies included)")
    return out


def _rate_rule_problems(rule: dict, params: dict[str, str], must: list[str], must_not: list[str]) -> list[str]:
    name = f"rule {rule.get('Name')!r}"
    rb = rule["Statement"]["RateBasedStatement"]
    out = []
    if rb.get("AggregateKeyType") != "IP":
        out.append(f"{name}: AggregateKeyType {rb.get('AggregateKeyType')!r}, expected IP (a budget per client address)")
    if ref(rb.get("Limit")) != WAF_LIMIT_PARAMETER:
        out.append(f"{name}: Limit {json.dumps(rb.get('Limit'))} is not the {WAF_LIMIT_PARAMETER} parameter")
    if rb.get("EvaluationWindowSec", 300) != 300:
        out.append(f"{name}: EvaluationWindowSec {rb.get('EvaluationWindowSec')!r}; the limit is documented per 5 minutes (300)")
    action = rule.get("Action") or {}
    if set(action) != {"Block"}:
        out.append(f"{name}: action {sorted(action)}, expected Block")
    elif ((action["Block"] or {}).get("CustomResponse") or {}).get("ResponseCode") != 429:
        out.append(f"{name}: blocks without a 429 custom response")
    out += _visibility_problems(name, rule.get("VisibilityConfig"))
    scope = rb.get("ScopeDownStatement")
    if not scope:
        return out + [f"{name}: no scope-down statement (it would limit every route of the stage)"]
    try:
        missed = [p for p in must if not waf_statement_matches(scope, p, params)]
        spilled = [p for p in must_not if waf_statement_matches(scope, p, params)]
    except (Unevaluable, re.error, KeyError, TypeError) as exc:
        return out + [f"{name}: scope-down statement not evaluated: {exc}"]
    if missed:
        out.append(f"{name}: scope-down does not count {len(missed)} device paths, e.g. {missed[:4]}")
    if spilled:
        out.append(f"{name}: scope-down also counts other routes, e.g. {spilled[:4]}")
    return out


def check_waf(cfn: dict) -> list[str]:
    """With the default parameters: one REGIONAL web ACL (default Allow, CloudWatch metrics,
    no sampled requests) whose rate-based rule counts per client IP, up to DeviceWafRateLimit
    (at least AWS WAF's minimum of 10) per 5 minutes, only on the device routes (every one of
    them, as AWS WAF sees the path with or without the stage prefix), and blocks with 429; the
    ACL associated with the REST API's stage by a reference that orders it after the stage."""
    out = []
    declared = cfn.get("Parameters", {})
    enabled = declared.get(WAF_ENABLED_PARAMETER)
    if not enabled:
        out.append(f"no {WAF_ENABLED_PARAMETER} parameter")
    elif sorted(map(str, enabled.get("AllowedValues", []))) != ["false", "true"] or enabled.get("Default") != "true":
        out.append(f"{WAF_ENABLED_PARAMETER}: expected AllowedValues true/false and Default \"true\"")
    limit = declared.get(WAF_LIMIT_PARAMETER)
    if not limit:
        out.append(f"no {WAF_LIMIT_PARAMETER} parameter")
    else:
        low = limit.get("MinValue")
        if limit.get("Type") != "Number" or not isinstance(low, int) or low < WAF_MIN_LIMIT:
            out.append(f"{WAF_LIMIT_PARAMETER}: expected a Number with MinValue >= {WAF_MIN_LIMIT} (AWS WAF's minimum), got {limit.get('Type')} MinValue {low!r}")
        elif not isinstance(limit.get("Default"), int) or limit["Default"] < low:
            out.append(f"{WAF_LIMIT_PARAMETER}: Default {limit.get('Default')!r} is not a number >= MinValue")
    try:
        created, _, params = deployed(cfn, {})
    except Unevaluable as exc:
        return out + [str(exc)]
    acls = {lid: r for lid, r in resources(cfn, "AWS::WAFv2::WebACL").items() if lid in created}
    if len(acls) != 1:
        return out + [f"with the default parameters: expected one web ACL, found {sorted(acls)}"]
    ((acl_lid, acl),) = acls.items()
    p = acl.get("Properties") or {}
    if p.get("Scope") != "REGIONAL":
        out.append(f"{acl_lid}: Scope {p.get('Scope')!r}, expected REGIONAL (a regional REST API)")
    if p.get("DefaultAction") != {"Allow": {}}:
        out.append(f"{acl_lid}: DefaultAction {json.dumps(p.get('DefaultAction'))}, expected Allow")
    out += _visibility_problems(acl_lid, p.get("VisibilityConfig"))

    must, must_not = waf_sample_paths(cfn, params)
    rate_rules = [r for r in p.get("Rules", []) if "RateBasedStatement" in (r.get("Statement") or {})]
    if not rate_rules:
        out.append(f"{acl_lid}: no rate-based rule")
    else:
        found = [_rate_rule_problems(r, params, must, must_not) for r in rate_rules]
        if all(found):
            out += [v for problems in found for v in problems]

    (api_lid, _), = resources(cfn, "AWS::ApiGateway::RestApi").items()
    stages = {
        lid: s for lid, s in resources(cfn, "AWS::ApiGateway::Stage").items()
        if lid in created and ref(s["Properties"].get("RestApiId")) == api_lid
    }
    associated = False
    for lid, a in resources(cfn, "AWS::WAFv2::WebACLAssociation").items():
        if lid not in created:
            continue
        ap = a.get("Properties") or {}
        if getatt(ap.get("WebACLArn")) != (acl_lid, "Arn"):
            continue
        m = re.fullmatch(
            r"arn:(?:aws|\$\{AWS::Partition\}):apigateway:\$\{AWS::Region\}::/restapis/\$\{(\w+)\}/stages/\$\{([\w.:]+)\}",
            sub_string(ap.get("ResourceArn")) or "",
        )
        if not m or m.group(1) != api_lid:
            out.append(f"{lid}: ResourceArn {json.dumps(ap.get('ResourceArn'))} is not a stage of {api_lid}")
            continue
        stage_ref, depends = m.group(2), set(as_list(a.get("DependsOn", [])))
        if stage_ref in stages:
            associated = True  # a Ref of the stage resource: ordered after it
        elif any(ref(s["Properties"].get("StageName")) == stage_ref or s["Properties"].get("StageName") == stage_ref for s in stages.values()):
            if depends & set(stages):
                associated = True
            else:
                out.append(f"{lid}: names the stage by {stage_ref} without depending on the stage resource {sorted(stages)} (it may be created first and fail)")
        else:
            out.append(f"{lid}: ${{{stage_ref}}} is not the stage of {api_lid} ({sorted(stages)})")
    if not associated:
        out.append(f"{acl_lid} is not associated with the stage of {api_lid} (an AWS::WAFv2::WebACLAssociation to arn:…:/restapis/${{{api_lid}}}/stages/<stage>)")
    return out


def check_waf_optional(cfn: dict) -> list[str]:
    """DeviceWafEnabled=true (the default) creates the web ACL and its association,
    DeviceWafEnabled=false neither; with either value nothing created refers to a resource
    that is not (CloudFormation would refuse the stack)."""
    out = []
    for value in ("true", "false"):
        overrides = {WAF_ENABLED_PARAMETER: value}
        try:
            created, _, _ = deployed(cfn, overrides)
            out += dangling_references(cfn, overrides)
        except Unevaluable as exc:
            out.append(f"{WAF_ENABLED_PARAMETER}={value}: {exc}")
            continue
        waf = {lid: cfn["Resources"][lid]["Type"] for lid in created if cfn["Resources"][lid]["Type"].startswith("AWS::WAFv2::")}
        if value == "true":
            missing = {"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"} - set(waf.values())
            if missing:
                out.append(f"{WAF_ENABLED_PARAMETER}=true does not create {sorted(missing)}")
        elif waf:
            out.append(f"{WAF_ENABLED_PARAMETER}=false still creates {sorted(waf)}")
    return out


# --------------------------------------------------------------------------- IAM vs the code
# Least privilege means the actions the code performs, no more and no fewer: a missing one is
# an AccessDenied in production that no offline test would see. The Rust sources are read (not
# built): GrantStore's methods in functions/device/src/store.rs and the SDK operations each
# reaches, then the `store.<method>(` calls of each function crate.

SDK_CALLS = {
    r"\.get_item\(\)": "dynamodb:GetItem",
    r"\.put_item\(\)": "dynamodb:PutItem",
    r"\.update_item\(\)": "dynamodb:UpdateItem",
    r"\.delete_item\(\)": "dynamodb:DeleteItem",
    r"\.batch_get_item\(\)": "dynamodb:BatchGetItem",
    r"\.batch_write_item\(\)": "dynamodb:BatchWriteItem",
    r"\.transact_get_items\(\)": "dynamodb:GetItem",
    r"\.query\(\)": "dynamodb:Query",
    r"\.scan\(\)": "dynamodb:Scan",
    # The items of a TransactWriteItems.
    r"\bPut::builder\(\)": "dynamodb:PutItem",
    r"\bUpdate::builder\(\)": "dynamodb:UpdateItem",
    r"\bDelete::builder\(\)": "dynamodb:DeleteItem",
    r"\bConditionCheck::builder\(\)": "dynamodb:ConditionCheckItem",
}
STORE = "functions/device/src/store.rs"


def _strip_comments(rust: str) -> str:
    return re.sub(r"//[^\n]*", "", rust)


def derive_permissions(sources: dict[str, str]) -> tuple[dict[str, set[str]], list[str]]:
    """From {repo-relative path: Rust source}: each device function's DynamoDB actions, with
    "cognito-idp:DescribeUserPoolClient" added when it uses the AppClients; and problems that
    make the derivation untrustworthy."""
    problems: list[str] = []
    store = _strip_comments(sources.get(STORE, ""))
    if not store:
        return {}, [f"{STORE} not found"]
    # Method bodies: from one `fn name(` to the next.
    heads = list(re.finditer(r"\bfn\s+(\w+)\s*[<(]", store))
    bodies = {m.group(1): store[m.start() : (heads[i + 1].start() if i + 1 < len(heads) else len(store))] for i, m in enumerate(heads)}
    direct = {name: {a for pattern, a in SDK_CALLS.items() if re.search(pattern, body)} for name, body in bodies.items()}
    calls = {name: set(re.findall(r"\bself\s*\.\s*(\w+)\s*\(", body)) & set(bodies) for name, body in bodies.items()}

    def reach(name: str, seen: frozenset = frozenset()) -> set[str]:
        if name in seen:
            return set()
        return direct.get(name, set()).union(*(reach(c, seen | {name}) for c in calls.get(name, ())))

    public = set(re.findall(r"\bpub\s+async\s+fn\s+(\w+)", store))
    derived: dict[str, set[str]] = {}
    for binary in DEVICE_FUNCTIONS:
        code = "\n".join(_strip_comments(t) for p, t in sources.items() if p.startswith(f"functions/{binary}/"))
        if not code:
            problems.append(f"no Rust sources under functions/{binary}/")
            continue
        used = set(re.findall(r"\bstore\s*\.\s*(\w+)\s*\(", code))
        unknown = used - public
        if unknown:
            problems.append(f"{binary} calls store methods not found in {STORE}: {sorted(unknown)}")
        actions = set().union(*(reach(m) for m in used & public)) if used else set()
        if re.search(r"\bclients\b", code):
            actions |= COGNITO_ACTIONS
        derived[binary] = actions
    # DynamoDB calls anywhere else cannot be attributed to a function: refuse to guess. (Only
    # files that name the SDK count: `.query()` is also how a URI gives its query string.)
    for path, text in sources.items():
        if path == STORE:
            continue
        text = _strip_comments(text)
        stray = [a for pattern, a in SDK_CALLS.items() if re.search(pattern, text)]
        if stray and "aws_sdk_dynamodb" in text:
            problems.append(f"{path} calls DynamoDB outside GrantStore ({sorted(set(stray))}); attribute it in check_template.py")
        if path.startswith("functions/device/") and re.search(r"\bstore\s*\.\s*\w+\s*\(", text):
            problems.append(f"{path} calls the store on behalf of the functions; attribute it in check_template.py")
    return derived, problems


def rust_sources() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text()
        for crate in ["device", *DEVICE_FUNCTIONS, "authorizer"]
        for p in sorted((ROOT / "functions" / crate / "src").rglob("*.rs"))
    }


def check_iam_matches_code(sources: dict[str, str]) -> list[str]:
    """The DynamoDB actions and the Cognito use the template grants (EXPECTED_DYNAMODB,
    COGNITO_FUNCTIONS, asserted against the template by check_least_privilege) are exactly what
    the Rust code performs; the authorizer links no DynamoDB SDK and makes no DynamoDB call."""
    derived, out = derive_permissions(sources)
    for binary, actions in derived.items():
        want = EXPECTED_DYNAMODB[binary] | (COGNITO_ACTIONS if binary in COGNITO_FUNCTIONS else set())
        if actions != want:
            missing, extra = sorted(actions - want), sorted(want - actions)
            out.append(
                f"{binary}: the code performs {sorted(actions)}; the template grants {sorted(want)}"
                + (f" (missing {missing}: AccessDenied in production)" if missing else "")
                + (f" (unused {extra})" if extra else "")
                + "; update its role in template.yaml and EXPECTED_DYNAMODB / COGNITO_FUNCTIONS"
            )
        if {"dynamodb:Scan", "dynamodb:Query"} & actions:
            out.append(f"{binary}: the code scans or queries the table (the design is key lookups only)")
    manifest = (ROOT / "functions/authorizer/Cargo.toml").read_text() if "authorizer" in FUNCTIONS else ""
    if "aws-sdk-dynamodb" in manifest or "portal-auth-device" in manifest:
        out.append("functions/authorizer/Cargo.toml links the DynamoDB SDK (directly or through portal-auth-device)")
    for path, text in sources.items():
        if path.startswith("functions/authorizer/") and "aws_sdk_dynamodb" in text:
            out.append(f"{path} uses aws_sdk_dynamodb")
    return out


SECURITY_CHECKS: dict[str, Callable[[dict], list[str]]] = {
    "no wildcard IAM actions/resources, no managed policies": check_no_wildcard_iam,
    "least privilege per function (DynamoDB actions, one table, one pool, own logs)": check_least_privilege,
    "authorizer has no DynamoDB access": check_authorizer_isolated,
    "table: on-demand, pk, TTL on expires_at, PITR, SSE": check_table,
    "routes: public = design.md, every other route behind the authorizer": check_routes,
    "integrations name functions of this template, with scoped invoke permissions": check_integrations_resolve,
    "functions: provided.al2023, arm64, cargo-lambda, JSON logs with retention": check_functions,
    "environment: design.md variables, no secrets": check_environment,
    "Portal CLI callback URL = PUBLIC_BASE_URL/device/callback": check_callback_matches_base_url,
    "waf: per-IP rate rule (Block 429) on every device route, with or without the stage prefix; on the stage": check_waf,
    "waf: DeviceWafEnabled=false creates no web ACL or association; nothing dangles either way": check_waf_optional,
}


def check_operations(cfn: dict) -> list[str]:
    """Alarms on 5xx and throttles for the API and the functions, optional SNS actions, outputs."""
    out = []
    alarms = resources(cfn, "AWS::CloudWatch::Alarm")
    fns = function_names(cfn)
    lambda_alarms = {
        (a["Properties"].get("MetricName"), ref(d.get("Value")))
        for a in alarms.values()
        if a["Properties"].get("Namespace") == "AWS/Lambda"
        for d in a["Properties"].get("Dimensions", [])
        if d.get("Name") == "FunctionName"
    }
    for binary, lid in fns.items():
        if ("Throttles", lid) not in lambda_alarms:
            out.append(f"{binary}: no Throttles alarm")
        if binary != "authorizer" and ("Errors", lid) not in lambda_alarms:
            out.append(f"{binary}: no Errors alarm")
    (api_lid, api), = resources(cfn, "AWS::ApiGateway::RestApi").items()
    api_name = api["Properties"].get("Name")
    api_5xx = [
        a for a in alarms.values()
        if a["Properties"].get("Namespace") == "AWS/ApiGateway" and a["Properties"].get("MetricName") == "5XXError"
        and {"Name": "ApiName", "Value": api_name} in a["Properties"].get("Dimensions", [])
    ]
    if not api_5xx:
        out.append(f"no 5XXError alarm on the API (ApiName {json.dumps(api_name)})")
    filters = resources(cfn, "AWS::Logs::MetricFilter")
    throttle_metrics = {
        (t.get("MetricNamespace") and json.dumps(t["MetricNamespace"]), t.get("MetricName"))
        for f in filters.values()
        if "429" in f["Properties"].get("FilterPattern", "")
        for t in f["Properties"].get("MetricTransformations", [])
    }
    api_throttle_alarms = [
        a for a in alarms.values()
        if (json.dumps(a["Properties"].get("Namespace")), a["Properties"].get("MetricName")) in throttle_metrics
    ]
    if not api_throttle_alarms:
        out.append("no alarm on the API's throttled (429) requests")
    for lid, a in alarms.items():
        for key in ("AlarmActions", "OKActions"):
            if a["Properties"].get(key) != {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}:
                out.append(f"{lid}: {key} is not the optional AlarmTopicArn")
    missing = REQUIRED_OUTPUTS - set(cfn.get("Outputs", {}))
    if missing:
        out.append(f"missing outputs {sorted(missing)}")
    return out


def check_samconfig() -> list[str]:
    """samconfig.toml opts `sam build`/`sam sync` into the rust-cargolambda beta, with SAM's build
    cache off (each function compiles shared crates outside its CodeUri, which the cache
    does not hash), and deploys with CAPABILITY_IAM only."""
    import tomllib

    out = []
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
    build = config.get("build", {}).get("parameters", {})
    if build.get("beta_features") is not True:
        out.append("samconfig.toml: default.build.parameters.beta_features is not true")
    if build.get("cached") is not False:
        out.append("samconfig.toml: default.build.parameters.cached is not false")
    if config.get("sync", {}).get("parameters", {}).get("beta_features") is not True:
        out.append("samconfig.toml: default.sync.parameters.beta_features is not true")
    capabilities = config.get("deploy", {}).get("parameters", {}).get("capabilities")
    if capabilities != "CAPABILITY_IAM":
        out.append(f"samconfig.toml: deploy capabilities {capabilities!r}, expected CAPABILITY_IAM")
    return out


# --------------------------------------------------------------------------- mutations


def yaml_edit(old: str, new: str) -> Callable[[str], str]:
    def apply(text: str) -> str:
        count = text.count(old)
        if count != 1:
            raise AssertionError(f"mutation target found {count} times (expected once): {old[:120]!r}")
        return text.replace(old, new)

    return apply


AUTHORIZER_URI = (
    "authorizerUri: !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-authorizer/invocations"
)
DEVICE_CODE_URI = (
    "uri: !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-device-code/invocations\n"
    "          /.well-known"
)


@dataclass
class LintMutation:
    name: str
    edit: Callable[[str], str]
    must_fail: set[str]  # of "sam validate", "cfn-lint", "translated"


LINT_MUTATIONS = [
    LintMutation(
        "table BillingMode ON_DEMAND (not a billing mode)",
        yaml_edit("BillingMode: PAY_PER_REQUEST", "BillingMode: ON_DEMAND"),
        {"sam validate", "cfn-lint", "translated"},
    ),
    LintMutation(
        "authorizer URI !GetAtt of a misspelt function",
        yaml_edit(AUTHORIZER_URI, "authorizerUri: !GetAtt AuthorizerFuncton.Arn"),
        {"sam validate", "cfn-lint", "translated"},
    ),
    LintMutation(
        "unknown property in Globals (MemmorySize)",
        yaml_edit("    MemorySize: 256\n", "    MemmorySize: 256\n"),
        {"sam validate", "cfn-lint", "translated"},
    ),
    LintMutation(
        "WAF rate limit 5 (below AWS WAF's minimum of 10)",
        yaml_edit("Limit: !Ref DeviceWafRateLimit", "Limit: 5"),
        {"sam validate", "cfn-lint", "translated"},
    ),
    # These two pass both SAM-level linters: only the translated template shows them.
    LintMutation(
        "authorizer URI via !GetAtt AuthorizerFunction.Arn (dependency cycle through the CLI client)",
        yaml_edit(
            AUTHORIZER_URI,
            "authorizerUri: !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            "${AuthorizerFunction.Arn}/invocations",
        ),
        {"translated"},
    ),
    LintMutation(
        "device-code integration via !GetAtt (dependency cycle through PUBLIC_BASE_URL)",
        yaml_edit(
            DEVICE_CODE_URI,
            "uri: !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            "${DeviceCodeFunction.Arn}/invocations\n          /.well-known",
        ),
        {"translated"},
    ),
    LintMutation(
        "unsupported runtime provided.al2024 in Globals",
        yaml_edit("Runtime: provided.al2023", "Runtime: provided.al2024"),
        {"translated"},
    ),
]


def _statement(role: str, policy: str) -> Callable[[dict], dict]:
    def get(sam: dict) -> dict:
        policies = sam["Resources"][role]["Properties"]["Policies"]
        (p,) = [p for p in policies if p["PolicyName"] == policy]
        return p["PolicyDocument"]["Statement"][0]

    return get


def _env(function: str) -> Callable[[dict], dict]:
    return lambda sam: sam["Resources"][function]["Properties"]["Environment"]["Variables"]


def _body(sam: dict) -> dict:
    return sam["Resources"]["Api"]["Properties"]["DefinitionBody"]


def _set(getter: Callable[[dict], dict], key: str, value: Any) -> Callable[[dict], None]:
    def apply(sam: dict) -> None:
        target = getter(sam)
        if not isinstance(target, dict):
            raise AssertionError(f"mutation target is not a mapping: {target!r}")
        target[key] = value

    return apply


def _delete(getter: Callable[[dict], dict], key: str) -> Callable[[dict], None]:
    def apply(sam: dict) -> None:
        del getter(sam)[key]

    return apply


def _append_action(getter: Callable[[dict], dict], action: str) -> Callable[[dict], None]:
    def apply(sam: dict) -> None:
        st = getter(sam)
        st["Action"] = as_list(st["Action"]) + [action]

    return apply


def _authorizer_gets_table(sam: dict) -> None:
    sam["Resources"]["AuthorizerRole"]["Properties"]["Policies"].append(
        {
            "PolicyName": "grants",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": {"Fn::GetAtt": ["GrantsTable", "Arn"]}}
                ],
            },
        }
    )


def _unprotected_route(sam: dict) -> None:
    me = copy.deepcopy(_body(sam)["paths"]["/me"])
    del me["get"]["security"]
    _body(sam)["paths"]["/admin"] = me


def _table(sam: dict) -> dict:
    return sam["Resources"]["GrantsTable"]["Properties"]


def _fn(function: str) -> Callable[[dict], dict]:
    return lambda sam: sam["Resources"][function]["Properties"]


def _rename_integration(sam: dict) -> None:
    op = _body(sam)["paths"]["/device/token"]["post"]["x-amazon-apigateway-integration"]
    op["uri"]["Fn::Sub"] = op["uri"]["Fn::Sub"].replace("-device-token/", "-device-tokens/")


def _rate_rule(sam: dict) -> dict:
    return sam["Resources"]["DeviceWebAcl"]["Properties"]["Rules"][0]


def _rate_statement(sam: dict) -> dict:
    return _rate_rule(sam)["Statement"]["RateBasedStatement"]


def _scope_regex(sam: dict) -> dict:
    return _rate_statement(sam)["ScopeDownStatement"]["RegexMatchStatement"]


def _scope_starts_with_stage(sam: dict) -> None:
    _rate_statement(sam)["ScopeDownStatement"] = {
        "ByteMatchStatement": {
            "FieldToMatch": {"UriPath": {}},
            "PositionalConstraint": "STARTS_WITH",
            "SearchString": {"Fn::Sub": "/${StageName}/device"},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }


# (name, mutation of the parsed SAM template, the security check that must notice it)
SECURITY_MUTATIONS: list[tuple[str, Callable[[dict], None], Callable[[dict], list[str]]]] = [
    ("device-token may dynamodb:*", _append_action(_statement("DeviceTokenRole", "grants"), "dynamodb:*"), check_no_wildcard_iam),
    ("device-verify DescribeUserPoolClient on Resource '*'", _set(_statement("DeviceVerifyRole", "cognito"), "Resource", "*"), check_no_wildcard_iam),
    ("device-code policy uses NotResource", lambda s: _statement("DeviceCodeRole", "grants")(s).update(NotResource="arn:aws:s3:::x"), check_no_wildcard_iam),
    (
        "authorizer role gets AWSLambdaBasicExecutionRole",
        _set(_fn("AuthorizerRole"), "ManagedPolicyArns", ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]),
        check_no_wildcard_iam,
    ),
    ("authorizer may dynamodb:GetItem on the table", _authorizer_gets_table, check_authorizer_isolated),
    ("authorizer is given TABLE_NAME", _set(_env("AuthorizerFunction"), "TABLE_NAME", {"Ref": "GrantsTable"}), check_authorizer_isolated),
    ("device-code may dynamodb:Scan", _append_action(_statement("DeviceCodeRole", "grants"), "dynamodb:Scan"), check_least_privilege),
    ("device-callback loses dynamodb:UpdateItem", _set(_statement("DeviceCallbackRole", "grants"), "Action", ["dynamodb:GetItem"]), check_least_privilege),
    (
        "device-token DynamoDB on every table of the account",
        _set(_statement("DeviceTokenRole", "grants"), "Resource", {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/x"}),
        check_least_privilege,
    ),
    ("device-callback writes the authorizer's log group", _set(_statement("DeviceCallbackRole", "logs"), "Resource", {"Fn::GetAtt": ["AuthorizerLogGroup", "Arn"]}), check_least_privilege),
    ("point-in-time recovery off", _set(lambda s: _table(s)["PointInTimeRecoverySpecification"], "PointInTimeRecoveryEnabled", False), check_table),
    ("TTL on attribute ttl", _set(lambda s: _table(s)["TimeToLiveSpecification"], "AttributeName", "ttl"), check_table),
    ("TTL disabled", _set(lambda s: _table(s)["TimeToLiveSpecification"], "Enabled", False), check_table),
    ("server-side encryption off", _set(lambda s: _table(s)["SSESpecification"], "SSEEnabled", False), check_table),
    ("provisioned billing", _set(_table, "BillingMode", "PROVISIONED"), check_table),
    ("GET /me without the authorizer", _delete(lambda s: _body(s)["paths"]["/me"]["get"], "security"), check_routes),
    ("new unprotected route GET /admin", _unprotected_route, check_routes),
    ("authorizer cache disabled", _set(lambda s: _body(s)["components"]["securitySchemes"]["PortalAuthorizer"]["x-amazon-apigateway-authorizer"], "authorizerResultTtlInSeconds", 0), check_routes),
    ("public route POST /device/token removed", _delete(lambda s: _body(s)["paths"], "/device/token"), check_routes),
    ("device-code on x86_64", _set(_fn("DeviceCodeFunction"), "Architectures", ["x86_64"]), check_functions),
    ("authorizer on provided.al2", _set(_fn("AuthorizerFunction"), "Runtime", "provided.al2"), check_functions),
    ("Globals runtime provided.al2", _set(lambda s: s["Globals"]["Function"], "Runtime", "provided.al2"), check_functions),
    ("device-verify text logs", _set(lambda s: _fn("DeviceVerifyFunction")(s)["LoggingConfig"], "LogFormat", "Text"), check_functions),
    ("POST /device/token integration names a function that does not exist", _rename_integration, check_integrations_resolve),
    ("no invoke permission for device-token", _delete(lambda s: s["Resources"], "DeviceTokenInvokePermission"), check_integrations_resolve),
    ("device-token gets COGNITO_CLIENT_SECRET", _set(_env("DeviceTokenFunction"), "COGNITO_CLIENT_SECRET", "s3cr3t"), check_environment),
    ("Portal CLI client with a secret", _set(_fn("PortalCliClient"), "GenerateSecret", True), check_environment),
    (
        "Portal CLI callback on another host",
        _set(_fn("PortalCliClient"), "CallbackURLs", ["https://attacker.example/device/callback"]),
        check_callback_matches_base_url,
    ),
    ("WAF rate rule removed", _set(_fn("DeviceWebAcl"), "Rules", []), check_waf),
    ("WAF association removed", _delete(lambda s: s["Resources"], "DeviceWebAclAssociation"), check_waf),
    (
        "WAF association to the stage by name, not ordered after the stage",
        _set(_fn("DeviceWebAclAssociation"), "ResourceArn", {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${StageName}"}),
        check_waf,
    ),
    ("WAF rate limit for all clients together (CONSTANT)", _set(_rate_statement, "AggregateKeyType", "CONSTANT"), check_waf),
    ("WAF rate rule only counts", _set(_rate_rule, "Action", {"Count": {}}), check_waf),
    ("WAF rate rule blocks with 403", _set(_rate_rule, "Action", {"Block": {}}), check_waf),
    ("WAF rate rule without scope-down (every route)", _delete(_rate_statement, "ScopeDownStatement"), check_waf),
    (
        "WAF scope-down anchored at /device (misses the stage prefix, /v1/device/code)",
        _set(_scope_regex, "RegexString", "^/(device(/|$)|api/v2/authn/device)"),
        check_waf,
    ),
    ("WAF scope-down StartsWith /${StageName}/device (misses custom domains and the dialect)", _scope_starts_with_stage, check_waf),
    ("WAF scope-down without the dialect's /api/v2/authn/device*", _set(_scope_regex, "RegexString", "/device(/|$)"), check_waf),
    ("WAF scope-down also counts GET /me", _set(_scope_regex, "RegexString", "/(device(/|$)|api/v2/authn/device|me$)"), check_waf),
    ("WAF scope-down without URL_DECODE (/v1/d%65vice/code escapes)", _set(_scope_regex, "TextTransformations", [{"Priority": 0, "Type": "NONE"}]), check_waf),
    ("WAF sampled requests on (headers kept: Basic client secrets, cookies)", _set(lambda s: _rate_rule(s)["VisibilityConfig"], "SampledRequestsEnabled", True), check_waf),
    ("DeviceWafRateLimit MinValue 1 (below AWS WAF's 10)", _set(lambda s: s["Parameters"]["DeviceWafRateLimit"], "MinValue", 1), check_waf),
    ("web ACL without its Condition", _delete(lambda s: s["Resources"]["DeviceWebAcl"], "Condition"), check_waf_optional),
    ("WAF association without its Condition", _delete(lambda s: s["Resources"]["DeviceWebAclAssociation"], "Condition"), check_waf_optional),
    ("DeviceWebAclArn output without its Condition", _delete(lambda s: s["Outputs"]["DeviceWebAclArn"], "Condition"), check_waf_optional),
    ("WAF condition ignores DeviceWafEnabled", _set(lambda s: s["Conditions"], "DeviceWaf", {"Fn::Equals": ["true", "true"]}), check_waf_optional),
]


def _source_edit(path: str, old: str, new: str) -> Callable[[dict[str, str]], None]:
    def apply(sources: dict[str, str]) -> None:
        if sources.get(path, "").count(old) < 1:
            raise AssertionError(f"mutation target not found in {path}: {old!r}")
        sources[path] = sources[path].replace(old, new, 1)

    return apply


def _add_source(path: str, text: str) -> Callable[[dict[str, str]], None]:
    return lambda sources: sources.__setitem__(path, text)


# Changes to the Rust code that must make the template's grants wrong.
# (name, change, a substring the violation must contain)
CODE_MUTATIONS: list[tuple[str, Callable[[dict[str, str]], None], str]] = [
    (
        "device-token starts reading grants with GetItem (GrantStore::get)",
        _add_source("functions/device-token/src/extra.rs", "async fn f(deps: &Deps) { deps.store.get(&h).await; }"),
        "(missing ['dynamodb:GetItem']: AccessDenied in production)",
    ),
    (
        "device-callback starts describing app clients",
        _add_source("functions/device-callback/src/extra.rs", "async fn f(deps: &Deps) { deps.clients.get(&id).await; }"),
        "missing ['cognito-idp:DescribeUserPoolClient']",
    ),
    (
        "device-code stops describing app clients (unused grant)",
        lambda src: src.update({p: t.replace("clients", "klients") for p, t in src.items() if p.startswith("functions/device-code/")}),
        "device-code: the code performs ['dynamodb:PutItem']",
    ),
    (
        "GrantStore::create's transaction gains a ConditionCheck",
        _source_edit(STORE, "let grant_put = Put::builder()", "let check = ConditionCheck::builder(); let grant_put = Put::builder()"),
        "missing ['dynamodb:ConditionCheckItem']",
    ),
    (
        "GrantStore::decide deletes with DeleteItem no more (unused grant)",
        _source_edit(STORE, "let delete = Delete::builder()", "let delete = Update::builder()"),
        "unused ['dynamodb:DeleteItem']",
    ),
    (
        "a handler queries DynamoDB directly",
        _add_source("functions/device-verify/src/extra.rs", "use aws_sdk_dynamodb::Client; async fn f(c: &Client) { c.query().send().await; }"),
        "calls DynamoDB outside GrantStore",
    ),
    (
        "the authorizer uses the DynamoDB SDK",
        _add_source("functions/authorizer/src/extra.rs", "use aws_sdk_dynamodb::Client;"),
        "functions/authorizer/src/extra.rs uses aws_sdk_dynamodb",
    ),
]


# --------------------------------------------------------------------------- main


def main() -> int:
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    start = time.monotonic()
    results = Results()
    for tool in (SAM, CFN_LINT):
        if not os.access(tool, os.X_OK):
            results.record(f"tool {tool.relative_to(ROOT)} installed", False, "missing: run `make install` (infra/local/install.sh)")
            print(f"template: {results.passed} passed, {len(results.failed)} failed")
            return 1

    text = TEMPLATE.read_text()
    work = Path(tempfile.mkdtemp(prefix="portal-auth-template-"))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)))

    # The real template, through all three linters.
    real_translated = work / "real.translated.json"
    futures = {
        f"sam validate --lint {TEMPLATE.name}": pool.submit(sam_validate, TEMPLATE),
        f"cfn-lint {TEMPLATE.name}": pool.submit(cfn_lint, TEMPLATE),
    }
    cfn: dict | None = None
    try:
        cfn = translate(load_sam(text))
        real_translated.write_text(json.dumps(cfn, indent=1))
        futures["cfn-lint on the translated template"] = pool.submit(cfn_lint, real_translated)
    except Exception:
        results.record("translate template.yaml to CloudFormation (aws-sam-translator)", False, traceback.format_exc())

    # Broken copies, for the linters.
    sam_jobs, cfn_paths, translated_paths = {}, {}, {}
    for i, m in enumerate(LINT_MUTATIONS):
        d = work / f"mutation-{i}"
        d.mkdir()
        path = d / "template.yaml"
        try:
            path.write_text(m.edit(text))
        except Exception as exc:
            results.record(f"broken copy [{m.name}] could be made", False, str(exc))
            continue
        if "sam validate" in m.must_fail:
            sam_jobs[i] = pool.submit(sam_validate, path)
        cfn_paths[i] = path  # always linted, to report what the SAM-level lint sees
        try:
            broken = translate(load_sam(path.read_text()))
            translated_paths[i] = d / "translated.json"
            translated_paths[i].write_text(json.dumps(broken, indent=1))
        except Exception as exc:  # the translator rejecting it counts as the check failing
            translated_paths[i] = exc
    cfn_batch = pool.submit(cfn_lint_many, list(cfn_paths.values()))
    translated_batch = pool.submit(cfn_lint_many, [p for p in translated_paths.values() if isinstance(p, Path)])

    # Security properties (in-process, while the linters run).
    if cfn is not None:
        for name, check in SECURITY_CHECKS.items():
            try:
                violations = check(cfn)
            except Exception:
                violations = [traceback.format_exc()]
            results.record(f"security: {name}", not violations, "\n".join(violations))
        try:
            violations = check_operations(cfn)
        except Exception:
            violations = [traceback.format_exc()]
        results.record("operations: 5xx/throttle alarms for API and functions, SNS option, outputs", not violations, "\n".join(violations))
        try:
            violations = check_samconfig()
        except Exception:
            violations = [traceback.format_exc()]
        results.record("samconfig.toml: rust-cargolambda beta flag, no SAM build cache", not violations, "\n".join(violations))

        sources = rust_sources()
        try:
            violations = check_iam_matches_code(sources)
        except Exception:
            violations = [traceback.format_exc()]
        results.record("security: IAM DynamoDB/Cognito grants = what the Rust code calls", not violations, "\n".join(violations))
        for name, mutate, expected in CODE_MUTATIONS:
            label = f"IAM-vs-code check notices: {name}"
            try:
                broken_sources = dict(sources)
                mutate(broken_sources)
                violations = check_iam_matches_code(broken_sources)
            except Exception:
                results.record(label, False, "the mutation failed:\n" + traceback.format_exc())
                continue
            hit = [v for v in violations if expected in v]
            results.record(label, bool(hit), hit[0] if hit else f"expected a violation mentioning {expected!r}, got {violations}")

        sam_doc = load_sam(text)
        for name, mutate, check in SECURITY_MUTATIONS:
            label = f"security check notices: {name}"
            try:
                broken_sam = copy.deepcopy(sam_doc)
                mutate(broken_sam)
                violations = check(translate(broken_sam))
            except Exception:
                results.record(label, False, "the mutation or translation failed:\n" + traceback.format_exc())
                continue
            results.record(label, bool(violations), violations[0] if violations else f"{check.__name__} saw nothing wrong")

    # Linter results.
    for name, fut in futures.items():
        rc, out = fut.result()
        results.record(name, rc == 0, out if rc != 0 else "")
    try:
        cfn_matches = cfn_batch.result()
        translated_matches = translated_batch.result()
    except Exception:
        results.record("cfn-lint on the broken copies ran", False, traceback.format_exc())
        cfn_matches, translated_matches = {}, {}
    for i, m in enumerate(LINT_MUTATIONS):
        if i not in cfn_paths:
            continue
        seen: dict[str, str] = {}
        if i in sam_jobs:
            rc, out = sam_jobs[i].result()
            seen["sam validate"] = f"exit {rc}" if rc != 0 else ""
        found = cfn_matches.get(cfn_paths[i], [])
        seen["cfn-lint"] = found[0] if found else ""
        t = translated_paths[i]
        if isinstance(t, Exception):
            seen["translated"] = f"translator rejected it: {str(t).splitlines()[0][:160]}"
        else:
            found = translated_matches.get(t, [])
            seen["translated"] = found[0] if found else ""
        for check in ("sam validate", "cfn-lint", "translated"):
            if check in m.must_fail:
                results.record(
                    f"broken copy fails {check}: {m.name}",
                    bool(seen.get(check)),
                    seen.get(check) or f"{check} accepted the broken template",
                )
        missed = [c for c in ("cfn-lint",) if c not in m.must_fail and not seen.get(c)]
        if missed:
            print(f"      (not caught by {', '.join(missed)} on the SAM template: {m.name})", flush=True)

    pool.shutdown()
    elapsed = time.monotonic() - start
    print(f"template: {results.passed} passed, {len(results.failed)} failed ({elapsed:.0f} s)")
    if results.failed:
        print("failed: " + "; ".join(results.failed))
        print(f"(broken copies and translated templates kept in {work})")
        return 1
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
