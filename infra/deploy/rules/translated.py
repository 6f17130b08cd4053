"""E9000: the plain CloudFormation that SAM turns template.yaml into lints clean.

cfn-lint 1.x no longer runs the SAM transform: it merges Globals into the SAM resources and
validates them against SAM's schemas, and its circular-dependency rule (E3004) skips every
cycle that involves an AWS::Serverless::* resource. So a dependency cycle through the API
(an integration URI written as !GetAtt <Function>.Arn: the API then depends on the function,
whose PUBLIC_BASE_URL depends on the API) and a runtime in Globals that Lambda does not have
pass `cfn-lint template.yaml` and fail only at deploy time. This rule translates the template
with aws-sam-translator (the library CloudFormation's own AWS::Serverless transform is built
from, in-process and offline) and runs cfn-lint's own rules on the result.
"""

from __future__ import annotations

import copy
import json
import logging

from cfnlint.rules import CloudFormationLintRule, RuleMatch


class _NoManagedPolicies:
    """The translator asks for the account's managed policies only when a template names one;
    this template must not (it would need the IAM API, and those policies allow wildcards)."""

    def load(self) -> dict:
        raise RuntimeError("the template names an AWS managed policy; use the per-function roles")


_RULES = None


def _lint(translated: dict) -> list:
    """cfn-lint's default rules (not the appended ones: no recursion) on a template."""
    global _RULES
    from cfnlint.config import ConfigMixIn
    from cfnlint.core import get_rules
    from cfnlint.runner import run_template_by_data

    config = ConfigMixIn(cli_args=[], regions=["eu-west-1"])
    if _RULES is None:
        _RULES = get_rules([], [], [], include_experimental=False)
    decoded, errors = _decode(json.dumps(translated))
    return errors or list(run_template_by_data(decoded, config, _RULES))


def _decode(text: str):
    from cfnlint.decode.decode import decode_str

    return decode_str(text)


def _translate(sam: dict) -> dict:
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    sam = copy.deepcopy(sam)
    for resource in (sam.get("Resources") or {}).values():
        p = resource.get("Properties") if isinstance(resource, dict) else None
        # Local code paths are what `sam build` / `sam package` replace with S3 locations; the
        # translator accepts only the latter.
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(p, dict):
            uri = p.get("CodeUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                p["CodeUri"] = "s3://offline-placeholder/" + uri
    # A region of the aws partition, given rather than looked up (no AWS configuration is read).
    ArnGenerator.BOTO_SESSION_REGION_NAME = "eu-west-1"
    session = boto3.session.Session(region_name="eu-west-1")
    translator = Translator(None, Parser(), boto_session=session)
    return translator.translate(sam, parameter_values={}, get_managed_policy_map=_NoManagedPolicies().load)


class TranslatedTemplateLints(CloudFormationLintRule):
    id = "E9000"
    shortdesc = "The SAM-translated template lints clean"
    description = (
        "Translate the SAM template to plain CloudFormation (aws-sam-translator, offline) and "
        "run cfn-lint's rules on the result: dependency cycles through the API and Globals "
        "that only the translated template shows"
    )
    tags = ["portal-auth", "sam"]

    def match(self, cfn):
        if not cfn.has_serverless_transform():
            return []
        # The template as written (cfn.template has SAM's Globals merged in by cfn-lint).
        source, errors = _decode_file(cfn.filename)
        if errors or not isinstance(source, dict):
            return []  # cfn-lint reports the parse errors itself
        try:
            translated = _translate(json.loads(json.dumps(source)))
        except Exception as exc:  # noqa: BLE001 - the translator's refusal is the finding
            first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            return [RuleMatch(["Transform"], f"aws-sam-translator rejects the template: {first}")]
        return [
            RuleMatch(["Transform"], f"translated template: {m.rule.id} {m.message}")
            for m in _lint(translated)
            if m.rule.id[0] in "EW"
        ]


def _decode_file(filename: str):
    from cfnlint.decode.decode import decode

    return decode(filename)
