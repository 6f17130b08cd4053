"""E95xx: the optional AWS WAF web ACL on the stage (issue 9; docs/operations.md, "Per-IP rate
limiting with AWS WAF").

E9501 evaluates the rate rule's scope-down statement, as a small interpreter of the statement
types a path-scoped rule needs (anything else is reported, not guessed), on the URI paths AWS
WAF would see: every device route with the stage prefix, through a custom domain with or
without a base path, with a trailing slash, a percent-encoded letter or a doubled slash, and
the other routes of the API, which it must not count. E9502 keeps the ACL optional. That
nothing refers to a WAF resource when DeviceWafEnabled=false is cfn-lint's own W1001.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import urllib.parse
from pathlib import Path
from typing import Any, Callable

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:  # for _project, beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _project as p  # noqa: E402


class Unevaluable(Exception):
    """A construct this rule does not evaluate (so it cannot vouch for it)."""


def _is_device_path(path: str) -> bool:
    return path == "/device" or path.startswith("/device/") or path.startswith("/api/v2/authn/device")


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


TRANSFORMATIONS: dict[str, Callable[[str], str]] = {
    "NONE": lambda s: s,
    "URL_DECODE": urllib.parse.unquote,
    "LOWERCASE": str.lower,
    "UPPERCASE": str.upper,
    "NORMALIZE_PATH": _normalize_path,
}


def _string(value: Any, params: dict[str, str]) -> str:
    if isinstance(value, str):
        return value
    s = p.sub_string(value)
    if s is not None and isinstance(value["Fn::Sub"], str):
        def param(m: re.Match) -> str:
            if m.group(1) not in params:
                raise Unevaluable(f"cannot resolve ${{{m.group(1)}}} in {s!r}")
            return params[m.group(1)]

        return re.sub(r"\$\{([^!}][^}]*)\}", param, s)
    raise Unevaluable(f"cannot resolve {json.dumps(value)}")


def statement_matches(stmt: Any, path: str, params: dict[str, str]) -> bool:
    """Whether an AWS WAF statement matches a request with this URI path."""
    if not isinstance(stmt, dict) or len(stmt) != 1:
        raise Unevaluable(f"not one statement: {json.dumps(stmt)[:200]}")
    ((kind, s),) = stmt.items()
    if kind == "OrStatement":
        return any(statement_matches(x, path, params) for x in s["Statements"])
    if kind == "AndStatement":
        return all(statement_matches(x, path, params) for x in s["Statements"])
    if kind == "NotStatement":
        return not statement_matches(s["Statement"], path, params)
    if kind not in ("ByteMatchStatement", "RegexMatchStatement"):
        raise Unevaluable(f"{kind} is not evaluated by this rule")
    if s.get("FieldToMatch") != {"UriPath": {}}:
        raise Unevaluable(f"{kind} inspects {json.dumps(s.get('FieldToMatch'))}, not the URI path")
    value = path
    for tr in sorted(s.get("TextTransformations", []), key=lambda tr: tr.get("Priority", 0)):
        if tr.get("Type") not in TRANSFORMATIONS:
            raise Unevaluable(f"text transformation {tr.get('Type')} is not evaluated by this rule")
        value = TRANSFORMATIONS[tr["Type"]](value)
    if kind == "RegexMatchStatement":
        return re.search(_string(s["RegexString"], params), value) is not None
    if "SearchStringBase64" in s:
        needle = base64.b64decode(_string(s["SearchStringBase64"], params)).decode()
    else:
        needle = _string(s.get("SearchString"), params)
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


def sample_paths(template: dict, params: dict[str, str]) -> tuple[list[str], list[str]]:
    """URI paths as AWS WAF sees them on this stage: (must count, must not count)."""
    found = p.openapi(template)
    template_paths = {re.sub(r"\{[^}]+\}", "x", path) for _, path in (p.routes(found[1]) if found else {})}
    device = sorted(p.WAF_DEVICE_PATHS | {x for x in template_paths if _is_device_path(x)})
    other = sorted(x for x in template_paths if not _is_device_path(x))
    stage = "/" + params.get("StageName", "v1")
    prefixes = list(dict.fromkeys([stage, "/prod", "", "/auth"]))
    must = [pre + x for x in device for pre in prefixes]
    must += [stage + x + "/" for x in device] + [stage + x.replace("device", "d%65vice", 1) for x in device]
    must += [stage + "/" + x for x in device]
    must_not = [pre + x for x in other for pre in prefixes]
    return must, must_not


def _visibility(what: str, vis: Any) -> list[str]:
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
    if p.ref(rb.get("Limit")) != p.WAF_LIMIT_PARAMETER:
        out.append(f"{name}: Limit {json.dumps(rb.get('Limit'))} is not the {p.WAF_LIMIT_PARAMETER} parameter")
    if rb.get("EvaluationWindowSec", 300) != 300:
        out.append(f"{name}: EvaluationWindowSec {rb.get('EvaluationWindowSec')!r}; the limit is documented per 5 minutes (300)")
    action = rule.get("Action") or {}
    if set(action) != {"Block"}:
        out.append(f"{name}: action {sorted(action)}, expected Block")
    elif ((action["Block"] or {}).get("CustomResponse") or {}).get("ResponseCode") != 429:
        out.append(f"{name}: blocks without a 429 custom response")
    out += _visibility(name, rule.get("VisibilityConfig"))
    scope = rb.get("ScopeDownStatement")
    if not scope:
        return out + [f"{name}: no scope-down statement (it would limit every route of the stage)"]
    try:
        missed = [x for x in must if not statement_matches(scope, x, params)]
        spilled = [x for x in must_not if statement_matches(scope, x, params)]
    except (Unevaluable, re.error, KeyError, TypeError) as exc:
        return out + [f"{name}: scope-down statement not evaluated: {exc}"]
    if missed:
        out.append(f"{name}: scope-down does not count {len(missed)} device paths, e.g. {missed[:4]}")
    if spilled:
        out.append(f"{name}: scope-down also counts other routes, e.g. {spilled[:4]}")
    return out


def _parameter_defaults(template: dict) -> dict[str, str]:
    out = {}
    for name, param in (template.get("Parameters") or {}).items():
        v = param.get("Default", "") if isinstance(param, dict) else ""
        out[str(name)] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


class DeviceRateLimit(CloudFormationLintRule):
    id = "E9501"
    shortdesc = "AWS WAF: a per-IP rate rule (Block 429) on every device route, on the stage"
    description = (
        "DeviceWafEnabled (true/false, default true) and DeviceWafRateLimit (a Number, at least "
        "AWS WAF's minimum of 10); one REGIONAL web ACL (default Allow, CloudWatch metrics, no "
        "sampled requests) whose rate-based rule counts per client IP up to DeviceWafRateLimit "
        "per 5 minutes only on the device routes (every one, as AWS WAF sees the path with or "
        "without a stage prefix) and blocks with 429; associated with the API's stage by a "
        "reference that orders it after the stage"
    )
    tags = ["portal-auth", "waf"]

    def match(self, cfn):
        t = p.plain(cfn.template)
        out: list[RuleMatch] = []
        declared = t.get("Parameters") or {}
        enabled = declared.get(p.WAF_ENABLED_PARAMETER)
        if not enabled:
            out.append(RuleMatch(["Parameters"], f"no {p.WAF_ENABLED_PARAMETER} parameter"))
        elif sorted(map(str, enabled.get("AllowedValues", []))) != ["false", "true"] or enabled.get("Default") != "true":
            out.append(RuleMatch(["Parameters", p.WAF_ENABLED_PARAMETER], f"{p.WAF_ENABLED_PARAMETER}: expected AllowedValues true/false and Default \"true\""))
        limit = declared.get(p.WAF_LIMIT_PARAMETER)
        if not limit:
            out.append(RuleMatch(["Parameters"], f"no {p.WAF_LIMIT_PARAMETER} parameter"))
        else:
            low = limit.get("MinValue")
            if limit.get("Type") != "Number" or not isinstance(low, int) or low < p.WAF_MIN_LIMIT:
                out.append(RuleMatch(["Parameters", p.WAF_LIMIT_PARAMETER], f"{p.WAF_LIMIT_PARAMETER}: expected a Number with MinValue >= {p.WAF_MIN_LIMIT} (AWS WAF's minimum), got {limit.get('Type')} MinValue {low!r}"))
            elif not isinstance(limit.get("Default"), int) or limit["Default"] < low:
                out.append(RuleMatch(["Parameters", p.WAF_LIMIT_PARAMETER], f"{p.WAF_LIMIT_PARAMETER}: Default {limit.get('Default')!r} is not a number >= MinValue"))

        acls = p.resources(t, "AWS::WAFv2::WebACL")
        if len(acls) != 1:
            return out + [RuleMatch(["Resources"], f"expected one web ACL, found {sorted(acls)}")]
        ((acl_lid, acl),) = acls.items()
        pr = p.props(acl)
        where = ["Resources", acl_lid, "Properties"]
        problems = []
        if pr.get("Scope") != "REGIONAL":
            problems.append(f"{acl_lid}: Scope {pr.get('Scope')!r}, expected REGIONAL (a regional REST API)")
        if pr.get("DefaultAction") != {"Allow": {}}:
            problems.append(f"{acl_lid}: DefaultAction {json.dumps(pr.get('DefaultAction'))}, expected Allow")
        problems += _visibility(acl_lid, pr.get("VisibilityConfig"))
        params = _parameter_defaults(t)
        must, must_not = sample_paths(t, params)
        rate_rules = [r for r in pr.get("Rules", []) if "RateBasedStatement" in (r.get("Statement") or {})]
        if not rate_rules:
            problems.append(f"{acl_lid}: no rate-based rule")
        else:
            found = [_rate_rule_problems(r, params, must, must_not) for r in rate_rules]
            if all(found):  # one good rate rule is enough
                problems += [v for f in found for v in f]
        out += [RuleMatch(where, m) for m in problems]

        found_api = p.openapi(t)
        api_lid = found_api[0] if found_api else None
        stages = {
            lid for lid, s in p.resources(t, "AWS::ApiGateway::Stage").items()
            if p.ref(p.props(s).get("RestApiId")) == api_lid
        }
        associated = False
        for lid, a in p.resources(t, "AWS::WAFv2::WebACLAssociation").items():
            ap = p.props(a)
            if p.getatt(ap.get("WebACLArn")) != (acl_lid, "Arn"):
                continue
            m = re.fullmatch(
                r"arn:(?:aws|\$\{AWS::Partition\}):apigateway:\$\{AWS::Region\}::/restapis/\$\{(\w+)\}/stages/\$\{([\w.:]+)\}",
                p.sub_string(ap.get("ResourceArn")) or "",
            )
            at = ["Resources", lid, "Properties", "ResourceArn"]
            if not m or m.group(1) != api_lid:
                out.append(RuleMatch(at, f"{lid}: ResourceArn {json.dumps(ap.get('ResourceArn'))} is not a stage of {api_lid}"))
                continue
            stage_ref, depends = m.group(2), set(p.as_list(a.get("DependsOn", [])))
            # ${Api.Stage} is SAM's reference to the stage it generates (a Ref of it); a Ref of a
            # stage resource orders the association after the stage too.
            if stage_ref == f"{api_lid}.Stage" or stage_ref in stages:
                associated = True
            elif depends & stages:
                associated = True
            else:
                out.append(RuleMatch(at, f"{lid}: names the stage by {stage_ref}, not by a reference to the stage resource (${{{api_lid}.Stage}}): it may be created before the stage and fail"))
        if not associated:
            out.append(RuleMatch(["Resources"], f"{acl_lid} is not associated with the stage of {api_lid} (an AWS::WAFv2::WebACLAssociation to arn:…:/restapis/${{{api_lid}}}/stages/${{{api_lid}.Stage}})"))
        return out


class DeviceRateLimitOptional(CloudFormationLintRule):
    id = "E9502"
    shortdesc = "AWS WAF: DeviceWafEnabled=false creates no web ACL or association"
    description = (
        "Every AWS::WAFv2::* resource carries a Condition that is exactly DeviceWafEnabled == "
        "\"true\", and there is a web ACL and an association under it: true creates both, false "
        "neither (cfn-lint's W1001 reports anything created that would then refer to them)"
    )
    tags = ["portal-auth", "waf"]

    def match(self, cfn):
        t = p.plain(cfn.template)
        conditions = t.get("Conditions") or {}
        out = []
        kinds = set()
        for lid, res in (t.get("Resources") or {}).items():
            kind = res.get("Type", "") if isinstance(res, dict) else ""
            if not kind.startswith("AWS::WAFv2::"):
                continue
            kinds.add(kind)
            cond = res.get("Condition")
            expr = conditions.get(cond) if isinstance(cond, str) else None
            if not isinstance(expr, dict) or set(expr) != {"Fn::Equals"}:
                out.append(RuleMatch(["Resources", lid], f"{lid}: created whatever {p.WAF_ENABLED_PARAMETER} says (its Condition is {json.dumps(cond)}, not {p.WAF_ENABLED_PARAMETER} == \"true\")"))
                continue
            operands = expr["Fn::Equals"]
            if sorted(map(json.dumps, operands)) != sorted([json.dumps({"Ref": p.WAF_ENABLED_PARAMETER}), json.dumps("true")]):
                out.append(RuleMatch(["Conditions", cond], f"{lid}: condition {cond} is {json.dumps(expr)}, not {p.WAF_ENABLED_PARAMETER} == \"true\""))
        missing = {"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"} - kinds
        if missing:
            out.append(RuleMatch(["Resources"], f"{p.WAF_ENABLED_PARAMETER}=true does not create {sorted(missing)}"))
        return out
