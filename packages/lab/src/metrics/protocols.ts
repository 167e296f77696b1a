/**
 * The three wire protocols CloudWatch clients speak, decoded to one (operation, input) and rendered back:
 * - awsJson1_0: `POST /`, `X-Amz-Target: GraniteServiceVersion20100801.<Op>`, timestamps as epoch seconds
 *   (`@aws-sdk/client-cloudwatch` 3.116x);
 * - smithy-rpc-v2-cbor: `POST /service/GraniteServiceVersion20100801/operation/<Op>`, CBOR, timestamps as tag 1
 *   (AWS CLI v1 with botocore 1.43);
 * - awsQuery: form-encoded `Action=<Op>`, XML responses (AWS CLI v2 2.9, older SDKs).
 * Handlers return timestamps as `Date`; each renderer writes them its protocol's way.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { decode as decodeCbor, encode as encodeCbor } from "cbor2";
import { CloudWatchApiError } from "./errors.ts";

export type Protocol = "json" | "cbor" | "query";

export const TARGET_PREFIX = "GraniteServiceVersion20100801.";
const CBOR_PATH = /^\/service\/GraniteServiceVersion20100801\/operation\/([A-Za-z]+)$/;
const XMLNS = "http://monitoring.amazonaws.com/doc/2010-08-01/";

export interface DecodedRequest {
  protocol: Protocol;
  operation: string;
  input: Record<string, unknown>;
}

/** Which protocol a request speaks, from its path and headers alone (so errors can be rendered in kind). */
export function protocolOf(req: IncomingMessage): Protocol {
  const path = (req.url ?? "/").split("?")[0]!;
  if (CBOR_PATH.test(path)) return "cbor";
  if (req.headers["x-amz-target"] !== undefined) return "json";
  if (String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded"))
    return "query";
  return "json";
}

export function decodeRequest(req: IncomingMessage, body: Buffer): DecodedRequest {
  const protocol = protocolOf(req);
  if (req.method !== "POST") throw unknown(`${req.method} is not supported: CloudWatch takes POST`);
  if (protocol === "cbor") {
    const operation = CBOR_PATH.exec((req.url ?? "/").split("?")[0]!)![1]!;
    let input: unknown = {};
    if (body.length > 0) {
      try {
        input = decodeCbor(new Uint8Array(body.buffer, body.byteOffset, body.length));
      } catch {
        throw new CloudWatchApiError("SerializationException", 400, "request body is not CBOR");
      }
    }
    return { protocol, operation, input: asObject(input, "request body is not a CBOR map") };
  }
  if (protocol === "query") {
    const params = new URLSearchParams(body.toString("utf8"));
    const operation = params.get("Action");
    if (!operation) throw new CloudWatchApiError("MissingAction", 400, "the Action parameter is required");
    return { protocol, operation, input: fromQuery(params) };
  }
  const target = String(req.headers["x-amz-target"] ?? "");
  if (!target.startsWith(TARGET_PREFIX)) {
    throw unknown(
      "expected X-Amz-Target: GraniteServiceVersion20100801.<Operation> (awsJson1_0), the rpc-v2-cbor path, or an awsQuery form",
    );
  }
  let input: unknown = {};
  const text = body.toString("utf8");
  if (text.length > 0) {
    try {
      input = JSON.parse(text);
    } catch {
      throw new CloudWatchApiError("SerializationException", 400, "request body is not JSON");
    }
  }
  return {
    protocol,
    operation: target.slice(TARGET_PREFIX.length),
    input: asObject(input, "request body is not a JSON object"),
  };
}

/** One renderer per protocol; errors carry CloudWatch's query code in `x-amzn-query-error` for the JSON ones. */
export function render(
  res: ServerResponse,
  protocol: Protocol,
  operation: string,
  outcome: Record<string, unknown> | CloudWatchApiError,
): void {
  if (res.headersSent) return;
  const error = outcome instanceof CloudWatchApiError ? outcome : undefined;
  const status = error ? error.status : 200;
  const headers: Record<string, string> = {};
  let body: Buffer;
  if (error && protocol !== "query") {
    headers["x-amzn-query-error"] = `${error.code};${error.status >= 500 ? "Receiver" : "Sender"}`;
  }
  const payload = error
    ? { __type: `com.amazonaws.cloudwatch#${error.shape}`, message: error.message }
    : (outcome as Record<string, unknown>);
  if (protocol === "cbor") {
    headers["content-type"] = "application/cbor";
    headers["smithy-protocol"] = "rpc-v2-cbor";
    body = Buffer.from(encodeCbor(withoutUndefined(payload)));
  } else if (protocol === "query") {
    headers["content-type"] = "text/xml";
    body = Buffer.from(error ? queryError(error) : queryResponse(operation, payload));
  } else {
    headers["content-type"] = "application/x-amz-json-1.0";
    body = Buffer.from(
      JSON.stringify(payload, function (this: Record<string, unknown>, key, value) {
        const original = this[key];
        return original instanceof Date ? original.getTime() / 1000 : value;
      }),
    );
  }
  headers["content-length"] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

function unknown(message: string): CloudWatchApiError {
  return new CloudWatchApiError("UnknownOperationException", 400, message);
}

function asObject(v: unknown, message: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Date) {
    throw new CloudWatchApiError("SerializationException", 400, message);
  }
  return v as Record<string, unknown>;
}

function withoutUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutUndefined);
  if (v instanceof Date || typeof v !== "object" || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => [k, withoutUndefined(x)]),
  );
}

