/** CloudWatch dashboards: named JSON bodies with a `widgets` array, stored as given. */
import { CloudWatchApiError } from "./errors.ts";

export interface Dashboard {
  name: string;
  body: string;
  lastModifiedMs: number;
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;

export class DashboardStore {
  readonly #dashboards = new Map<string, Dashboard>();

  /** Stores a dashboard; the body must be JSON with a `widgets` array (CloudWatch's minimum). */
  put(name: string, body: string, nowMs: number): void {
    if (typeof name !== "string" || !NAME.test(name)) {
      throw invalid("DashboardName", "must be 1–255 of A-Z a-z 0-9 - _");
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw invalid("DashboardBody", "is not valid JSON");
    }
    const widgets = (parsed as { widgets?: unknown } | null)?.widgets;
    if (!Array.isArray(widgets)) throw invalid("DashboardBody", "should have required property 'widgets'");
    this.#dashboards.set(name, { name, body, lastModifiedMs: nowMs });
  }

  get(name: string): Dashboard {
    const d = this.#dashboards.get(name);
    if (!d)
      throw new CloudWatchApiError(
        "ResourceNotFound",
        404,
        `Dashboard ${name} does not exist`,
        "DashboardNotFoundError",
      );
    return d;
  }

  list(prefix = ""): Dashboard[] {
    return [...this.#dashboards.values()]
      .filter((d) => d.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  delete(names: string[]): void {
    const missing = names.filter((n) => !this.#dashboards.has(n));
    if (missing.length > 0) {
      throw new CloudWatchApiError(
        "ResourceNotFound",
        404,
        `Dashboards ${missing.join(", ")} do not exist`,
        "DashboardNotFoundError",
      );
    }
    for (const n of names) this.#dashboards.delete(n);
  }
}

function invalid(field: string, message: string): CloudWatchApiError {
  return new CloudWatchApiError("InvalidParameterInput", 400, `The field ${field} ${message}`);
}
