"""E9602: the metrics dashboard and the phishing-surge alarms (docs/operations.md, "Metrics").

The functions emit embedded-metric-format lines in namespace PortalAuth with a `client_id`
dimension whose values differ per deployment, so the template can name no client id: the
dashboard must sum every series of each metric with a SEARCH expression, and an alarm, which
cannot use SEARCH, must watch a Metrics Insights query without GROUP BY (one time series over
every client id) whose evaluation window fits the 3 hours such an alarm can read.
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

NS = p.METRICS_NAMESPACE
RISES = {"GreaterThanThreshold", "GreaterThanOrEqualToThreshold"}


def dashboard_body(value) -> str | None:
    """The body's text: a string, or the template string of an Fn::Sub."""
    return value if isinstance(value, str) else p.sub_string(value)


def expressions(body) -> list[str]:
    """Every metric widget's math expressions (a plain metric array names fixed dimension
    values, so it never covers every client id)."""
    widgets = body.get("widgets") if isinstance(body, dict) else None
    exprs = []
    for widget in widgets if isinstance(widgets, list) else []:
        props = widget.get("properties") if isinstance(widget, dict) else None
        metrics = props.get("metrics") if isinstance(props, dict) else None
        for entry in metrics if isinstance(metrics, list) else []:
            for option in entry if isinstance(entry, list) else []:
                if isinstance(option, dict) and "expression" in option:
                    exprs.append(str(option["expression"]))
    return exprs


def searched(expression: str) -> set[str]:
    """The metric names a SEARCH in `expression` finds over every client id of namespace NS: a
    `Namespace="NS"` term (every dimension set), or a `{NS, function, ...}` schema."""
    names = set()
    for term in re.findall(r"SEARCH\(\s*'([^']*)'", expression):
        schema = re.match(r"\s*\{([^}]*)\}", term)
        parts = [x.strip().strip('"') for x in schema.group(1).split(",")] if schema else []
        in_namespace = re.search(r'Namespace\s*=\s*"' + re.escape(NS) + '"', term) or (
            parts[:1] == [NS] and "function" in parts[1:]
        )
        if in_namespace:
            names |= set(re.findall(r'MetricName\s*=\s*"([^"]+)"', term))
    return names


def insights_query(name: str) -> re.Pattern:
    """SELECT SUM(name) FROM NS (or FROM SCHEMA(NS, ...)), optionally WHERE, no GROUP BY."""
    ns = f'"?{re.escape(NS)}"?'
    return re.compile(
        rf'\s*SELECT\s+SUM\(\s*"?{re.escape(name)}"?\s*\)\s+FROM\s+(?:{ns}|SCHEMA\(\s*{ns}\s*(?:,[^)]*)?\))'
        r"(?:\s+WHERE\s+(?:(?!GROUP\s+BY).)*)?\s*;?\s*",
        re.IGNORECASE | re.DOTALL,
    )


def number(value) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


