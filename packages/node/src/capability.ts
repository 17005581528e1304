// DHT keys of capabilities: the CID (raw codec) of the sha256 of the
// capability string, so every node derives the same key without agreement.
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { CAPABILITY_CPU, CAPABILITY_GPU } from './constants.js'

export type Capability = 'cpu' | 'gpu'

const NAMES: Record<Capability, string> = {
  cpu: CAPABILITY_CPU,
  gpu: CAPABILITY_GPU
}

const cache = new Map<Capability, CID>()

export async function capabilityKey (capability: Capability): Promise<CID> {
  let cid = cache.get(capability)
  if (cid == null) {
    const digest = await sha256.digest(new TextEncoder().encode(NAMES[capability]))
    cid = CID.createV1(raw.code, digest)
    cache.set(capability, cid)
  }
  return cid
}
