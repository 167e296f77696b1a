import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { ExperimentError } from "./failures.ts";
import type { Experiment, ExperimentTemplate, ResolvedTarget, StopConditionEvent } from "./model.ts";

/** A report to build (or built): due when the post-experiment window has elapsed. */
export interface ReportJob {
  experimentId: string;
  status: string;
  dueMs: number;
  html?: string;
  pdf?: string;
}

/** A fault object the engine wrote (or is about to write): recorded before PutObject, removed after DeleteObject. */
export interface FaultObjectRecord {
  bucket: string;
  key: string;
  experimentId: string;
  actionName: string;
}

/** How a halted experiment ends: `stopped` (stop request, stop condition, shutdown) or `failed`. */
export interface HaltRequest {
  status: "stopped" | "failed";
  reason: string;
  /** Why it failed, for `state.error`. Not recorded: after a restart the failure reads InternalFailure. */
  error?: ExperimentError;
}

const TIME_FIELDS = new Set(["creationTime", "lastUpdateTime", "startTime", "endTime"]);
const revive = (key: string, value: unknown) =>
  TIME_FIELDS.has(key) && typeof value === "string" ? new Date(value) : value;

/**
 * SQLite persistence. Every state change is written before the engine acts on it, so a restart
 * after kill -9 knows every experiment that was live and every fault object that may exist.
 */
export class Store {
  private readonly db: Database.Database;
  private readonly lockPath: string | undefined;

