import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ServiceQuotaExceededException,
  ValidationException,
  validateCreateTemplate,
  validateUpdateTemplate,
} from "../src/index.ts";
import { ARN, assertRefused, seedTemplate } from "./seed.ts";

describe("template validation", () => {
  test("the seed template is valid and keeps FIS defaults", () => {
    const { body, tags, clientToken } = validateCreateTemplate({ ...seedTemplate(), clientToken: "t1" });
    assert.equal(clientToken, "t1");
    assert.deepEqual(tags, { Name: "x" });
    assert.deepEqual(body.experimentOptions, {
      accountTargeting: "single-account",
      emptyTargetResolutionMode: "fail",
    });
  });

  test("bad templates name the field precisely", () => {
    assertRefused((t) => delete t.roleArn, "roleArn", "is required");
    assertRefused(
      (t) => (t.roleArn = "arn:aws:iam::123456789012:user/bob"),
      "roleArn",
      "is not an IAM role ARN",
    );
    assertRefused((t) => delete t.description, "description", "is required");
    assertRefused((t) => (t.description = "x".repeat(513)), "description", "at most 512");
    assertRefused(
      (t) => (t.actions.lat.actionId = "aws:ec2:stop-instances"),
      "actions.lat.actionId",
      '"aws:ec2:stop-instances" is not supported',
    );
    assertRefused(
      (t) => delete t.actions.lat.parameters.duration,
      "actions.lat.parameters.duration",
      "is required",
    );
    assertRefused(
      (t) => (t.actions.lat.parameters.duration = "10min"),
      "actions.lat.parameters.duration",
      "ISO 8601",
    );
    assertRefused(
      (t) => (t.actions.lat.parameters.startupDelayMilliseconds = "900001"),
      "actions.lat.parameters.startupDelayMilliseconds",
      "from 0 to 900000",
    );
    assertRefused(
      (t) => (t.actions.lat.parameters.invocationPercentage = "0"),
      "actions.lat.parameters.invocationPercentage",
      "from 1 to 100",
    );
    assertRefused(
      (t) => (t.actions.lat.parameters.colour = "red"),
      "actions.lat.parameters.colour",
      "is not a parameter of aws:lambda:invocation-add-delay",
    );
    assertRefused(
      (t) => (t.actions.lat.targets = { Functions: "nope" }),
      "actions.lat.targets.Functions",
      'unknown target "nope"',
    );
    assertRefused(
      (t) => (t.actions.lat.targets = { Instances: "fns" }),
      "actions.lat.targets.Instances",
      "one target key, Functions",
    );
    assertRefused(
      (t) => {
        t.actions.err = {
          actionId: "aws:lambda:invocation-error",
          parameters: { duration: "PT1M" },
          targets: { Functions: "fns" },
        };
      },
      "actions.err.parameters.preventExecution",
      "is required",
    );
    assertRefused(
      (t) => (t.targets.fns.resourceArns = [ARN]),
      "targets.fns.resourceArns",
      "cannot be combined with resourceTags",
    );
    assertRefused(
      (t) => {
        delete t.targets.fns.resourceTags;
        t.targets.fns.resourceArns = [1, 2, 3, 4, 5, 6].map((i) => `${ARN}${i}`);
      },
      "targets.fns.resourceArns",
      "at most 5",
    );
    assertRefused(
      (t) => {
        delete t.targets.fns.resourceTags;
        t.targets.fns.resourceArns = ["arn:aws:s3:::bucket/key/that-is-long"];
      },
      "targets.fns.resourceArns.0",
      "is not a Lambda function ARN",
    );
    assertRefused(
      (t) => (t.targets.fns.selectionMode = "SOME"),
      "targets.fns.selectionMode",
      "ALL, COUNT(n) or PERCENT(n)",
    );
    assertRefused(
      (t) => (t.targets.fns.selectionMode = "PERCENT(101)"),
      "targets.fns.selectionMode",
      "from 1 to 100",
    );
    assertRefused(
      (t) => (t.targets.fns.resourceType = "aws:ec2:instance"),
      "targets.fns.resourceType",
      "not supported",
    );
    assertRefused(
      (t) => (t.targets.fns.parameters = { qualifier: "prod" }),
      "targets.fns.parameters.qualifier",
      "only functionQualifier",
    );
    assertRefused(
      (t) => (t.targets.fns.filters = [{ path: "runtime", values: ["nodejs20.x"] }]),
      "targets.fns.filters.0.path",
      "PascalCase",
    );
    assertRefused(
      (t) => delete t.targets.fns.resourceTags,
      "targets.fns",
      "needs resourceArns, resourceTags or filters",
    );
    assertRefused(
      (t) => (t.stopConditions = [{ source: "aws:cloudwatch:alarm" }]),
      "stopConditions.0.value",
      "the alarm ARN",
    );
    assertRefused(
      (t) => (t.stopConditions = [{ source: "aws:sns" }]),
      "stopConditions.0.source",
      "not supported",
    );
    assertRefused(
      (t) => {
        t.actions.a = { actionId: "aws:fis:wait", parameters: { duration: "PT1M" }, startAfter: ["b"] };
        t.actions.b = { actionId: "aws:fis:wait", parameters: { duration: "PT1M" }, startAfter: ["a"] };
      },
      "actions.a.startAfter",
      "forms a cycle: a → b → a",
    );
    assertRefused(
      (t) => (t.actions.lat.startAfter = ["ghost"]),
      "actions.lat.startAfter.0",
      'unknown action "ghost"',
    );
    assertRefused(
      (t) =>
        (t.actions.w = {
          actionId: "aws:fis:wait",
          parameters: { duration: "PT1M" },
          targets: { Functions: "fns" },
        }),
      "actions.w.targets",
      "takes no targets",
    );
    assertRefused(
      (t) => (t.experimentOptions = { accountTargeting: "multi-account" }),
      "experimentOptions.accountTargeting",
      "multi-account is not supported",
    );
    assertRefused((t) => (t.actionz = {}), "actionz", "is not a known field");
    assertRefused(
      (t) => (t.actions.lat.parameters.duration = "PT1 M"),
      "actions.lat.parameters.duration",
      "whitespace",
    );
  });

  test("quotas raise ServiceQuotaExceededException", () => {
    const many = seedTemplate();
    for (let i = 0; i < 21; i++)
      many.actions[`w${i}`] = { actionId: "aws:fis:wait", parameters: { duration: "PT1M" } };
    assert.throws(() => validateCreateTemplate(many), ServiceQuotaExceededException);
    const parallel = seedTemplate();
    for (let i = 0; i < 10; i++)
      parallel.actions[`w${i}`] = { actionId: "aws:fis:wait", parameters: { duration: "PT1M" } };
    assert.throws(() => validateCreateTemplate(parallel), /11 actions would run in parallel/);
    const long = seedTemplate();
    long.actions.lat.parameters.duration = "PT12H1S";
    assert.throws(() => validateCreateTemplate(long), ServiceQuotaExceededException);
    const alarms = seedTemplate();
    alarms.stopConditions = Array.from({ length: 6 }, (_, i) => ({
      source: "aws:cloudwatch:alarm",
      value: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:a${i}`,
    }));
    assert.throws(() => validateCreateTemplate(alarms), ServiceQuotaExceededException);
  });

  test("update replaces given fields and revalidates", () => {
    const { body } = validateCreateTemplate(seedTemplate());
    const next = validateUpdateTemplate(body, {
      description: "d2",
      experimentOptions: { emptyTargetResolutionMode: "skip" },
    });
    assert.equal(next.description, "d2");
    assert.equal(next.experimentOptions.emptyTargetResolutionMode, "skip");
    assert.deepEqual(next.actions, body.actions);
    assert.throws(
      () => validateUpdateTemplate(body, { experimentOptions: { accountTargeting: "single-account" } }),
      /experimentOptions.accountTargeting: is not a known field/,
    );
  });

  test("fuzz: the validator only ever raises FIS exceptions", () => {
    const isFis = (e: unknown) =>
      e instanceof ValidationException || e instanceof ServiceQuotaExceededException;
    fc.assert(
      fc.property(fc.anything({ withObjectString: true, withNullPrototype: true, maxDepth: 4 }), (input) => {
        try {
          validateCreateTemplate(input);
        } catch (e) {
          if (!isFis(e)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
    // Mutations of a valid template reach the deeper checks.
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(undefined),
      fc.constant(null),
      fc.array(fc.string()),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(
          "description",
          "roleArn",
          "targets.fns.selectionMode",
          "targets.fns.resourceArns",
          "actions.lat.parameters.duration",
          "actions.lat.startAfter",
          "actions.lat.parameters.startupDelayMilliseconds",
          "stopConditions",
          "targets.fns.filters",
          "actions.lat.targets",
        ),
        leaf,
        (path, value) => {
          const t = seedTemplate();
          const parts = path.split(".");
          let o: Record<string, unknown> = t;
          for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
          o[parts.at(-1)!] = value;
          try {
            validateCreateTemplate(t);
          } catch (e) {
            if (!isFis(e)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
