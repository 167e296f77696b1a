import type { ParameterSchema } from "./parameters.ts";

/** Every Lambda fault action takes its functions under one target key, as FIS's Lambda actions do. */
export const FUNCTIONS_TARGET = { key: "Functions", resourceType: "aws:lambda:function" } as const;

/** Actions only faultline's extension can inject live under this namespace, never under `aws:`. */
export const FAULTLINE_NAMESPACE = "faultline:";

/**
 * What the engine and the extension both need to know of one fault action: its id, its target and its
 * parameters (`duration` excluded: it is the engine's business, and never reaches a fault object).
 */
export interface FaultActionDefinition<
  Id extends string = string,
  P extends ParameterSchema = ParameterSchema,
> {
  readonly id: Id;
  readonly target: typeof FUNCTIONS_TARGET;
  readonly parameters: P;
}

export const defineFaultAction = <const Id extends string, const P extends ParameterSchema>(
  id: Id,
  parameters: P,
): FaultActionDefinition<Id, P> => ({ id, target: FUNCTIONS_TARGET, parameters });

/**
 * What ListActions/GetAction say of an action. Kept out of the definition, in a separate export of the same
 * file, so the extension bundle (which never lists actions) leaves the text out. Limits and defaults are added
 * to each parameter's text from its spec.
 */
export interface CatalogText<D extends FaultActionDefinition> {
  readonly description: string;
  readonly parameters: { readonly [K in keyof D["parameters"]]: string };
}

/** faultline-only actions: AWS's FIS extension cannot inject them. */
export const isFaultlineOnly = (id: string): boolean => id.startsWith(FAULTLINE_NAMESPACE);
