// Named errors of the volunteer side. Callers test `err.name`.
import { IdleGridError } from '@idlegrid/interface'

/** The session stream to a submitter closed or broke before an answer came. */
export class SessionClosedError extends IdleGridError {
  static override name = 'SessionClosedError'
  constructor (message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true })
  }
}

/** A submitter answered a bundle request with something other than the bundle. */
export class BundleFetchError extends IdleGridError {
  static override name = 'BundleFetchError'
}

