// Prints the benchmark table: criterion's medians for the Rust authorizer beside
// aws-jwt-verify's verifySync, with the ratios the issue sets goals for.
//   node infra/bench/report.mjs <criterion dir> <aws-jwt-verify result.json>
import { readFileSync } from "node:fs";

const [criterionDir, nodeResult] = process.argv.slice(2);
const median = (bench) =>
  JSON.parse(readFileSync(`${criterionDir}/authorizer/${bench}/new/estimates.json`, "utf8"))
    .median.point_estimate;

const reference = JSON.parse(readFileSync(nodeResult, "utf8")).median_ns;
const signature = median("rs256_signature_check");
const rest = median("full_decision_rest_token");
const http = median("full_decision_http_api_v2");
const hit = median("verified_token_cache_hit");
const revoked0 = median("full_decision_rest_token_0_revoked");
const revoked1000 = median("full_decision_rest_token_1000_revoked");
const rules20 = median("full_decision_rest_token_20_rules");
const serialized = median("full_decision_rest_token_serialized");
const rules20Serialized = median("full_decision_rest_token_20_rules_serialized");

const us = (ns) => `${(ns / 1000).toFixed(2).padStart(8)} µs`;
const x = (r) => `${r.toFixed(2)}×`;
const rows = [
  ["aws-jwt-verify verifySync (cacheJwks)", reference, "1.00× (reference)"],
  ["RS256 signature check (aws-lc-rs)", signature, `${x(reference / signature)} faster`],
  ["full decision, REST TOKEN", rest, `${x(reference / rest)} faster; ${x(rest / signature)} the signature check`],
  ["full decision, HTTP API 2.0", http, `${x(reference / http)} faster; ${x(http / signature)} the signature check`],
  ["verified-token cache hit", hit, `${x(reference / hit)} faster`],
  ["full decision, revocations, 0 revoked", revoked0, `${x(revoked0 / rest)} the decision without`],
  ["full decision, revocations, 1,000 revoked", revoked1000, `${x(revoked1000 / revoked0)} the one with 0 revoked`],
  ["full decision, REST TOKEN, 20 rules", rules20, `${x(rules20 / signature)} the signature check; ${x(rules20 / rest)} without rules`],
  ["  + JSON answer, no rules", serialized, `${x(serialized / signature)} the signature check`],
  ["  + JSON answer, 20 rules", rules20Serialized, `${x(rules20Serialized / signature)} the signature check; ${x(rules20Serialized / serialized)} without rules`],
];
console.log("\nper verification (median)                 time         vs aws-jwt-verify");
for (const [name, ns, note] of rows) console.log(`${name.padEnd(40)} ${us(ns)}   ${note}`);

const goals = [
  ["full decision within 1.3× of the bare signature check", rest / signature <= 1.3],
  ["full decision at least 2× faster than aws-jwt-verify", reference / rest >= 2],
  ["verified-token cache hit at least 20× faster than aws-jwt-verify", reference / hit >= 20],
  ["1,000 revoked entries cost no measurable time (within 5% of 0)", revoked1000 / revoked0 <= 1.05],
  ["full decision with 20 per-route rules within 1.3× of the bare signature check", rules20 / signature <= 1.3],
];
console.log("");
for (const [goal, met] of goals) console.log(`${met ? "met   " : "MISSED"}  ${goal}`);
