/**
 * The load generator: an open loop at a fixed rate (callers keep arriving whatever the latency), recording every
 * request — its start, end and status — for the assertions to be computed from.
 */
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { RequestRecord } from "./records.ts";

/** Sends one request of the mix and answers its status (0: no answer). */
export type Sender = (signal: AbortSignal) => Promise<{ name: string; status: number; error: boolean }>;

export class LoadGenerator {
  readonly records: RequestRecord[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  /** Aborts every request in flight and priming: an interrupted run does not wait out their timeouts. */
  readonly #abandon = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly send: Sender,
    private readonly rate: number,
    private readonly timeoutMs: number,
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => this.fire(), 1000 / this.rate);
  }

  /** Stops firing and waits for the requests still in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops at once: requests in flight are aborted (recorded as unanswered), priming gives up. */
  async abandon(): Promise<void> {
    this.#abandon.abort();
    await this.stop();
  }

  #requestSignal(): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.#abandon.signal]);
  }

  /**
   * Cold starts belong to no window: bursts as wide as the load's concurrency (one second's worth), until a burst
   * comes back without an error or `timeoutMs` has passed. Nothing sent here is recorded.
   */
  async prime(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const width = Math.max(1, Math.ceil(this.rate));
    for (let round = 0; Date.now() < deadline; round++) {
      this.#abandon.signal.throwIfAborted();
      const signal = this.#requestSignal();
      const burst = await Promise.all(
        Array.from({ length: width }, () => this.send(signal).catch(() => ({ error: true }))),
      );
      if (round >= 2 && burst.every((r) => !r.error)) return;
    }
  }

  fire(): Promise<void> {
    const p = this.#one();
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
    return p;
  }

  async #one(): Promise<void> {
    const startMs = Date.now();
    let result: Awaited<ReturnType<Sender>>;
    try {
      result = await this.send(this.#requestSignal());
    } catch {
      result = { name: "?", status: 0, error: true };
    }
    this.records.push({ ...result, startMs, endMs: Date.now() });
  }
}

export interface HttpRequestSpec {
  name?: string | undefined;
  method: string;
  path: string;
  body?: unknown;
  weight: number;
}

/**
 * A weighted mix of HTTP requests against `baseUrl`. `{id}` in a path takes an id that an earlier request
 * answered with (a JSON body's `id`); while none is known, the request waits its turn and a POST goes instead.
 */
export function httpSender(
  baseUrl: string,
  requests: readonly HttpRequestSpec[],
  random = Math.random,
): Sender {
  const total = requests.reduce((sum, r) => sum + r.weight, 0);
  const ids: string[] = [];
  const pick = () => {
    let roll = random() * total;
    for (const r of requests) {
      roll -= r.weight;
      if (roll < 0) return r;
    }
    return requests.at(-1)!;
  };
  return async (signal) => {
    let request = pick();
    if (request.path.includes("{id}") && ids.length === 0) {
      request = requests.find((r) => !r.path.includes("{id}")) ?? request;
    }
    const id = ids[Math.floor(random() * ids.length)] ?? "none";
    const name = request.name ?? `${request.method} ${request.path}`;
    try {
      const res = await fetch(`${baseUrl.replace(/\/$/, "")}${request.path.replaceAll("{id}", id)}`, {
        method: request.method,
        signal,
        ...(request.body === undefined
          ? {}
          : { body: JSON.stringify(request.body), headers: { "content-type": "application/json" } }),
      });
      const text = await res.text();
      if (res.ok && text.startsWith("{")) {
        const answered = (JSON.parse(text) as { id?: unknown }).id;
        if (typeof answered === "string" && !ids.includes(answered)) ids.push(answered);
        if (ids.length > 500) ids.shift();
      }
      return { name, status: res.status, error: res.status >= 500 };
    } catch {
      return { name, status: 0, error: true };
    }
  };
}

/** Lambda Invoke (RequestResponse) of one function: a FunctionError or no answer is an error. */
export function invokeSender(lambda: LambdaClient, functionName: string, payload: unknown): Sender {
  const body = new TextEncoder().encode(JSON.stringify(payload ?? {}));
  return async (signal) => {
    try {
      const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: body }), {
        abortSignal: signal,
      });
      const failed = out.FunctionError !== undefined;
      return { name: functionName, status: failed ? 500 : (out.StatusCode ?? 200), error: failed };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      return { name: functionName, status, error: true };
    }
  };
}
