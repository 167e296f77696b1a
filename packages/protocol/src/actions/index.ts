import { FaultConfigError } from "../errors.ts";
import type { FaultActionDefinition } from "./definition.ts";
import { initDelay } from "./init-delay.ts";
import { invocationAddDelay } from "./invocation-add-delay.ts";
import { invocationError } from "./invocation-error.ts";
import { invocationHttpIntegrationResponse } from "./invocation-http-integration-response.ts";
import { invocationTimeout } from "./invocation-timeout.ts";
import { fromJson, fromWire, type ParameterValues } from "./parameters.ts";
import { responseCorruption } from "./response-corruption.ts";
import { responseDelay } from "./response-delay.ts";

/**
 * Every fault action: the one table the engine's validation and catalog, the fault objects and the extension's
 * parsing are derived from. Adding an action = one file in this directory + one line here (+ its catalog text).
 */
export const FAULT_ACTIONS = [
  invocationAddDelay,
  invocationError,
  invocationHttpIntegrationResponse,
  invocationTimeout,
  responseDelay,
  responseCorruption,
  initDelay,
] as const;

type Definitions = (typeof FAULT_ACTIONS)[number];
export type FaultActionId = Definitions["id"];
export type DefinitionOf<K extends FaultActionId> = Extract<Definitions, { id: K }>;
/** The typed parameters of one action, as its fault objects carry them. */
export type FaultParameters<K extends FaultActionId> = ParameterValues<DefinitionOf<K>["parameters"]>;
/** Parameters are a discriminated union on `actionId`, never a bag of optionals. */
export type FaultAction = {
  [K in FaultActionId]: { actionId: K; parameters: FaultParameters<K> };
}[FaultActionId];

const BY_ID: ReadonlyMap<string, FaultActionDefinition> = new Map(FAULT_ACTIONS.map((d) => [d.id, d]));

export const FAULT_ACTION_IDS: readonly FaultActionId[] = FAULT_ACTIONS.map((d) => d.id);

export function isFaultActionId(value: unknown): value is FaultActionId {
  return typeof value === "string" && BY_ID.has(value);
}

export function faultActionDefinition(id: FaultActionId): FaultActionDefinition {
  return BY_ID.get(id)!;
}

/**
 * FIS wire parameters (every value a string, as in a template) → typed fault parameters, FIS's defaults applied.
 * `duration` is the engine's business and is skipped here. Throws FaultConfigError naming the parameter.
 */
export function faultActionFromFisParameters(
  actionId: FaultActionId,
  wire: Readonly<Record<string, string>>,
  fieldPrefix = "parameters",
): FaultAction {
  const { parameters } = faultActionDefinition(actionId);
  for (const key of Object.keys(wire)) {
    if (key !== "duration" && !Object.hasOwn(parameters, key)) {
      throw new FaultConfigError(`${fieldPrefix}.${key}`, `is not a parameter of ${actionId}`);
    }
  }
  const typed = Object.entries(parameters).map(([name, spec]) => [
    name,
    fromWire(spec, Object.hasOwn(wire, name) ? wire[name] : undefined, `${fieldPrefix}.${name}`),
  ]);
  return { actionId, parameters: Object.fromEntries(typed) } as FaultAction;
}

/**
 * A fault object's untrusted `parameters` → typed parameters. Every parameter of the action must be there;
 * keys it does not know are left out (a newer engine may add some).
 */
export function faultActionFromJson(
  actionId: FaultActionId,
  raw: Readonly<Record<string, unknown>>,
): FaultAction {
  const { parameters } = faultActionDefinition(actionId);
  const typed = Object.entries(parameters).map(([name, spec]) => [
    name,
    fromJson(spec, raw[name], `parameters.${name}`),
  ]);
  return { actionId, parameters: Object.fromEntries(typed) } as FaultAction;
}
