/** GetFunctionConfiguration: GET /2015-03-31/functions/{FunctionName}/configuration?Qualifier. */
import { configurationOf } from "../configuration.ts";
import type { Handler } from "../context.ts";
import { labIdentity } from "../context.ts";
import { sendJson } from "../http.ts";
import { resolveFunctionName } from "../names.ts";

export const getFunctionConfiguration: Handler = (_req, res, params, url, ctx) => {
  const target = resolveFunctionName(params.name ?? "", url.searchParams.get("Qualifier"), labIdentity(ctx));
  sendJson(res, 200, configurationOf(ctx, target.name));
};
