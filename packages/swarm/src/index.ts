// Private swarms: the pre-shared key, invites, and the trust list of signers.
export { createSwarmKey, parseSwarmKey, swarmId, swarmKeyFromHex } from './key.js'
export { decodeInvite, encodeInvite, validateSwarmName, type Invite } from './invite.js'
export {
  createSwarm, inviteFor, joinSwarm, leaveSwarm, listSwarms, loadSwarm, swarmBootstrap, trustAdd, trustRemove,
  SwarmExistsError, type CreateSwarmInit, type Swarm
} from './store.js'
export { openTrustPolicy, type TrustPolicy, type TrustPolicyInit } from './trust-policy.js'
