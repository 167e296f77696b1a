/** The Lambda API's route table, read top to bottom: first match wins. One handler per operation. */
import { InvalidParameterValueError } from "../errors.ts";
import { tryDecode } from "../http-guard.ts";
import type { Handler } from "./context.ts";
import { getAlias, listAliases } from "./handlers/aliases.ts";
import { getFunction } from "./handlers/get-function.ts";
import { getFunctionConfiguration } from "./handlers/get-function-configuration.ts";
import { getLayerContent } from "./handlers/get-layer-content.ts";
import { getLayerVersion, getLayerVersionByArn } from "./handlers/get-layer-version.ts";
import { invoke } from "./handlers/invoke.ts";
import { invokeWithResponseStream } from "./handlers/invoke-with-response-stream.ts";
import { deleteLayerVersion, listLayerVersions, publishLayerVersion } from "./handlers/layer-versions.ts";
import { listFunctions } from "./handlers/list-functions.ts";
import { listTags } from "./handlers/list-tags.ts";
import { tagging } from "./handlers/tagging.ts";
import { updateFunctionConfiguration } from "./handlers/update-function-configuration.ts";

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** `:param` matches one path segment (URL-decoded); a trailing slash is optional. */
  path: string;
  operation: string;
  handler: Handler;
}

export const routes: Route[] = [
  { method: "POST", path: "/2015-03-31/functions/:name/invocations", operation: "Invoke", handler: invoke },
  {
    method: "POST",
    path: "/2021-11-15/functions/:name/response-streaming-invocations",
    operation: "InvokeWithResponseStream",
    handler: invokeWithResponseStream,
  },
  { method: "GET", path: "/2015-03-31/functions", operation: "ListFunctions", handler: listFunctions },
  {
    method: "GET",
    path: "/2015-03-31/functions/:name/configuration",
    operation: "GetFunctionConfiguration",
    handler: getFunctionConfiguration,
  },
  {
    method: "PUT",
    path: "/2015-03-31/functions/:name/configuration",
    operation: "UpdateFunctionConfiguration",
    handler: updateFunctionConfiguration,
  },
  { method: "GET", path: "/2015-03-31/functions/:name", operation: "GetFunction", handler: getFunction },
  {
    method: "GET",
    path: "/2015-03-31/functions/:name/aliases",
    operation: "ListAliases",
    handler: listAliases,
  },
  {
    method: "GET",
    path: "/2015-03-31/functions/:name/aliases/:alias",
    operation: "GetAlias",
    handler: getAlias,
  },
  { method: "GET", path: "/2017-03-31/tags/:arn", operation: "ListTags", handler: listTags },
  {
    method: "GET",
    path: "/2018-10-31/layers",
    operation: "GetLayerVersionByArn",
    handler: getLayerVersionByArn,
  },
  {
    method: "GET",
    path: "/2018-10-31/layers/:layer/versions/:version",
    operation: "GetLayerVersion",
    handler: getLayerVersion,
  },
  {
    method: "POST",
    path: "/2018-10-31/layers/:layer/versions",
    operation: "PublishLayerVersion",
    handler: publishLayerVersion,
  },
  {
    method: "GET",
    path: "/2018-10-31/layers/:layer/versions",
    operation: "ListLayerVersions",
    handler: listLayerVersions,
  },
  {
    method: "DELETE",
    path: "/2018-10-31/layers/:layer/versions/:version",
    operation: "DeleteLayerVersion",
    handler: deleteLayerVersion,
  },
  // Not Lambda's: the download behind a layer version's Content.Location.
  {
    method: "GET",
    path: "/faultline/layers/:layer/versions/:version/content.zip",
    operation: "GetLayerContent",
    handler: getLayerContent,
  },
  // The Resource Groups Tagging API (awsJson1_1: POST / + X-Amz-Target), for tag-selected targets.
  { method: "POST", path: "/", operation: "ResourceGroupsTaggingAPI", handler: tagging },
];

export interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

export function compile(table: Route[]): CompiledRoute[] {
  return table.map((route) => {
    const names: string[] = [];
    const source = route.path.replace(/:(\w+)/g, (_m, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
    return { ...route, pattern: new RegExp(`^${source}/?$`), names };
  });
}

export function match(
  table: CompiledRoute[],
  method: string,
  pathname: string,
): { route: CompiledRoute; params: Record<string, string> } | undefined {
  for (const route of table) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    for (const [i, name] of route.names.entries()) {
      const value = tryDecode(m[i + 1] ?? "");
      if (value === undefined)
        throw new InvalidParameterValueError(`The ${name} in the path is not validly percent-encoded`);
      params[name] = value;
    }
    return { route, params };
  }
  return undefined;
}
