"""E94xx: the five functions, their environment, the Portal CLI app client, and the
authorizer's per-route rules and the new pool's issuer format (issue 14).

cfn-lint merges SAM's Globals into each AWS::Serverless::Function before these rules run, so
a runtime or architecture set in Globals is checked where it lands.
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


class Functions(CloudFormationLintRule):
    id = "E9401"
    shortdesc = "Five functions: provided.al2023, arm64, cargo-lambda, JSON logs with retention"
    description = (
        "Exactly design.md's five functions, each named ${AWS::StackName}-<binary>, on "
        "provided.al2023 / arm64 with Handler bootstrap, built by rust-cargolambda from its own "
        "binary, logging JSON into its own log group /aws/lambda/<function name> with a retention"
    )
    tags = ["portal-auth", "lambda"]

    def match(self, cfn):
        t = cfn.template
        out = []
        fns = p.function_names(t)
        lambdas = p.resources(t, *p.FUNCTION_TYPES)
        if set(fns) != set(p.FUNCTIONS) or len(lambdas) != len(p.FUNCTIONS):
            out.append(RuleMatch(["Resources"], f"functions {sorted(fns)} (of {len(lambdas)} Lambda functions), expected exactly {sorted(p.FUNCTIONS)}"))
        for binary, lid in sorted(fns.items()):
            res = t["Resources"][lid]
            pr = p.props(res)
            where = ["Resources", lid, "Properties"]
            if pr.get("Runtime") != "provided.al2023":
                out.append(RuleMatch(where, f"{binary}: Runtime {pr.get('Runtime')!r}, expected provided.al2023"))
            if p.plain(pr.get("Architectures")) != ["arm64"]:
                out.append(RuleMatch(where, f"{binary}: Architectures {p.plain(pr.get('Architectures'))!r}, expected ['arm64']"))
            if pr.get("Handler") != "bootstrap":
                out.append(RuleMatch(where, f"{binary}: Handler {pr.get('Handler')!r}, expected bootstrap"))
            meta = res.get("Metadata") or {}
            if meta.get("BuildMethod") != "rust-cargolambda":
                out.append(RuleMatch(["Resources", lid], f"{binary}: Metadata.BuildMethod {meta.get('BuildMethod')!r}, expected rust-cargolambda"))
            if (meta.get("BuildProperties") or {}).get("Binary") != binary:
                out.append(RuleMatch(["Resources", lid], f"{binary}: Metadata.BuildProperties.Binary is not {binary!r}"))
            logging_config = pr.get("LoggingConfig") or {}
            if logging_config.get("LogFormat") != "JSON":
                out.append(RuleMatch(where, f"{binary}: LoggingConfig.LogFormat is not JSON"))
            group = t["Resources"].get(p.ref(logging_config.get("LogGroup")) or "", {})
            if not isinstance(group, dict) or group.get("Type") != "AWS::Logs::LogGroup" or not p.props(group).get("RetentionInDays"):
                out.append(RuleMatch(where, f"{binary}: LoggingConfig.LogGroup is not a log group of this template with a retention"))
            elif p.sub_string(p.props(group).get("LogGroupName")) != f"/aws/lambda/${{AWS::StackName}}-{binary}":
                out.append(RuleMatch(where, f"{binary}: log group name is not /aws/lambda/<function name>"))
        return out


class Environment(CloudFormationLintRule):
    id = "E9402"
    shortdesc = "Each function gets design.md's variables, nothing unknown, no secret"
    description = (
        "Each function's environment holds design.md's required variables and only its allowed "
        "ones, no secret-looking name (app client secrets come from DescribeUserPoolClient at run "
        "time), and no app client of the template generates a secret (public clients, PKCE)"
    )
    tags = ["portal-auth", "lambda", "cognito"]

    def match(self, cfn):
        t = cfn.template
        out = []
        for binary, lid in sorted(p.function_names(t).items()):
            env = (p.props(t["Resources"][lid]).get("Environment") or {}).get("Variables") or {}
            where = ["Resources", lid, "Properties", "Environment"]
            missing = p.REQUIRED_ENV.get(binary, set()) - set(env)
            unknown = set(env) - p.ALLOWED_ENV.get(binary, set())
            if missing:
                out.append(RuleMatch(where, f"{binary}: missing environment {sorted(missing)}"))
            if unknown:
                out.append(RuleMatch(where, f"{binary}: unexpected environment {sorted(unknown)}"))
            for name in env:
                if re.search(r"SECRET|PASSWORD|PRIVATE|CREDENTIAL", name, re.I):
                    out.append(RuleMatch(where, f"{binary}: secret-looking variable {name}"))
        for lid, res in p.resources(t, "AWS::Cognito::UserPoolClient").items():
            if p.props(res).get("GenerateSecret"):
                out.append(RuleMatch(["Resources", lid, "Properties"], f"{lid}: generates a client secret (the portal's clients are public, PKCE)"))
        return out


class CallbackIsPublicBaseUrl(CloudFormationLintRule):
    id = "E9403"
    shortdesc = "Portal CLI callback URL = PUBLIC_BASE_URL + /device/callback"
    description = (
        "The device functions share one PUBLIC_BASE_URL and the Portal CLI app client's only "
        "callback URL is that + /device/callback (design.md), so Cognito redirects where "
        "device-callback expects"
    )
    tags = ["portal-auth", "cognito"]

    def match(self, cfn):
        t = cfn.template
        fns = p.function_names(t)
        bases = [
            p.plain((p.props(t["Resources"][fns[b]]).get("Environment") or {}).get("Variables", {}).get("PUBLIC_BASE_URL"))
            for b in p.DEVICE_FUNCTIONS
            if b in fns
        ]
        if not bases or any(b != bases[0] for b in bases):
            return [RuleMatch(["Resources"], "the device functions do not share one PUBLIC_BASE_URL")]
        cli = [(lid, c) for lid, c in p.resources(t, "AWS::Cognito::UserPoolClient").items() if p.props(c).get("ClientName") == "Portal CLI"]
        if len(cli) != 1:
            return [RuleMatch(["Resources"], "no single 'Portal CLI' app client")]
        lid, client = cli[0]
        callbacks = p.plain(p.props(client).get("CallbackURLs") or [])
        want = {"Fn::Sub": ["${Base}/device/callback", {"Base": bases[0]}]}
        if callbacks != [want]:
            return [RuleMatch(["Resources", lid, "Properties", "CallbackURLs"], f"Portal CLI callback URLs {json.dumps(callbacks)} are not PUBLIC_BASE_URL + /device/callback")]
        return []


class AuthorizerRulesAndIssuerType(CloudFormationLintRule):
    id = "E9404"
    shortdesc = "AuthorizerRules reaches the authorizer within Lambda's 4 KB environment; UserPoolIssuerType sets the pool's issuer"
    description = (
        "The authorizer's AUTHORIZER_RULES is exactly !Ref AuthorizerRules, a String parameter "
        "with Default \"\" (no per-route rules) and a MaxLength that keeps the authorizer's whole "
        "environment, every other value at its longest and a reserve for the optional "
        "COGNITO_* overrides and escapes, within the 4096 bytes Lambda allows "
        "({\"KEY\":\"value\",...}); UserPoolIssuerType is a String with exactly the "
        "AllowedValues ORIGINAL and UPDATED, Default ORIGINAL, and every AWS::Cognito::UserPool "
        "of the template takes its IssuerConfiguration.Type from it"
    )
    tags = ["portal-auth", "lambda", "cognito"]

    def match(self, cfn):
        t = cfn.template
        out = []
        params = t.get("Parameters") or {}
        name, var = p.RULES_PARAMETER, p.RULES_VARIABLE

        # The variable.
        lid = p.function_names(t).get("authorizer")
        env = None
        if lid is None:
            out.append(RuleMatch(["Resources"], "no authorizer function (${AWS::StackName}-authorizer) to give AUTHORIZER_RULES"))
        else:
            env = (p.props(t["Resources"][lid]).get("Environment") or {}).get("Variables") or {}
            where = ["Resources", lid, "Properties", "Environment", "Variables"]
            if var not in env:
                out.append(RuleMatch(where, f"authorizer: no {var} (expected !Ref {name})"))
            elif p.plain(env[var]) != {"Ref": name}:
                out.append(RuleMatch(where + [var], f"authorizer: {var} is {json.dumps(p.plain(env[var]))}, not exactly !Ref {name}"))

        # The parameter, and the environment budget it must fit.
        rules = params.get(name)
        where = ["Parameters", name]
        if not isinstance(rules, dict):
            out.append(RuleMatch(["Parameters"], f"no parameter {name}"))
        else:
            if rules.get("Type") != "String":
                out.append(RuleMatch(where, f"{name}: Type {rules.get('Type')!r}, expected String (one string, parsed by the authorizer)"))
            if rules.get("Default") != "":
                out.append(RuleMatch(where, f"{name}: Default {json.dumps(p.plain(rules.get('Default')))}, expected \"\" (no per-route rules)"))
            limit = rules.get("MaxLength")
            if limit is None or not str(limit).isdigit():
                out.append(RuleMatch(where, f"{name}: no MaxLength (Lambda refuses an environment over {p.LAMBDA_ENVIRONMENT_LIMIT} bytes)"))
            elif env is not None:
                others = {k: v for k, v in env.items() if k != var}
                size, why = p.environment_size(t, others)
                if size is None:
                    out.append(RuleMatch(["Resources", lid, "Properties", "Environment", "Variables"],
                                         f"authorizer: environment without an upper bound ({why}), so no MaxLength of {name} can be shown to fit Lambda's {p.LAMBDA_ENVIRONMENT_LIMIT} bytes"))
                else:
                    size += len(var) + 5 + (1 if others else 0)  # "AUTHORIZER_RULES":"", and its comma
                    budget = p.LAMBDA_ENVIRONMENT_LIMIT - p.AUTHORIZER_ENVIRONMENT_RESERVE - size
                    if int(str(limit)) > budget:
                        out.append(RuleMatch(where, (
                            f"{name}: MaxLength {limit} exceeds the authorizer's environment budget {budget}: "
                            f"its other variables take at most {size} of Lambda's {p.LAMBDA_ENVIRONMENT_LIMIT} bytes "
                            f"as Lambda measures them, {p.AUTHORIZER_ENVIRONMENT_RESERVE} are reserved")))

        # The issuer type.
        it_name = p.ISSUER_TYPE_PARAMETER
        issuer = params.get(it_name)
        where = ["Parameters", it_name]
        if not isinstance(issuer, dict):
            out.append(RuleMatch(["Parameters"], f"no parameter {it_name}"))
        else:
            allowed = p.plain(issuer.get("AllowedValues"))
            if issuer.get("Type") != "String":
                out.append(RuleMatch(where, f"{it_name}: Type {issuer.get('Type')!r}, expected String"))
            if not isinstance(allowed, list) or sorted(map(str, allowed)) != p.ISSUER_TYPES:
                out.append(RuleMatch(where, f"{it_name}: AllowedValues {json.dumps(allowed)}, expected exactly {json.dumps(p.ISSUER_TYPES)}"))
            if issuer.get("Default") != p.ISSUER_TYPE_DEFAULT:
                out.append(RuleMatch(where, f"{it_name}: Default {json.dumps(p.plain(issuer.get('Default')))}, expected {p.ISSUER_TYPE_DEFAULT} (an update must not change the iss under a portal that checks it)"))
        pools = p.resources(t, "AWS::Cognito::UserPool")
        if not pools:
            out.append(RuleMatch(["Resources"], f"no AWS::Cognito::UserPool for {it_name} to configure"))
        for pool_lid, pool in sorted(pools.items()):
            got = p.plain(p.props(pool).get("IssuerConfiguration"))
            if got != {"Type": {"Ref": it_name}}:
                out.append(RuleMatch(["Resources", pool_lid, "Properties"], f"{pool_lid}: IssuerConfiguration {json.dumps(got)}, expected {{\"Type\": !Ref {it_name}}}"))
        return out
