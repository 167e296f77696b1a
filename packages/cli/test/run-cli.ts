import { main } from "../src/main.ts";

/** Runs the CLI in-process against a FIS API endpoint, capturing what it prints. */
export function runCli(endpoint: string, ...args: string[]) {
  return runCliArgs(...args, "--endpoint", endpoint);
}

/** Runs the CLI in-process with exactly these arguments, capturing what it prints. */
export async function runCliArgs(...args: string[]) {
  let stdout = "";
  let stderr = "";
  process.exitCode = undefined;
  const code = await main(args, {
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
