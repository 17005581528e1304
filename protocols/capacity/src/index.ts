// @idlegrid/protocol-capacity: the wire format, id and limits of the direct
// capacity query. The handler and the client live in @idlegrid/node.
export { CapacityRequest, CapacityResponse } from './capacity.js'
export * from './constants.js'
