/**
 * The route table of one API: `METHOD /path/{param}` (or `ANY`, or a greedy `{proxy+}` last segment) → function.
 * Matching as API Gateway does: the most specific route wins (literal segments beat parameters, parameters beat
 * greedy ones), then a method match beats ANY.
 */

export const ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

export interface RouteSpec {
  method: RouteMethod;
  /** e.g. "/orders/{id}", "/files/{proxy+}". */
  path: string;
  /** Name of a function of the lab. */
  function: string;
}

type Segment =
  | { kind: "literal"; text: string }
  | { kind: "param"; name: string }
  | { kind: "greedy"; name: string };

export interface CompiledRoute extends RouteSpec {
  /** `GET /orders/{id}` as API Gateway names it in the event. */
  routeKey: string;
  segments: Segment[];
}

export interface RouteMatch {
  route: CompiledRoute;
  pathParameters: Record<string, string>;
}

/** Throws a message naming what is wrong; the config turns it into a field error. */
export function compileRoute(spec: RouteSpec): CompiledRoute {
  if (!spec.path.startsWith("/")) throw new Error(`must start with "/"`);
  const parts = spec.path === "/" ? [] : spec.path.slice(1).split("/");
  const segments = parts.map((part, i): Segment => {
    const param = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(part);
    if (param) {
      if (param[2] === "+" && i !== parts.length - 1)
        throw new Error("a greedy {name+} must be the last segment");
      return param[2] === "+" ? { kind: "greedy", name: param[1]! } : { kind: "param", name: param[1]! };
    }
    if (part === "" || /[{}]/.test(part)) throw new Error(`bad segment "${part}"`);
    return { kind: "literal", text: part };
  });
  return { ...spec, routeKey: `${spec.method} ${spec.path}`, segments };
}

/** The best route for a request, or undefined (API Gateway's 404). */
export function matchRoute(routes: CompiledRoute[], method: string, path: string): RouteMatch | undefined {
  const parts = path === "/" || path === "" ? [] : path.replace(/^\//, "").split("/");
  let best: { match: RouteMatch; score: number[] } | undefined;
  for (const route of routes) {
    if (route.method !== "ANY" && route.method !== method) continue;
    const params = matchSegments(route.segments, parts);
    if (!params) continue;
    // Per segment: literal 2, parameter 1, greedy 0; then the exact method before ANY.
    const score = [...route.segments.map((s) => (s.kind === "literal" ? 2 : s.kind === "param" ? 1 : 0))];
    score.push(route.method === "ANY" ? 0 : 1);
    if (!best || compareScores(score, best.score) > 0)
      best = { match: { route, pathParameters: params }, score };
  }
  return best?.match;
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.kind === "greedy") {
      if (i >= parts.length) return undefined;
      params[segment.name] = decode(parts.slice(i).join("/"));
      return params;
    }
    const part = parts[i];
    if (part === undefined || part === "") return undefined;
    if (segment.kind === "literal" && segment.text !== part) return undefined;
    if (segment.kind === "param") params[segment.name] = decode(part);
  }
  return segments.length === parts.length ? params : undefined;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
