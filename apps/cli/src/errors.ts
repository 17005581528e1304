// Errors only the CLI raises.
import { IdleGridError } from '@idlegrid/interface'

/** The command line itself is wrong: unknown command or flag, missing value. */
export class UsageError extends IdleGridError {
  static override name = 'UsageError'
}
