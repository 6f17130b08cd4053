"""E92xx: the REST API's routes (design.md, "Endpoints").

The public routes are exactly design.md's, every other route is behind the Lambda authorizer,
and every Lambda the OpenAPI body names exists in this template with an invoke permission
scoped to its method and path. The body names functions by their deterministic FunctionName
(${AWS::StackName}-<binary>), not by !GetAtt, to keep the API out of a dependency cycle (E9000
catches the cycle); cfn-lint cannot follow those names, hence E9202.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:  # for _project, beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _project as p  # noqa: E402


def _body_path(template: dict, api: str) -> list:
    key = "DefinitionBody" if "DefinitionBody" in p.props(template["Resources"][api]) else "Body"
    return ["Resources", api, "Properties", key]


def _api(template: dict):
    """(api, OpenAPI body, the body's path for RuleMatch), or the RuleMatch list when there is
    no REST API with an inline body."""
    found = p.openapi(template)
    if found is None:
        return [RuleMatch(["Resources"], "expected one REST API with an inline OpenAPI body")]
    api, body = found
    return api, body, _body_path(template, api)


class PublicRoutesAndAuthorizer(CloudFormationLintRule):
    id = "E9201"
    shortdesc = "Public routes are design.md's; every other route is behind the authorizer"
    description = (
        "The public routes are exactly design.md's, each a Lambda proxy integration of its "
        "function; every other route (no greedy ones) carries the Lambda authorizer, a "
        "TOKEN/REQUEST authorizer that is the authorizer function, reads the Authorization "
        "header and caches for a chosen TTL in 1..3600 s; the sample route GET /me exists"
    )
    tags = ["portal-auth", "api"]

    def match(self, cfn):
        t = cfn.template
        found = _api(t)
        if isinstance(found, list):
            return found
        api, body, base = found
        out = []
        table = p.routes(body)
        schemes = p.security_schemes(body)
        authorizer_schemes = set()
        for name, scheme in schemes.items():
            auth = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, dict) else None
            if not auth:
                continue
            where = base + ["components", "securitySchemes", name]
            if auth.get("type") not in ("token", "request"):
                out.append(RuleMatch(where, f"scheme {name}: authorizer type {auth.get('type')!r} is not a Lambda TOKEN/REQUEST authorizer"))
                continue
            if p.integration_function(auth.get("authorizerUri")) != "authorizer":
                out.append(RuleMatch(where, f"scheme {name}: authorizerUri {json.dumps(p.plain(auth.get('authorizerUri')))} is not the authorizer function"))
                continue
            if "method.request.header.Authorization" not in str(auth.get("identitySource", "")):
                out.append(RuleMatch(where, f"scheme {name}: identity source is not the Authorization header"))
            ttl = p.parameter_default(t, auth.get("authorizerResultTtlInSeconds"))
            if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 < ttl <= 3600:
                out.append(RuleMatch(where, f"scheme {name}: authorizer cache TTL {ttl!r} is not a chosen value in 1..3600"))
            authorizer_schemes.add(name)
        if not authorizer_schemes:
            out.append(RuleMatch(base, "no security scheme is the Lambda authorizer"))

        top_security = body.get("security")
        for (method, path), op in sorted(table.items()):
            where = base + ["paths", path]
            route = f"{method} {path}"
            if (method, path) in p.PUBLIC_ROUTES:
                want = p.PUBLIC_ROUTES[(method, path)]
                integration = op.get("x-amazon-apigateway-integration") or {}
                if integration.get("type") != "aws_proxy" or p.integration_function(integration.get("uri")) != want:
                    out.append(RuleMatch(where, f"{route}: not a Lambda proxy integration of {want}"))
                continue
            if path.endswith("{proxy+}") or method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
                out.append(RuleMatch(where, f"{route}: greedy routes are not allowed (the public/protected split must be explicit)"))
            security = op.get("security", top_security) or []
            names = {n for req in security if isinstance(req, dict) for n in req}
            if not names or not names <= authorizer_schemes:
                out.append(RuleMatch(where, f"{route}: not behind the Lambda authorizer (security: {json.dumps(p.plain(security))})"))
        for method, path in p.PUBLIC_ROUTES:
            if (method, path) not in table:
                out.append(RuleMatch(base + ["paths"], f"{method} {path}: public route from design.md is missing"))
        if p.SAMPLE_PROTECTED_ROUTE not in table:
            out.append(RuleMatch(base + ["paths"], "the sample protected route GET /me is missing"))
        return out


class IntegrationsResolve(CloudFormationLintRule):
    id = "E9202"
    shortdesc = "Every Lambda the API names exists, with a scoped invoke permission"
    description = (
        "Each Lambda integration and authorizer URI of the OpenAPI body names "
        "${AWS::StackName}-<binary> of a function in this template, and API Gateway holds an "
        "invoke permission for that function scoped to exactly that stage, method and path "
        "(/authorizers/* for the authorizer); every Lambda permission is such a permission"
    )
    tags = ["portal-auth", "api"]

    def match(self, cfn):
        t = cfn.template
        found = _api(t)
        if isinstance(found, list):
            return found
        api, body, base = found
        fns = p.function_names(t)
        out = []
        permissions = set()
        source = re.compile(
            r"arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{" + re.escape(api) + r"\}/(.+)"
        )
        for lid, res in p.resources(t, "AWS::Lambda::Permission").items():
            pr = p.props(res)
            m = source.fullmatch(p.sub_string(pr.get("SourceArn")) or "")
            if pr.get("Principal") != "apigateway.amazonaws.com" or pr.get("Action") != "lambda:InvokeFunction" or not m:
                out.append(RuleMatch(["Resources", lid], f"{lid}: not an API Gateway invoke permission scoped to {api}"))
                continue
            permissions.add((p.ref(pr.get("FunctionName")), m.group(1)))

        uses = []  # (binary, what, where, expected source suffix)
        for (method, path), op in sorted(p.routes(body).items()):
            integration = op.get("x-amazon-apigateway-integration") or {}
            if integration.get("type") in ("aws_proxy", "aws"):
                binary = p.integration_function(integration.get("uri"))
                where = base + ["paths", path]
                if binary is None:
                    out.append(RuleMatch(where, f"{method} {path}: integration URI {json.dumps(p.plain(integration.get('uri')))} names no function"))
                    continue
                uses.append((binary, f"{method} {path}", where, f"${{StageName}}/{method}{path}"))
        for name, scheme in p.security_schemes(body).items():
            auth = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, dict) else None
            if auth:
                where = base + ["components", "securitySchemes", name]
                binary = p.integration_function(auth.get("authorizerUri"))
                if binary is None:
                    out.append(RuleMatch(where, f"scheme {name}: authorizerUri names no function"))
                    continue
                uses.append((binary, f"authorizer {name}", where, "authorizers/*"))
        for binary, what, where, suffix in uses:
            if binary not in fns:
                out.append(RuleMatch(where, f"{what}: invokes ${{AWS::StackName}}-{binary}, which is no function of this template"))
            elif (fns[binary], suffix) not in permissions:
                out.append(RuleMatch(where, f"{what}: no invoke permission for {fns[binary]} scoped to {suffix}"))
        return out
