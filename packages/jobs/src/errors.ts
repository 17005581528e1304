// Named errors of the submitter side. Callers test `err.name`.
import { IdleGridError } from '@idlegrid/interface'

/** The submitter was stopped; the call cannot complete. */
export class SubmitterStoppedError extends IdleGridError {
  static override name = 'SubmitterStoppedError'
}
