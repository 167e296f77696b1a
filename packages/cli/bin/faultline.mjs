#!/usr/bin/env -S node --no-warnings=ExperimentalWarning
// The `faultline` command. Installed from a package it runs the compiled dist/main.js; in the checkout
// (src/ is there, and the published package does not ship it) it runs src/main.ts through tsx: no build step.
import { existsSync } from "node:fs";

const source = new URL("../src/main.ts", import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import("../dist/main.js"));
}
// Exit explicitly: the lab has stopped by now, and nothing else should keep the process up.
process.exit(await main(process.argv.slice(2)));
