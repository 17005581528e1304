// Exit codes of the `idlegrid` command, and the error name each one stands
// for. Scripts rely on these numbers: add new ones, never renumber.

export const EXIT = {
  /** Done. */
  OK: 0,
  /** Something failed at run time (network, daemon error, missing identity). */
  FAILURE: 1,
  /** Bad input: unknown command or flag, bad value, malformed config, bad multiaddr. */
  USAGE: 2,
  /** No daemon runs for the data directory. */
  DAEMON_NOT_RUNNING: 3,
  /** Another daemon already holds the data directory. */
  DAEMON_RUNNING: 4,
  /** The identity key is unreadable or corrupt (it was left untouched). */
  IDENTITY: 5,
  /** A listen or control address is already in use. */
  ADDRESS_IN_USE: 6,
  /** The daemon refused the control token. */
  UNAUTHORIZED: 7,
  /** A job ended, but some of its records failed for good (their errors are in the output). */
  RECORDS_FAILED: 8,
  /** A job was cancelled, or submit gave up waiting for a volunteer (--wait). */
  JOB_CANCELLED: 9,
  /** `credits verify` found a problem in the ledger (listed on stdout). */
  CREDITS_INVALID: 10,
  /** Interrupted (SIGINT/SIGTERM) while following a job; the job keeps running in the daemon. */
  INTERRUPTED: 130
} as const

const BY_NAME: Record<string, number> = {
  UsageError: EXIT.USAGE,
  ConfigError: EXIT.USAGE,
  InvalidInputError: EXIT.USAGE,
  InvalidMultiaddrError: EXIT.USAGE,
  PayloadTooLargeError: EXIT.USAGE,
  DaemonNotRunningError: EXIT.DAEMON_NOT_RUNNING,
  DaemonRunningError: EXIT.DAEMON_RUNNING,
  IdentityError: EXIT.IDENTITY,
  AddressInUseError: EXIT.ADDRESS_IN_USE,
  UnauthorizedError: EXIT.UNAUTHORIZED,
  BundleBuildError: EXIT.USAGE,
  BundleRejectedError: EXIT.USAGE,
  NotFoundError: EXIT.USAGE
}

/** The exit code for an error, by its name; anything unknown is a runtime failure. */
export function exitCodeFor (err: unknown): number {
  const name = (err as { name?: unknown } | undefined)?.name
  return typeof name === 'string' ? (BY_NAME[name] ?? EXIT.FAILURE) : EXIT.FAILURE
}
