"""E9301: the grants table is design.md's ("Storage")."""

from __future__ import annotations

import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch

if str(Path(__file__).resolve().parent) not in sys.path:  # for _project, beside this file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import _project as p  # noqa: E402


class GrantsTable(CloudFormationLintRule):
    id = "E9301"
    shortdesc = "One grants table: on-demand, key pk, TTL on expires_at, PITR, SSE"
    description = (
        "Exactly one DynamoDB table: PAY_PER_REQUEST, the single string hash key pk, TTL "
        "enabled on expires_at, point-in-time recovery, server-side encryption, and no "
        "secondary index (the design is key lookups only)"
    )
    tags = ["portal-auth", "dynamodb"]

    def match(self, cfn):
        tables = p.resources(cfn.template, "AWS::DynamoDB::Table")
        if len(tables) != 1:
            return [RuleMatch(["Resources"], f"expected one DynamoDB table, found {sorted(tables)}")]
        ((lid, table),) = tables.items()
        pr = p.plain(p.props(table))
        where = ["Resources", lid, "Properties"]
        out = []
        if pr.get("BillingMode") != "PAY_PER_REQUEST":
            out.append(RuleMatch(where, f"{lid}: BillingMode {pr.get('BillingMode')!r}, expected PAY_PER_REQUEST"))
        if pr.get("KeySchema") != [{"AttributeName": "pk", "KeyType": "HASH"}]:
            out.append(RuleMatch(where, f"{lid}: KeySchema {pr.get('KeySchema')}, expected the single hash key pk"))
        if {"AttributeName": "pk", "AttributeType": "S"} not in (pr.get("AttributeDefinitions") or []):
            out.append(RuleMatch(where, f"{lid}: pk is not a string attribute"))
        ttl = pr.get("TimeToLiveSpecification") or {}
        if ttl.get("AttributeName") != "expires_at" or ttl.get("Enabled") is not True:
            out.append(RuleMatch(where, f"{lid}: TTL {ttl}, expected enabled on expires_at"))
        if (pr.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is not True:
            out.append(RuleMatch(where, f"{lid}: point-in-time recovery is not enabled"))
        if (pr.get("SSESpecification") or {}).get("SSEEnabled") is not True:
            out.append(RuleMatch(where, f"{lid}: SSESpecification.SSEEnabled is not true"))
        if pr.get("GlobalSecondaryIndexes") or pr.get("LocalSecondaryIndexes"):
            out.append(RuleMatch(where, f"{lid}: has secondary indexes (the design is key lookups only)"))
        return out
