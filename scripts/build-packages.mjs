// Builds the publishable packages: `npm run build` → build/packages/<pkg>/, `npm run pack` → also
// build/tarballs/*.tgz (what `npm publish` would upload; nothing is published from here).
//
// The checkout itself never needs this step: its package.json files point at src/*.ts and everything runs
// through tsx. Each published package is generated here instead, from its source manifest:
//   dist/*.js + dist/*.d.ts   compiled by tsc (one program for every package, tsconfig.build.json)
//   package.json              exports → dist, one version (FAULTLINE_VERSION), internal dependencies pinned to it,
//                             files, licence, engines, repository; no scripts, no devDependencies
//   LICENSE, README.md        the repository's licence, the package's (or the repository's) README
//   + the package's run-time assets (ASSETS below).
// Usage: node scripts/build-packages.mjs [--pack] [--skip-tsc]
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname;
const BUILD = join(root, "build");
const COMPILED = join(BUILD, "tsc");

/** Publishable packages in dependency order; `testing` and the examples stay private. */
const PUBLISHED = ["protocol", "rules", "report", "engine", "api", "extension", "lab", "cli", "cdk"];

/** Files a package reads at run time besides its compiled code (paths inside the package). */
const ASSETS = {
  // The layer's shell scripts, and the extension pre-bundled so `faultline layer build` needs no esbuild.
  extension: ["layer"],
  cli: ["bin"],
  // The web console's built files, served at /console/ (packages/api/src/console.ts).
  api: ["console"],
};

const { values } = parseArgs({ options: { pack: { type: "boolean" }, "skip-tsc": { type: "boolean" } } });
const rootManifest = readJson(join(root, "package.json"));
const version = faultlineVersion();

if (!values["skip-tsc"]) {
  rmSync(COMPILED, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
}
// The console is built by Vite (scripts/setup.sh does it too); a checkout without it gets it built here.
if (!existsSync(join(root, "packages", "api", "console", "index.html"))) {
  execFileSync("npm", ["run", "build", "-w", "@faultline/console", "--silent"], {
    cwd: root,
    stdio: "inherit",
  });
}
for (const pkg of PUBLISHED) {
  const out = join(BUILD, "packages", pkg);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  copyCompiled(join(COMPILED, pkg, "src"), join(out, "dist"));
  for (const asset of ASSETS[pkg] ?? [])
    cpSync(join(root, "packages", pkg, asset), join(out, asset), { recursive: true });
  if (pkg === "extension") {
    await bundleExtension(join(out, "dist", "extension.cjs"), "main.ts");
    await bundleExtension(join(out, "dist", "in-process.cjs"), "in-process-main.ts");
    await bundleExtension(join(out, "dist", "in-process-faults.cjs"), "in-process-faults-main.ts");
  }
  cpSync(join(root, "LICENSE"), join(out, "LICENSE"));
  const readme = join(root, "packages", pkg, "README.md");
  cpSync(existsSync(readme) ? readme : join(root, "README.md"), join(out, "README.md"));
  writeFileSync(join(out, "package.json"), `${JSON.stringify(publishedManifest(pkg), null, 2)}\n`);
}
console.log(`built ${PUBLISHED.length} packages, version ${version}, in ${join(BUILD, "packages")}`);
if (values.pack) for (const t of pack(PUBLISHED.map((pkg) => join(BUILD, "packages", pkg)))) console.log(t);

/** The version every package carries: the protocol's FAULTLINE_VERSION, which the layer and the engine check. */
function faultlineVersion() {
  const source = readFileSync(join(root, "packages/protocol/src/version.ts"), "utf8");
  const match = /FAULTLINE_VERSION = "([^"]+)"/.exec(source);
  if (!match) throw new Error("packages/protocol/src/version.ts: FAULTLINE_VERSION not found");
  return match[1];
}

function publishedManifest(pkg) {
  const source = readJson(join(root, "packages", pkg, "package.json"));
  const manifest = {
    name: source.name,
    version,
    description: source.description,
    license: rootManifest.license,
    // The project has no public home yet: repository/homepage are carried only once the root manifest names one.
    ...(rootManifest.repository
      ? { repository: { ...rootManifest.repository, directory: `packages/${pkg}` } }
      : {}),
    ...(rootManifest.homepage ? { homepage: rootManifest.homepage } : {}),
    type: "module",
    engines: rootManifest.engines,
    exports: Object.fromEntries(Object.entries(source.exports).map(([key, src]) => [key, distEntry(src)])),
    ...(source.bin ? { bin: source.bin } : {}),
    files: ["dist", ...(ASSETS[pkg] ?? [])],
    dependencies: pinInternal(source.dependencies),
    ...(source.optionalDependencies
      ? { optionalDependencies: pinInternal(source.optionalDependencies) }
      : {}),
    // @faultline/cdk: aws-cdk-lib and constructs are the app's own, never a second copy.
    ...(source.peerDependencies ? { peerDependencies: source.peerDependencies } : {}),
  };
  if (!manifest.description) throw new Error(`packages/${pkg}/package.json: no description`);
  return manifest;
}

/** Dependencies as declared, with the other faultline packages pinned to this very version. */
function pinInternal(dependencies = {}) {
  return Object.fromEntries(
    Object.entries(dependencies).map(([name, range]) => [
      name,
      name.startsWith("@faultline/") ? version : range,
    ]),
  );
}

/** "./src/layer.ts" → { types: "./dist/layer.d.ts", default: "./dist/layer.js" }. */
function distEntry(src) {
  const base = src.replace(/^\.\/src\//, "./dist/").replace(/\.ts$/, "");
  return { types: `${base}.d.ts`, default: `${base}.js` };
}

/**
 * tsc's output, with relative `./x.ts` specifiers in declarations turned into `./x.js` (tsc rewrites them in
 * the JavaScript — rewriteRelativeImportExtensions — but not in .d.ts files).
 */
function copyCompiled(from, to) {
  cpSync(from, to, { recursive: true });
  for (const entry of readdirSync(to, { recursive: true })) {
    const file = join(to, entry);
    if (!file.endsWith(".d.ts")) continue;
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace(/((?:from |import\()"\.{1,2}\/[^"]*)\.ts"/g, '$1.js"'));
  }
}

async function bundleExtension(outfile, entry) {
  mkdirSync(dirname(outfile), { recursive: true });
  execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `import { bundleExtension } from "@faultline/extension/layer"; await bundleExtension(${JSON.stringify(outfile)}, ${JSON.stringify(entry)});`,
    ],
    { cwd: root, stdio: "inherit" },
  );
}

/** One `npm pack` of every folder → build/tarballs/<name>-<version>.tgz; returns their paths. */
function pack(dirs) {
  const dest = join(BUILD, "tarballs");
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dest, ...dirs], {
    cwd: BUILD,
    encoding: "utf8",
  });
  return JSON.parse(out).map((t) => join(dest, t.filename));
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}
