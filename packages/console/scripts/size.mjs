// Prints the built console's size, raw and gzipped, file by file (the budget: 200 KB gzipped in all).
// Usage: npm run size -w @faultline/console   (after npm run build -w @faultline/console)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

export const BUDGET_GZIP_BYTES = 200 * 1024;
const BUILT = new URL("../../api/console", import.meta.url).pathname;

/** Every built file with its raw and gzipped (level 9) size. */
export function measure(dir = BUILT) {
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const data = readFileSync(path);
        files.push({
          file: relative(dir, path),
          bytes: data.length,
          gzip: gzipSync(data, { level: 9 }).length,
        });
      }
    }
  };
  walk(dir);
  return {
    files,
    bytes: files.reduce((a, f) => a + f.bytes, 0),
    gzip: files.reduce((a, f) => a + f.gzip, 0),
  };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const m = measure();
  for (const f of m.files)
    console.log(
      `${f.file.padEnd(32)} ${String(f.bytes).padStart(8)} B  ${String(f.gzip).padStart(7)} B gzip`,
    );
  console.log(
    `${"total".padEnd(32)} ${String(m.bytes).padStart(8)} B  ${String(m.gzip).padStart(7)} B gzip (budget ${BUDGET_GZIP_BYTES})`,
  );
  if (m.gzip > BUDGET_GZIP_BYTES) process.exitCode = 1;
}
