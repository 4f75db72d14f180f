/**
 * Errors the operator or a client can act on. The CLI maps them to exit codes at its edge
 * (UsageError → 2, RefusedError → 1); the router maps RoutingError codes to receipts.
 */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A bad configuration value: names the setting and what it accepts. Exit code 2. */
export class ConfigError extends UsageError {}

/** A refusal because the thing named does not exist (the CLI: exit 1; the API: 404). */
export class NotFoundError extends RefusedError {}
