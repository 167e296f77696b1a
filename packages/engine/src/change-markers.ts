import { randomUUID } from "node:crypto";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { changeMarkerKeyOf, FAULTLINE_VERSION } from "@faultline/protocol";
import type { EngineEvents, FaultObjectEvent } from "./events.ts";

/**
 * Rewrites a function's change marker (`<prefix>.faultline/markers/<function>`) after each write or delete of
 * its fault objects, so the extension — reading the marker with a conditional GET about once a second — lists
 * again within a second instead of waiting for its slow ListObjectsV2 poll.
 *
 * Fire and forget: a marker write never delays or fails a write, a stop or a delete (without it the fault still
 * ends at its endTime and on the extension's list poll). Writes to one marker are serialised, with at most one
 * more queued: a burst of changes becomes at most two writes, the last one after the last change.
 */
export class ChangeMarkers {
  readonly #s3: S3Client;
  readonly #say: (message: string) => void;
  /** Per `bucket/key`: the write in flight, and whether another change came in meanwhile. */
  readonly #writing = new Map<string, { again: boolean; done: Promise<void> }>();
  #failures = 0;

  constructor(s3: S3Client, say: (message: string) => void) {
    this.#s3 = s3;
    this.#say = say;
  }

  /** Marks every fault-object change the engine announces. */
  follow(events: EngineEvents): this {
    events.on("fault-object", (event) => this.changed(event));
    return this;
  }

  changed(event: Pick<FaultObjectEvent, "bucket" | "key" | "experimentId" | "actionName">): void {
    let key: string;
    try {
      key = changeMarkerKeyOf(event.key, event.experimentId, event.actionName);
    } catch {
      return; // not laid out as a fault object: nothing reads a marker for it
    }
    const id = `${event.bucket}/${key}`;
    const writing = this.#writing.get(id);
    if (writing !== undefined) {
      writing.again = true;
      return;
    }
    const entry = { again: false, done: Promise.resolve() };
    this.#writing.set(id, entry);
    entry.done = (async () => {
      do {
        entry.again = false;
        await this.#write(event.bucket, key);
      } while (entry.again);
      this.#writing.delete(id);
    })();
  }

  /** Resolves once every marker write started so far has ended (tests, and a tidy close). */
  async settled(): Promise<void> {
    while (this.#writing.size > 0) await Promise.all([...this.#writing.values()].map((w) => w.done));
  }

  async #write(bucket: string, key: string): Promise<void> {
    // Unique per write: S3's ETag is the body's MD5, and an unchanged ETag would read as "no change" (304).
    const body = JSON.stringify({
      changed: new Date().toISOString(),
      nonce: randomUUID(),
      by: FAULTLINE_VERSION,
    });
    try {
      await this.#s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json" }),
      );
      this.#failures = 0;
    } catch (error) {
      // Logged on the first failure of a run of failures, not once per change.
      if (this.#failures++ === 0)
        this.#say(
          `cannot write the change marker s3://${bucket}/${key} (${(error as Error).message}): functions see changes on their list poll instead`,
        );
    }
  }
}
