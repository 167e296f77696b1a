/** Invoke: POST /2015-03-31/functions/{FunctionName}/invocations (RequestResponse, Event, DryRun). */

import type { IncomingMessage } from "node:http";
import type { InvocationInput, InvocationReport } from "../../contract.ts";
import { InvalidParameterValueError, LambdaApiError } from "../../errors.ts";
import type { Handler, LambdaApiContext } from "../context.ts";
import { labIdentity } from "../context.ts";
import { header, readBody, requestIdOf } from "../http.ts";
import { resolveFunctionName } from "../names.ts";
import { newTraceId } from "../trace.ts";

/** Lambda's synchronous request payload limit. */
export const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** Lambda's asynchronous (Event) payload limit. */
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;
/** API_Invoke: ClientContext is "up to 3,583 bytes of base64-encoded data". */
export const CLIENT_CONTEXT_LIMIT = 3583;
/** X-Amz-Log-Result carries the last 4 KB of the invocation's log. */
export const LOG_TAIL_BYTES = 4096;

export const invoke: Handler = async (req, res, params, url, ctx) => {
  const type = header(req, "x-amz-invocation-type") ?? "RequestResponse";
  if (type !== "RequestResponse" && type !== "Event" && type !== "DryRun") {
    throw new InvalidParameterValueError(
      `Invalid InvocationType: ${type}. Valid values: RequestResponse, Event, DryRun`,
    );
  }
  const { input, pool } = await prepareInvocation(req, params, url, ctx, {
    limit: type === "Event" ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT,
    requestId: requestIdOf(res),
    acceptStreaming: false,
  });
  if (type === "DryRun") {
    res.writeHead(204).end();
    return;
  }
  if (type === "Event") {
    // API_Invoke: "Lambda passes the ClientContext object to your function for synchronous invocations only."
    delete input.clientContext;
    void pool.invokeInBackground(input);
    res.writeHead(202, { "content-length": 0 }).end();
    return;
  }
  const report = await pool.invoke(input);
  const body = await payloadOf(report);
  const headers: Record<string, string | number> = {
    "content-type":
      report.outcome.kind === "function-error" ? "application/json" : report.outcome.contentType,
    "content-length": body.length,
    "x-amz-executed-version": "$LATEST",
  };
  if (report.outcome.kind === "function-error") {
    headers["x-amz-function-error"] = "Unhandled";
  }
  if (header(req, "x-amz-log-type") === "Tail") {
    // The tail ends with END and REPORT, as in every Lambda example: wait for the invoke phase's end (only
    // when the caller asked for the log; the docs are silent on a tail taken before extensions finish).
    const whole = report.phaseEnd ? await report.phaseEnd : report;
    headers["x-amz-log-result"] = logTail(whole.log);
  }
  res.writeHead(200, headers).end(body);
};

/** Shared by Invoke and InvokeWithResponseStream: resolve the function, read the payload, build the input. */
export async function prepareInvocation(
  req: IncomingMessage,
  params: Record<string, string>,
  url: URL,
  ctx: LambdaApiContext,
  options: { limit: number; requestId: string; acceptStreaming: boolean },
) {
  const target = resolveFunctionName(params.name ?? "", url.searchParams.get("Qualifier"), labIdentity(ctx));
  const pool = ctx.pools.get(target.name)!;
  const logType = header(req, "x-amz-log-type");
  if (logType !== undefined && logType !== "None" && logType !== "Tail") {
    throw new InvalidParameterValueError(`Invalid LogType: ${logType}. Valid values: None, Tail`);
  }
  const clientContext = clientContextOf(header(req, "x-amz-client-context"));
  const payload = await readBody(req, options.limit);
  if (payload.length > 0 && !isJson(payload)) {
    throw new LambdaApiError(
      "InvalidRequestContentException",
      400,
      "Could not parse request body into json: payload is not valid JSON",
    );
  }
  const input: InvocationInput = {
    requestId: options.requestId,
    // Lambda hands an empty invocation to the function as {}.
    payload: payload.length > 0 ? payload : Buffer.from("{}"),
    invokedFunctionArn: target.invokedArn,
    traceId: header(req, "x-amzn-trace-id") ?? newTraceId(),
    acceptStreaming: options.acceptStreaming,
  };
  if (clientContext !== undefined) input.clientContext = clientContext;
  return { input, pool, target };
}

/**
 * X-Amz-Client-Context is base64 JSON; Lambda decodes it and hands the runtime the JSON (the official runtime
 * clients JSON.parse Lambda-Runtime-Client-Context). Lambda's refusal, as the SDKs record it:
 * InvalidRequestContentException "Client context must be a valid Base64-encoded JSON object."
 */
function clientContextOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length > CLIENT_CONTEXT_LIMIT) {
    // The limit is documented; the error's text is not (lab wording, see environment/README.md).
    throw new LambdaApiError(
      "InvalidRequestContentException",
      400,
      `Client context must be at most ${CLIENT_CONTEXT_LIMIT} bytes of base64, got ${value.length}.`,
    );
  }
  const invalid = new LambdaApiError(
    "InvalidRequestContentException",
    400,
    "Client context must be a valid Base64-encoded JSON object.",
  );
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw invalid;
  const text = Buffer.from(value, "base64").toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid;
  return text;
}

/** The last 4 KB of the log, base64, as X-Amz-Log-Result carries it. */
export function logTail(log: string): string {
  const bytes = Buffer.from(log, "utf8");
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString("base64");
}

/** A RequestResponse caller gets the whole payload, even if the function streamed it. */
async function payloadOf(report: InvocationReport): Promise<Buffer> {
  const { outcome } = report;
  if (outcome.kind !== "stream") return outcome.payload;
  const chunks: Buffer[] = [];
  for await (const chunk of outcome.body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function isJson(payload: Buffer): boolean {
  try {
    JSON.parse(payload.toString("utf8"));
    return true;
  } catch {
    return false;
  }
}
