/** An environment setting that cannot be used. `setting` names the variable. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
  }
}

/** The store (S3) answered with an error or could not be reached. The message is stable per cause, so it can be logged once. */
export class StoreError extends Error {
  override readonly name = "StoreError";
}

/** An object (or listing page) larger than the extension accepts: refused unread, or aborted mid-body. */
export class ObjectTooLargeError extends StoreError {
  constructor(
    message: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(message);
  }
}

/** The upstream Runtime API (Lambda, or the next proxy in a chain) failed. Rendered to the runtime as a 502. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
}

/** The Extensions API refused or failed a call the extension cannot do without (register, event/next). */
export class ExtensionsApiError extends Error {
  override readonly name = "ExtensionsApiError";
}
