"""E9203: the front door (issue 11, item 3): with PortalBackendUrl set, the REST API proxies the
Data Product Portal's API to it, behind the authorizer, and passes the request untouched;
empty, the template is as it was (portal-auth's own routes only).

The body is judged once per value of the front-door parameters, as CloudFormation would
resolve its Fn::If (`_project.front_door_scenarios`); which route is public and which carries
which authorizer is E9201's. Here: the parameters, the proxy's integration (http_proxy to
${PortalBackendUrl}/api/{proxy}, every method, the Authorization header and the body not
touched), the portal's public routes proxied to the same path, its retired device routes
answered 404 by API Gateway, PortalApiKeyClients deciding both the proxy's authorizer and the
authorizer function's AUTHORIZER_FORWARD_API_KEYS, and a stage that is redeployed when those
parameters change.
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

FORWARD_ENV = "AUTHORIZER_FORWARD_API_KEYS"


def _parameter_problems(t: dict) -> list[str]:
    declared = t.get("Parameters") or {}
    out = []
    backend = declared.get(p.PORTAL_BACKEND_PARAMETER)
    if not isinstance(backend, dict):
        return [f"no {p.PORTAL_BACKEND_PARAMETER} parameter"]
    # The default is "" in template.yaml (no front door unless asked for); check.sh also lints a
    # copy with an https default, so any default the pattern accepts passes here.
    if backend.get("Type") != "String" or not isinstance(backend.get("Default"), str):
        out.append(f"{p.PORTAL_BACKEND_PARAMETER}: expected Type String with a Default (\"\": no front door)")
    try:
        pattern = re.compile(str(backend.get("AllowedPattern", "")))
    except re.error as exc:
        return out + [f"{p.PORTAL_BACKEND_PARAMETER}: AllowedPattern does not compile: {exc}"]
    if isinstance(backend.get("Default"), str) and not pattern.fullmatch(backend["Default"]):
        out.append(f"{p.PORTAL_BACKEND_PARAMETER}: Default {backend['Default']!r} is refused by its own AllowedPattern")
    if not backend.get("AllowedPattern"):
        out.append(f"{p.PORTAL_BACKEND_PARAMETER}: no AllowedPattern (an http:// backend would carry tokens in clear)")
    else:
        refused = [u for u in p.BACKEND_URLS_ACCEPTED if not pattern.fullmatch(u)]
        accepted = [u for u in p.BACKEND_URLS_REFUSED if pattern.fullmatch(u)]
        if refused:
            out.append(f"{p.PORTAL_BACKEND_PARAMETER}: AllowedPattern refuses {refused}")
        if accepted:
            out.append(f"{p.PORTAL_BACKEND_PARAMETER}: AllowedPattern accepts {accepted} (only empty or https://host[:port][/path], no trailing slash, query or fragment)")
    keys = declared.get(p.PORTAL_API_KEYS_PARAMETER)
    if not isinstance(keys, dict) or sorted(map(str, keys.get("AllowedValues") or [])) != ["forward", "refuse"]:
        out.append(f"{p.PORTAL_API_KEYS_PARAMETER}: expected a parameter with AllowedValues forward/refuse")
    compat = declared.get(p.PORTAL_COMPAT_PARAMETER)
    if not isinstance(compat, dict) or sorted(map(str, compat.get("AllowedValues") or [])) != ["false", "true"] or compat.get("Default") != "false":
        out.append(f"{p.PORTAL_COMPAT_PARAMETER}: expected AllowedValues true/false and Default \"false\" (the portal dialect puts one client secret on every machine)")
    return out


def _proxied_to(op: dict, method: str, uri: str) -> list[str]:
    """Why `op` is not an http_proxy of `method` to `uri` that passes the request untouched."""
    integration = op.get("x-amazon-apigateway-integration") or {}
    out = []
    if integration.get("type") != "http_proxy":
        out.append(f"integration type {integration.get('type')!r}, not http_proxy (which passes every header and the body as they came)")
    if integration.get("httpMethod") != method:
        out.append(f"httpMethod {integration.get('httpMethod')!r}, expected {method}")
    got = p.sub_string(integration.get("uri")) or integration.get("uri")
    if got != uri:
        out.append(f"uri {json.dumps(p.plain(integration.get('uri')))}, expected !Sub {uri}")
    params = integration.get("requestParameters") or {}
    for key, value in params.items():
        if key.lower() == "integration.request.header.authorization" and value != "method.request.header.Authorization":
            out.append(f"overrides the Authorization header with {json.dumps(p.plain(value))}: the backend must see the caller's token")
        elif key.lower() == "integration.request.header.x-key" and value != "method.request.header.x-key":
            out.append(f"overrides the x-key header with {json.dumps(p.plain(value))}")
    for key in ("requestTemplates", "contentHandling"):
        if key in integration:
            out.append(f"sets {key}: the body must pass untouched")
    if "{proxy}" in uri and params.get("integration.request.path.proxy") != "method.request.path.proxy":
        out.append("does not map integration.request.path.proxy from method.request.path.proxy")
    return out


def _scenario_problems(t: dict, params: dict[str, str]) -> list[str]:
    found = p.openapi(t)
    if found is None:
        return ["expected one REST API with an inline OpenAPI body"]
    api, raw = found
    body = p.resolve(raw, t, params)
    table = p.routes(body)
    front_door = bool(params.get(p.PORTAL_BACKEND_PARAMETER))
    forward = front_door and params.get(p.PORTAL_API_KEYS_PARAMETER) == "forward"
    out = []
    schemes = p.security_schemes(body)
    forwarders = {
        n for n, s in schemes.items()
        if isinstance(s, dict) and (s.get("x-amazon-apigateway-authorizer") or {}).get("type") == "request"
        and not str((s.get("x-amazon-apigateway-authorizer") or {}).get("identitySource") or "").strip()
    }
    lid = p.function_names(t).get("authorizer")
    env = {}
    if lid:
        env = p.resolve((p.props(t["Resources"][lid]).get("Environment") or {}).get("Variables") or {}, t, params)
    forwarding_env = str(env.get(FORWARD_ENV, "false")).lower() == "true"

    if not front_door:
        for (method, path), op in sorted(table.items()):
            integration = op.get("x-amazon-apigateway-integration") or {}
            if integration.get("type") in ("http", "http_proxy"):
                out.append(f"{p.route_name(method, path)}: an HTTP integration without PortalBackendUrl (the template must be as before the front door)")
            elif path.startswith("/api/") and (method, path) not in p.PUBLIC_ROUTES:
                out.append(f"{p.route_name(method, path)}: a portal route without PortalBackendUrl")
        if forwarders:
            out.append(f"the API-key forwarder {sorted(forwarders)} exists without PortalBackendUrl")
        if forwarding_env:
            out.append(f"authorizer: {FORWARD_ENV} is true without PortalBackendUrl and PortalApiKeyClients=forward")
        return out

    proxy = table.get(p.PROXY_ROUTE)
    if proxy is None:
        out.append(f"{p.PROXY_ROUTE[1]} (every method): the front door's proxy route is missing")
    else:
        out += [f"the proxy {p.PROXY_ROUTE[1]}: {why}" for why in _proxied_to(proxy, "ANY", p.PROXY_URI)]
        security = proxy.get("security", body.get("security")) or []
        names = {n for req in security if isinstance(req, dict) for n in req} if isinstance(security, list) else set()
        if not names:
            out.append(f"the proxy {p.PROXY_ROUTE[1]}: no authorizer")
        elif forward and not names <= forwarders:
            out.append(f"the proxy {p.PROXY_ROUTE[1]}: PortalApiKeyClients=forward but its authorizer {sorted(names)} is not the API-key forwarder (x-key clients would get 401)")
        elif not forward and names & forwarders:
            out.append(f"the proxy {p.PROXY_ROUTE[1]}: PortalApiKeyClients=refuse but it uses the API-key forwarder {sorted(names & forwarders)}")
    preflight = table.get(p.PROXY_PREFLIGHT)
    if preflight is None:
        out.append(f"OPTIONS {p.PROXY_PREFLIGHT[1]}: the proxy's CORS preflight is missing (the ANY method would put it behind the authorizer)")
    else:
        out += [f"OPTIONS {p.PROXY_PREFLIGHT[1]}: {why}" for why in _proxied_to(preflight, "OPTIONS", p.PROXY_URI)]
    for method, path in sorted(p.PORTAL_PUBLIC_ROUTES):
        op = table.get((method, path))
        if op is None:
            out.append(f"{method} {path}: the portal's public route is missing (it would be behind the authorizer)")
        else:
            out += [f"{method} {path}: {why}" for why in _proxied_to(op, method, "${PortalBackendUrl}" + path)]
    for path in sorted(p.PORTAL_RETIRED_PATHS):
        op = table.get(("X-AMAZON-APIGATEWAY-ANY-METHOD", path))
        integration = (op or {}).get("x-amazon-apigateway-integration") or {}
        statuses = {str((r or {}).get("statusCode")) for r in (integration.get("responses") or {}).values() if isinstance(r, dict)}
        if op is None or integration.get("type") != "mock" or statuses != {"404"}:
            out.append(f"{path}: the portal's own device route is not answered 404 by API Gateway on every method (it would reach the backend's retired device flow)")
    for (method, path), op in sorted(table.items()):
        integration = op.get("x-amazon-apigateway-integration") or {}
        known = {p.PROXY_ROUTE, p.PROXY_PREFLIGHT} | p.PORTAL_PUBLIC_ROUTES
        if integration.get("type") in ("http", "http_proxy") and (method, path) not in known:
            out.append(f"{p.route_name(method, path)}: an HTTP integration the front door does not define")
    if forward and not forwarding_env:
        out.append(f"authorizer: PortalApiKeyClients=forward but {FORWARD_ENV} is not true (x-key clients would get 401)")
    if not forward and forwarding_env:
        out.append(f"authorizer: {FORWARD_ENV} is true with PortalApiKeyClients=refuse")
    if p.props(t["Resources"][api]).get("AlwaysDeploy") is not True:
        out.append(f"{api}: AlwaysDeploy is not true: SAM names the deployment after the body as written, so changing {p.PORTAL_BACKEND_PARAMETER} or {p.PORTAL_API_KEYS_PARAMETER} would not change what the stage serves")
    return out


class FrontDoor(CloudFormationLintRule):
    id = "E9203"
    shortdesc = "Front door: the portal's API proxied behind the authorizer, only with PortalBackendUrl"
    description = (
        "PortalBackendUrl (https only, or empty), PortalApiKeyClients (forward/refuse) and "
        "PortalClientCompatibility (default false); empty, no portal route, HTTP integration or "
        "API-key forwarder; set, ANY /api/{proxy+} is an http_proxy to "
        "${PortalBackendUrl}/api/{proxy} that keeps the Authorization header and body, with an "
        "authorizer (the API-key forwarder exactly when PortalApiKeyClients=forward, which is "
        "also exactly when the authorizer gets AUTHORIZER_FORWARD_API_KEYS=true), its OPTIONS "
        "proxied for CORS, the portal's public routes proxied to the same path, its retired "
        "device routes answered 404 by a mock, and AlwaysDeploy on the API"
    )
    tags = ["portal-auth", "api"]

    def match(self, cfn):
        t = p.plain(cfn.template)
        out = [RuleMatch(["Parameters"], msg) for msg in _parameter_problems(t)]
        if out and any(m.message.startswith("no ") for m in out):
            return out
        scenarios = p.front_door_scenarios(t)
        seen: dict[str, list[str]] = {}
        for label, params in scenarios:
            try:
                problems = _scenario_problems(t, params)
            except p.Unresolvable as exc:
                problems = [f"cannot be evaluated: {exc}"]
            for msg in problems:
                seen.setdefault(msg, []).append(label)
        labels = [label for label, _ in scenarios]
        return out + [RuleMatch(["Resources"], msg) for msg in p.merge_by_scenario(seen, labels)]
