// Named errors of the bundle package. Rejections reuse the shared
// BundleRejectedError name and add a machine-readable reason.
import { BundleRejectedError, IdleGridError } from '@idlegrid/interface'

/** Why a signed bundle was refused; stable strings a caller may switch on. */
export type BundleRejectReason =
  | 'malformed'
  | 'oversize'
  | 'id-mismatch'
  | 'bad-signature'
  | 'signer-mismatch'
  | 'untrusted-signer'
  | 'extra-field'
  | 'bad-source'
  | 'bad-manifest'

/**
 * A bundle failed verification. `name` stays 'BundleRejectedError' (so callers
 * that test `err.name` keep working); `reason` says which check failed.
 */
export class BundleRejected extends BundleRejectedError {
  static override name = 'BundleRejectedError'
  readonly reason: BundleRejectReason

  constructor (reason: BundleRejectReason, message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause })
    this.name = 'BundleRejectedError'
    this.reason = reason
  }
}

/** One esbuild message, located in the job's source where esbuild knows where. */
export interface BuildMessage {
  text: string
  file?: string
  line?: number
  column?: number
}

/** The job file could not be turned into a bundle; the message lists every problem as file:line:column. */
export class BundleBuildError extends IdleGridError {
  static override name = 'BundleBuildError'
  readonly errors: BuildMessage[]

  constructor (message: string, errors: BuildMessage[] = [], options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause })
    this.errors = errors
  }
}
