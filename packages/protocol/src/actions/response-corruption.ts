import { type CatalogText, defineFaultAction } from "./definition.ts";
import { choice, invocationPercentage } from "./parameters.ts";

/** faultline:lambda:response-corruption — the handler's response is replaced by broken JSON. */
export const responseCorruption = defineFaultAction("faultline:lambda:response-corruption", {
  corruption: choice(["truncated", "malformed"], "truncated"),
  invocationPercentage,
});

export const responseCorruptionText: CatalogText<typeof responseCorruption> = {
  description:
    "faultline only (needs faultline's extension): replaces the function's response with truncated or malformed JSON, to test how callers parse responses.",
  parameters: {
    corruption: '"truncated" cuts the response short; "malformed" makes it invalid JSON.',
    invocationPercentage: "The percentage of function invocations to inject the fault into.",
  },
};
