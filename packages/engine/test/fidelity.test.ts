/**
 * FIS fidelity: the FIS API model's constraints (fis 2020-12-01: lengths, `[\S]+` patterns, map and list
 * sizes) and the FIS docs' limits, one test per rule; every refusal names the field and the rule.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ACTIONS,
  ServiceQuotaExceededException,
  ValidationException,
  validateCreateTemplate,
} from "../src/index.ts";
import { paginate } from "../src/paging.ts";
import { checkTagKeys, checkTags, parseStartInput } from "../src/requests.ts";
import { assertRefused, seedTemplate } from "./seed.ts";

type Template = ReturnType<typeof seedTemplate>;
const x = (n: number) => "x".repeat(n);
const wait = (duration: string, startAfter?: string[]) => ({
  actionId: "aws:fis:wait",
  parameters: { duration },
  ...(startAfter ? { startAfter } : {}),
});

/** CreateExperimentTemplate refuses `t` with a ServiceQuotaExceededException saying `message`. */
function overQuota(t: Template, message: RegExp): void {
  assert.throws(
    () => validateCreateTemplate(t),
    (e: unknown) => {
      assert.ok(
        e instanceof ServiceQuotaExceededException,
        `expected ServiceQuotaExceededException, got ${e}`,
      );
      assert.match(e.message, message);
      return true;
    },
  );
}

const accepted = (mutate: (t: Template) => void) => {
  const t = seedTemplate();
  mutate(t);
  return validateCreateTemplate(t);
};

describe("template: the FIS API model's constraints", () => {
  const cases: [string, (t: Template) => void, string, string | RegExp][] = [
    [
      "description: 1-512 characters (pattern [\\s\\S]+)",
      (t) => (t.description = ""),
      "description",
      "must not be empty",
    ],
    ["description: at most 512", (t) => (t.description = x(513)), "description", "at most 512 characters"],
    ["clientToken: at most 1024", (t) => (t.clientToken = x(1025)), "clientToken", "at most 1024 characters"],
    [
      "clientToken: no whitespace",
      (t) => (t.clientToken = "a b"),
      "clientToken",
      "must not contain whitespace",
    ],
    ["roleArn: at least 20", (t) => (t.roleArn = "arn:aws:iam::1:r/x"), "roleArn", "at least 20 characters"],
    [
      "roleArn: at most 2048",
      (t) => (t.roleArn = `arn:aws:iam::123456789012:role/${x(2030)}`),
      "roleArn",
      "at most 2048 characters",
    ],
    [
      "tags: at most 50",
      (t) => {
        for (let i = 0; i < 51; i++) t.tags[`k${i}`] = "v";
      },
      "tags",
      "at most 50 tags",
    ],
    [
      "tag key: at most 128",
      (t) => (t.tags[x(129)] = "v"),
      `tags.${x(129)}`,
      "the name must be at most 128 characters",
    ],
    ["tag value: at most 256", (t) => (t.tags.k = x(257)), "tags.k", "at most 256 characters"],
    [
      "action name: at most 64",
      (t) => (t.actions[x(65)] = wait("PT1M")),
      `actions.${x(65)}`,
      "the name must be at most 64 characters",
    ],
    [
      "action name: no whitespace",
      (t) => (t.actions["my wait"] = wait("PT1M")),
      "actions.my wait",
      "the name must not contain whitespace",
    ],
    [
      "target name: at most 64",
      (t) => (t.targets[x(65)] = t.targets.fns),
      `targets.${x(65)}`,
      "the name must be at most 64 characters",
    ],
    [
      "action description: at most 512",
      (t) => (t.actions.lat.description = x(513)),
      "actions.lat.description",
      "at most 512 characters",
    ],
    [
      "action parameter value: at most 1024",
      (t) => (t.actions.lat.parameters.startupDelayMilliseconds = x(1025)),
      "actions.lat.parameters.startupDelayMilliseconds",
      "at most 1024 characters",
    ],
    [
      "action parameter name: at most 64",
      (t) => (t.actions.lat.parameters[x(65)] = "1"),
      `actions.lat.parameters.${x(65)}`,
      "the name must be at most 64 characters",
    ],
    [
      "startAfter entry: at most 64",
      (t) => (t.actions.lat.startAfter = [x(65)]),
      "actions.lat.startAfter.0",
      "at most 64 characters",
    ],
    [
      "action target reference: at most 64",
      (t) => (t.actions.lat.targets = { Functions: x(65) }),
      "actions.lat.targets.Functions",
      "at most 64 characters",
    ],
    [
      "resourceTags: at most 50",
      (t) => {
        for (let i = 0; i < 51; i++) t.targets.fns.resourceTags[`k${i}`] = "v";
      },
      "targets.fns.resourceTags",
      "at most 50 tags",
    ],
    [
      "resourceArns entry: at least 20",
      (t) => {
        delete t.targets.fns.resourceTags;
        t.targets.fns.resourceArns = ["arn:aws:lambda"];
      },
      "targets.fns.resourceArns.0",
      "at least 20 characters",
    ],
    [
      "filter path: at most 256",
      (t) => (t.targets.fns.filters = [{ path: x(257), values: ["a"] }]),
      "targets.fns.filters.0.path",
      "at most 256 characters",
    ],
    [
      "filter value: 1-128, no whitespace",
      (t) => (t.targets.fns.filters = [{ path: "Runtime", values: [""] }]),
      "targets.fns.filters.0.values.0",
      "must not be empty",
    ],
    [
      "selectionMode: at most 64",
      (t) => (t.targets.fns.selectionMode = x(65)),
      "targets.fns.selectionMode",
      "at most 64 characters",
    ],
    [
      "target parameter value: at most 1024",
      (t) => (t.targets.fns.parameters = { functionQualifier: x(1025) }),
      "targets.fns.parameters.functionQualifier",
      "at most 1024 characters",
    ],
    [
      "stop condition value: at least 20",
      (t) => (t.stopConditions = [{ source: "aws:cloudwatch:alarm", value: "arn:short" }]),
      "stopConditions.0.value",
      "at least 20 characters",
    ],
    [
      "stop condition source: at most 64",
      (t) => (t.stopConditions = [{ source: x(65) }]),
      "stopConditions.0.source",
      "at most 64 characters",
    ],
    [
      "log bucket: 3-63",
      (t) => (t.logConfiguration = { s3Configuration: { bucketName: "ab" }, logSchemaVersion: 2 }),
      "logConfiguration.s3Configuration.bucketName",
      "at least 3 characters",
    ],
    [
      "log prefix: at most 700",
      (t) =>
        (t.logConfiguration = {
          s3Configuration: { bucketName: "abc", prefix: x(701) },
          logSchemaVersion: 2,
        }),
      "logConfiguration.s3Configuration.prefix",
      "at most 700 characters",
    ],
    [
      "log group ARN: at least 20",
      (t) =>
        (t.logConfiguration = { cloudWatchLogsConfiguration: { logGroupArn: "arn:x" }, logSchemaVersion: 2 }),
      "logConfiguration.cloudWatchLogsConfiguration.logGroupArn",
      "at least 20 characters",
    ],
    [
      "report prefix: no whitespace",
      (t) =>
        (t.experimentReportConfiguration = {
          outputs: { s3Configuration: { bucketName: "abc", prefix: "a b" } },
        }),
      "experimentReportConfiguration.outputs.s3Configuration.prefix",
      "must not contain whitespace",
    ],
    [
      "dashboard identifier: at most 512",
      (t) =>
        (t.experimentReportConfiguration = {
          dataSources: { cloudWatchDashboards: [{ dashboardIdentifier: x(513) }] },
        }),
      "experimentReportConfiguration.dataSources.cloudWatchDashboards.0.dashboardIdentifier",
      "at most 512 characters",
    ],
  ];
  for (const [rule, mutate, field, message] of cases) test(rule, () => assertRefused(mutate, field, message));

  test("at the limits, accepted", () => {
    accepted((t) => {
      t.description = x(512);
      t.clientToken = x(1024);
      for (let i = 0; i < 49; i++) t.tags[`k${i}`] = x(256);
      t.actions[x(64)] = wait("PT1M");
      t.actions.lat.description = x(512);
    });
  });
});

