import type { CatalogText } from "./definition.ts";
import type { DefinitionOf, FaultActionId } from "./index.ts";
import { initDelayText } from "./init-delay.ts";
import { invocationAddDelayText } from "./invocation-add-delay.ts";
import { invocationErrorText } from "./invocation-error.ts";
import { invocationHttpIntegrationResponseText } from "./invocation-http-integration-response.ts";
import { invocationTimeoutText } from "./invocation-timeout.ts";
import { responseCorruptionText } from "./response-corruption.ts";
import { responseDelayText } from "./response-delay.ts";

/**
 * What ListActions/GetAction say of each fault action, by id (the type makes it complete). Only the engine
 * imports this; the extension bundle does not carry it.
 */
export const FAULT_ACTION_TEXT: { readonly [K in FaultActionId]: CatalogText<DefinitionOf<K>> } = {
  "aws:lambda:invocation-add-delay": invocationAddDelayText,
  "aws:lambda:invocation-error": invocationErrorText,
  "aws:lambda:invocation-http-integration-response": invocationHttpIntegrationResponseText,
  "faultline:lambda:invocation-timeout": invocationTimeoutText,
  "faultline:lambda:response-delay": responseDelayText,
  "faultline:lambda:response-corruption": responseCorruptionText,
  "faultline:lambda:init-delay": initDelayText,
};
