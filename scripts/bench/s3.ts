/**
 * Lab S3 benchmark. Run alone: `node --import tsx scripts/bench/s3.ts`, or through `npm run bench -- s3`.
 *
 * The engine's load on S3: 1000 PutObject (a ~300-byte fault document each) then 1000 DeleteObject through
 * @aws-sdk/client-s3 (default settings) at concurrency 32 — against the lab's S3 in memory, the lab's S3 on a
 * directory, and, in the same run, a bare node:http server that answers 200 with an ETag (the floor: SDK
 * signing + HTTP parsing + loopback). Ratios are lab / bare.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { S3_CREDENTIALS, startS3 } from "../../packages/lab/src/index.ts";

const OBJECTS = 1000;
const CONCURRENCY = 32;
const BODY = `{"version":1,"action":"aws:lambda:invocation-add-delay","x":"${"y".repeat(240)}"}`;

export interface S3BenchResult {
  bare: { putMs: number; deleteMs: number };
  memory: { putMs: number; deleteMs: number; putRatio: number; deleteRatio: number };
  directory: { putMs: number; deleteMs: number; putRatio: number; deleteRatio: number };
}

export async function benchS3(log: (line: string) => void = console.log): Promise<S3BenchResult> {
  const bare = await startBare();
  const memory = await startS3({ buckets: ["faults"] });
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-s3-"));
  const disk = await startS3({ buckets: ["faults"], directory: dir });
  try {
    // Warm every target (JIT, sockets) before measuring; the bare server runs first and last, and its
    // better run is the floor, so a noisy neighbour does not flatter the ratios.
    await run(bare.endpoint, 100);
    log("s3 bench: bare node:http…");
    const bareFirst = await run(bare.endpoint);
    log("s3 bench: lab S3 in memory…");
    await run(memory.endpoint, 100);
    const inMemory = await run(memory.endpoint);
    log("s3 bench: lab S3 on a directory…");
    await run(disk.endpoint, 100);
    const onDisk = await run(disk.endpoint);
    const bareLast = await run(bare.endpoint);
    const floor = {
      putMs: Math.min(bareFirst.putMs, bareLast.putMs),
      deleteMs: Math.min(bareFirst.deleteMs, bareLast.deleteMs),
    };
    const withRatios = (r: { putMs: number; deleteMs: number }) => ({
      ...r,
      putRatio: round(r.putMs / floor.putMs, 2),
      deleteRatio: round(r.deleteMs / floor.deleteMs, 2),
    });
    return { bare: floor, memory: withRatios(inMemory), directory: withRatios(onDisk) };
  } finally {
    await Promise.all([memory.close(), disk.close(), bare.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(endpoint: string, objects = OBJECTS): Promise<{ putMs: number; deleteMs: number }> {
  const s3 = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: S3_CREDENTIALS,
  });
  const keys = Array.from({ length: objects }, (_, i) => `FisConfigs/fn-${i}/EXP1/latency.json`);
  try {
    let started = performance.now();
    await mapLimit(keys, (Key) =>
      s3.send(new PutObjectCommand({ Bucket: "faults", Key, Body: BODY, ContentType: "application/json" })),
    );
    const putMs = performance.now() - started;
    started = performance.now();
    await mapLimit(keys, (Key) => s3.send(new DeleteObjectCommand({ Bucket: "faults", Key })));
    return { putMs: round(putMs, 0), deleteMs: round(performance.now() - started, 0) };
  } finally {
    s3.destroy();
  }
}

async function mapLimit<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Reads the body, answers 200 with an ETag: what any S3 must do at the least. */
async function startBare(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(req.method === "DELETE" ? 204 : 200, { etag: '"d41d8cd98f00b204e9800998ecf8427e"' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchS3());
