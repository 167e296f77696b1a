import assert from "node:assert/strict";
import { ValidationException, validateCreateTemplate } from "../src/index.ts";

/** The seed's template: 2000 ms start delay, 100 %, tag-selected. */
export const ARN = "arn:aws:lambda:us-east-1:123456789012:function:demo";
// biome-ignore lint/suspicious/noExplicitAny: tests mutate this JSON freely to build bad templates.
export function seedTemplate(): Record<string, any> {
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
    },
    tags: { Name: "x" },
  };
}

/** The seed, changed by `mutate`, is refused by CreateExperimentTemplate's rules with `field` and `rule`. */
export function assertRefused(
  mutate: (t: ReturnType<typeof seedTemplate>) => void,
  field: string,
  rule: string | RegExp,
): void {
  const t = seedTemplate();
  mutate(t);
  assert.throws(
    () => validateCreateTemplate(t),
    (e: unknown) => {
      assert.ok(e instanceof ValidationException, `expected ValidationException, got ${e}`);
      assert.equal(e.field, field);
      assert.match(
        e.message,
        typeof rule === "string" ? new RegExp(rule.replace(/[()[\]$.*+?]/g, "\\$&")) : rule,
      );
      return true;
    },
  );
}
