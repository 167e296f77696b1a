// npm run build:layer [-- --out <zip>] [--standalone]
import { parseArgs } from "node:util";
import { buildLayer } from "./layer.ts";

const { values } = parseArgs({ options: { out: { type: "string" }, standalone: { type: "boolean" } } });
const built = await buildLayer({ out: values.out, standalone: values.standalone });
console.log(
  `${built.zipPath} (${built.zipBytes} bytes; extension.cjs ${built.bundleBytes} bytes, in-process.cjs ${built.inProcessBundleBytes} bytes)`,
);
