// Named errors shared across packages. Callers test `err.name`, never the
// message text. Each says whether retrying the same thing can succeed.

export class IdleGridError extends Error {
  static override name = 'IdleGridError'
  readonly retryable: boolean

  constructor (message: string, options: { retryable?: boolean, cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = (this.constructor as { name: string }).name
    this.retryable = options.retryable ?? false
  }
}

/** A config file, environment variable or flag has a bad value. */
export class ConfigError extends IdleGridError {
  static override name = 'ConfigError'
}

/** The identity key is unreadable or corrupt; it is never overwritten. */
export class IdentityError extends IdleGridError {
  static override name = 'IdentityError'
}

/** Another daemon already holds the data directory. */
export class DaemonRunningError extends IdleGridError {
  static override name = 'DaemonRunningError'
}

/** No daemon answers for this data directory. */
export class DaemonNotRunningError extends IdleGridError {
  static override name = 'DaemonNotRunningError'
}

/** A listen address is already taken by another process. */
export class AddressInUseError extends IdleGridError {
  static override name = 'AddressInUseError'
}

/** A string that should be a multiaddr is not one. */
export class InvalidMultiaddrError extends IdleGridError {
  static override name = 'InvalidMultiaddrError'
}

/** The control API refused the request's token. */
export class UnauthorizedError extends IdleGridError {
  static override name = 'UnauthorizedError'
}

/** A peer broke a wire protocol (bad message, oversize, wrong state). */
export class ProtocolError extends IdleGridError {
  static override name = 'ProtocolError'
}

/** A request named something that does not exist (job, task, peer). */
export class NotFoundError extends IdleGridError {
  static override name = 'NotFoundError'
}

/** A caller passed a value that is not valid; the message says which and why. */
export class InvalidInputError extends IdleGridError {
  static override name = 'InvalidInputError'
}

/** A bundle failed verification: hash, signature, size or content. */
export class BundleRejectedError extends IdleGridError {
  static override name = 'BundleRejectedError'
}

/** A receipt failed verification or conflicts with the ledger. */
export class ReceiptRejectedError extends IdleGridError {
  static override name = 'ReceiptRejectedError'
}
