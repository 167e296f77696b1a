/**
 * faultline: actions need faultline's extension; AWS's FIS extension reads the same fault objects but cannot
 * inject these (they are not FIS actions). Which extension a function runs is known only once targets are
 * resolved — tags and filters resolve at StartExperiment, and a function can change between create and start —
 * so the check runs at target resolution, before any fault object is written.
 */
import { FUNCTIONS_TARGET, isFaultlineOnly } from "@faultline/protocol";
import type { ExperimentError } from "./failures.ts";
import type { TemplateAction } from "./model.ts";
import { isAwsFisLayer } from "./readiness.ts";
import type { ResolvedFunction } from "./targets.ts";

/** Its wrapper starts AWS's extension, or (no known wrapper) AWS's layer is all it carries. */
export function runsAwsFisExtension(fn: ResolvedFunction): boolean {
  if (fn.expects === "aws-fis") return true;
  return fn.expects === undefined && (fn.layerArns ?? []).some(isAwsFisLayer);
}

/** The first faultline: action (template order) whose target has a function running AWS's extension. */
export function faultlineActionOnAwsExtension(
  actions: Readonly<Record<string, TemplateAction>>,
  functions: ReadonlyMap<string, readonly ResolvedFunction[]>,
): { reason: string; error: ExperimentError } | undefined {
  for (const [name, action] of Object.entries(actions)) {
    if (!isFaultlineOnly(action.actionId)) continue;
    const targetName = action.targets?.[FUNCTIONS_TARGET.key] ?? "";
    const aws = (functions.get(targetName) ?? []).filter(runsAwsFisExtension);
    if (aws.length === 0) continue;
    const names = aws.map((fn) => fn.name);
    const listed =
      names.length > 3 ? `${names.slice(0, 3).join(", ")} and ${names.length - 3} more` : names.join(", ");
    return {
      reason: `Action ${name} (${action.actionId}) needs faultline's extension, but ${listed} in target ${targetName} ${aws.length === 1 ? "runs" : "run"} AWS's FIS extension, which cannot inject faultline: actions. Attach faultline's layer, or use an aws:lambda: action.`,
      error: { code: "ConfigurationFailure", location: `actions.${name}` },
    };
  }
  return undefined;
}
