/**
 * An invalid configuration value. `path` names the offending field the way a user wrote it
 * (`strategies[1].params.fastPeriod`), so `nexus engine` can exit non-zero with a message that points at it.
 */
export class ConfigError extends Error {
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ConfigError';
    this.path = path;
  }
}
