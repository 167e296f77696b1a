/** Writes a report to a folder: `<name>.html` always, `<name>.pdf` when Chromium is there (or required). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findChromium, printToPdf } from "./chromium.ts";
import { renderHtml } from "./html.ts";
import type { Report } from "./report.ts";

export interface WriteOptions {
  dir: string;
  /** File name without extension; defaults to the experiment id. */
  name?: string;
  /** "auto" (default): PDF when Chromium is installed; true: fail without it; false: HTML only. */
  pdf?: "auto" | boolean;
  chromium?: string;
}

export interface WrittenReport {
  html: string;
  pdf?: string;
  /** Why there is no PDF, when there is none. */
  pdfSkipped?: string;
}

export async function writeReport(report: Report, options: WriteOptions): Promise<WrittenReport> {
  mkdirSync(options.dir, { recursive: true });
  const name = options.name ?? report.experiment.id;
  const html = join(options.dir, `${name}.html`);
  writeFileSync(html, renderHtml(report));
  const want = options.pdf ?? "auto";
  if (want === false) return { html, pdfSkipped: "PDF not requested" };
  const binary = options.chromium ?? findChromium();
  if (!binary) {
    if (want === true) await printToPdf(html, join(options.dir, `${name}.pdf`)); // throws ChromiumError
    return { html, pdfSkipped: "Chromium is not installed" };
  }
  const pdf = join(options.dir, `${name}.pdf`);
  await printToPdf(html, pdf, { binary });
  return { html, pdf };
}
