/** Named CLI errors. `exitCode` is what the process exits with; the message is printed as is. */
export class CliError extends Error {
  override readonly name: string = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Bad usage or bad input (a config that does not validate…): exit 2, nothing started. */
export class UsageError extends CliError {
  override readonly name = "UsageError";
  constructor(message: string) {
    super(message, 2);
  }
}

/** A resilience test file that does not validate: exit 2, nothing started. Lists every problem with its field. */
export class TestFileError extends UsageError {
  constructor(
    readonly file: string,
    readonly issues: { field: string; message: string }[],
  ) {
    super(issues.map((i) => `${file}: ${i.field ? `${i.field}: ` : ""}${i.message}`).join("\n"));
  }
}
