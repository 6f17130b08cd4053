"""E9601: what an operator needs is in the template (docs/operations.md, "Alarms", "Outputs")."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:  # for _project, beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _project as p  # noqa: E402


class AlarmsAndOutputs(CloudFormationLintRule):
    id = "E9601"
    shortdesc = "5xx and throttle alarms for the API and every function; the outputs"
    description = (
        "A Throttles alarm for every function and an Errors alarm for every device function "
        "(the authorizer fails by contract on every bad token), a 5XXError alarm on the API, an "
        "alarm on the 429s counted from the access log, every alarm notifying the optional "
        "AlarmTopicArn, and the outputs the operator's guide names"
    )
    tags = ["portal-auth", "operations"]

    def match(self, cfn):
        t = p.plain(cfn.template)
        out = []
        alarms = p.resources(t, "AWS::CloudWatch::Alarm")
        lambda_alarms = {
            (p.props(a).get("MetricName"), p.ref(d.get("Value")))
            for a in alarms.values()
            if p.props(a).get("Namespace") == "AWS/Lambda"
            for d in p.props(a).get("Dimensions", [])
            if d.get("Name") == "FunctionName"
        }
        for binary, lid in sorted(p.function_names(t).items()):
            if ("Throttles", lid) not in lambda_alarms:
                out.append(RuleMatch(["Resources", lid], f"{binary}: no Throttles alarm"))
            if binary != "authorizer" and ("Errors", lid) not in lambda_alarms:
                out.append(RuleMatch(["Resources", lid], f"{binary}: no Errors alarm"))
        found = p.openapi(t)
        if found:
            api_name = p.props(t["Resources"][found[0]]).get("Name")
            if not any(
                p.props(a).get("Namespace") == "AWS/ApiGateway" and p.props(a).get("MetricName") == "5XXError"
                and {"Name": "ApiName", "Value": api_name} in p.props(a).get("Dimensions", [])
                for a in alarms.values()
            ):
                out.append(RuleMatch(["Resources", found[0]], f"no 5XXError alarm on the API (ApiName {json.dumps(api_name)})"))
        throttle_metrics = {
            (json.dumps(tr.get("MetricNamespace")), tr.get("MetricName"))
            for f in p.resources(t, "AWS::Logs::MetricFilter").values()
            if "429" in str(p.props(f).get("FilterPattern", ""))
            for tr in p.props(f).get("MetricTransformations", [])
        }
        if not any((json.dumps(p.props(a).get("Namespace")), p.props(a).get("MetricName")) in throttle_metrics for a in alarms.values()):
            out.append(RuleMatch(["Resources"], "no alarm on the API's throttled (429) requests"))
        for lid, a in sorted(alarms.items()):
            for key in ("AlarmActions", "OKActions"):
                if p.props(a).get(key) != p.OPTIONAL_ALARM_TOPIC:
                    out.append(RuleMatch(["Resources", lid, "Properties"], f"{lid}: {key} is not the optional AlarmTopicArn"))
        missing = p.REQUIRED_OUTPUTS - set(t.get("Outputs") or {})
        if missing:
            out.append(RuleMatch(["Outputs"], f"missing outputs {sorted(missing)}"))
        return out
