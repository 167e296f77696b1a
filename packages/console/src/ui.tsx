/** Small shared pieces: error display, state badges. */
import { ApiError } from "./api.ts";

export function Problem({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const code = error instanceof ApiError ? `${error.code}: ` : "";
  return (
    <p role="alert" class="error">
      {code}
      {error.message}
    </p>
  );
}

export function StateBadge({ status }: { status: string }) {
  return <span class={`badge s-${status}`}>{status}</span>;
}