  constructor(dataDir: string | ":memory:") {
    if (dataDir === ":memory:") {
      this.db = new Database(":memory:");
    } else {
      mkdirSync(dataDir, { recursive: true });
      this.lockPath = join(dataDir, "engine.pid");
      lockDataDir(this.lockPath);
      this.db = new Database(join(dataDir, "faultline.sqlite"));
      // WAL + NORMAL keeps writes cheap; a committed transaction survives a process kill.
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS templates (id TEXT PRIMARY KEY, doc TEXT NOT NULL, created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS template_tokens (token TEXT PRIMARY KEY, template_id TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS experiments (
        id TEXT PRIMARY KEY, template_id TEXT NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL,
        client_token TEXT UNIQUE, created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS resolved_targets (
        experiment_id TEXT NOT NULL, target_name TEXT NOT NULL, seq INTEGER NOT NULL, info TEXT NOT NULL,
        PRIMARY KEY (experiment_id, target_name, seq));
      CREATE TABLE IF NOT EXISTS fault_objects (
        bucket TEXT NOT NULL, key TEXT NOT NULL, experiment_id TEXT NOT NULL, action_name TEXT NOT NULL,
        PRIMARY KEY (bucket, key));
      CREATE TABLE IF NOT EXISTS stop_condition_events (
        experiment_id TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS reports (
        experiment_id TEXT PRIMARY KEY, status TEXT NOT NULL, due INTEGER NOT NULL, html TEXT, pdf TEXT);
      CREATE TABLE IF NOT EXISTS halt_requests (
        experiment_id TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS safety_levers (id TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT NOT NULL);
    `);
  }

  close(): void {
    this.db.close();
    if (this.lockPath) rmSync(this.lockPath, { force: true });
  }

  // templates
  putTemplate(t: ExperimentTemplate, clientToken?: string): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          "INSERT INTO templates (id, doc, created) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
        )
        .run(t.id, JSON.stringify(t), t.creationTime.getTime());
      if (clientToken) {
        this.db
          .prepare("INSERT OR IGNORE INTO template_tokens (token, template_id) VALUES (?, ?)")
          .run(clientToken, t.id);
      }
    })();
  }
  getTemplate(id: string): ExperimentTemplate | undefined {
    const row = this.db.prepare("SELECT doc FROM templates WHERE id = ?").get(id) as
      | { doc: string }
      | undefined;
    return row ? (JSON.parse(row.doc, revive) as ExperimentTemplate) : undefined;
  }
  templateByToken(token: string): ExperimentTemplate | undefined {
    const row = this.db.prepare("SELECT template_id FROM template_tokens WHERE token = ?").get(token) as
      | { template_id: string }
      | undefined;
    return row ? this.getTemplate(row.template_id) : undefined;
  }
  deleteTemplate(id: string): void {
    this.db.prepare("DELETE FROM templates WHERE id = ?").run(id);
  }
  listTemplates(): ExperimentTemplate[] {
    const rows = this.db.prepare("SELECT doc FROM templates ORDER BY created, id").all() as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc, revive) as ExperimentTemplate);
  }
  countTemplates(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM templates").get() as { n: number }).n;
  }

  // experiments
  putExperiment(e: Experiment, clientToken?: string): void {
    this.db
      .prepare(
        `INSERT INTO experiments (id, template_id, status, doc, client_token, created) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, doc = excluded.doc`,
      )
      .run(
        e.id,
        e.experimentTemplateId,
        e.state.status,
        JSON.stringify(e),
        clientToken ?? null,
        e.creationTime.getTime(),
      );
  }
  getExperiment(id: string): Experiment | undefined {
    const row = this.db.prepare("SELECT doc FROM experiments WHERE id = ?").get(id) as
      | { doc: string }
      | undefined;
    return row ? (JSON.parse(row.doc, revive) as Experiment) : undefined;
  }
  experimentByToken(token: string): Experiment | undefined {
    const row = this.db.prepare("SELECT doc FROM experiments WHERE client_token = ?").get(token) as
      | { doc: string }
      | undefined;
    return row ? (JSON.parse(row.doc, revive) as Experiment) : undefined;
  }
  listExperiments(templateId?: string): Experiment[] {
    const rows = (
      templateId
        ? this.db
            .prepare("SELECT doc FROM experiments WHERE template_id = ? ORDER BY created, id")
            .all(templateId)
        : this.db.prepare("SELECT doc FROM experiments ORDER BY created, id").all()
    ) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc, revive) as Experiment);
  }
  /** Experiments whose status is not terminal. */
  activeExperiments(): Experiment[] {
    const rows = this.db
      .prepare(
        "SELECT doc FROM experiments WHERE status IN ('pending','initiating','running','stopping') ORDER BY created",
      )
      .all() as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc, revive) as Experiment);
  }

  // resolved targets
  putResolvedTargets(experimentId: string, targets: ResolvedTarget[]): void {
    const insert = this.db.prepare(
      "INSERT OR REPLACE INTO resolved_targets (experiment_id, target_name, seq, info) VALUES (?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      targets.forEach((t, i) => {
        insert.run(experimentId, t.targetName, i, JSON.stringify(t));
      });
    })();
  }
  resolvedTargets(experimentId: string, targetName?: string): ResolvedTarget[] {
    const rows = (
      targetName
        ? this.db
            .prepare(
              "SELECT info FROM resolved_targets WHERE experiment_id = ? AND target_name = ? ORDER BY seq",
            )
            .all(experimentId, targetName)
        : this.db
            .prepare("SELECT info FROM resolved_targets WHERE experiment_id = ? ORDER BY seq")
            .all(experimentId)
    ) as { info: string }[];
    return rows.map((r) => JSON.parse(r.info) as ResolvedTarget);
  }

  // stop-condition events
  addStopConditionEvent(experimentId: string, event: StopConditionEvent): void {
    this.db
      .prepare("INSERT INTO stop_condition_events (experiment_id, doc) VALUES (?, ?)")
      .run(experimentId, JSON.stringify(event));
  }
  stopConditionEvents(experimentId: string): StopConditionEvent[] {
    const rows = this.db
      .prepare("SELECT doc FROM stop_condition_events WHERE experiment_id = ? ORDER BY seq")
      .all(experimentId) as { doc: string }[];
    return rows.map((r) => {
      const e = JSON.parse(r.doc) as StopConditionEvent & { time: string };
      return { ...e, time: new Date(e.time) };
    });
  }

  // reports
  putReportJob(job: ReportJob): void {
    this.db
      .prepare(
        `INSERT INTO reports (experiment_id, status, due, html, pdf) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(experiment_id) DO UPDATE SET status = excluded.status, due = excluded.due,
           html = excluded.html, pdf = excluded.pdf`,
      )
      .run(job.experimentId, job.status, job.dueMs, job.html ?? null, job.pdf ?? null);
  }
  reportJob(experimentId: string): ReportJob | undefined {
    const row = this.db
      .prepare("SELECT experiment_id, status, due, html, pdf FROM reports WHERE experiment_id = ?")
      .get(experimentId) as ReportRow | undefined;
    return row ? toJob(row) : undefined;
  }
  /** Reports that were pending or being built when the process stopped. */
  unfinishedReportJobs(): ReportJob[] {
    const rows = this.db
      .prepare(
        "SELECT experiment_id, status, due, html, pdf FROM reports WHERE status IN ('pending','running') ORDER BY due",
      )
      .all() as ReportRow[];
    return rows.map(toJob);
  }

  // halt requests: how a halted experiment is to end, kept so a restart mid-stop ends it that way too
  recordHaltRequest(experimentId: string, request: HaltRequest): void {
    this.db
      .prepare("INSERT OR IGNORE INTO halt_requests (experiment_id, status, reason) VALUES (?, ?, ?)")
      .run(experimentId, request.status, request.reason);
  }
  haltRequest(experimentId: string): HaltRequest | undefined {
    return this.db
      .prepare("SELECT status, reason FROM halt_requests WHERE experiment_id = ?")
      .get(experimentId) as HaltRequest | undefined;
  }

  // the safety lever: its state survives restarts (an engaged lever stays engaged)
  putSafetyLever(id: string, state: { status: string; reason: string }): void {
    this.db
      .prepare(
        "INSERT INTO safety_levers (id, status, reason) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, reason = excluded.reason",
      )
      .run(id, state.status, state.reason);
  }
  safetyLever(id: string): { status: string; reason: string } | undefined {
    return this.db.prepare("SELECT status, reason FROM safety_levers WHERE id = ?").get(id) as
      | { status: string; reason: string }
      | undefined;
  }

  // fault objects
  recordFaultObjects(records: FaultObjectRecord[]): void {
    const insert = this.db.prepare(
      "INSERT OR REPLACE INTO fault_objects (bucket, key, experiment_id, action_name) VALUES (?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const r of records) insert.run(r.bucket, r.key, r.experimentId, r.actionName);
    })();
  }
  forgetFaultObject(bucket: string, key: string): void {
    this.db.prepare("DELETE FROM fault_objects WHERE bucket = ? AND key = ?").run(bucket, key);
  }
  faultObjects(filter: { experimentId?: string; actionName?: string } = {}): FaultObjectRecord[] {
    let sql =
      "SELECT bucket, key, experiment_id AS experimentId, action_name AS actionName FROM fault_objects";
    const args: string[] = [];
    if (filter.experimentId) {
      sql += " WHERE experiment_id = ?";
      args.push(filter.experimentId);
      if (filter.actionName) {
        sql += " AND action_name = ?";
        args.push(filter.actionName);
      }
    }
    return this.db.prepare(sql).all(...args) as FaultObjectRecord[];
  }
}

interface ReportRow {
  experiment_id: string;
  status: string;
  due: number;
  html: string | null;
  pdf: string | null;
}
const toJob = (r: ReportRow): ReportJob => ({
  experimentId: r.experiment_id,
  status: r.status,
  dueMs: r.due,
  ...(r.html ? { html: r.html } : {}),
  ...(r.pdf ? { pdf: r.pdf } : {}),
});

/** Raised when another live engine process already uses the data directory. */
export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
}

/**
 * One engine per data directory: a second one would "reconcile" the first one's live experiments away.
 * `engine.pid` holds the owner's pid and that process's start time, so a pid that an unrelated process took
 * over after a crash is recognised as stale (a live pid alone proves nothing). A lock left by a dead process
 * is taken over; so is our own (an engine reopened in-process).
 */
function lockDataDir(path: string): void {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {}
  const [pidText = "", started] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && holdsLock(pid, started)) {
    throw new DataDirInUseError(`${path}: the data directory is in use by engine process ${pid}`);
  }
  writeFileSync(path, `${process.pid} ${processStartTime(process.pid) ?? ""}\n`);
}

/** Whether the process named by a lock file is the engine that wrote it. */
function holdsLock(pid: number, recordedStart: string | undefined): boolean {
  if (!alive(pid)) return false;
  const start = processStartTime(pid);
  // Without a way to read start times, a live pid is taken at its word (the safe side).
  if (start === undefined) return true;
  if (recordedStart) return recordedStart === start;
  // A lock from before start times were recorded: only a node process can be an engine.
  return /node|faultline/.test(commandLine(pid) ?? "node");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A process's start time: clock ticks since boot on Linux, `ps`'s lstart elsewhere; undefined if unknown. */
function processStartTime(pid: number): string | undefined {
  try {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count after its ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {}
  try {
    const out = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return out ? out.replace(/\s+/g, "_") : undefined;
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}
