// The swarm id `idlegrid swarm show` prints (@idlegrid/swarm) must be the one
// in the private DHT protocol id (@idlegrid/node), or operators chase ghosts.
import { createSwarmKey, swarmId } from '@idlegrid/swarm'
import { dhtProtocol, swarmIdFromKey } from '@idlegrid/node'
import { describe, expect, it } from 'vitest'

describe('swarm id', () => {
  it('is the same in the swarm package and in the node\'s DHT protocol id', () => {
    for (let i = 0; i < 3; i++) {
      const key = createSwarmKey()
      expect(swarmIdFromKey(key)).toBe(swarmId(key))
      expect(dhtProtocol(key)).toBe(`/idlegrid/${swarmId(key)}/kad/1.0.0`)
    }
  })
})
