/** FIS request shapes other than templates (StartExperiment, tagging), with the model's limits. */

import { shape, str, tagMap, token } from "@faultline/rules";
import { z } from "zod";

const startSchema = z.strictObject(
  {
    clientToken: token(1024).optional(),
    experimentTemplateId: token(64),
    experimentOptions: z
      .strictObject(
        {
          actionsMode: z
            .enum(["run-all", "skip-all"], { error: 'must be "run-all" or "skip-all"' })
            .optional(),
        },
        { error: "must be an object" },
      )
      .optional(),
    tags: tagMap.optional(),
  },
  { error: "the request body must be a JSON object" },
);

export interface StartRequest {
  clientToken?: string;
  experimentTemplateId: string;
  actionsMode: "run-all" | "skip-all";
  tags: Record<string, string>;
}

/** Validates a StartExperiment body. */
export function parseStartInput(input: unknown): StartRequest {
  const raw = shape(startSchema, input);
  return {
    ...(raw.clientToken ? { clientToken: raw.clientToken } : {}),
    experimentTemplateId: raw.experimentTemplateId,
    actionsMode: raw.experimentOptions?.actionsMode ?? "run-all",
    tags: raw.tags ?? {},
  };
}

/** TagResource's `tags`: FIS's TagMap (up to 50, key 1-128, value up to 256 characters). */
export function checkTags(tags: unknown): Record<string, string> {
  return shape(z.strictObject({ tags: tagMap }), { tags }).tags;
}

/** UntagResource's `tagKeys`: each 1-128 characters. */
export function checkTagKeys(keys: unknown): string[] {
  return shape(z.strictObject({ tagKeys: z.array(str(1, 128), { error: "must be a list of tag keys" }) }), {
    tagKeys: keys,
  }).tagKeys;
}
