/** ENGINE_CALLS (what `faultline iam-policy engine` grants) against the AWS calls the engine's code makes. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ENGINE_CALLS, enginePolicy } from "../src/index.ts";

/** The engine and the report builder it runs: every `new XCommand(` in their sources. */
function commandsInSource(): Set<string> {
  const found = new Set<string>();
  for (const pkg of ["engine", "report"]) {
    const dir = fileURLToPath(new URL(`../../${pkg}/src/`, import.meta.url));
    for (const file of readdirSync(dir, { recursive: true }) as string[]) {
      if (!file.endsWith(".ts")) continue;
      for (const m of readFileSync(join(dir, file), "utf8").matchAll(/new (\w+)Command\(/g)) found.add(m[1]!);
    }
  }
  return found;
}

test("ENGINE_CALLS lists exactly the SDK commands the engine and its reports send, and the policy grants each", () => {
  assert.deepEqual([...commandsInSource()].sort(), ENGINE_CALLS.map((c) => c.command).sort());
  const policy = enginePolicy({ bucket: "b", prefix: "p" });
  const granted = new Set(policy.Statement.flatMap((s) => [s.Action].flat()));
  for (const call of ENGINE_CALLS) assert.ok(granted.has(call.action), `${call.action} is not granted`);
});
