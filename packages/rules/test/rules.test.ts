/**
 * The rules stand alone: a CDK app installs this package (not the engine) and gets the same answers
 * CreateExperimentTemplate gives. The engine's own template tests (packages/engine/test/template.test.ts,
 * fidelity.test.ts) cover the rules in depth through the engine.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  functionPolicy,
  ServiceQuotaExceededException,
  ValidationException,
  validateCreateTemplate,
} from "../src/index.ts";

const PACKAGE = fileURLToPath(new URL("../", import.meta.url));

function template() {
  return {
    description: "lambda latency",
    roleArn: "arn:aws:iam::123456789012:role/fis",
    stopConditions: [{ source: "none" }],
    targets: {
      fns: {
        resourceType: "aws:lambda:function",
        resourceTags: { FISExperimentReady: "Yes" },
        selectionMode: "ALL",
      },
    },
    actions: {
      lat: {
        actionId: "aws:lambda:invocation-add-delay",
        parameters: { duration: "PT10M", invocationPercentage: "100", startupDelayMilliseconds: "2000" },
        targets: { Functions: "fns" },
      },
    } as Record<string, unknown>,
  };
}

test("imports only its declared dependencies, none of the engine's (no SDK, no SQLite)", () => {
  const declared = Object.keys(JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")).dependencies);
  assert.deepEqual(declared.sort(), ["@faultline/protocol", "tinyduration", "zod"]);
  const imported = new Set<string>();
  for (const file of readdirSync(join(PACKAGE, "src"))) {
    for (const m of readFileSync(join(PACKAGE, "src", file), "utf8").matchAll(/from "([^".][^"]*)"/g))
      imported.add(m[1]!);
  }
  assert.deepEqual([...imported].sort(), declared);
});

test("validateCreateTemplate accepts the seed and refuses a bad parameter naming its field", () => {
  assert.equal(
    validateCreateTemplate(template()).body.actions.lat?.actionId,
    "aws:lambda:invocation-add-delay",
  );
  const bad = template();
  bad.actions.lat = {
    ...(bad.actions.lat as object),
    parameters: { duration: "PT10M", invocationPercentage: "0" },
  };
  assert.throws(
    () => validateCreateTemplate(bad),
    (e: unknown) =>
      e instanceof ValidationException && /invocationPercentage/.test(e.field) && e.status === 400,
  );
});

test("a quota breach is FIS's ServiceQuotaExceededException (402), not a validation error", () => {
  const many = template();
  for (let i = 0; i < 21; i++) many.actions[`a${i}`] = { ...(many.actions.lat as object) };
  assert.throws(
    () => validateCreateTemplate(many),
    (e: unknown) => e instanceof ServiceQuotaExceededException && e.status === 402,
  );
});

test("functionPolicy grants a function's role read access to its fault objects only", () => {
  const policy = functionPolicy({ bucket: "faults", prefix: "fis" });
  assert.match(JSON.stringify(policy), /arn:aws:s3:::faults\/fis\/\*/);
});
