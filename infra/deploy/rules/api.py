"""E92xx: the REST API's routes (design.md, "Endpoints"; the front door of issue 11).

The public routes are exactly design.md's (and, with PortalBackendUrl set, the portal's own
public routes), every other route is behind the Lambda authorizer, and every Lambda the
OpenAPI body names exists in this template with an invoke permission scoped to its method and
path. E9201 judges the body once per value of the front-door parameters (Fn::If resolved as
CloudFormation would); E9202 reads every branch. The body names functions by their deterministic FunctionName
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


def _scheme_kinds(t: dict, body: dict) -> tuple[set[str], set[str], list[tuple[str, str]]]:
    """(bearer schemes, API-key forwarder schemes, problems as (scheme, message)).

    A bearer scheme is the authorizer function as a TOKEN or REQUEST authorizer reading the
    Authorization header, caching for a chosen 1..3600 s. The API-key forwarder is the same
    function as a REQUEST authorizer without identity sources, which API Gateway allows only
    uncached (TTL 0): it is invoked for requests without Authorization too.
    """
    bearer, forwarder, problems = set(), set(), []
    for name, scheme in p.security_schemes(body).items():
        auth = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, dict) else None
        if not auth:
            continue
        if auth.get("type") not in ("token", "request"):
            problems.append((name, f"scheme {name}: authorizer type {auth.get('type')!r} is not a Lambda TOKEN/REQUEST authorizer"))
            continue
        if p.integration_function(auth.get("authorizerUri")) != "authorizer":
            problems.append((name, f"scheme {name}: authorizerUri {json.dumps(p.plain(auth.get('authorizerUri')))} is not the authorizer function"))
            continue
        identity = str(auth.get("identitySource") or "").strip()
        ttl = p.parameter_default(t, auth.get("authorizerResultTtlInSeconds"))
        if auth.get("type") == "request" and not identity:
            if ttl != 0 or isinstance(ttl, bool):
                problems.append((name, f"scheme {name}: a REQUEST authorizer without identity sources caches nothing (API Gateway requires TTL 0), not {ttl!r}"))
            else:
                forwarder.add(name)
            continue
        if "method.request.header.Authorization" not in identity:
            problems.append((name, f"scheme {name}: identity source is not the Authorization header"))
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 < ttl <= 3600:
            problems.append((name, f"scheme {name}: authorizer cache TTL {ttl!r} is not a chosen value in 1..3600"))
        bearer.add(name)
    return bearer, forwarder, problems


def _public_routes(front_door: bool) -> dict[tuple[str, str], str]:
    """Route -> why it is public, for the front door off or on."""
    out = {route: "design.md" for route in p.PUBLIC_ROUTES}
    if front_door:
        out.update({route: "a public route of the portal" for route in p.PORTAL_PUBLIC_ROUTES})
        out[p.PROXY_PREFLIGHT] = "a CORS preflight, which carries no credentials"
        out.update({("X-AMAZON-APIGATEWAY-ANY-METHOD", path): "the portal's retired device flow (404)" for path in p.PORTAL_RETIRED_PATHS})
    return out


def _route_problems(t: dict, body: dict, front_door: bool) -> list[str]:
    """E9201's findings on one resolved body (the front door off or on)."""
    out = []
    table = p.routes(body)
    bearer, forwarder, scheme_problems = _scheme_kinds(t, body)
    out += [msg for _, msg in scheme_problems]
    if not bearer:
        out.append("no security scheme is the Lambda authorizer reading the Authorization header")
    public = _public_routes(front_door)
    top_security = body.get("security")
    for (method, path), op in sorted(table.items()):
        route = p.route_name(method, path)
        security = op.get("security", top_security) or []
        names = {n for req in security if isinstance(req, dict) for n in req} if isinstance(security, list) else {"?"}
        if (method, path) in public:
            if (method, path) in p.PUBLIC_ROUTES:
                want = p.PUBLIC_ROUTES[(method, path)]
                integration = op.get("x-amazon-apigateway-integration") or {}
                if integration.get("type") != "aws_proxy" or p.integration_function(integration.get("uri")) != want:
                    out.append(f"{route}: not a Lambda proxy integration of {want}")
            if names:
                out.append(f"{route}: public ({public[(method, path)]}) but behind an authorizer {sorted(names)}")
            continue
        is_proxy = front_door and (method, path) == p.PROXY_ROUTE
        if not is_proxy and (path.endswith("{proxy+}") or method == "X-AMAZON-APIGATEWAY-ANY-METHOD"):
            out.append(f"{route}: greedy routes are not allowed (the public/protected split must be explicit; only the front door's {p.PROXY_ROUTE[1]} with PortalBackendUrl set)")
        if not names or not names <= bearer | forwarder:
            out.append(f"{route}: not behind the Lambda authorizer (security: {json.dumps(p.plain(security))})")
        elif names & forwarder and not is_proxy:
            out.append(f"{route}: behind the API-key forwarder {sorted(names & forwarder)}, which lets requests without a token through: only the front door's proxy route may use it")
    for method, path in p.PUBLIC_ROUTES:
        if (method, path) not in table:
            out.append(f"{method} {path}: public route from design.md is missing")
    if p.SAMPLE_PROTECTED_ROUTE not in table:
        out.append("the sample protected route GET /me is missing")
    return out


class PublicRoutesAndAuthorizer(CloudFormationLintRule):
    id = "E9201"
    shortdesc = "Public routes are design.md's (and the portal's); every other route is behind the authorizer"
    description = (
        "Judged with PortalBackendUrl empty and set (each PortalApiKeyClients): the public "
        "routes are exactly design.md's (both dialects), each a Lambda proxy integration of its "
        "function, plus, with the front door, the portal's public routes, the proxy's CORS "
        "preflight and the portal's retired device routes; no public route carries an "
        "authorizer; every other route carries the Lambda authorizer: a TOKEN/REQUEST "
        "authorizer that is the authorizer function, reads the Authorization header and caches "
        "for a chosen TTL in 1..3600 s, or, on the front door's proxy only, the uncached "
        "REQUEST API-key forwarder; no greedy route but that proxy; the sample route GET /me"
    )
    tags = ["portal-auth", "api"]

    def match(self, cfn):
        t = cfn.template
        found = _api(t)
        if isinstance(found, list):
            return found
        api, body, base = found
        scenarios = p.front_door_scenarios(t)
        seen: dict[str, list[str]] = {}
        for label, params in scenarios:
            try:
                resolved = p.resolve(body, t, params)
                front_door = bool(params.get(p.PORTAL_BACKEND_PARAMETER))
            except p.Unresolvable as exc:
                seen.setdefault(f"the OpenAPI body cannot be evaluated: {exc}", []).append(label)
                continue
            for msg in _route_problems(t, resolved, front_door):
                seen.setdefault(msg, []).append(label)
        labels = [label for label, _ in scenarios]
        return [RuleMatch(base, msg) for msg in p.merge_by_scenario(seen, labels)]


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
