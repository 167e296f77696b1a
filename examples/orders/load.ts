/**
 * Steady load on the orders API: an open loop at a fixed rate (users keep arriving whatever the latency), a mix of
 * CreateOrder, GetOrder and DeleteOrder, every request recorded with the phase it started in. Orders created in a
 * "during" phase are never deleted, so what the handler wrote while a fault was on stays countable.
 */

export interface Sample {
  phase: string;
  op: "create" | "get" | "delete";
  startMs: number;
  ms: number;
  status: number;
  /** 5xx or no answer. */
  error: boolean;
}

export interface LoadOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:40123. */
  url: string;
  /** Requests per second. */
  rate: number;
  /** Per-request timeout, ms (default 15 s: API Gateway's own limit is 30 s). */
  timeoutMs?: number;
  random?: () => number;
}

export class LoadGenerator {
  readonly samples: Sample[] = [];
  /** createdAt of every order this generator deleted: with the table's items, every write the handler made. */
  readonly deletedCreatedAt: number[] = [];
  phase = "warm-up";
  readonly #options: LoadOptions;
  readonly #random: () => number;
  readonly #inFlight = new Set<Promise<void>>();
  /** Orders this generator may GET; those not created during an experiment may also be deleted. */
  readonly #known: string[] = [];
  readonly #deletable: string[] = [];
  readonly #createdAt = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LoadOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.fire(), 1000 / this.#options.rate);
  }

  /** Stops firing and waits for the requests still in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * One request of the mix: 40 % create, 40 % get, 20 % delete (a get while nothing is deletable). Every function
   * gets enough traffic for its own percentiles in a short window.
   */
  fire(): Promise<void> {
    const roll = this.#random();
    const op: Sample["op"] =
      roll < 0.4 || this.#known.length === 0
        ? "create"
        : roll < 0.8 || this.#deletable.length === 0
          ? "get"
          : "delete";
    const p = this.#send(op);
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
    return p;
  }

  async #send(op: Sample["op"]): Promise<void> {
    const phase = this.phase;
    const startMs = Date.now();
    const started = performance.now();
    let status = 0;
    try {
      let res: Response;
      const signal = AbortSignal.timeout(this.#options.timeoutMs ?? 15_000);
      if (op === "create") {
        res = await fetch(`${this.#options.url}/orders`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ item: "book", quantity: 1 + Math.floor(this.#random() * 3) }),
          signal,
        });
        const body = (await res.json().catch(() => ({}))) as { id?: string; createdAt?: number };
        if (res.status === 201 && body.id) {
          this.#known.push(body.id);
          if (body.createdAt !== undefined) this.#createdAt.set(body.id, body.createdAt);
          if (this.#known.length > 500) this.#known.shift();
          if (!phase.startsWith("during")) this.#deletable.push(body.id);
        }
      } else if (op === "get") {
        const id = this.#known[Math.floor(this.#random() * this.#known.length)];
        res = await fetch(`${this.#options.url}/orders/${id}`, { signal });
        await res.arrayBuffer();
      } else {
        const id = this.#deletable.shift()!;
        const at = this.#known.indexOf(id);
        if (at >= 0) this.#known.splice(at, 1);
        res = await fetch(`${this.#options.url}/orders/${id}`, { method: "DELETE", signal });
        await res.arrayBuffer();
        const createdAt = this.#createdAt.get(id);
        if (res.status === 204 && createdAt !== undefined) this.deletedCreatedAt.push(createdAt);
      }
      status = res.status;
    } catch {
      status = 0;
    }
    this.samples.push({
      phase,
      op,
      startMs,
      ms: performance.now() - started,
      status,
      error: status === 0 || status >= 500,
    });
  }
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface CallerStats {
  requests: number;
  errors: number;
  p50?: number;
  p99?: number;
}

export function statsOf(samples: readonly Sample[]): CallerStats {
  const ms = samples.map((s) => s.ms);
  const p50 = percentile(ms, 50);
  const p99 = percentile(ms, 99);
  return {
    requests: samples.length,
    errors: samples.filter((s) => s.error).length,
    ...(p50 === undefined ? {} : { p50 }),
    ...(p99 === undefined ? {} : { p99 }),
  };
}
