// aws-jwt-verify's CognitoJwtVerifier on the token the Rust benchmark wrote, with the same JWKS
// preloaded via cacheJwks (no network) and the same client, scope and group rules, timing
// verifySync in a loop. Prints one JSON line: {"median_ns": …, "batches": …, "iterations": …}.
//   node infra/bench/aws-jwt-verify.mjs <input.json>
import { readFileSync } from "node:fs";
import { CognitoJwtVerifier } from "aws-jwt-verify";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const verifier = CognitoJwtVerifier.create({
  userPoolId: input.userPoolId,
  tokenUse: "access",
  clientId: input.clientId,
  scope: input.scope,
  groups: input.group,
});
verifier.cacheJwks(input.jwks);

// It must accept the token, or the timing would measure a failure path.
const payload = verifier.verifySync(input.token);
if (payload.iss !== input.issuer) {
  throw new Error(`aws-jwt-verify accepted an unexpected issuer: ${payload.iss}`);
}

const BATCH = 2000;
const BATCHES = 15;
for (let i = 0; i < 3 * BATCH; i++) verifier.verifySync(input.token);
const perIteration = [];
for (let b = 0; b < BATCHES; b++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) verifier.verifySync(input.token);
  perIteration.push(Number(process.hrtime.bigint() - start) / BATCH);
}
perIteration.sort((a, b) => a - b);
const median = perIteration[Math.floor(BATCHES / 2)];
console.log(JSON.stringify({ median_ns: median, batches: BATCHES, iterations: BATCH }));
