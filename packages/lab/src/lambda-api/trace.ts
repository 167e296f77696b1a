import { randomBytes } from "node:crypto";

/** An X-Ray trace header as Lambda passes it to functions: Root=1-<epoch hex>-<96-bit id>;Parent=…;Sampled=0. */
export function newTraceId(nowMs = Date.now()): string {
  const epoch = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, "0");
  return `Root=1-${epoch}-${randomBytes(12).toString("hex")};Parent=${randomBytes(8).toString("hex")};Sampled=0`;
}
