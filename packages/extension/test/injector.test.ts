import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FAULT_ERROR_TYPE, planInvocation, qualifierMatches, seededRandom } from "../src/index.ts";
import { activeFault, delay, error, integration } from "./helpers/faults.ts";

const T0 = Date.parse("2026-11-26T12:00:00.000Z");
const ARN = "arn:aws:lambda:us-east-1:123456789012:function:demo";
const identity = { invokedFunctionArn: ARN, functionVersion: "$LATEST" };
const always = () => 0;

describe("planInvocation", () => {
  it("applies nothing outside a fault's window", () => {
    const fault = activeFault(delay(500), T0, 1000);
    assert.deepEqual(planInvocation([fault], T0 - 1, identity, always), {});
    assert.deepEqual(planInvocation([fault], T0 + 1000, identity, always), {});
    assert.equal(planInvocation([fault], T0 + 999, identity, always).delay?.milliseconds, 500);
  });

  it("stacks different kinds: a delay, then an error", () => {
    const plan = planInvocation(
      [activeFault(delay(200), T0), activeFault(error(true), T0)],
      T0,
      identity,
      always,
    );
    assert.equal(plan.delay?.milliseconds, 200);
    assert.equal(plan.outcome?.preventExecution, true);
    assert.equal(plan.outcome?.outcome.kind, "error");
  });

  it("lets the earliest start win a conflict, then hands over when it ends", () => {
    const first = activeFault({ ...error(false), actionName: "first" }, T0, 10_000);
    const second = activeFault({ ...integration(503, true), actionName: "second" }, T0 + 5000, 20_000);
    const during = planInvocation([second, first], T0 + 6000, identity, always);
    assert.equal(during.outcome?.fault.actionName, "first");
    const after = planInvocation([second, first], T0 + 10_000, identity, always);
    assert.equal(after.outcome?.fault.actionName, "second");
    assert.deepEqual(planInvocation([second, first], T0 + 25_000, identity, always), {});
  });

  it("picks the earlier of two delays", () => {
    const a = activeFault({ ...delay(100), actionName: "a" }, T0 + 1);
    const b = activeFault({ ...delay(900), actionName: "b" }, T0);
    assert.equal(planInvocation([a, b], T0 + 2, identity, always).delay?.milliseconds, 900);
  });

  it("rolls each action's percentage independently, about right over many invocations", () => {
    const random = seededRandom(42);
    const faults = [activeFault(delay(1, 30), T0), activeFault(error(true, 70), T0)];
    let delays = 0;
    let errors = 0;
    let both = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const plan = planInvocation(faults, T0, identity, random);
      if (plan.delay) delays++;
      if (plan.outcome) errors++;
      if (plan.delay && plan.outcome) both++;
    }
    // 4 standard deviations: a correct roll fails this about once in 15000 seeds; a wrong one always does.
    const within = (count: number, p: number) => Math.abs(count - n * p) < 4 * Math.sqrt(n * p * (1 - p));
    assert.ok(within(delays, 0.3), `delays ${delays}`);
    assert.ok(within(errors, 0.7), `errors ${errors}`);
    assert.ok(within(both, 0.21), `both ${both} (independence)`);
  });

  it("builds the documented error and integration payloads", () => {
    const err = planInvocation([activeFault(error(false), T0)], T0, identity, always).outcome?.outcome;
    assert.equal(err?.kind, "error");
    if (err?.kind !== "error") return;
    assert.equal(err.errorType, FAULT_ERROR_TYPE);
    const body = JSON.parse(err.body.toString());
    assert.equal(body.errorType, "FaultInjectionError");
    assert.match(body.errorMessage, /aws:lambda:invocation-error \(experiment EXP1, action act\)/);

    const res = planInvocation(
      [activeFault(integration(429, false, "text/plain"), T0)],
      T0,
      identity,
      always,
    ).outcome;
    assert.equal(res?.outcome.kind, "response");
    const response = JSON.parse(res?.outcome.body.toString() ?? "");
    assert.deepEqual(Object.keys(response).sort(), ["body", "headers", "isBase64Encoded", "statusCode"]);
    assert.equal(response.statusCode, 429);
    assert.deepEqual(response.headers, { "Content-Type": "text/plain" });
    assert.equal(response.isBase64Encoded, false);
    assert.match(response.body, /^Injected by faultline: HTTP 429/);
  });
});

describe("qualifierMatches", () => {
  it("matches the invoked ARN's qualifier, unqualified meaning $LATEST, or the environment's version", () => {
    assert.ok(qualifierMatches(undefined, identity));
    assert.ok(qualifierMatches("$LATEST", identity));
    assert.ok(!qualifierMatches("prod", identity));
    assert.ok(qualifierMatches("prod", { invokedFunctionArn: `${ARN}:prod`, functionVersion: "3" }));
    assert.ok(qualifierMatches("3", { invokedFunctionArn: `${ARN}:prod`, functionVersion: "3" }));
    assert.ok(!qualifierMatches("$LATEST", { invokedFunctionArn: `${ARN}:prod`, functionVersion: "3" }));
  });
});
