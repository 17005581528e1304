// @idlegrid/node: createNode() and the types of a running IdleGrid node.
import '@idlegrid/interface/polyfill'

export { createNode } from './node.js'
export type { NodeInit, IdleGridNode, IdleGridNodeEvents, PeerSummary } from './node.js'
export { toCapacityReportLike, fits } from './capacity-service.js'
export type { CapacityReportLike, CapacityWant, FoundPeer, FindOptions, CapacityPublishedDetail } from './capacity-service.js'
export { capabilityKey } from './capability.js'
export type { Capability } from './capability.js'
export { dhtProtocol, swarmIdFromKey, parseSwarmKey } from './swarm.js'
export { CapacityQueryError } from './errors.js'
export * from './constants.js'
