import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FAULT_ACTION_TEXT,
  FAULT_ACTIONS,
  type FaultActionId,
  faultActionFromFisParameters,
  isFaultActionId,
  isFaultlineOnly,
  newFaultConfig,
  parseFaultConfig,
  serializeFaultConfig,
} from "../src/index.ts";

const window = { experimentId: "EXP1", actionName: "a", startMs: 0, endMs: 60_000 };
const fromWire = (id: FaultActionId, wire: Record<string, string>) =>
  faultActionFromFisParameters(id, { duration: "PT1M", ...wire });
const roundTrip = (id: FaultActionId, wire: Record<string, string>) =>
  parseFaultConfig(serializeFaultConfig(newFaultConfig({ ...window, fault: fromWire(id, wire) })));
/** A fault object with one parameter replaced, as a hand-written or corrupted object would carry it. */
const withParameter = (id: FaultActionId, wire: Record<string, string>, name: string, value: unknown) => {
  const doc = JSON.parse(serializeFaultConfig(newFaultConfig({ ...window, fault: fromWire(id, wire) })));
  doc.parameters[name] = value;
  return JSON.stringify(doc);
};
const WIRE_REQUIRED: Record<FaultActionId, Record<string, string>> = {
  "aws:lambda:invocation-add-delay": {},
  "aws:lambda:invocation-error": { preventExecution: "false" },
  "aws:lambda:invocation-http-integration-response": {
    statusCode: "503",
    contentTypeHeader: "application/json",
    preventExecution: "true",
  },
  "faultline:lambda:invocation-timeout": {},
  "faultline:lambda:response-delay": {},
  "faultline:lambda:response-corruption": {},
  "faultline:lambda:init-delay": {},
};

describe("the action table", () => {
  it("holds FIS's three Lambda actions and faultline's four, each id once, faultline's under faultline:", () => {
    const ids = FAULT_ACTIONS.map((d) => d.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids.filter((id) => !isFaultlineOnly(id)).sort(), [
      "aws:lambda:invocation-add-delay",
      "aws:lambda:invocation-error",
      "aws:lambda:invocation-http-integration-response",
    ]);
    assert.deepEqual(ids.filter(isFaultlineOnly).sort(), [
      "faultline:lambda:init-delay",
      "faultline:lambda:invocation-timeout",
      "faultline:lambda:response-corruption",
      "faultline:lambda:response-delay",
    ]);
    assert.equal(isFaultActionId("aws:fis:wait"), false);
    assert.equal(isFaultActionId("faultline:lambda:response-delay"), true);
  });
  it("every action targets Functions (aws:lambda:function) and takes invocationPercentage 1-100, default 100", () => {
    for (const d of FAULT_ACTIONS) {
      assert.deepEqual(d.target, { key: "Functions", resourceType: "aws:lambda:function" });
      assert.deepEqual(d.parameters.invocationPercentage, {
        type: "integer",
        min: 1,
        max: 100,
        default: 100,
      });
    }
  });
  it("every action's fault object round-trips from its wire parameters (defaults applied)", () => {
    for (const d of FAULT_ACTIONS) {
      const parsed = roundTrip(d.id, WIRE_REQUIRED[d.id]);
      assert.equal(parsed.actionId, d.id);
      assert.deepEqual(Object.keys(parsed.parameters).sort(), Object.keys(d.parameters).sort(), d.id);
    }
  });
  it("catalog text fits FIS's ActionDescription and ActionParameterDescription (512 characters)", () => {
    for (const d of FAULT_ACTIONS) {
      const text = FAULT_ACTION_TEXT[d.id];
      assert.ok(text.description.length > 0 && text.description.length <= 512, d.id);
      assert.deepEqual(Object.keys(text.parameters).sort(), Object.keys(d.parameters).sort(), d.id);
      if (isFaultlineOnly(d.id))
        assert.match(text.description, /^faultline only \(needs faultline's extension\)/);
    }
  });
});

describe("the four faultline actions (agreed shapes)", () => {
  it("invocation-timeout takes only invocationPercentage", () => {
    assert.deepEqual(fromWire("faultline:lambda:invocation-timeout", { invocationPercentage: "40" }), {
      actionId: "faultline:lambda:invocation-timeout",
      parameters: { invocationPercentage: 40 },
    });
    assert.throws(
      () => fromWire("faultline:lambda:invocation-timeout", { delayMilliseconds: "5" }),
      /parameters.delayMilliseconds: is not a parameter of faultline:lambda:invocation-timeout/,
    );
  });
  it("response-delay: delayMilliseconds 0-900000, default 1000", () => {
    assert.deepEqual(fromWire("faultline:lambda:response-delay", {}).parameters, {
      delayMilliseconds: 1000,
      invocationPercentage: 100,
    });
    assert.equal(
      roundTrip("faultline:lambda:response-delay", { delayMilliseconds: "900000" }).parameters
        .invocationPercentage,
      100,
    );
    assert.throws(
      () => fromWire("faultline:lambda:response-delay", { delayMilliseconds: "900001" }),
      /parameters.delayMilliseconds: must be from 0 to 900000, got 900001/,
    );
  });
  it('response-corruption: corruption "truncated" (default) or "malformed"', () => {
    assert.deepEqual(fromWire("faultline:lambda:response-corruption", {}).parameters, {
      corruption: "truncated",
      invocationPercentage: 100,
    });
    const parsed = roundTrip("faultline:lambda:response-corruption", { corruption: "malformed" });
    assert.equal(
      parsed.actionId === "faultline:lambda:response-corruption" && parsed.parameters.corruption,
      "malformed",
    );
    assert.throws(
      () => fromWire("faultline:lambda:response-corruption", { corruption: "garbled" }),
      /parameters.corruption: must be one of "truncated", "malformed", got "garbled"/,
    );
  });
  it("init-delay: delayMilliseconds 0-10000 (Lambda's 10 s init limit), default 1000", () => {
    assert.deepEqual(fromWire("faultline:lambda:init-delay", { invocationPercentage: "25" }).parameters, {
      delayMilliseconds: 1000,
      invocationPercentage: 25,
    });
    assert.throws(
      () => fromWire("faultline:lambda:init-delay", { delayMilliseconds: "10001" }),
      /parameters.delayMilliseconds: must be from 0 to 10000/,
    );
  });
  it("fault objects are validated against the same limits (the extension's side)", () => {
    const cases: [FaultActionId, string, unknown, RegExp][] = [
      [
        "faultline:lambda:init-delay",
        "delayMilliseconds",
        10_001,
        /parameters.delayMilliseconds: must be a whole number from 0 to 10000/,
      ],
      ["faultline:lambda:response-delay", "delayMilliseconds", "1000", /parameters.delayMilliseconds/],
      [
        "faultline:lambda:response-corruption",
        "corruption",
        "garbled",
        /parameters.corruption: must be one of/,
      ],
      ["faultline:lambda:invocation-timeout", "invocationPercentage", 0, /parameters.invocationPercentage/],
      [
        "aws:lambda:invocation-http-integration-response",
        "contentTypeHeader",
        "",
        /parameters.contentTypeHeader: must be a non-empty string/,
      ],
    ];
    for (const [id, name, value, pattern] of cases) {
      assert.throws(() => parseFaultConfig(withParameter(id, WIRE_REQUIRED[id], name, value)), pattern);
    }
  });
});
