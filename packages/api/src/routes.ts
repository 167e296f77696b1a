import { readFileSync } from "node:fs";
import { type Engine, ResourceNotFoundException, ValidationException } from "@faultline/engine";
import { FileBody } from "./render.ts";

/** What a handler gets: path labels, the query, and the parsed JSON body. */
export interface RouteContext {
  engine: Engine;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

export interface Route {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  operation: string;
  handler: (ctx: RouteContext) => unknown | Promise<unknown>;
}

const page = (q: URLSearchParams) => {
  const max = q.get("maxResults");
  const token = q.get("nextToken");
  const maxResults = max === null ? undefined : Number(max);
  if (max !== null && !/^\d+$/.test(max))
    throw new ValidationException("maxResults", "must be a whole number");
  return { ...(maxResults !== undefined ? { maxResults } : {}), ...(token ? { nextToken: token } : {}) };
};

const multiAccount = () => {
  throw new ValidationException(
    "accountTargeting",
    "multi-account experiments are not supported by faultline",
  );
};

/** FIS's operations (as @aws-sdk/client-fis 3.523.0 sends them), top to bottom. */
export const ROUTES: Route[] = [
  {
    method: "POST",
    path: "/experimentTemplates",
    operation: "CreateExperimentTemplate",
    handler: async ({ engine, body }) => ({
      experimentTemplate: await engine.createExperimentTemplate(body),
    }),
  },
  {
    method: "GET",
    path: "/experimentTemplates",
    operation: "ListExperimentTemplates",
    handler: ({ engine, query }) => engine.listExperimentTemplates(page(query)),
  },
  {
    method: "GET",
    path: "/experimentTemplates/{id}",
    operation: "GetExperimentTemplate",
    handler: ({ engine, params }) => ({ experimentTemplate: engine.getExperimentTemplate(params.id!) }),
  },
  {
    method: "PATCH",
    path: "/experimentTemplates/{id}",
    operation: "UpdateExperimentTemplate",
    handler: ({ engine, params, body }) => ({
      experimentTemplate: engine.updateExperimentTemplate(params.id!, body),
    }),
  },
  {
    method: "DELETE",
    path: "/experimentTemplates/{id}",
    operation: "DeleteExperimentTemplate",
    handler: ({ engine, params }) => ({ experimentTemplate: engine.deleteExperimentTemplate(params.id!) }),
  },

  {
    method: "GET",
    path: "/experimentTemplates/{id}/targetAccountConfigurations",
    operation: "ListTargetAccountConfigurations",
    handler: ({ engine, params }) => {
      engine.getExperimentTemplate(params.id!);
      return { targetAccountConfigurations: [] };
    },
  },
  {
    method: "GET",
    path: "/experimentTemplates/{id}/targetAccountConfigurations/{accountId}",
    operation: "GetTargetAccountConfiguration",
    handler: ({ params }) => {
      throw new ResourceNotFoundException(`Target account configuration ${params.accountId} not found.`);
    },
  },
  {
    method: "POST",
    path: "/experimentTemplates/{id}/targetAccountConfigurations/{accountId}",
    operation: "CreateTargetAccountConfiguration",
    handler: multiAccount,
  },
  {
    method: "PATCH",
    path: "/experimentTemplates/{id}/targetAccountConfigurations/{accountId}",
    operation: "UpdateTargetAccountConfiguration",
    handler: multiAccount,
  },
  {
    method: "DELETE",
    path: "/experimentTemplates/{id}/targetAccountConfigurations/{accountId}",
    operation: "DeleteTargetAccountConfiguration",
    handler: multiAccount,
  },

  {
    method: "POST",
    path: "/experiments",
    operation: "StartExperiment",
    handler: async ({ engine, body }) => ({ experiment: await engine.startExperiment(body) }),
  },
  {
    method: "GET",
    path: "/experiments",
    operation: "ListExperiments",
    handler: ({ engine, query }) => {
      const templateId = query.get("experimentTemplateId");
      return engine.listExperiments({
        ...page(query),
        ...(templateId ? { experimentTemplateId: templateId } : {}),
      });
    },
  },
  {
    method: "GET",
    path: "/experiments/{id}",
    operation: "GetExperiment",
    handler: ({ engine, params }) => ({ experiment: engine.getExperiment(params.id!) }),
  },
  {
    method: "DELETE",
    path: "/experiments/{id}",
    operation: "StopExperiment",
    handler: ({ engine, params }) => ({ experiment: engine.stopExperiment(params.id!) }),
  },
  {
    method: "GET",
    path: "/experiments/{id}/resolvedTargets",
    operation: "ListExperimentResolvedTargets",
    handler: ({ engine, params, query }) => {
      const targetName = query.get("targetName");
      return engine.listExperimentResolvedTargets(params.id!, {
        ...page(query),
        ...(targetName ? { targetName } : {}),
      });
    },
  },
  {
    method: "GET",
    path: "/experiments/{id}/targetAccountConfigurations",
    operation: "ListExperimentTargetAccountConfigurations",
    handler: ({ engine, params }) => {
      engine.getExperiment(params.id!);
      return { targetAccountConfigurations: [] };
    },
  },
  {
    method: "GET",
    path: "/experiments/{id}/targetAccountConfigurations/{accountId}",
    operation: "GetExperimentTargetAccountConfiguration",
    handler: ({ params }) => {
      throw new ResourceNotFoundException(`Target account configuration ${params.accountId} not found.`);
    },
  },

  {
    method: "GET",
    path: "/actions",
    operation: "ListActions",
    handler: ({ engine, query }) => engine.listActions(page(query)),
  },
  {
    method: "GET",
    path: "/actions/{id}",
    operation: "GetAction",
    handler: ({ engine, params }) => ({ action: engine.getAction(params.id!) }),
  },
  {
    method: "GET",
    path: "/targetResourceTypes",
    operation: "ListTargetResourceTypes",
    handler: ({ engine, query }) => engine.listTargetResourceTypes(page(query)),
  },
  {
    method: "GET",
    path: "/targetResourceTypes/{resourceType}",
    operation: "GetTargetResourceType",
    handler: ({ engine, params }) => ({
      targetResourceType: engine.getTargetResourceType(params.resourceType!),
    }),
  },

  {
    method: "GET",
    path: "/tags/{resourceArn}",
    operation: "ListTagsForResource",
    handler: ({ engine, params }) => ({ tags: engine.listTagsForResource(params.resourceArn!) }),
  },
  {
    method: "POST",
    path: "/tags/{resourceArn}",
    operation: "TagResource",
    handler: ({ engine, params, body }) => {
      engine.tagResource(params.resourceArn!, tagMap((body as { tags?: unknown } | undefined)?.tags));
      return {};
    },
  },
  {
    method: "DELETE",
    path: "/tags/{resourceArn}",
    operation: "UntagResource",
    handler: ({ engine, params, query }) => {
      engine.untagResource(params.resourceArn!, query.getAll("tagKeys"));
      return {};
    },
  },

  {
    method: "GET",
    path: "/safetyLevers/{id}",
    operation: "GetSafetyLever",
    handler: ({ engine, params }) => ({ safetyLever: engine.getSafetyLever(params.id!) }),
  },
  {
    method: "PATCH",
    path: "/safetyLevers/{id}/state",
    operation: "UpdateSafetyLeverState",
    handler: ({ engine, params, body }) => ({
      safetyLever: engine.updateSafetyLeverState(params.id!, body),
    }),
  },

  // faultline's extensions of the FIS API, outside FIS's paths (see docs/api.md).
  {
    method: "POST",
    path: "/faultline/experiments/{id}/report",
    operation: "faultline:BuildExperimentReport",
    handler: async ({ engine, params }) => {
      const experimentReport = await engine.buildExperimentReport(params.id!);
      return { experimentReport, files: reportFiles(engine, params.id!) };
    },
  },
  {
    method: "GET",
    path: "/faultline/experiments/{id}/report",
    operation: "faultline:GetExperimentReport",
    handler: ({ engine, params, query }) => {
      const format = query.get("format") ?? "html";
      if (format !== "html" && format !== "pdf")
        throw new ValidationException("format", 'must be "html" or "pdf"');
      const files = engine.experimentReportFiles(params.id!);
      const path = files[format];
      if (!path) {
        throw new ResourceNotFoundException(
          `Experiment ${params.id} has no ${format.toUpperCase()} report${format === "pdf" ? " (Chromium is not installed?)" : ""}.`,
        );
      }
      return new FileBody(
        format === "pdf" ? "application/pdf" : "text/html; charset=utf-8",
        readFileSync(path),
      );
    },
  },
];

function reportFiles(engine: Engine, id: string): { html?: string; pdf?: string } {
  try {
    return engine.experimentReportFiles(id);
  } catch {
    return {};
  }
}

/** Matches decoded path segments against a route path; labels match exactly one segment. */
export function matchRoute(
  method: string,
  segments: string[],
): { route: Route; params: Record<string, string> } | "method" | undefined {
  let pathMatched = false;
  for (const route of ROUTES) {
    const parts = route.path.split("/").slice(1);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const hit = parts.every((p, i) => {
      if (p.startsWith("{")) {
        params[p.slice(1, -1)] = segments[i]!;
        return segments[i] !== "";
      }
      return p === segments[i];
    });
    if (!hit) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? "method" : undefined;
}

/** TagResource's `tags` as FIS models them: keys of 1-128 characters, string values of at most 256. */
function tagMap(tags: unknown): Record<string, string> {
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) {
    throw new ValidationException("tags", "is required: an object of strings");
  }
  for (const [key, value] of Object.entries(tags)) {
    if (key.length < 1 || key.length > 128)
      throw new ValidationException("tags", "keys must be 1-128 characters");
    if (typeof value !== "string" || value.length > 256)
      throw new ValidationException(`tags.${key}`, "must be a string of at most 256 characters");
  }
  return tags as Record<string, string>;
}
