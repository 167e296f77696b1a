/**
 * Objects in memory (one Map per bucket plus its keys kept sorted, so listings are a binary search and a walk),
 * optionally mirrored to a directory so a lab restarted on the same directory sees them again.
 *
 * On disk: `<dir>/<bucket>/bucket.json` and `<dir>/<bucket>/objects/<sha256(key)>`, each object one file
 * (magic, metadata JSON length, metadata JSON, body) written to a temporary name and renamed, so a reader never
 * sees half an object. Writes to one key are chained, so the file ends as the last write left the Map.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";

export interface StoredObject {
  key: string;
  body: Buffer;
  /** Quoted, as S3 sends it: `"<md5 hex>"`, or `"<md5 of part md5s>-<parts>"` after a multipart upload. */
  etag: string;
  /** Milliseconds since the epoch, whole seconds (S3's Last-Modified has second precision). */
  lastModified: number;
  contentType: string;
  /** User metadata: lower-case names without the `x-amz-meta-` prefix. */
  metadata: Record<string, string>;
  /** Content-Encoding, Content-Disposition, Cache-Control, Content-Language, Expires as sent (lower-case names). */
  headers: Record<string, string>;
  /** A full-object checksum the client sent or asked for, e.g. { algorithm: "CRC32", value: "<base64>" }. */
  checksum?: { algorithm: string; value: string };
}

export interface Upload {
  id: string;
  bucket: string;
  key: string;
  initiated: number;
  /** What the object will carry (everything but body, etag and lastModified). */
  template: Pick<StoredObject, "contentType" | "metadata" | "headers">;
  parts: Map<number, { body: Buffer; etag: string; lastModified: number }>;
}

/**
 * S3 lists keys in UTF-8 byte order, which is code point order. JavaScript compares UTF-16 code units; the two
 * disagree only when a surrogate (a code point above U+FFFF) meets a unit in U+E000–U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (xs ? y : x) >= 0xe000) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

export class Bucket {
  private readonly objects = new Map<string, StoredObject>();
  /** Every key in `objects`, in compareKeys order. */
  private readonly sorted: string[] = [];

  constructor(
    readonly name: string,
    readonly created: number,
    readonly region: string,
  ) {}

  get size(): number {
    return this.objects.size;
  }

  get(key: string): StoredObject | undefined {
    return this.objects.get(key);
  }

  set(object: StoredObject): void {
    if (!this.objects.has(object.key)) this.sorted.splice(this.lowerBound(object.key), 0, object.key);
    this.objects.set(object.key, object);
  }

  delete(key: string): boolean {
    if (!this.objects.delete(key)) return false;
    this.sorted.splice(this.lowerBound(key), 1);
    return true;
  }

  /** Keys in order, from `start` (included unless `exclusive`). */
  *keysFrom(start: string, exclusive: boolean): Generator<string> {
    let i = this.lowerBound(start);
    if (exclusive && this.sorted[i] === start) i++;
    for (; i < this.sorted.length; i++) yield this.sorted[i]!;
  }

  /** Index of the first key ≥ `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sorted[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const MAGIC = Buffer.from("FLS3\u0001");

export class ObjectStore {
  readonly buckets = new Map<string, Bucket>();
  readonly uploads = new Map<string, Upload>();
  /** The last disk operation per `bucket/key` (and per bucket, for bucket files): the next one waits for it. */
  private readonly pending = new Map<string, Promise<void>>();

  /** Without a directory everything stays in memory. With one, what it holds is loaded first. */
  constructor(readonly directory?: string) {
    if (directory) this.load(directory);
  }

  createBucket(name: string, region: string): Bucket {
    const bucket = new Bucket(name, Math.floor(Date.now() / 1000) * 1000, region);
    this.buckets.set(name, bucket);
    if (this.directory) {
      mkdirSync(join(this.directory, name, "objects"), { recursive: true });
      const meta = Buffer.from(JSON.stringify({ created: bucket.created, region }));
      void this.persist(name, () => writeAtomically(join(this.directory!, name, "bucket.json"), [meta]));
    }
    return bucket;
  }

  async deleteBucket(name: string): Promise<void> {
    this.buckets.delete(name);
    for (const [id, upload] of this.uploads) if (upload.bucket === name) this.uploads.delete(id);
    if (!this.directory) return;
    const dir = join(this.directory, name);
    const waits = [...this.pending].filter(([k]) => k === name || k.startsWith(`${name}/`)).map(([, p]) => p);
    await Promise.all(waits);
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * In memory at once (so the next request sees it); resolves when it is also on disk. When the disk write fails
   * (a full disk) the object is taken back out of memory, so a PUT that answered an error is never served.
   */
  putObject(bucket: Bucket, object: StoredObject): Promise<void> {
    const previous = bucket.get(object.key);
    bucket.set(object);
    if (!this.directory) return Promise.resolve();
    const { body, ...meta } = object;
    const metaBytes = Buffer.from(JSON.stringify(meta));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(metaBytes.length);
    const file = this.objectFile(bucket.name, object.key);
    const written = this.persist(`${bucket.name}/${object.key}`, () =>
      writeAtomically(file, [MAGIC, header, metaBytes, body]),
    );
    written.catch(() => {
      // Only if nothing newer replaced it meanwhile: the disk still holds `previous` (or nothing).
      if (bucket.get(object.key) !== object) return;
      if (previous) bucket.set(previous);
      else bucket.delete(object.key);
    });
    return written;
  }

  deleteObject(bucket: Bucket, key: string): Promise<void> {
    if (!bucket.delete(key) || !this.directory) return Promise.resolve();
    const file = this.objectFile(bucket.name, key);
    return this.persist(`${bucket.name}/${key}`, () => rm(file, { force: true }));
  }

  /** Every disk write started so far has finished. */
  async flush(): Promise<void> {
    await Promise.all(this.pending.values());
  }

  private persist(chainKey: string, write: () => Promise<void>): Promise<void> {
    const previous = this.pending.get(chainKey) ?? Promise.resolve();
    const next = previous.then(write, write);
    this.pending.set(chainKey, next);
    // Forget the chain once it is idle, so the Map holds only keys with writes in flight.
    const forget = () => {
      if (this.pending.get(chainKey) === next) this.pending.delete(chainKey);
    };
    next.then(forget, forget);
    return next;
  }

  private objectFile(bucket: string, key: string): string {
    // Keys may hold any character and be 1024 bytes long: a hash is always a valid, short file name.
    return join(this.directory!, bucket, "objects", createHash("sha256").update(key).digest("hex"));
  }

  private load(directory: string): void {
    mkdirSync(directory, { recursive: true });
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (!entry.isDirectory() || !isValidBucketName(entry.name)) continue;
      const dir = join(directory, entry.name);
      let created = Math.floor(statSync(dir).birthtimeMs / 1000) * 1000;
      let region = "us-east-1";
      const metaFile = join(dir, "bucket.json");
      if (existsSync(metaFile)) {
        try {
          const meta = JSON.parse(readFileSync(metaFile, "utf8")) as { created?: number; region?: string };
          created = meta.created ?? created;
          region = meta.region ?? region;
        } catch {
          // torn bucket.json: the directory's own date and the default region will do
        }
      }
      const bucket = new Bucket(entry.name, created, region);
      this.buckets.set(entry.name, bucket);
      const objects = join(dir, "objects");
      if (!existsSync(objects)) continue;
      for (const name of readdirSync(objects)) {
        const file = join(objects, name);
        // A temporary file is a write the previous run did not finish: the object it was replacing still stands.
        if (name.includes(".tmp-")) {
          rmSync(file, { force: true });
          continue;
        }
        if (name.includes(".corrupt")) continue;
        const object = decodeObjectFile(readFileSync(file));
        if (object) bucket.set(object);
        else quarantine(file, entry.name);
      }
    }
  }
}

