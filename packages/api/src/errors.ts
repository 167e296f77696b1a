import { FisError } from "@faultline/engine";

/** Errors of the HTTP layer itself (not FIS's modelled ones), rendered the same way. */
export class HttpError extends FisError {
  override readonly name: string;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export const notFound = (method: string, path: string) =>
  new HttpError(404, "UnknownOperationException", `No FIS operation matches ${method} ${path}`);
export const tooLarge = (limit: number) =>
  new HttpError(413, "RequestEntityTooLargeException", `Request body exceeds ${limit} bytes`);
export const forbidden = (why: string) => new HttpError(403, "AccessDeniedException", why);
export const unsupportedMedia = (type: string) =>
  new HttpError(
    415,
    "UnsupportedMediaTypeException",
    `Content-Type ${type || "(none)"} is not accepted; send application/json`,
  );