class MetricsDashboardAndSurgeAlarms(CloudFormationLintRule):
    id = "E9602"
    shortdesc = "A dashboard of every PortalAuth metric over all client ids; surge alarms on RemoteApprovals and Denials"
    description = (
        "An AWS::CloudWatch::Dashboard named from the stack whose widgets sum, with SEARCH, every "
        "device-flow and authorizer metric of namespace PortalAuth over every client id; and for "
        "RemoteApprovals and for Denials an alarm on a Metrics Insights query (SELECT SUM(...) FROM "
        "PortalAuth, no GROUP BY) within its 3-hour window, on a rise above a Number parameter, "
        "missing data not breaching, notifying the optional AlarmTopicArn"
    )
    tags = ["portal-auth", "operations", "metrics"]

    def match(self, cfn):
        t = p.plain(cfn.template)
        out = []
        dashboards = p.resources(t, "AWS::CloudWatch::Dashboard")
        if not dashboards:
            out.append(RuleMatch(["Resources"], "no AWS::CloudWatch::Dashboard of the PortalAuth metrics"))
        shown: set[str] = set()
        unreadable = False
        for lid, dashboard in sorted(dashboards.items()):
            props = p.props(dashboard)
            path = ["Resources", lid, "Properties"]
            if "${AWS::StackName}" not in (p.sub_string(props.get("DashboardName")) or ""):
                out.append(RuleMatch(path + ["DashboardName"], f"{lid}: DashboardName is not named from the stack (!Sub ...${{AWS::StackName}}...)"))
            text = dashboard_body(props.get("DashboardBody"))
            try:
                # ${Param} of a Sub is a string or a number where it stands: 0 parses as either.
                body = json.loads(re.sub(r"\$\{[^}]*\}", "0", text)) if text is not None else None
            except ValueError as e:
                out.append(RuleMatch(path + ["DashboardBody"], f"{lid}: DashboardBody is not JSON ({e})"))
                unreadable = True
                continue
            if body is None:
                out.append(RuleMatch(path + ["DashboardBody"], f"{lid}: DashboardBody is not JSON (not a string or an Fn::Sub of one)"))
                unreadable = True
                continue
            for expression in expressions(body):
                shown |= searched(expression)
        if dashboards and not unreadable:  # an unreadable body is reported once, above
            for name in p.DEVICE_METRICS + p.AUTHORIZER_METRICS:
                if name not in shown:
                    out.append(RuleMatch(
                        ["Resources"],
                        f'the dashboard does not show {name} over every client id (a SEARCH of Namespace="{NS}" MetricName="{name}")',
                    ))

        alarms = p.resources(t, "AWS::CloudWatch::Alarm")
        parameters = t.get("Parameters") or {}
        for name in p.SURGE_ALARM_METRICS:
            query = insights_query(name)
            found = False
            for lid, alarm in sorted(alarms.items()):
                props = p.props(alarm)
                path = ["Resources", lid, "Properties"]
                queries = [q for q in p.as_list(props.get("Metrics") or []) if isinstance(q, dict)]
                returned = [q for q in queries if str(q.get("ReturnData", "true")).lower() == "true"]
                texts = [str(q.get("Expression", "")) for q in queries]
                mentions = [x for x in texts if re.search(rf"\b{re.escape(name)}\b", x)]
                if props.get("Namespace") == NS and props.get("MetricName") == name:
                    dims = [d.get("Name") for d in p.as_list(props.get("Dimensions") or []) if isinstance(d, dict)]
                    out.append(RuleMatch(path, f"{lid}: watches {name} of one fixed dimension set {dims}, not every client id"))
                for x in mentions:
                    if "SEARCH(" in x.upper():
                        out.append(RuleMatch(path + ["Metrics"], f"{lid}: alarms cannot use SEARCH ({x})"))
                    elif re.search(r"GROUP\s+BY", x, re.IGNORECASE):
                        out.append(RuleMatch(path + ["Metrics"], f"{lid}: {name} with GROUP BY is one series per group, not the sum over every client id"))
                hits = [q for q in returned if query.fullmatch(str(q.get("Expression", "")))]
                if not hits:
                    continue
                found = True
                period = number(hits[0].get("Period"))
                evaluations = number(props.get("EvaluationPeriods"))
                if period is None or evaluations is None:
                    out.append(RuleMatch(path, f"{lid}: the query has no Period, or the alarm no EvaluationPeriods"))
                elif period * evaluations > p.METRICS_INSIGHTS_ALARM_WINDOW_SECONDS:
                    out.append(RuleMatch(path, f"{lid}: evaluates {period} s x {evaluations}, more than the 3 hours a Metrics Insights alarm can read"))
                threshold = p.ref(props.get("Threshold"))
                param = parameters.get(threshold) if threshold else None
                if not (isinstance(param, dict) and param.get("Type") == "Number" and "Default" in param):
                    out.append(RuleMatch(path + ["Threshold"], f"{lid}: Threshold is not a Number parameter with a default"))
                if props.get("ComparisonOperator") not in RISES:
                    out.append(RuleMatch(path + ["ComparisonOperator"], f"{lid}: does not alarm on a rise of {name} ({props.get('ComparisonOperator')})"))
                if props.get("TreatMissingData") != "notBreaching":
                    out.append(RuleMatch(path, f"{lid}: TreatMissingData is not notBreaching (no {name} at all is no surge)"))
                for key in ("AlarmActions", "OKActions"):
                    if props.get(key) != p.OPTIONAL_ALARM_TOPIC:
                        out.append(RuleMatch(path, f"{lid}: {key} does not notify the optional AlarmTopicArn"))
            if not found:
                out.append(RuleMatch(
                    ["Resources"],
                    f"no alarm on a surge of {name}: a Metrics Insights query SELECT SUM({name}) FROM {NS} (one series over every client id)",
                ))
        return out
