"""E94xx: the five functions, their environment, and the Portal CLI app client.

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
