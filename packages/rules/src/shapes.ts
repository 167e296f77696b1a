import { z } from "zod";
import { ValidationException } from "./errors.ts";
import { QUOTAS } from "./quotas.ts";

const NO_SPACE = /^\S+$/;

/*
 * The shapes and limits of the FIS API model (fis 2020-12-01): lengths, `[\S]+` patterns (read as whole-value
 * matches, as AWS services apply them), map and list sizes. Each message names the rule.
 */
export const str = (min: number, max: number) =>
  z
    .string({ error: "must be a string" })
    .min(min, min === 1 ? "must not be empty" : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`);
/** A model string with pattern `[\S]+`: non-empty, no whitespace. */
export const token = (max: number, min = 1) => str(min, max).regex(NO_SPACE, "must not contain whitespace");
export const stringMap = <K extends z.ZodType<string>, V extends z.ZodType<string>>(key: K, value: V) =>
  z.record(key, value, { error: "must be an object of strings" });
/** FIS's TagMap: up to 50 tags, key 1-128 characters, value up to 256 (may be empty). */
export const tagMap = stringMap(
  str(1, 128),
  z.string({ error: "must be a string" }).max(256, "must be at most 256 characters"),
).refine((tags) => Object.keys(tags).length <= QUOTAS.tagsPerResource, {
  error: `at most ${QUOTAS.tagsPerResource} tags`,
});

/** Turns the first zod issue into a ValidationException naming the field path. */
export function shape<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  let path = issue.path.map(String).join(".");
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    path = path === "" ? key : `${path}.${key}`;
    message = "is not a known field";
  } else if (issue.code === "invalid_key") {
    // A map key (an action, target or tag name) that breaks the model's rule for names.
    message = `the name ${issue.issues[0]?.message ?? "is not valid"}`;
  } else if (issue.code === "invalid_type" && issue.input === undefined) {
    message = "is required";
  }
  throw new ValidationException(path === "" ? "(body)" : path, message);
}