// awsQuery carries no types: these members are numbers or booleans in CloudWatch's model; the rest stay strings.
const NUMBERS = new Set([
  "Period",
  "EvaluationPeriods",
  "DatapointsToAlarm",
  "Threshold",
  "Value",
  "Values",
  "Counts",
  "SampleCount",
  "Sum",
  "Minimum",
  "Maximum",
  "MaxRecords",
  "MaxDatapoints",
  "StorageResolution",
]);
const BOOLEANS = new Set(["ActionsEnabled", "ReturnData"]);

/** Past this list index a query parameter is refused: CloudWatch's longest list (MetricData) takes 1000. */
const MAX_MEMBER = 1000;
/** Names that would reach Object.prototype through a plain object. */
const UNSAFE_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/**
 * `A.member.1.B.member.2.C=v` → `{A: [{B: [undefined, {C: v}]}]}` (lists are 1-based on the wire). Parameters
 * that contradict each other (`A=1&A.B=2`), name `__proto__`, or index a list outside 1..1000 are refused.
 */
export function fromQuery(params: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, raw] of params) {
    if (key === "Action" || key === "Version") continue;
    const invalid = (why: string) =>
      new CloudWatchApiError("InvalidParameterValue", 400, `The query parameter ${key.slice(0, 200)} ${why}`);
    const parts = key.split(".");
    let node: Record<string | number, unknown> = root;
    let name = "";
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      let slot: string | number;
      if (part === "member" && i + 1 < parts.length && /^\d+$/.test(parts[i + 1]!)) {
        // The list itself lives at the previous name; descend into index N-1.
        const index = Number(parts[i + 1]);
        if (index < 1 || index > MAX_MEMBER) throw invalid(`has a list index outside 1..${MAX_MEMBER}`);
        slot = index - 1;
        i++;
      } else {
        if (UNSAFE_NAMES.has(part)) throw invalid("is not a parameter name");
        slot = part;
        name = part;
      }
      if (i === parts.length - 1) {
        if (node[slot] !== undefined) throw invalid("is given twice or conflicts with another parameter");
        node[slot] = coerce(name, raw);
        break;
      }
      const nextIsList = parts[i + 1] === "member";
      let child = node[slot];
      if (child === undefined) {
        child = nextIsList ? [] : {};
        node[slot] = child;
      }
      if (typeof child !== "object" || child === null || Array.isArray(child) !== nextIsList)
        throw invalid("conflicts with another parameter");
      node = child as Record<string | number, unknown>;
    }
  }
  return root;
}

function coerce(name: string, raw: string): unknown {
  if (NUMBERS.has(name)) {
    const n = Number(raw);
    return raw.trim() === "" || Number.isNaN(n) ? raw : n;
  }
  if (BOOLEANS.has(name)) return raw === "true" ? true : raw === "false" ? false : raw;
  return raw;
}

function queryResponse(operation: string, payload: Record<string, unknown>): string {
  const result =
    Object.keys(payload).length === 0 ? "" : `<${operation}Result>${xml(payload)}</${operation}Result>`;
  return `<${operation}Response xmlns="${XMLNS}">${result}<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${operation}Response>`;
}

function queryError(error: CloudWatchApiError): string {
  return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${error.status >= 500 ? "Receiver" : "Sender"}</Type><Code>${esc(
    error.code,
  )}</Code><Message>${esc(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

/** Members in order; lists as `<member>`; `ExtendedStatistics` is a map (`<entry><key/><value/></entry>`). */
function xml(v: unknown, key = ""): string {
  if (v === undefined || v === null) return "";
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => `<member>${xml(x)}</member>`).join("");
  if (typeof v === "object") {
    if (key === "ExtendedStatistics") {
      return Object.entries(v)
        .map(([k, x]) => `<entry><key>${esc(k)}</key><value>${xml(x)}</value></entry>`)
        .join("");
    }
    return Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `<${k}>${xml(x, k)}</${k}>`)
      .join("");
  }
  return esc(String(v));
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
