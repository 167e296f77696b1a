/**
 * One call for the engine: FIS `experimentReportConfiguration` in, report files written (locally, and to
 * `outputs.s3Configuration` through an uploader), FIS's `experimentReport` shape out. As FIS: no report for
 * cancelled experiments or target previews (`actionsMode: skip-all`).
 */
import { readFileSync } from "node:fs";
import { type ExperimentReportConfiguration, resolveReportConfiguration } from "./fis-config.ts";
import type { ReportInput } from "./model.ts";
import { buildReport } from "./report.ts";
import type { DashboardSource, MetricSource } from "./source.ts";
import { writeReport } from "./write.ts";

/** Puts one object; the engine passes its own S3 client (`PutObject`), so this package needs none. */
export interface ReportUploader {
  put(bucket: string, key: string, body: Buffer, contentType: string): Promise<void>;
}

/** FIS's `Experiment.experimentReport`. */
export interface ExperimentReportState {
  state: { status: "completed" | "failed" | "cancelled"; reason: string };
  s3Reports: { arn: string; reportType: "application/pdf" | "text/html" }[];
}

export interface GenerateOptions
  extends Omit<ReportInput, "preExperimentDurationMs" | "postExperimentDurationMs" | "dashboards"> {
  configuration: ExperimentReportConfiguration;
  /** `skip-all` marks a target preview. */
  actionsMode?: string;
  source: MetricSource & DashboardSource;
  /** Local folder for the files (always written). */
  dir: string;
  uploader?: ReportUploader;
  pdf?: "auto" | boolean;
}

export interface GeneratedReport {
  experimentReport: ExperimentReportState;
  html?: string;
  pdf?: string;
}

/** Builds and writes the report. Never throws: a failure is a `failed` report state with the reason, as in FIS. */
export async function generateExperimentReport(o: GenerateOptions): Promise<GeneratedReport> {
  if (o.experiment.state.status === "cancelled" || o.actionsMode === "skip-all") {
    return {
      experimentReport: {
        state: {
          status: "cancelled",
          reason: "Reports are not generated for cancelled or preview experiments.",
        },
        s3Reports: [],
      },
    };
  }
  try {
    const resolved = await resolveReportConfiguration(o.configuration, o.source);
    const { configuration: _c, actionsMode: _a, source, dir, uploader, pdf, ...input } = o;
    const report = await buildReport({ ...input, ...resolved }, source);
    const written = await writeReport(report, { dir, pdf: pdf ?? "auto" });
    const s3Reports: ExperimentReportState["s3Reports"] = [];
    const s3 = o.configuration.outputs?.s3Configuration;
    if (s3 && uploader) {
      const prefix = (s3.prefix ?? "").replace(/^\/+|\/+$/g, "");
      const files = [
        { path: written.pdf, type: "application/pdf" as const, ext: "pdf" },
        { path: written.html, type: "text/html" as const, ext: "html" },
      ];
      for (const f of files) {
        if (!f.path) continue;
        const key = `${prefix ? `${prefix}/` : ""}${o.experiment.id}/${o.experiment.id}.${f.ext}`;
        await uploader.put(s3.bucketName, key, readFileSync(f.path), f.type);
        s3Reports.push({ arn: `arn:aws:s3:::${s3.bucketName}/${key}`, reportType: f.type });
      }
    }
    return {
      experimentReport: {
        state: {
          status: "completed",
          reason: written.pdf ? "Report generated." : `Report generated (HTML only: ${written.pdfSkipped}).`,
        },
        s3Reports,
      },
      html: written.html,
      ...(written.pdf ? { pdf: written.pdf } : {}),
    };
  } catch (e) {
    return {
      experimentReport: {
        state: { status: "failed", reason: `Report generation failed: ${(e as Error).message}` },
        s3Reports: [],
      },
    };
  }
}
