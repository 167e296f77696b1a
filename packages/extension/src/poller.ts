import { type ActiveFault, parseFaultConfig } from "@faultline/protocol";
import { ChangeMarker } from "./change-marker.ts";
import type { Clock } from "./clock.ts";
import { ObjectTooLargeError, StoreError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { DEFAULT_REQUEST_LIMITS, type ObjectStore, type ObjectSummary } from "./s3.ts";

export interface PollerOptions {
  store: ObjectStore;
  /** `<prefix><functionName>/`: the one prefix listed per poll. */
  prefix: string;
  functionName: string;
  clock: Clock;
  log: Logger;
  slowPollMs: number;
  hotPollMs: number;
  /** A poll still running after this is abandoned (its requests aborted) and the next one may start. */
  pollBudgetMs?: number;
  /** GetObject requests in flight at once. */
  fetchConcurrency?: number;
  /** Objects the listing says are larger are refused unread (logged once). */
  maxObjectBytes?: number;
  /**
   * In-process (inside the runtime) a poll must never keep the event loop busy: a callback handler's answer waits
   * for an empty loop. The external extension keeps its timers referenced (its process has nothing else).
   */
  background?: boolean;
  /**
   * The function's change marker (see change-marker.ts): read with a conditional GET every `checkMs` — a list
   * runs only when it changed. Absent: the list poll alone (as AWS FIS's extension does).
   */
  marker?: { key: string; checkMs: number };
}

export const DEFAULT_POLL_BUDGET_MS = 10_000;
export const DEFAULT_FETCH_CONCURRENCY = 16;
/**
 * A marker check is due a little before its interval is up: a function invoked once a second (whose checks start
 * as invocations arrive) then checks on every invocation despite jitter, not every other one.
 */
const MARKER_DUE_FRACTION = 0.9;
/**
 * An invocation arriving after this long without a marker check (an environment idle, frozen, for 10 s) is held
 * for one, at most AWS_FIS_POLL_MAX_WAIT_MILLISECONDS: a function invoked rarely sees a fault on its next
 * invocation. Busier functions are never held for the marker: their checks run beside and after the invocation.
 */
export const MARKER_IDLE_HOLD_MS = 10_000;
/** `<experimentId>/<actionName>.json` under the function's prefix: anything else is not a fault object. */
const FAULT_KEY = /^[^/]+\/.+\.json$/;

interface Cached {
  etag: string;
  /** Undefined: the object is malformed or of an unknown version (already logged; not fetched again). */
  fault?: ActiveFault;
}

/**
 * Keeps the function's fault objects in memory. One ListObjectsV2 per poll, GetObject only for new or
 * changed ETags. Slow interval while nothing is active or scheduled, hot interval otherwise. A store error
 * keeps what is known (each fault still ends at its own endTime) and is logged once per distinct error.
 */
export class FaultPoller {
  readonly #o: PollerOptions;
  readonly #cache = new Map<string, Cached>();
  readonly #budgetMs: number;
  #inflight: Promise<void> | undefined;
  #abandon: AbortController | undefined;
  /** The last poll was cut short with objects still to fetch: the next one is due at once. */
  #backlog = false;
  /** When the last cycle (marker check and/or list) started: poll budgets and holds count from here. */
  #lastAttemptMs = Number.NEGATIVE_INFINITY;
  #lastListMs = Number.NEGATIVE_INFINITY;
  #lastMarkerMs = Number.NEGATIVE_INFINITY;
  /** The cycle in flight was started for a stale view: invocations arriving meanwhile wait for it. */
  #inflightHolds = false;
  readonly #marker: ChangeMarker | undefined;
  #markerFailures = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastSummary = "";
  /** Faults not yet ended, kept ready: read on every invocation, so not rebuilt (nor allocated) per call. */
  #live: readonly ActiveFault[] = [];
  /** The earliest end among #live: once passed, #live is rebuilt. */
  #liveUntilMs = Number.NEGATIVE_INFINITY;
  /** Cycles that listed, and marker reads (conditional GETs). */
  polls = 0;
  markerChecks = 0;

  constructor(options: PollerOptions) {
    this.#o = options;
    this.#budgetMs = options.pollBudgetMs ?? DEFAULT_POLL_BUDGET_MS;
    if (options.marker !== undefined && options.marker.checkMs > 0) this.#marker = new ChangeMarker();
  }

  /** The change marker's state, or undefined when marker checks are off. */
  get markerState(): ChangeMarker["state"] | undefined {
    return this.#marker?.state;
  }

  /** Every known valid fault not yet ended, including not-yet-started ones (the injector checks the window). */
  faults(): readonly ActiveFault[] {
    const now = this.#o.clock.now();
    if (now >= this.#liveUntilMs) {
      const live: ActiveFault[] = [];
      let until = Number.POSITIVE_INFINITY;
      for (const { fault } of this.#cache.values()) {
        if (fault === undefined || fault.endMs <= now) continue;
        live.push(fault);
        until = Math.min(until, fault.endMs);
      }
      this.#live = live;
      this.#liveUntilMs = until;
    }
    return this.#live;
  }

  /** Hot while any fault is active or scheduled: its end is still ahead. */
  intervalMs(): number {
    return this.faults().length > 0 ? this.#o.hotPollMs : this.#o.slowPollMs;
  }

  #remember(key: string, entry: Cached): void {
    this.#cache.set(key, entry);
    this.#liveUntilMs = Number.NEGATIVE_INFINITY;
  }

  #forget(key: string): void {
    if (this.#cache.delete(key)) this.#liveUntilMs = Number.NEGATIVE_INFINITY;
  }

  /** A poll for a stale view is running (an invocation arriving now may wait for it). */
  get polling(): boolean {
    return this.#inflight !== undefined && this.#inflightHolds;
  }

  /** Stale enough to hold an invocation for: a list is due, or the marker went unchecked for a long idle. */
  isStale(): boolean {
    const now = this.#o.clock.now();
    if (this.#backlog || now - this.#lastListMs >= this.intervalMs()) return true;
    return this.#marker !== undefined && this.#marker.state !== "unreachable"
      ? now - this.#lastMarkerMs >= MARKER_IDLE_HOLD_MS
      : false;
  }

  /** Worth a cycle now, in the background (stale, or a marker check is due). */
  isDue(): boolean {
    return this.isStale() || (this.#marker !== undefined && this.#o.clock.now() >= this.#markerDueMs());
  }

  /**
   * Unreachable: backing off, doubling per failed read up to the slow interval (the list poll carries on alone),
   * so a one-off timeout costs a second or two, and a lasting 403 a read per slow interval.
   */
  #markerIntervalMs(): number {
    const marker = this.#o.marker;
    if (this.#marker === undefined || marker === undefined) return Number.POSITIVE_INFINITY;
    if (this.#marker.state !== "unreachable") return marker.checkMs;
    return Math.min(this.#o.slowPollMs, marker.checkMs * 2 ** this.#markerFailures);
  }

  #markerDueMs(): number {
    if (this.#marker === undefined) return Number.POSITIVE_INFINITY;
    return this.#lastMarkerMs + this.#markerIntervalMs() * MARKER_DUE_FRACTION;
  }

  /**
   * The cycle in flight, if any, bounded by `maxWaitMs` (undefined when none: nothing allocated). Awaited before
   * the environment may freeze — the extension's next event, the runtime's next invocation — so a check started
   * as an invocation arrived finishes while the environment is still thawed, not a second later.
   */
  settle(maxWaitMs: number): Promise<void> | undefined {
    const inflight = this.#inflight;
    if (inflight === undefined) return undefined;
    return new Promise<void>((resolve) => {
      // Referenced: in-process, the runtime's own next call is not made yet and must not be skipped by an exit.
      const timer = setTimeout(resolve, maxWaitMs);
      void inflight.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Single flight: a poll already running is joined, not repeated — unless it overran its budget (a stalled
   * store, or an environment frozen mid-poll): it is then abandoned and a fresh one starts, so no request can
   * wedge polling for good.
   */
  poll(): Promise<void> {
    return this.#run(true);
  }

  /**
   * The cheap cycle the timer and arriving invocations start: the marker when its check is due, a list only when
   * one is due or the marker changed. Joins a cycle in flight like `poll`.
   */
  refresh(): Promise<void> {
    return this.#run(false);
  }

  #run(forceList: boolean): Promise<void> {
    if (this.#inflight !== undefined && this.#o.clock.now() - this.#lastAttemptMs > this.#budgetMs) {
      this.#abandonInflight();
    }
    if (this.#inflight === undefined) {
      this.#inflightHolds = this.isStale();
      const abandon = new AbortController();
      this.#abandon = abandon;
      const budget = setTimeout(() => this.#abandon === abandon && this.#abandonInflight(), this.#budgetMs);
      if (this.#o.background) budget.unref();
      const abandoned = new Promise<void>((resolve) =>
        abandon.signal.addEventListener("abort", () => resolve()),
      );
      const running = Promise.race([this.#pollOnce(abandon.signal, forceList), abandoned]).finally(() => {
        clearTimeout(budget);
        if (this.#inflight !== running) return;
        this.#inflight = undefined;
        this.#abandon = undefined;
        this.#schedule();
      });
      this.#inflight = running;
    }
    return this.#inflight;
  }

  #abandonInflight(): void {
    const { log } = this.#o;
    log.once(
      "WARN",
      "poll:overran",
      `a poll took longer than ${this.#budgetMs} ms: abandoned, the next one runs`,
    );
    log.metric("PollErrors", 1, "Count", { Invocation: this.#o.functionName });
    this.#abandon?.abort();
    this.#abandon = undefined;
    this.#inflight = undefined;
    this.#schedule();
  }

  /**
   * Called as an invocation arrives. Timers cannot be trusted in an environment frozen between invocations,
   * so a stale view is refreshed here, holding the invocation at most `maxWaitMs`.
   */
  async refreshIfStale(maxWaitMs: number): Promise<void> {
    if (this.#inflight === undefined && !this.isStale()) return;
    const polling = this.refresh();
    // The budget counts from the poll's start, so a slow or unreachable store holds invocations for at most
    // `maxWaitMs` per poll in total, not `maxWaitMs` each.
    const waitMs = maxWaitMs - (this.#o.clock.now() - this.#lastAttemptMs);
    if (waitMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([polling, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /** Starts the background timer (it fires late or not at all while the environment is frozen; that is fine). */
  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** Also ends a poll in flight (its requests aborted), so nothing keeps the process alive after SHUTDOWN. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abandon?.abort();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    const due = this.#backlog
      ? 0
      : Math.min(this.#lastListMs + this.intervalMs(), this.#markerDueMs()) - this.#o.clock.now();
    const wait = Math.max(0, due);
    this.#timer = setTimeout(() => void this.refresh(), wait);
    this.#timer.unref();
  }

  /**
   * One cycle (`poll` always lists): the marker first when its check is due, then a list if one is due or the
   * marker asked for it (its ETag then predates the listing, so a change made between the two is never missed).
   */
  async #pollOnce(abandoned: AbortSignal, forceList: boolean): Promise<void> {
    const now = this.#o.clock.now();
    this.#lastAttemptMs = now;
    let list = forceList || this.#backlog || now - this.#lastListMs >= this.intervalMs();
    const marker = this.#marker;
    if (marker !== undefined && marker.state === "unknown" && list) {
      // The first list goes alone, so the invocation it may hold waits for one request, not two. The marker's
      // first read is due at once after it (not worth holding an invocation for) and lists again, which covers
      // a change made between the two.
      this.#lastMarkerMs = now - this.#markerIntervalMs();
    } else if (marker !== undefined && now >= this.#markerDueMs()) {
      const markerSaysList = await this.#checkMarker(marker, abandoned);
      if (abandoned.aborted) return;
      list ||= markerSaysList;
    }
    if (!list) return;
    const ok = await this.#list(abandoned);
    marker?.listed(ok);
  }

  async #checkMarker(marker: ChangeMarker, abandoned: AbortSignal): Promise<boolean> {
    const { store, log, clock } = this.#o;
    const key = this.#o.marker?.key ?? "";
    this.#lastMarkerMs = clock.now();
    this.markerChecks++;
    const wasUnreachable = marker.state === "unreachable";
    try {
      const read = await store.etagIfChanged(key, marker.etag, abandoned);
      this.#markerFailures = 0;
      if (wasUnreachable) {
        log.forget((k) => k === "marker:unreachable");
        log.info(`change marker ${key} readable again: checking it every ${this.#o.marker?.checkMs} ms`);
      }
      return marker.answer(read);
    } catch (error) {
      if (abandoned.aborted) return false;
      this.#markerFailures++;
      const message = (error as Error).message;
      // S3 answers 403 for a missing key when the role may not list it: the marker may simply not exist yet.
      const hint = message.includes("AccessDenied")
        ? "; without s3:ListBucket on it a marker not written yet reads as AccessDenied"
        : "";
      log.once(
        "WARN",
        "marker:unreachable",
        `cannot read the change marker ${key} (${message}${hint}): new faults and stops are seen on the list poll (every ${this.#o.slowPollMs / 1000}s while idle) until it is readable (retrying less and less often)`,
      );
      return marker.answer({ kind: "failed" });
    }
  }

  /** One ListObjectsV2 (and GetObjects for new ETags). Returns whether it succeeded. */
  async #list(abandoned: AbortSignal): Promise<boolean> {
    const { store, prefix, clock, log } = this.#o;
    const started = clock.now();
    this.#lastListMs = started;
    this.polls++;
    log.debug("polling S3 for active faults impacting this Lambda function");
    try {
      const listed = await store.list(prefix, abandoned);
      if (abandoned.aborted) return false;
      const wanted = this.#reconcile(listed);
      // Set while objects remain to fetch (this poll was abandoned or its slice ran out): the next poll then
      // runs at once and carries on.
      this.#backlog = wanted.length > 0;
      const complete = await this.#fetchAll(wanted, started, abandoned);
      if (abandoned.aborted) return false;
      this.#backlog = !complete;
      log.forget((key) => key.startsWith("poll:"));
      log.metric("PollDuration", clock.now() - started, "Milliseconds", { Invocation: this.#o.functionName });
      this.#report();
      return !this.#backlog;
    } catch (error) {
      if (abandoned.aborted) return false;
      this.#backlog = false;
      const message = (error as Error).message;
      log.once("WARN", `poll:${message}`, `failed to retrieve active fault configurations: ${message}`);
      log.metric("PollErrors", 1, "Count", { Invocation: this.#o.functionName });
      return false;
    }
  }

  /**
   * Applies the listing: forgets objects no longer listed (a stop takes effect before any fetch), refuses
   * oversized ones unread, and returns the objects to fetch — new or changed ETags only, newest first, so a
   * fault just written is fetched before thousands of old objects a new environment has not seen yet.
   */
  #reconcile(listed: ObjectSummary[]): ObjectSummary[] {
    const { prefix, log } = this.#o;
    const maxBytes = this.#o.maxObjectBytes ?? DEFAULT_REQUEST_LIMITS.maxObjectBytes;
    const seen = new Set<string>();
    const wanted: ObjectSummary[] = [];
    for (const object of listed) {
      const { key, etag, size } = object;
      if (!FAULT_KEY.test(key.slice(prefix.length))) continue;
      seen.add(key);
      if (this.#cache.get(key)?.etag === etag && etag !== "") continue;
      if (size > maxBytes) {
        log.once(
          "WARN",
          `invalid:${key}:${etag}`,
          `ignoring fault configuration ${key}: ${size} bytes, over the ${maxBytes}-byte limit`,
        );
        this.#remember(key, { etag });
        continue;
      }
      wanted.push(object);
    }
    for (const key of this.#cache.keys()) if (!seen.has(key)) this.#forget(key);
    return wanted.sort((a, b) =>
      a.lastModified < b.lastModified ? 1 : a.lastModified > b.lastModified ? -1 : 0,
    );
  }

  /**
   * GetObject with bounded concurrency, each result kept as it arrives. Fetching stops taking new objects when
   * the next poll is due (or half the budget is spent): the rest is left to that poll, which lists again and so
   * puts a fault written meanwhile ahead of the old objects still to fetch. Returns whether all were fetched.
   */
  async #fetchAll(wanted: ObjectSummary[], started: number, abandoned: AbortSignal): Promise<boolean> {
    const { clock } = this.#o;
    const stopAt = started + Math.min(this.intervalMs(), this.#budgetMs / 2);
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (next < wanted.length && failure === undefined && !abandoned.aborted && clock.now() < stopAt) {
        const object = wanted[next++] as ObjectSummary;
        try {
          await this.#fetch(object, abandoned);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    const workers = Math.min(this.#o.fetchConcurrency ?? DEFAULT_FETCH_CONCURRENCY, wanted.length);
    await Promise.all(Array.from({ length: workers }, worker));
    if (failure !== undefined) throw failure;
    return next >= wanted.length;
  }

  async #fetch({ key, etag }: ObjectSummary, abandoned: AbortSignal): Promise<void> {
    try {
      const object = await this.#o.store.get(key, abandoned);
      if (abandoned.aborted) return;
      const entry = this.#parse(key, object.etag || etag, object.body);
      this.#remember(key, entry);
      // Logged (and applied) as soon as it is here, not after the rest of a long backfill.
      if (entry.fault !== undefined && entry.fault.endMs > this.#o.clock.now()) this.#report();
    } catch (error) {
      if (error instanceof ObjectTooLargeError) {
        // The listing's Size was missing or lied: refused all the same, and not fetched again at this ETag.
        this.#o.log.once(
          "WARN",
          `invalid:${key}:${etag}`,
          `ignoring fault configuration ${key}: ${error.message}`,
        );
        this.#remember(key, { etag });
        return;
      }
      // Deleted between the list and the get (the fault ended): as if it had not been listed.
      if (error instanceof StoreError && error.message.includes("NoSuchKey")) {
        this.#forget(key);
        return;
      }
      throw error;
    }
  }

  #parse(key: string, etag: string, body: string): Cached {
    try {
      return { etag, fault: parseFaultConfig(body) };
    } catch (error) {
      this.#o.log.once(
        "WARN",
        `invalid:${key}:${etag}`,
        `ignoring fault configuration ${key}: ${(error as Error).message}`,
      );
      return { etag };
    }
  }

  /** Logs when the set of live faults changes, not on every poll. */
  #report(): void {
    const now = this.#o.clock.now();
    const live = this.faults().filter((fault) => fault.endMs > now);
    const summary = live
      .map(
        (f) =>
          `${f.actionId} (experiment ${f.experimentId}, action ${f.actionName}, ${f.startTime} to ${f.endTime})`,
      )
      .sort()
      .join("; ");
    if (summary === this.#lastSummary) return;
    this.#lastSummary = summary;
    if (live.length > 0) this.#o.log.info(`found active faults: ${summary}`);
    else this.#o.log.info(`no active faults found (updated polling interval ${this.intervalMs() / 1000}s)`);
  }
}