describe("template: the FIS docs' limits", () => {
  test("aws:fis:wait lasts from one minute (PT1M) ...", () => {
    assertRefused(
      (t) => (t.actions.pause = wait("PT30S")),
      "actions.pause.parameters.duration",
      '"PT30S" is shorter than the PT1M minimum of aws:fis:wait',
    );
    accepted((t) => (t.actions.pause = wait("PT1M")));
  });
  test("... to 12 hours (the action duration quota)", () => {
    const t = seedTemplate();
    t.actions.pause = wait("PT12H1S");
    overQuota(t, /actions\.pause\.parameters\.duration: PT12H1S exceeds the quota of PT12H per action/);
  });
  test("a fault action lasts longer than zero", () => {
    assertRefused(
      (t) => (t.actions.lat.parameters.duration = "PT0S"),
      "actions.lat.parameters.duration",
      "longer than zero",
    );
  });
  test("the whole experiment lasts at most 12 hours: the longest startAfter chain, end to end", () => {
    const t = seedTemplate(); // lat: PT10M
    t.actions.pause = wait("PT6H", ["lat"]);
    t.actions.again = wait("PT6H", ["pause"]);
    overQuota(
      t,
      /^actions: lat → pause → again runs PT12H10M end to end, over the quota of PT12H per experiment/,
    );
    // The same actions side by side fit: only the chain counts.
    accepted((u) => {
      u.actions.pause = wait("PT6H", ["lat"]);
      u.actions.again = wait("PT6H", ["lat"]);
    });
  });
  test("faultline: actions validate like FIS's, against their own definitions", () => {
    const onFunctions = (actionId: string, parameters: Record<string, string>) => ({
      actionId,
      parameters: { duration: "PT5M", ...parameters },
      targets: { Functions: "fns" },
    });
    accepted((t) => {
      t.actions.slow = onFunctions("faultline:lambda:response-delay", {
        delayMilliseconds: "250",
        invocationPercentage: "10",
      });
    });
    const refusals: [string, object, string, string][] = [
      [
        "broken",
        onFunctions("faultline:lambda:response-corruption", { corruption: "garbled" }),
        "parameters.corruption",
        'must be one of "truncated", "malformed", got "garbled"',
      ],
      [
        "cold",
        onFunctions("faultline:lambda:init-delay", { delayMilliseconds: "10001" }),
        "parameters.delayMilliseconds",
        "must be from 0 to 10000, got 10001",
      ],
      [
        "hang",
        { actionId: "faultline:lambda:invocation-timeout", parameters: { duration: "PT5M" } },
        "targets.Functions",
        "is required: the name of a target",
      ],
    ];
    for (const [name, action, field, rule] of refusals)
      assertRefused((t) => (t.actions[name] = action), `actions.${name}.${field}`, rule);
  });
});