/** The object a file holds, or undefined when it is not a whole object file (torn, truncated, foreign). */
function decodeObjectFile(bytes: Buffer): StoredObject | undefined {
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = bytes.readUInt32BE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (start + length > bytes.length) return undefined;
  let meta: Omit<StoredObject, "body">;
  try {
    meta = JSON.parse(bytes.subarray(start, start + length).toString("utf8")) as Omit<StoredObject, "body">;
  } catch {
    return undefined;
  }
  if (typeof meta?.key !== "string" || typeof meta.etag !== "string") return undefined;
  const body = bytes.subarray(start + length);
  // A single-part ETag is the body's MD5: a truncated body shows. (Multipart ETags cannot be checked this way.)
  if (!meta.etag.includes("-") && meta.etag !== `"${createHash("md5").update(body).digest("hex")}"`)
    return undefined;
  return { ...meta, body };
}

/** Moves an unreadable object file aside (kept for inspection, never loaded again) and says so once. */
function quarantine(file: string, bucket: string): void {
  const aside = `${file}.corrupt-${Date.now()}`;
  try {
    renameSync(file, aside);
  } catch {
    // left in place: it is skipped again next start
  }
  console.error(`faultline lab S3: skipped an unreadable object file in bucket ${bucket}; moved to ${aside}`);
}

/**
 * Temporary name + rename: a restart finds the old object or the new one, never a torn file. No fsync — the
 * promise is surviving a lab restart, not a power cut.
 */
async function writeAtomically(file: string, parts: Buffer[]): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
  try {
    const handle = await open(tmp, "w");
    try {
      const total = parts.reduce((n, p) => n + p.length, 0);
      const { bytesWritten } = await handle.writev(parts);
      // writev may stop short (a large body); write the remainder in place.
      if (bytesWritten < total)
        await handle.write(Buffer.concat(parts).subarray(bytesWritten), 0, undefined, bytesWritten);
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    // A full disk: the old file stays whole, and no partial temporary file is left behind.
    await rm(tmp, { force: true });
    throw error;
  }
}

/** S3's rules for new bucket names: 3–63 of a-z 0-9 . -, starting and ending with a letter or digit, not an IP. */
export function isValidBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes("..") &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name)
  );
}
