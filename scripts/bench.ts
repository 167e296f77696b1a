/**
 * `npm run bench [-- <name>… [--quick]]`: runs the benchmark table below (all, or the named ones) and prints one table per
 * bench. To add one: write scripts/bench/<name>.ts exporting an async function that returns a flat object of
 * figures (numbers; nested objects are flattened as a.b), and add a row here. `--quick`: a shorter run of the
 * benches that have one (fewer rounds, wider spread).
 */
export {};

type Figures = Record<string, unknown>;

interface Bench {
  name: string;
  description: string;
  run(log: (line: string) => void, options: { quick: boolean }): Promise<Figures>;
}

const benches: Bench[] = [
  {
    name: "lab",
    description: "warm Invoke through the lab (trivial Node handler) vs a bare loopback HTTP round trip",
    run: async (log) => (await import("./bench/lab.ts")).benchLab(log) as unknown as Promise<Figures>,
  },
  {
    name: "s3",
    description:
      "lab S3: 1000 PutObject + 1000 DeleteObject via the SDK at concurrency 32 vs a bare node:http server",
    run: async (log) => (await import("./bench/s3.ts")).benchS3(log) as unknown as Promise<Figures>,
  },
  {
    name: "extension",
    description:
      "the extension (external proxy, in-process) beside no layer and a minimal proxy: warm p50, cold start, memory",
    run: async (log, options) =>
      (await import("./bench/extension.ts")).benchExtension(log, options) as unknown as Promise<Figures>,
  },
  {
    name: "rampup",
    description:
      "fault ramp-up, stop and ramp-down at 10/s and 1 per 30 s: faultline's defaults beside FIS's 60 s / 20 s polling; S3 requests per environment-hour",
    run: async (log) => (await import("./bench/rampup.ts")).benchRampup(log) as unknown as Promise<Figures>,
  },
  {
    name: "standalone",
    description:
      "the standalone layer's builds on a provided.al2023 function with no node: sizes, Init Duration, warm p50, vs no layer",
    run: async (log) =>
      (await import("./bench/standalone.ts")).benchStandalone(log) as unknown as Promise<Figures>,
  },
  {
    name: "engine",
    description:
      "engine + FIS API: 1000 lab functions, start → all fault objects written, stop → removed, GetExperiment",
    run: async (log) => (await import("./bench/engine.ts")).benchEngine(log) as unknown as Promise<Figures>,
  },
];

function flatten(figures: Figures, prefix = ""): Array<[string, string]> {
  return Object.entries(figures).flatMap(([key, value]): Array<[string, string]> => {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      return flatten(value as Figures, name);
    return [[name, typeof value === "number" ? String(value) : JSON.stringify(value)]];
  });
}

function printTable(title: string, rows: Array<[string, string]>): void {
  const width = Math.max(6, ...rows.map(([k]) => k.length));
  const valueWidth = Math.max(5, ...rows.map(([, v]) => v.length));
  console.log(`\n${title}`);
  console.log(`| ${"metric".padEnd(width)} | ${"value".padStart(valueWidth)} |`);
  console.log(`| ${"-".repeat(width)} | ${"-".repeat(valueWidth)}:|`.replace(/ :\|$/, ":|"));
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v.padStart(valueWidth)} |`);
}

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.filter((arg) => !arg.startsWith("--"));
const unknown = only.filter((name) => !benches.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(", ")} (have: ${benches.map((b) => b.name).join(", ")})`);
  process.exit(2);
}
let failed = false;
for (const bench of benches) {
  if (only.length > 0 && !only.includes(bench.name)) continue;
  try {
    const figures = await bench.run((line) => console.error(line), { quick });
    printTable(`${bench.name}: ${bench.description}`, flatten(figures));
  } catch (error) {
    failed = true;
    console.error(`${bench.name}: failed: ${(error as Error).stack ?? error}`);
  }
}
process.exit(failed ? 1 : 0);
