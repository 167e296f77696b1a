// A node:test reporter that writes one line per test file: its wall time in ms, then its path (relative to the
// working directory). Node 20's spec reporter prints no per-file time; run-tests.mjs sorts these lines into its
// "slowest files" list. A file's time runs from the runner taking it off the queue (its process is spawned) to its
// last event, so it includes the process start and TypeScript loading.
import { relative } from "node:path";

export default async function* durations(source) {
  const started = new Map();
  const last = new Map();
  for await (const event of source) {
    const file = event.data?.file;
    if (file === undefined) continue;
    const now = performance.now();
    if (!started.has(file) && event.type === "test:dequeue") started.set(file, now);
    last.set(file, now);
  }
  for (const [file, end] of last) {
    const ms = Math.round(end - (started.get(file) ?? end));
    yield `${ms}\t${relative(process.cwd(), file)}\n`;
  }
}
