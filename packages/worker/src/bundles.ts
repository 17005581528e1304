// Getting a job's bundle: from the local cache, or over the bundle protocol
// from the submitter that announced the job, verified against that peer.
import { decodeSignedBundle, verifyBundle } from '@idlegrid/bundle'
import {
  BUNDLE_PROTOCOL, BUNDLE_TIMEOUT_MS, BundleChunk, BundleRequest, MAX_BUNDLE_CHUNK_SIZE, MAX_BUNDLE_SIZE
} from '@idlegrid/protocol-work'
import { lpStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { BundleFetchError } from './errors.js'
import type { BundleCache, SignedBundle } from '@idlegrid/bundle'
import type { Libp2p, PeerId } from '@libp2p/interface'

/** Downloads the encoded signed bundle `bundleId` from `peer`, chunk by chunk. */
export async function fetchBundleBytes (libp2p: Libp2p, peer: PeerId, bundleId: string, signal = AbortSignal.timeout(BUNDLE_TIMEOUT_MS)): Promise<Uint8Array> {
  const stream = await libp2p.dialProtocol(peer, BUNDLE_PROTOCOL, { signal })
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_BUNDLE_CHUNK_SIZE })
    await lp.write(BundleRequest.encode({ bundleId }), { signal })
    const first = BundleChunk.decode(await lp.read({ signal }))
    if (first.status !== BundleChunk.Status.OK) {
      throw new BundleFetchError(`${peer.toString()} did not send bundle ${bundleId}: ${first.status} ${first.reason}`)
    }
    if (first.totalSize > MAX_BUNDLE_SIZE || first.totalSize < first.data.byteLength) {
      throw new BundleFetchError(`${peer.toString()} announced a bundle of ${first.totalSize} bytes; the limit is ${MAX_BUNDLE_SIZE}`)
    }
    const bytes = new Uint8ArrayList(first.data)
    while (bytes.byteLength < first.totalSize) {
      const chunk = BundleChunk.decode(await lp.read({ signal }))
      if (bytes.byteLength + chunk.data.byteLength > first.totalSize) {
        throw new BundleFetchError(`${peer.toString()} sent more bundle bytes than the ${first.totalSize} it announced`)
      }
      bytes.append(chunk.data)
    }
    await stream.close({ signal })
    return bytes.subarray()
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

export interface LoadBundleInit {
  libp2p: Libp2p
  cache: BundleCache
  /** The authenticated peer that announced the job; the bundle must be signed by it. */
  submitter: PeerId
  bundleId: string
  trusted?(peerId: string): boolean
  signal?: AbortSignal
}

/**
 * The verified bundle, from the cache or fetched from the submitter and then
 * cached. Either way it must be signed by the peer that offered the work.
 *
 * @throws BundleRejectedError (reason in err.reason) or BundleFetchError
 */
export async function loadBundle (init: LoadBundleInit): Promise<SignedBundle> {
  const signer = init.submitter.toString()
  const cached = await init.cache.get(init.bundleId)
  if (cached != null) {
    return await verifyBundle(cached, { signer, trusted: init.trusted })
  }
  const bytes = await fetchBundleBytes(init.libp2p, init.submitter, init.bundleId, init.signal)
  const bundle = await verifyBundle(decodeSignedBundle(bytes), { signer, trusted: init.trusted })
  if (bundle.id !== init.bundleId) {
    throw new BundleFetchError(`asked ${signer} for bundle ${init.bundleId} and got ${bundle.id}`)
  }
  await init.cache.put(bundle)
  return bundle
}
