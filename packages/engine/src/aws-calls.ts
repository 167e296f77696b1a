/**
 * Every AWS call the engine makes is bounded: it goes through a view of the caller's SDK client whose `send`
 * carries an abort signal — a deadline for the whole call (the SDK's own retries included) plus whatever the
 * engine may cancel it for (a stop, a shutdown). The SDK's HTTP handler destroys the request on abort, so a
 * call to an S3 that never answers ends, and a stop never waits for one.
 */
import { AwsCallTimeoutError } from "./errors.ts";

/** What the engine needs of an SDK v3 client. */
interface SendingClient {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's send is overloaded per command; the view keeps its type.
  send(command: any, options?: any): Promise<any>;
}

/** Default deadline of one AWS call, SDK retries included. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/**
 * `client` with every `send` bounded by `timeoutMs` and cancelled when any of `signals` aborts. A call that is
 * cancelled rejects with the signal's reason (an error saying why), not the SDK's bare "Request aborted".
 */
export function boundedClient<C extends SendingClient>(
  client: C,
  timeoutMs: number,
  ...signals: AbortSignal[]
): C {
  const send = async (
    command: { constructor: { name: string } },
    options?: { abortSignal?: AbortSignal },
  ) => {
    const sources = options?.abortSignal ? [...signals, options.abortSignal as AbortSignal] : signals;
    // Cancelled already (a stop came first): nothing is sent.
    const cancelled = sources.find((s) => s.aborted);
    if (cancelled) throw cancelled.reason;
    // One controller per call, fed by the deadline and the sources; listeners are removed after the call, so
    // long-lived signals (the engine's, a run's) collect nothing.
    const call = new AbortController();
    const operation = command.constructor.name.replace(/Command$/, "");
    const timer = setTimeout(() => call.abort(new AwsCallTimeoutError(operation, timeoutMs)), timeoutMs);
    const relays = sources.map((source) => {
      const relay = () => call.abort(source.reason);
      source.addEventListener("abort", relay, { once: true });
      return () => source.removeEventListener("abort", relay);
    });
    // Raced as well, so the bound holds even for a client whose handler ignores abort signals.
    const aborted = new Promise<never>((_, reject) => {
      call.signal.addEventListener("abort", () => reject(call.signal.reason), { once: true });
    });
    try {
      return await Promise.race([client.send(command, { ...options, abortSignal: call.signal }), aborted]);
    } catch (error) {
      if (call.signal.aborted && call.signal.reason instanceof Error) throw call.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      for (const remove of relays) remove();
    }
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === "send") return send;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
