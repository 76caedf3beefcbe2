import { WardenError } from '../contract/errors.js';

/**
 * A failure the user can fix (`cli.failed`): printed as `warden: <message>` with no stack, exit
 * `exitCode`.
 */
export class CliError extends WardenError {
  override readonly name = 'CliError';
  declare readonly code: 'cli.failed';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super('cli.failed', message);
  }
}
