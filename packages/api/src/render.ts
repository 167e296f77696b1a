import { FisError, InternalServerException } from "@faultline/engine";

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text, or the bytes of a file (faultline's report route). */
  body: string | Buffer;
}

/** A handler's result that is a file, not JSON: served as is with its content type. */
export class FileBody {
  constructor(
    readonly contentType: string,
    readonly data: Buffer,
  ) {}
}

export function file(f: FileBody): ApiResponse {
  return { status: 200, headers: { "content-type": f.contentType }, body: f.data };
}

/** restJson1 timestamps are epoch seconds; every Date in a response becomes one. */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key];
  return original instanceof Date ? original.getTime() / 1000 : value;
}

/** JSON as the API writes it (Dates as epoch seconds). */
export function toJson(body: unknown): string {
  return JSON.stringify(body ?? {}, replacer);
}

export function ok(body: unknown): ApiResponse {
  return { status: 200, headers: { "content-type": "application/json" }, body: toJson(body) };
}

/** The one error renderer: `x-amzn-errortype` + `{message}`, which both the SDK and botocore map to typed errors. */
export function renderError(error: unknown, requestId: string): ApiResponse {
  const e = error instanceof FisError ? error : new InternalServerException("Internal error");
  return {
    status: e.status,
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": e.code,
      "x-amzn-requestid": requestId,
    },
    body: JSON.stringify({ message: e.message }),
  };
}
