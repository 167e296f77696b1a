/** The scenario library at the template-building level: every template uses known actions with known parameters. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { faultActionDefinition, isFaultActionId } from "../src/index.ts";
import { SCENARIOS, type ScenarioError, scenarioNamed } from "../src/scenarios/index.ts";

describe("scenarios", () => {
  test("every scenario's template names only actions and parameters of the action table", () => {
    for (const s of SCENARIOS) {
      const template = s.build();
      assert.ok(Object.keys(template.actions).length > 0, s.name);
      for (const [name, action] of Object.entries(template.actions)) {
        assert.ok(isFaultActionId(action.actionId), `${s.name}.${name}: ${action.actionId}`);
        const definition = faultActionDefinition(action.actionId);
        for (const key of Object.keys(action.parameters)) {
          assert.ok(key === "duration" || key in definition.parameters, `${s.name}.${name}: ${key}`);
        }
        assert.deepEqual(action.targets, { Functions: "Functions" });
      }
      assert.equal(template.targets.Functions?.resourceType, "aws:lambda:function");
      assert.equal(template.tags.scenario, s.name);
    }
  });

  test("slow-cold-starts: faultline:lambda:init-delay, its limit the action's (10 s init)", () => {
    const t = scenarioNamed("slow-cold-starts").build({
      delayMilliseconds: "8000",
      environmentPercentage: "40",
    });
    assert.deepEqual(t.actions.coldStarts, {
      actionId: "faultline:lambda:init-delay",
      parameters: { duration: "PT300S", delayMilliseconds: "8000", invocationPercentage: "40" },
      targets: { Functions: "Functions" },
    });
    assert.throws(
      () => scenarioNamed("slow-cold-starts").build({ delayMilliseconds: "10001" }),
      (e: ScenarioError) => e.parameter === "delayMilliseconds" && /from 0 to 10000/.test(e.message),
    );
  });

  test("options: role and alarm stop conditions", () => {
    const t = scenarioNamed("dependency-outage").build(
      {},
      {
        roleArn: "arn:aws:iam::111122223333:role/x",
        stopAlarms: ["arn:aws:cloudwatch:us-east-1:111122223333:alarm:a"],
      },
    );
    assert.equal(t.roleArn, "arn:aws:iam::111122223333:role/x");
    assert.deepEqual(t.stopConditions, [
      { source: "aws:cloudwatch:alarm", value: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a" },
    ]);
  });

  // FIS's resourceTags filter on the tags a function has (API model: key 1-128 characters, no pattern); aws: is
  // reserved only for tags users create, and CloudFormation's own aws:cloudformation:stack-name is the usual way
  // to aim at one stack's functions.
  test("tagKey selects by an AWS-generated tag such as aws:cloudformation:stack-name; a bad key still names tagKey", () => {
    const t = scenarioNamed("partial-slowdown").build({
      tagKey: "aws:cloudformation:stack-name",
      tagValue: "orders-prod",
    });
    assert.deepEqual(t.targets.Functions?.resourceTags, { "aws:cloudformation:stack-name": "orders-prod" });
    assert.throws(
      () => scenarioNamed("brownout").build({ tagKey: "team|tier" }),
      (e: ScenarioError) => e.parameter === "tagKey" && /1-128 letters/.test(e.message),
    );
  });
});
