/**
 * The contract between the two halves of the lab:
 *  - the execution-environment side (environment/, runtime-api/, extensions-api/, layers, sandbox, freeze), and
 *  - the control side (config, function pool, Lambda HTTP API, S3, log store, startLab, CLI).
 * The control side creates environments through `EnvironmentFactory` and never reaches inside one.
 */
import type { Readable } from "node:stream";

/** A function as the lab runs it: the validated config entry with paths made absolute. */
export interface FunctionSpec {
  name: string;
  /** arn:aws:lambda:<region>:<account>:function:<name> (unqualified). */
  arn: string;
  region: string;
  accountId: string;
  /** e.g. "nodejs20.x", "nodejs22.x", "provided.al2023". */
  runtime: string;
  handler: string;
  /** Absolute path of the code directory (becomes /var/task). */
  codeDir: string;
  /** Absolute paths of layer directories or .zip files, merged into /opt in this order. */
  layers: string[];
  /** The layer version ARNs FunctionConfiguration.Layers reports, one per `layers` entry (default: by file name). */
  layerArns?: string[];
  /** The function's own environment variables. */
  environment: Record<string, string>;
  tags: Record<string, string>;
  timeoutSeconds: number;
  memorySizeMb: number;
  reservedConcurrency?: number;
  /** Alias names; each points at $LATEST, the lab's only version. */
  aliases?: string[];
}

/** What the lab injects into every environment besides Lambda's own variables. */
export interface LabServices {
  /** e.g. http://127.0.0.1:4569 — injected as AWS_ENDPOINT_URL_S3. */
  s3Endpoint?: string;
  /** Extra variables for every environment (credentials, AWS_ENDPOINT_URL_*…). */
  extraEnvironment: Record<string, string>;
}

export interface InvocationInput {
  requestId: string;
  payload: Buffer;
  /** The ARN the caller used, qualified or not: sent as Lambda-Runtime-Invoked-Function-Arn. */
  invokedFunctionArn: string;
  traceId: string;
  /** JSON, as Invoke decoded it from base64: sent (UTF-8) as Lambda-Runtime-Client-Context. */
  clientContext?: string;
  /** JSON, passed through as Lambda-Runtime-Cognito-Identity. */
  cognitoIdentity?: string;
  /** True for InvokeWithResponseStream: a streaming response is handed over as it arrives. */
  acceptStreaming: boolean;
}

/** How one invocation ended, from the caller's point of view. */
export type InvocationOutcome =
  | { kind: "response"; payload: Buffer; contentType: string }
  /** `completion` settles when the stream ends: with the runtime's error trailers if it reported a mid-stream error. */
  | { kind: "stream"; body: Readable; contentType: string; completion?: Promise<StreamCompletion> }
  /** Function error (Unhandled): handler error, timeout, runtime exit, init failure. `payload` is Lambda's JSON. */
  | { kind: "function-error"; payload: Buffer; errorType: string };

/** How a streamed response ended (Lambda-Runtime-Function-Error-Type / -Body trailers; empty when it succeeded). */
export interface StreamCompletion {
  errorType?: string;
  /** As the runtime sent it (base64 of the error JSON). */
  errorBody?: string;
}

export interface InvocationReport {
  outcome: InvocationOutcome;
  /** The invocation's log lines (START … REPORT), for X-Amz-Log-Result (last 4 KB). */
  log: string;
  durationMs: number;
  billedDurationMs: number;
  /** Present when this invocation paid the init. */
  initDurationMs?: number;
  maxMemoryUsedMb: number;
  /**
   * The report is handed over when the runtime answers; the invoke phase goes on until the runtime and every
   * extension call Next again. This resolves then, with the whole log (END/REPORT) and the phase's duration.
   */
  phaseEnd?: Promise<InvocationReport>;
  /** Time from the runtime's Next to the last extension's Next (Lambda's PostRuntimeExtensionsDuration). */
  postRuntimeExtensionsDurationMs?: number;
}

export type EnvironmentState = "initializing" | "ready" | "invoking" | "shutting-down" | "dead";

export interface ExecutionEnvironment {
  readonly id: string;
  readonly spec: FunctionSpec;
  readonly state: EnvironmentState;
  /** Runs one invocation. Init happens on the first call (cold start) or after a reset. Never rejects. */
  invoke(input: InvocationInput): Promise<InvocationReport>;
  /** SHUTDOWN to extensions, a grace period, then kill. Idempotent; resolves when every process is gone. */
  shutdown(reason: "spindown" | "timeout" | "failure"): Promise<void>;
  /** Fires once when the environment can take no more invocations (runtime exited, init failed, shut down). */
  onDead(listener: () => void): void;
}

export interface EnvironmentFactory {
  create(spec: FunctionSpec, services: LabServices, logSink: LogSink): ExecutionEnvironment;
}

/** Where an environment's log lines go (CloudWatch-Logs-like store, one stream per environment). */
export interface LogSink {
  /** `stream` is the environment's log stream name, e.g. 2026/11/26/[$LATEST]<env id>. */
  write(functionName: string, stream: string, line: string, timestampMs: number): void;
}
