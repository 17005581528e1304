// Defaults of the sandbox pool; every one can be overridden in SandboxPoolInit.

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000
export const DEFAULT_RUNNER_HEAP_MB = 192
/** Runners run at the lowest OS priority: the volunteer's programs come first. */
export const DEFAULT_RUNNER_NICE = 19
export const DEFAULT_MAX_INPUT_BYTES = 8 * 1024 * 1024
export const DEFAULT_MAX_RESULT_BYTES = 8 * 1024 * 1024
export const DEFAULT_MAX_CHECKPOINT_BYTES = 1024 * 1024
export const DEFAULT_MAX_LOG_LINE_BYTES = 8 * 1024
export const DEFAULT_MAX_LOG_LINES = 1000
export const DEFAULT_MAX_CHECKPOINTS = 1000
export const DEFAULT_LOG_LINES_PER_SECOND = 100
export const DEFAULT_CHECKPOINTS_PER_SECOND = 10
export const DEFAULT_MAX_SOURCE_BYTES = 16 * 1024 * 1024
export const DEFAULT_MAX_RECORDS = 10_000
/** Time a runner gets past a task's limit to answer before the host kills it. */
export const DEFAULT_GRACE_MS = 500
/** Time a forked runner gets to say it is ready. */
export const DEFAULT_START_TIMEOUT_MS = 10_000
/** How often the host samples the resident memory of busy runners. */
export const MEMORY_POLL_MS = 100
/** Smallest isolate heap a task may ask for, MiB. */
export const MIN_MEMORY_MB = 8
