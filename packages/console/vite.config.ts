import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// Built into the api package, which serves it at /console/ (packages/api/src/console.ts).
export default defineConfig({
  base: "/console/",
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL("../api/console", import.meta.url)),
    emptyOutDir: true,
    // One small bundle: no module preload polyfill, no source maps shipped.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
