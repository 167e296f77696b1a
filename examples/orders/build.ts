/**
 * Bundles each function with esbuild, the AWS SDK inside, as a deployment would: `.build/<function>/index.js`
 * (CommonJS, Node 20), the directory the lab mounts as /var/task.
 */
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const HERE = dirname(fileURLToPath(import.meta.url));
export const BUILD_DIR = join(HERE, ".build");
export const FUNCTIONS = {
  CreateOrder: "create-order",
  GetOrder: "get-order",
  DeleteOrder: "delete-order",
} as const;

export async function buildFunctions(): Promise<{ dir: string; ms: number }> {
  const started = performance.now();
  rmSync(BUILD_DIR, { recursive: true, force: true });
  await Promise.all(
    Object.values(FUNCTIONS).map((file) =>
      build({
        entryPoints: [join(HERE, "src", "functions", `${file}.ts`)],
        outfile: join(BUILD_DIR, file, "index.js"),
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        minify: true,
        sourcemap: false,
        logLevel: "error",
      }),
    ),
  );
  return { dir: BUILD_DIR, ms: performance.now() - started };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { dir, ms } = await buildFunctions();
  console.log(`built ${Object.keys(FUNCTIONS).join(", ")} into ${dir} in ${Math.round(ms)} ms`);
}
