// @idlegrid/capacity: what this machine has, what its owner gives, and which
// slots are in use. No networking lives here.
export { probeMachine, probeNvidiaGpus, parseNvidiaSmi } from './probe.js'
export type { ProbeInit } from './probe.js'
export { defaultLimits, resolveLimits, DEFAULT_MEMORY_SHARE } from './policy.js'
export { SlotTable } from './slot-table.js'
export type { SlotState, SlotTableEvents } from './slot-table.js'
export { capacityReport } from './report.js'
