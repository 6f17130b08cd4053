"""E91xx: IAM in template.yaml is least privilege (design.md, "Storage"; issue 5).

Which DynamoDB and Cognito actions each function's role holds is compared with what the
function's crate declares (`IAM_ACTIONS`) by tests/tests/integration/deploy_config.rs; these
rules check what holds for every role whatever its code needs: no wildcard, each role its own,
only item actions by key on the grants table, only DescribeUserPoolClient on the one pool, only
its own log group, and the authorizer with no data access but the revocation records (issue
13): BatchGetItem on the grants table with every key restricted to revoked#*, never a grant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:  # for _project, beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _project as p  # noqa: E402


def _documents(template: dict):
    """(path, policy document) of every IAM policy in the template."""
    for lid, res in p.resources(template, "AWS::IAM::Role").items():
        for i, policy in enumerate(p.as_list(p.props(res).get("Policies") or [])):
            if isinstance(policy, dict):
                yield ["Resources", lid, "Properties", "Policies", i, "PolicyDocument"], policy.get("PolicyDocument")
    for lid, res in p.resources(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy").items():
        yield ["Resources", lid, "Properties", "PolicyDocument"], p.props(res).get("PolicyDocument")


class NoWildcardIam(CloudFormationLintRule):
    id = "E9101"
    shortdesc = "No wildcard IAM, no managed policies"
    description = (
        "No '*' in any IAM action or resource, no NotAction/NotResource/NotPrincipal, no "
        "managed policies on a role (AWSLambdaBasicExecutionRole allows logs actions on '*'), "
        "and every Lambda permission names a principal, an action without '*' and a SourceArn"
    )
    tags = ["portal-auth", "iam"]

    def match(self, cfn):
        t = cfn.template
        out = []
        for lid, res in p.resources(t, "AWS::IAM::Role").items():
            if p.props(res).get("ManagedPolicyArns"):
                out.append(RuleMatch(["Resources", lid, "Properties", "ManagedPolicyArns"], f"{lid}: managed policies attached (they allow wildcards); use inline statements"))
        for path, doc in _documents(t):
            for j, st in enumerate(p.as_list((doc or {}).get("Statement") or []) if isinstance(doc, dict) else []):
                if not isinstance(st, dict):
                    continue
                where = path + ["Statement", j]
                for key in ("NotAction", "NotResource", "NotPrincipal"):
                    if key in st:
                        out.append(RuleMatch(where + [key], f"{path[1]}: {key} is not allowed"))
                for action in p.strings_in(st.get("Action")):
                    if "*" in action:
                        out.append(RuleMatch(where + ["Action"], f"{path[1]}: wildcard action {action!r}"))
                # GetAtt <LogGroup>.Arn is written without a wildcard: its value ends in ':*', the
                # log streams of that one group, the narrowest resource logs:PutLogEvents takes.
                for value in p.strings_in(st.get("Resource")):
                    if "*" in value:
                        out.append(RuleMatch(where + ["Resource"], f"{path[1]}: wildcard resource {value!r}"))
        for lid, res in p.resources(t, "AWS::Lambda::Permission").items():
            pr = p.props(res)
            if "*" in p.strings_in(pr.get("Action")) or pr.get("Principal") in ("*", None):
                out.append(RuleMatch(["Resources", lid], f"{lid}: Lambda permission with a wildcard action or principal"))
            if not pr.get("SourceArn"):
                out.append(RuleMatch(["Resources", lid], f"{lid}: Lambda permission without SourceArn"))
        return out


class FunctionRolesLeastPrivilege(CloudFormationLintRule):
    id = "E9102"
    shortdesc = "Each function: its own role, the grants table, the one pool, its own logs"
    description = (
        "Every function's Role is GetAtt of an AWS::IAM::Role of this template used by no other "
        "function; its statements Allow only DynamoDB item actions by key (no Scan, Query or "
        "batch; the authorizer alone dynamodb:BatchGetItem, and only under the Condition "
        "ForAllValues:StringLike dynamodb:LeadingKeys [revoked#*]) on the grants table, "
        "cognito-idp:DescribeUserPoolClient on the one user pool, and "
        "logs:CreateLogStream/PutLogEvents on the function's own log group; nothing else"
    )
    tags = ["portal-auth", "iam"]

    def match(self, cfn):
        t = cfn.template
        out = []
        tables = p.resources(t, "AWS::DynamoDB::Table")
        table = next(iter(tables)) if len(tables) == 1 else None
        if table is None:
            out.append(RuleMatch(["Resources"], f"expected one DynamoDB table, found {sorted(tables)}"))
        roles_seen: dict[str, str] = {}
        for binary, lid in sorted(p.function_names(t).items()):
            role = p.role_of(t, lid)
            if role is None:
                out.append(RuleMatch(["Resources", lid, "Properties"], f"{binary}: Role is not GetAtt <an AWS::IAM::Role of this template>.Arn"))
                continue
            if role in roles_seen:
                out.append(RuleMatch(["Resources", lid, "Properties", "Role"], f"{binary} shares role {role} with {roles_seen[role]}"))
            roles_seen[role] = binary
            own_group = p.ref((p.props(t["Resources"][lid]).get("LoggingConfig") or {}).get("LogGroup"))
            for path, st in p.role_statements(t["Resources"][role]):
                where = ["Resources", role] + path
                if st.get("Effect") != "Allow":
                    continue
                for action in p.strings_in(st.get("Action")):
                    resources = p.as_list(st.get("Resource"))
                    service = action.split(":", 1)[0].lower()
                    if service == "dynamodb":
                        if binary == "authorizer" and action == p.REVOCATION_READ_ACTION:
                            # Issue 13: the revocation buckets' one read, and nothing else.
                            problem = p.revocation_condition_problem(st)
                            if problem:
                                out.append(RuleMatch(where, f"{binary}: {action} {problem}: the authorizer may batch-read only keys {json.dumps(p.REVOCATION_KEY_PATTERNS)} ({p.REVOCATION_KEY_OPERATOR} {p.REVOCATION_KEY_CONDITION_KEY}), never a grant"))
                        elif action not in p.DYNAMODB_ITEM_ACTIONS:
                            out.append(RuleMatch(where + ["Action"], f"{binary}: {action} is not an item action by key (design.md: no Scan, no Query, no batch, O(1) requests)"))
                        for msg in p.table_arn_problems(t, binary, action, st):
                            out.append(RuleMatch(where + ["Resource"], msg))
                    elif service == "cognito-idp":
                        if action not in p.COGNITO_ACTIONS:
                            out.append(RuleMatch(where + ["Action"], f"{binary}: unexpected Cognito action {action}"))
                        for r in resources:
                            for alt in p.alternatives(r):
                                if p.getatt(alt) == ("UserPool", "Arn"):
                                    continue
                                if not (p.sub_string(alt) or "").endswith(":userpool/${ExistingUserPoolId}"):
                                    out.append(RuleMatch(where + ["Resource"], f"{binary}: {action} on {json.dumps(p.plain(alt))}, not the one user pool"))
                    elif service == "logs":
                        if action not in p.LOG_ACTIONS:
                            out.append(RuleMatch(where + ["Action"], f"{binary}: unexpected logs action {action}"))
                        for r in resources:
                            if own_group is None or p.getatt(r) != (own_group, "Arn"):
                                out.append(RuleMatch(where + ["Resource"], f"{binary}: {action} on {json.dumps(p.plain(r))}, not its own log group {own_group}"))
                    else:
                        out.append(RuleMatch(where + ["Action"], f"{binary}: unexpected action {action}"))
        return out


class AuthorizerReadsOnlyRevocations(CloudFormationLintRule):
    id = "E9103"
    shortdesc = "The authorizer reads only the revocation buckets: no other DynamoDB, no Cognito, no table"
    description = (
        "The authorizer's role allows its own logs and, at most, dynamodb:BatchGetItem on the "
        "grants table (exactly its Arn) under the Condition ForAllValues:StringLike "
        "dynamodb:LeadingKeys [revoked#*] (every key of the request a revocation bucket, never "
        "a grant); no other DynamoDB action, no Cognito API (the JWKS is public HTTPS), nothing "
        "else. It is not told TABLE_NAME; AUTHORIZER_REVOCATION_TABLE, when set, is the grants "
        "table and comes with that read (without it every cold start would fail closed)"
    )
    tags = ["portal-auth", "iam"]

    def match(self, cfn):
        t = cfn.template
        lid = p.function_names(t).get("authorizer")
        if lid is None:
            return [RuleMatch(["Resources"], "no function named ${AWS::StackName}-authorizer")]
        out = []
        reads_revocations = False
        role = p.role_of(t, lid)
        if role is None:
            out.append(RuleMatch(["Resources", lid, "Properties"], "authorizer: Role is not GetAtt <an AWS::IAM::Role of this template>.Arn"))
        else:
            for path, st in p.role_statements(t["Resources"][role]):
                where = ["Resources", role] + path
                for action in p.strings_in(st.get("Action")):
                    if action.lower().startswith("logs:"):
                        continue
                    if action.lower() == p.REVOCATION_READ_ACTION.lower() and st.get("Effect") == "Allow":
                        problems = [
                            m.replace("authorizer: ", "authorizer: may ", 1)
                            for m in p.table_arn_problems(t, "authorizer", action, st)
                        ]
                        condition = p.revocation_condition_problem(st)
                        if condition:
                            problems.append(
                                f"authorizer: may {action} {condition}, not only the revocation buckets "
                                f"(needs {p.REVOCATION_KEY_OPERATOR} {p.REVOCATION_KEY_CONDITION_KEY} "
                                f"{json.dumps(p.REVOCATION_KEY_PATTERNS)}): it could read grants"
                            )
                        out += [RuleMatch(where, msg) for msg in problems]
                        reads_revocations = reads_revocations or not problems
                        continue
                    out.append(RuleMatch(where, f"authorizer: may {action} (only its own logs, and {p.REVOCATION_READ_ACTION} of the revocation buckets, are allowed)"))
        env = ((p.props(t["Resources"][lid]).get("Environment") or {}).get("Variables")) or {}
        where = ["Resources", lid, "Properties", "Environment"]
        if "TABLE_NAME" in env:
            out.append(RuleMatch(where, "authorizer: has TABLE_NAME in its environment"))
        if "AUTHORIZER_REVOCATION_TABLE" in env:
            tables = p.resources(t, "AWS::DynamoDB::Table")
            told = p.ref(env["AUTHORIZER_REVOCATION_TABLE"])
            if len(tables) != 1 or told not in tables:
                out.append(RuleMatch(where, f"authorizer: AUTHORIZER_REVOCATION_TABLE is {json.dumps(p.plain(env['AUTHORIZER_REVOCATION_TABLE']))}, not !Ref of the grants table"))
            elif role is not None and not reads_revocations:
                out.append(RuleMatch(where, "authorizer: has AUTHORIZER_REVOCATION_TABLE but its role may not read the revocation buckets (every cold start would fail closed: 401 revocations_unavailable)"))
        return out
