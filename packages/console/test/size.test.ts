/** The production build stays small: under 200 KB gzipped in all, uPlot and its CSS included (issue 15). */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
// @ts-expect-error: a plain .mjs script without declarations
import { BUDGET_GZIP_BYTES, measure } from "../scripts/size.mjs";

const ROOT = join(import.meta.dirname, "..", "..", "..");

test("the built console is under 200 KB gzipped, charts included", () => {
  if (!existsSync(join(ROOT, "packages", "api", "console", "index.html")))
    execFileSync("npm", ["run", "build", "-w", "@faultline/console"], { cwd: ROOT });
  const m = measure() as { files: { file: string; gzip: number }[]; gzip: number };
  console.log(`console build: ${m.gzip} B gzipped (${m.files.map((f) => `${f.file} ${f.gzip}`).join(", ")})`);
  assert.ok(
    m.files.some((f) => /^assets\/index-[\w-]+\.js$/.test(f.file)),
    "the bundle is there",
  );
  assert.ok(m.gzip < BUDGET_GZIP_BYTES, `${m.gzip} B gzipped exceeds ${BUDGET_GZIP_BYTES}`);
});
