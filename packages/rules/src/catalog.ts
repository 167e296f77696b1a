/**
 * The engine's action table — aws:fis:wait and every fault action of protocol's table — and what ListActions /
 * GetAction and ListTargetResourceTypes / GetTargetResourceType return, all derived from it.
 */
import {
  FAULT_ACTION_TEXT,
  FAULT_ACTIONS,
  type FaultAction,
  type FaultActionDefinition,
  type FaultActionId,
  faultActionFromFisParameters,
  type ParameterSpec,
} from "@faultline/protocol";
import { fisWait } from "./fis-wait.ts";
import type { TemplateAction } from "./model.ts";
import { QUOTAS } from "./quotas.ts";

export interface ActionParameterDescription {
  description: string;
  required: boolean;
}

/** FIS's `Action` (GetAction), without the account-specific `arn` and `tags`. */
export interface ActionDescription {
  id: string;
  description: string;
  parameters: Record<string, ActionParameterDescription>;
  targets: Record<string, { resourceType: string }>;
}

/** One action the engine can run. */
export interface EngineAction extends ActionDescription {
  /** Bounds of its `duration` parameter. */
  readonly duration: { readonly minMs: number; readonly maxMs: number };
  /** What its fault objects carry; absent for an action that writes none (aws:fis:wait). */
  readonly fault?: FaultActionDefinition;
}

const durationParameter = (what: string): ActionParameterDescription => ({
  description: `The duration of the action, in ISO 8601 format (e.g. PT5M): ${what}.`,
  required: true,
});

/** The limits and default of a parameter, from its spec, appended to its text. */
function describeParameter(text: string, spec: ParameterSpec): ActionParameterDescription {
  const fallback =
    spec.default === undefined
      ? ""
      : typeof spec.default === "string"
        ? `"${spec.default}"`
        : `${spec.default}`;
  const range =
    spec.type === "integer"
      ? ` From ${spec.min} to ${spec.max}.`
      : spec.type === "boolean"
        ? ' "true" or "false".'
        : spec.type === "choice"
          ? ` One of ${spec.values.map((v) => `"${v}"`).join(", ")}.`
          : "";
  return {
    description: `${text}${range}${fallback ? ` Default ${fallback}.` : ""}`,
    required: spec.default === undefined,
  };
}

function faultEngineAction(definition: (typeof FAULT_ACTIONS)[number]): EngineAction {
  const text = FAULT_ACTION_TEXT[definition.id];
  const described = Object.entries(definition.parameters).map(([name, spec]) => [
    name,
    describeParameter((text.parameters as Record<string, string>)[name]!, spec),
  ]);
  return {
    id: definition.id,
    description: text.description,
    parameters: { duration: durationParameter("up to 12 hours"), ...Object.fromEntries(described) },
    targets: { [definition.target.key]: { resourceType: definition.target.resourceType } },
    duration: { minMs: 1, maxMs: QUOTAS.maxActionDurationMs },
    fault: definition,
  };
}

const waitAction: EngineAction = {
  id: fisWait.id,
  description: fisWait.description,
  parameters: { duration: durationParameter("from one minute to 12 hours") },
  targets: {},
  duration: fisWait.duration,
};

/**
 * Every action faultline runs, sorted by id as ListActions returns them: AWS's (`aws:`) first, faultline's own
 * after, only under `faultline:` — an `aws:` id always means what it means on AWS FIS.
 */
export const ENGINE_ACTIONS: readonly EngineAction[] = [
  waitAction,
  ...FAULT_ACTIONS.map(faultEngineAction),
].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

const BY_ID = new Map(ENGINE_ACTIONS.map((a) => [a.id, a]));

export const engineAction = (id: string): EngineAction | undefined => BY_ID.get(id);

export const SUPPORTED_ACTION_IDS: readonly string[] = ENGINE_ACTIONS.map((a) => a.id);

/** What ListActions / GetAction return, in order. */
export const ACTIONS: readonly ActionDescription[] = ENGINE_ACTIONS.map(
  ({ id, description, parameters, targets }) => ({
    id,
    description,
    parameters,
    targets,
  }),
);

/** The fault a validated template action writes, or undefined for one that writes none (aws:fis:wait). */
export function faultOf(action: TemplateAction): FaultAction | undefined {
  const fault = engineAction(action.actionId)?.fault;
  if (!fault) return undefined;
  return faultActionFromFisParameters(fault.id as FaultActionId, action.parameters ?? {});
}

export interface TargetResourceTypeDescription {
  resourceType: string;
  description: string;
  parameters: Record<string, ActionParameterDescription>;
}

export const TARGET_RESOURCE_TYPES: readonly TargetResourceTypeDescription[] = [
  {
    resourceType: "aws:lambda:function",
    description: "An AWS Lambda function",
    parameters: {
      functionQualifier: {
        description: "The version or alias of the function to target; $LATEST for the unqualified function.",
        required: false,
      },
    },
  },
];
