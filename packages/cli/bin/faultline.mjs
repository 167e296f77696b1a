#!/usr/bin/env -S node --no-warnings=ExperimentalWarning
// The `faultline` command: runs src/main.ts through tsx (no build step).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
// Exit explicitly: the lab has stopped by now, and nothing else should keep the process up.
process.exit(await main(process.argv.slice(2)));
