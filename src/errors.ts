/**
 * Errors the operator or a client can act on. The CLI maps them to exit codes at its edge
 * (UsageError → 2, RefusedError → 1); the router maps RoutingError codes to receipts.
 *
 * A refusal may carry a code and the values it names (`{ code: 'agreement-state', values: { id: 7 } }`):
 * the message is the CLI's English (with its commands as hints); an edge with words of its own —
 * the portal's Danish and English catalogues — says it from the code instead.
 */
export interface ErrorAbout {
  code: string;
  values?: Record<string, string | number>;
}

/** An error about something the user can act on, with the code an edge may say it from. */
abstract class ActionableError extends Error {
  readonly code?: string;
  readonly values?: Record<string, string | number>;

  constructor(message: string, about?: ErrorAbout) {
    super(message);
    this.code = about?.code;
    this.values = about?.values;
  }
}

export class RefusedError extends ActionableError {
  override readonly name = 'RefusedError';
}

export class UsageError extends ActionableError {
  override readonly name = 'UsageError';
}

/** A bad configuration value: names the setting and what it accepts. Exit code 2. */
export class ConfigError extends UsageError {}

/** A refusal because the thing named does not exist (the CLI: exit 1; the API: 404). */
export class NotFoundError extends RefusedError {}
