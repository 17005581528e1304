// @idlegrid/worker: the volunteer side of IdleGrid. Pulls tasks from
// submitters that announce work, runs them in the sandbox and returns results.
export { createWorker } from './worker.js'
export type { Worker, WorkerInit, WorkerNode, WorkerPolicy, WorkerEvents, RunningTask } from './worker.js'
export { Outbox } from './outbox.js'
export type { OutboxEntry } from './outbox.js'
export { fetchBundleBytes, loadBundle } from './bundles.js'
export { SessionClient } from './session.js'
export type { SessionClientInit } from './session.js'
export { BundleFetchError, SessionClosedError } from './errors.js'
