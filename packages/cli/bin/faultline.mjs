#!/usr/bin/env -S node --openssl-legacy-provider --no-warnings=ExperimentalWarning
// The `faultline` command: runs src/main.ts through tsx (no build step).
// --openssl-legacy-provider: s3rver's ListObjectsV2 continuation tokens use DES (see docs/lab-config.md).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
// Exit explicitly: the lab has stopped by now, and nothing else should keep the process up.
process.exit(await main(process.argv.slice(2)));