describe("requests: the FIS API model's constraints", () => {
  const start = (body: Record<string, unknown>, field: string, rule: string) =>
    assert.throws(
      () => parseStartInput({ experimentTemplateId: "EXT1", clientToken: "c", ...body }),
      (e: unknown) => e instanceof ValidationException && e.field === field && e.message.includes(rule),
    );
  test("StartExperiment: experimentTemplateId 1-64, no whitespace", () => {
    start({ experimentTemplateId: x(65) }, "experimentTemplateId", "at most 64 characters");
    start({ experimentTemplateId: undefined }, "experimentTemplateId", "is required");
  });
  test("StartExperiment: clientToken 1-1024", () =>
    start({ clientToken: x(1025) }, "clientToken", "at most 1024"));
  test("StartExperiment: tags as TagMap", () => {
    start(
      { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) },
      "tags",
      "at most 50 tags",
    );
    start({ tags: { k: x(257) } }, "tags.k", "at most 256 characters");
  });
  test("StartExperiment: actionsMode and unknown fields", () => {
    start(
      { experimentOptions: { actionsMode: "some" } },
      "experimentOptions.actionsMode",
      '"run-all" or "skip-all"',
    );
    start(
      { experimentOptions: { emptyTargetResolutionMode: "skip" } },
      "experimentOptions.emptyTargetResolutionMode",
      "is not a known field",
    );
    start({ colour: "red" }, "colour", "is not a known field");
    assert.deepEqual(parseStartInput({ experimentTemplateId: "EXT1" }), {
      experimentTemplateId: "EXT1",
      actionsMode: "run-all",
      tags: {},
    });
  });
  test("TagResource / UntagResource: tag keys 1-128, values up to 256", () => {
    assert.throws(() => checkTags({ k: x(257) }), /tags\.k: must be at most 256 characters/);
    assert.throws(() => checkTagKeys([""]), /tagKeys\.0: must not be empty/);
    assert.deepEqual(checkTags({ team: "" }), { team: "" });
  });
  test("paging: nextToken at most 1024", () => {
    assert.throws(() => paginate([1], { nextToken: x(1025) }), /nextToken: must be at most 1024 characters/);
  });
});

describe("ListActions / GetAction, derived from the action tables", () => {
  test("AWS's actions first, faultline's after and only under faultline:", () => {
    assert.deepEqual(
      ACTIONS.map((a) => a.id),
      [
        "aws:fis:wait",
        "aws:lambda:invocation-add-delay",
        "aws:lambda:invocation-error",
        "aws:lambda:invocation-http-integration-response",
        "faultline:lambda:init-delay",
        "faultline:lambda:invocation-timeout",
        "faultline:lambda:response-corruption",
        "faultline:lambda:response-delay",
      ],
    );
    for (const a of ACTIONS.filter((a) => a.id.startsWith("faultline:"))) {
      assert.match(a.description, /^faultline only \(needs faultline's extension\)/, a.id);
    }
  });
  test("parameters carry their limits and defaults; descriptions fit the model (512)", () => {
    const delay = ACTIONS.find((a) => a.id === "faultline:lambda:response-delay")!;
    assert.deepEqual(delay.targets, { Functions: { resourceType: "aws:lambda:function" } });
    assert.equal(delay.parameters.duration!.required, true);
    assert.deepEqual(delay.parameters.delayMilliseconds, {
      description: "The time to hold the response, in milliseconds. From 0 to 900000. Default 1000.",
      required: false,
    });
    const error = ACTIONS.find((a) => a.id === "aws:lambda:invocation-error")!;
    assert.equal(error.parameters.preventExecution!.required, true);
    const waitAction = ACTIONS.find((a) => a.id === "aws:fis:wait")!;
    assert.deepEqual(Object.keys(waitAction.parameters), ["duration"]);
    assert.match(waitAction.parameters.duration!.description, /from one minute to 12 hours/);
    for (const a of ACTIONS) {
      assert.ok(a.description.length <= 512, a.id);
      for (const p of Object.values(a.parameters)) assert.ok(p.description.length <= 512, a.id);
    }
  });
});
