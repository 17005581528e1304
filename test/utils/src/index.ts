// Shared helpers for IdleGrid's test suites: node groups, polling, temp dirs.
export { startNode, startNodes, stopNodes, testMachine, parentOf, FAST_DHT } from './nodes.js'
export type { StartNodesOptions, Topology } from './nodes.js'
export { waitFor } from './wait.js'
export type { WaitForOptions } from './wait.js'
export { tempDir } from './temp-dir.js'
export type { TempDir } from './temp-dir.js'
