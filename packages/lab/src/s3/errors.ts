/**
 * S3's error shape: every failure a handler raises is an `S3Error`, and `renderError` (server.ts) is the one place
 * that writes it — `<Error><Code/><Message/>…<Resource/><RequestId/></Error>`, no body for HEAD or 304.
 */

export class S3Error extends Error {
  constructor(
    /** S3's error code, e.g. NoSuchKey. */
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra elements S3 adds for this code (BucketName, Key, Condition, …), in order. */
    readonly details: Record<string, string> = {},
    /** Headers S3 sends with this error (Content-Range on 416, …). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** A bucket name in the startS3 options that S3 would refuse; nothing has been started. */
export class S3SetupError extends Error {
  override readonly name = "S3SetupError";
}

export const noSuchBucket = (bucket: string) =>
  new S3Error("NoSuchBucket", 404, "The specified bucket does not exist", { BucketName: bucket });

export const noSuchKey = (key: string) =>
  new S3Error("NoSuchKey", 404, "The specified key does not exist.", { Key: key });

export const noSuchUpload = (uploadId: string) =>
  new S3Error(
    "NoSuchUpload",
    404,
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    { UploadId: uploadId },
  );

export const preconditionFailed = (condition: string) =>
  new S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", {
    Condition: condition,
  });

export const invalidArgument = (name: string, value: string, message: string) =>
  new S3Error("InvalidArgument", 400, message, { ArgumentName: name, ArgumentValue: value });

export const malformedXml = () =>
  new S3Error(
    "MalformedXML",
    400,
    "The XML you provided was not well-formed or did not validate against our published schema",
  );

export const notImplemented = (operation: string) =>
  new S3Error(
    "NotImplemented",
    501,
    `${operation} is not implemented by the faultline lab's S3 (see docs/lab-config.md)`,
  );

/** The response S3 sends when the object has not changed; raised like an error so every handler can use it. */
export class NotModified extends S3Error {
  constructor(headers: Record<string, string>) {
    super("NotModified", 304, "Not Modified", {}, headers);
  }
}
