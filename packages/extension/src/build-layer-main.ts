// npm run build:layer [-- --out <zip>] [--standalone] [--standalone-build stripped|plain|xz]
import { parseArgs } from "node:util";
import { buildLayer, STANDALONE_BUILDS, type StandaloneBuild } from "./layer.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    standalone: { type: "boolean" },
    "standalone-build": { type: "string" },
  },
});
const build = values["standalone-build"];
if (build !== undefined && !(STANDALONE_BUILDS as readonly string[]).includes(build)) {
  console.error(`--standalone-build ${build}: must be one of ${STANDALONE_BUILDS.join(", ")}`);
  process.exit(2);
}
const built = await buildLayer({
  out: values.out,
  standalone: (build as StandaloneBuild | undefined) ?? values.standalone,
});
console.log(
  `${built.zipPath} (${built.zipBytes} bytes, ${built.unzippedBytes} unzipped; extension.cjs ${built.bundleBytes} bytes, in-process.cjs ${built.inProcessBundleBytes} bytes${built.standalone ? `; node: ${built.standalone}` : ""})`,
);
