/**
 * InvokeWithResponseStream: POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations.
 * The body is an AWS event stream: PayloadChunk events as the function streams, then one InvokeComplete.
 */
import type { ServerResponse } from "node:http";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import type { StreamCompletion } from "../../contract.ts";
import { InvalidParameterValueError } from "../../errors.ts";
import type { Handler } from "../context.ts";
import { header, requestIdOf } from "../http.ts";
import { logTail, prepareInvocation, SYNC_PAYLOAD_LIMIT } from "./invoke.ts";

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function event(eventType: string, contentType: string, body: Uint8Array): Uint8Array {
  return codec.encode({
    headers: {
      ":event-type": { type: "string", value: eventType },
      ":content-type": { type: "string", value: contentType },
      ":message-type": { type: "string", value: "event" },
    },
    body,
  });
}

export const invokeWithResponseStream: Handler = async (req, res, params, url, ctx) => {
  const type = header(req, "x-amz-invocation-type") ?? "RequestResponse";
  if (type !== "RequestResponse" && type !== "DryRun") {
    throw new InvalidParameterValueError(
      `Invalid InvocationType: ${type}. Valid values: RequestResponse, DryRun`,
    );
  }
  const { input, pool } = await prepareInvocation(req, params, url, ctx, {
    limit: SYNC_PAYLOAD_LIMIT,
    requestId: requestIdOf(res),
    acceptStreaming: true,
  });
  if (type === "DryRun") {
    res.writeHead(204).end();
    return;
  }
  const report = await pool.invoke(input);
  const tail = header(req, "x-amz-log-type") === "Tail";
  const { outcome } = report;
  res.writeHead(200, {
    "content-type": "application/vnd.amazon.eventstream",
    "x-amz-executed-version": "$LATEST",
  });
  const complete = (completion: StreamCompletion) => {
    const done: Record<string, string> = {};
    if (completion.errorType) done.ErrorCode = completion.errorType;
    if (completion.errorBody !== undefined) done.ErrorDetails = completion.errorBody;
    if (tail) done.LogResult = logTail(report.log);
    res.end(event("InvokeComplete", "application/json", fromUtf8(JSON.stringify(done))));
  };
  if (outcome.kind === "response") {
    if (outcome.payload.length > 0) writeChunk(res, outcome.payload);
    complete({});
  } else if (outcome.kind === "function-error") {
    complete({ errorType: outcome.errorType, errorBody: outcome.payload.toString("utf8") });
  } else {
    try {
      for await (const chunk of outcome.body) writeChunk(res, Buffer.from(chunk));
    } catch (error) {
      complete({ errorType: "Runtime.StreamError", errorBody: (error as Error).message });
      return;
    }
    const completion: StreamCompletion = (await outcome.completion?.catch(() => ({}))) ?? {};
    if (completion.errorBody) {
      // The runtime sends the error trailer base64-encoded; callers get the JSON.
      completion.errorBody = Buffer.from(completion.errorBody, "base64").toString("utf8");
    }
    complete(completion);
  }
};

function writeChunk(res: ServerResponse, chunk: Buffer): void {
  res.write(event("PayloadChunk", "application/octet-stream", chunk));
}
