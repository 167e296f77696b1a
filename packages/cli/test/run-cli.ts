import { main } from "../src/main.ts";

/** Runs the CLI in-process against a FIS API endpoint, capturing what it prints. */
export async function runCli(endpoint: string, ...args: string[]) {
  let stdout = "";
  let stderr = "";
  process.exitCode = undefined;
  const code = await main([...args, "--endpoint", endpoint], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  process.exitCode = undefined;
  return { code, stdout, stderr };
}
