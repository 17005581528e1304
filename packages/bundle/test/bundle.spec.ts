// Tests of @idlegrid/bundle: building with esbuild, signing, transport
// encoding, every rejection of verifyBundle, and the on-disk cache.
import { mkdtemp, mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BUNDLE_GLOBAL_NAME, buildBundle, bundleId, canonicalJson, createBundleCache, decodeSignedBundle,
  encodeSignedBundle, signBundle, validateManifest, verifyBundle
} from '../src/index.js'
import type { Bundle, BundleManifest, SignedBundle } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

let dir: string
let key: PrivateKey
let submitter: string
let otherKey: PrivateKey
let other: string

/**
 * Evaluates a bundle in a fresh context, in the test only. TextEncoder and
 * TextDecoder are given because uint8arrays (via multiformats) builds them at
 * load time: the sandbox's guest runtime has to offer them too.
 */
function loadJob (source: string): (input: unknown, ctx: unknown) => Promise<unknown> {
  const context = vm.createContext({ TextEncoder, TextDecoder })
  vm.runInContext(source, context, { timeout: 5000 })
  const job = (context as Record<string, { default?: unknown }>)[BUNDLE_GLOBAL_NAME]
  expect(typeof job?.default).toBe('function')
  return job.default as (input: unknown, ctx: unknown) => Promise<unknown>
}

function manifest (overrides: Partial<BundleManifest> = {}): BundleManifest {
  return {
    version: 1,
    name: 'test',
    entry: 'job.ts',
    requirements: { cores: 1, memoryMb: 128, timeoutMs: 1000, gpu: false, deterministic: true },
    replicas: 1,
    batch: 1,
    submitter,
    createdAt: 1_700_000_000_000,
    ...overrides
  }
}

const simpleSource = 'var __idlegridJob = { default: async (x) => x };'

async function signed (overrides: Partial<BundleManifest> = {}, source = simpleSource): Promise<SignedBundle> {
  return signBundle({ manifest: manifest(overrides), source }, key)
}

async function expectRejected (promise: Promise<unknown>, reason: string, text?: RegExp): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e) as { name?: string, reason?: string, message?: string } | undefined
  expect(err, `expected a rejection with reason ${reason}`).toBeDefined()
  expect(err?.name).toBe('BundleRejectedError')
  expect(err?.reason).toBe(reason)
  if (text != null) {
    expect(err?.message).toMatch(text)
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idlegrid-bundle-'))
  key = await generateKeyPair('Ed25519')
  submitter = peerIdFromPrivateKey(key).toString()
  otherKey = await generateKeyPair('Ed25519')
  other = peerIdFromPrivateKey(otherKey).toString()
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('buildBundle', () => {
  it('bundles a job with a local import and an npm package into a script defining __idlegridJob.default', async () => {
    const bundle = await buildBundle(join(fixtures, 'job-with-deps.ts'), { submitter, requirements: { cores: 2 }, replicas: 3, batch: 10, createdAt: 42 })
    expect(bundle.manifest).toEqual({
      version: 1,
      name: 'job-with-deps',
      entry: 'job-with-deps.ts',
      requirements: { cores: 2, memoryMb: 256, timeoutMs: 60_000, gpu: false, deterministic: false },
      replicas: 3,
      batch: 10,
      submitter,
      createdAt: 42
    })
    expect(bundle.source).not.toMatch(/\brequire\(|\bimport\b/)
    const job = loadJob(bundle.source)
    await expect(job({ n: 21, hex: '6869' }, { tag: 't' })).resolves.toEqual({ doubled: 42, base64: 'aGk', tag: 't' })
  })

  it('bundles a package from a node_modules folder next to a .js job', async () => {
    const root = join(dir, 'with-package')
    await mkdir(join(root, 'node_modules', 'tiny-pkg'), { recursive: true })
    await writeFile(join(root, 'node_modules', 'tiny-pkg', 'package.json'), JSON.stringify({ name: 'tiny-pkg', version: '1.0.0', main: 'main.js', module: 'module.js' }))
    await writeFile(join(root, 'node_modules', 'tiny-pkg', 'main.js'), 'module.exports.greet = () => "from main"')
    await writeFile(join(root, 'node_modules', 'tiny-pkg', 'module.js'), 'export const greet = (name) => `hello ${name}`')
    await writeFile(join(root, 'job.js'), 'import { greet } from "tiny-pkg"\nexport default async function (input) { return greet(input) }\n')
    const bundle = await buildBundle(join(root, 'job.js'), { submitter })
    await expect(loadJob(bundle.source)('volunteer', {})).resolves.toBe('hello volunteer')
  })

  it('refuses a missing file, a wrong extension, and a directory', async () => {
    await expect(buildBundle(join(dir, 'nope.ts'), { submitter })).rejects.toThrow(/job file not found: .*nope\.ts/)
    await writeFile(join(dir, 'job.txt'), 'export default 1')
    await expect(buildBundle(join(dir, 'job.txt'), { submitter })).rejects.toThrow(/must end in .ts/)
    await mkdir(join(dir, 'folder.ts'), { recursive: true })
    await expect(buildBundle(join(dir, 'folder.ts'), { submitter })).rejects.toMatchObject({ name: 'BundleBuildError', message: expect.stringMatching(/is not a file/) })
  })

  it('shows esbuild errors with file:line:column', async () => {
    const file = join(dir, 'broken.ts')
    await writeFile(file, 'export default async function (input) {\n  return input +\n}\n')
    const err = await buildBundle(file, { submitter }).catch((e: unknown) => e) as { name: string, message: string, errors: Array<{ line?: number }> }
    expect(err.name).toBe('BundleBuildError')
    expect(err.message).toMatch(/broken\.ts:3:0: /)
    expect(err.errors[0].line).toBe(3)
  })

  it('refuses Node built-ins with a reason, pointing at the import', async () => {
    const fsJob = join(dir, 'uses-fs.ts')
    await writeFile(fsJob, "import { readFileSync } from 'fs'\nexport default async function () { return readFileSync('/etc/passwd') }\n")
    await expect(buildBundle(fsJob, { submitter })).rejects.toThrow(/uses-fs\.ts:1:\d+: task code cannot use Node's 'fs' module: the sandbox has no file system/)
    const cpJob = join(dir, 'uses-cp.ts')
    await writeFile(cpJob, "import { exec } from 'node:child_process'\nexport default async function () { exec('ls') }\n")
    await expect(buildBundle(cpJob, { submitter })).rejects.toThrow(/Node's 'child_process' module: the sandbox cannot start/)
    const netJob = join(dir, 'uses-net.ts')
    await writeFile(netJob, "import net from 'net'\nexport default async function () { return net }\n")
    await expect(buildBundle(netJob, { submitter })).rejects.toThrow(/'net' module: the sandbox has no network access/)
  })

  it('refuses a job without a default export, and a CommonJS job', async () => {
    const named = join(dir, 'named.ts')
    await writeFile(named, 'export async function run (input: number) { return input }\n')
    await expect(buildBundle(named, { submitter })).rejects.toThrow(/has no default export: add `export default async function/)
    const cjs = join(dir, 'cjs.js')
    await writeFile(cjs, 'module.exports = async function (x) { return x }\n')
    await expect(buildBundle(cjs, { submitter })).rejects.toThrow(/is CommonJS/)
  })

  it('refuses a bundle over the size cap', async () => {
    const big = join(dir, 'big.ts')
    await writeFile(big, `const data = ${JSON.stringify('x'.repeat(5000))}\nexport default async function () { return data.length }\n`)
    await expect(buildBundle(big, { submitter, maxSourceBytes: 4096 })).rejects.toThrow(/bundles to \d+ bytes, over the limit of 4096/)
  })

  it('checks manifest fields before building', async () => {
    const file = join(fixtures, 'job-with-deps.ts')
    await expect(buildBundle(file, { submitter: 'not-a-peer' })).rejects.toThrow(/manifest.submitter is not a valid PeerId/)
    await expect(buildBundle(file, { submitter, replicas: 0 })).rejects.toThrow(/manifest.replicas must be a whole number from 1 to 16, got 0/)
    await expect(buildBundle(file, { submitter, requirements: { memoryMb: 1.5 } })).rejects.toThrow(/requirements.memoryMb must be a whole number/)
  })
})

describe('manifest and canonical encoding', () => {
  it('rejects each bad field with a message naming it', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ version: 2 }, /manifest.version must be 1/],
      [{ name: '' }, /manifest.name must be a non-empty string/],
      [{ name: 'a\nb' }, /manifest.name must not contain control characters/],
      [{ entry: 7 }, /manifest.entry must be a non-empty string/],
      [{ requirements: { cores: 0, memoryMb: 128, timeoutMs: 1, gpu: false, deterministic: false } }, /manifest.requirements.cores must be a whole number from 1/],
      [{ requirements: { cores: 1, memoryMb: 128, timeoutMs: 1, gpu: 'yes', deterministic: false } }, /manifest.requirements.gpu must be true or false/],
      [{ requirements: { cores: 1, memoryMb: 128, timeoutMs: 1, gpu: false } }, /manifest.requirements is missing the field 'deterministic'/],
      [{ batch: -1 }, /manifest.batch must be a whole number/],
      [{ createdAt: Number.NaN }, /manifest.createdAt must be a whole number/],
      [{ submitter: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }, /must be a PeerId that embeds its public key/],
      [{ extra: true }, /manifest has an unknown field 'extra'/]
    ]
    for (const [override, message] of cases) {
      expect(() => validateManifest({ ...manifest(), ...override }), String(message)).toThrow(message)
    }
    expect(() => validateManifest(null)).toThrow(/manifest must be an object/)
  })

  it('encodes canonically: key order does not change the id', () => {
    const a: Bundle = { manifest: manifest(), source: 'x' }
    const reordered = JSON.parse(JSON.stringify({ source: 'x', manifest: Object.fromEntries(Object.entries(manifest()).reverse()) })) as Bundle
    expect(bundleId(reordered)).toBe(bundleId(a))
    expect(canonicalJson({ b: 1, a: [true, 'é'] })).toBe('{"a":[true,"é"],"b":1}')
    expect(() => canonicalJson({ a: 1.5 })).toThrow(/whole numbers/)
    expect(bundleId({ ...a, source: 'y' })).not.toBe(bundleId(a))
  })
})

describe('sign, encode and verify', () => {
  it('round-trips through bytes and verifies', async () => {
    const bundle = await buildBundle(join(fixtures, 'job-with-deps.ts'), { submitter })
    const s = await signBundle(bundle, key)
    expect(s.id).toMatch(/^[0-9a-f]{64}$/)
    expect(s.signature.byteLength).toBe(64)
    const decoded = decodeSignedBundle(encodeSignedBundle(s))
    const verified = await verifyBundle(decoded, { signer: submitter, trusted: peer => peer === submitter })
    expect(verified).toEqual(s)
    await expect(loadJob(verified.source)({ n: 1, hex: '61' }, { tag: 'x' })).resolves.toEqual({ doubled: 2, base64: 'YQ', tag: 'x' })
  })

  it('refuses to sign for another submitter', async () => {
    await expect(signBundle({ manifest: manifest({ submitter: other }), source: simpleSource }, key)).rejects.toThrow(/signing key belongs to/)
  })

  it('rejects a tampered source or manifest (id mismatch)', async () => {
    const s = await signed()
    await expectRejected(verifyBundle({ ...s, source: s.source + '\n// evil' }, { signer: submitter }), 'id-mismatch', /changed after it was signed/)
    await expectRejected(verifyBundle({ ...s, manifest: { ...s.manifest, replicas: 2 } }, { signer: submitter }), 'id-mismatch')
  })

  it('rejects a missing or invalid signature', async () => {
    const s = await signed()
    await expectRejected(verifyBundle({ ...s, signature: new Uint8Array(0) }, { signer: submitter }), 'bad-signature', /no signature/)
    const flipped = new Uint8Array(s.signature)
    flipped[10] ^= 1
    await expectRejected(verifyBundle({ ...s, signature: flipped }, { signer: submitter }), 'bad-signature', /not valid/)
    // Signed by another key over the right id, claiming our submitter.
    const forged = await otherKey.sign(new Uint8Array([...new TextEncoder().encode('idlegrid-bundle-v1:'), ...Buffer.from(s.id, 'hex')]))
    await expectRejected(verifyBundle({ ...s, signature: forged }, { signer: submitter }), 'bad-signature')
  })

  it('rejects a bundle whose signer is not the connection peer', async () => {
    const s = await signed()
    await expectRejected(verifyBundle(s, { signer: other }), 'signer-mismatch', new RegExp(`submitted by ${submitter} but it came from ${other}`))
  })

  it('rejects an oversize bundle, in objects and in bytes', async () => {
    const s = await signed({}, simpleSource + ' '.repeat(2000))
    await expectRejected(verifyBundle(s, { signer: submitter, maxBytes: 1000 }), 'oversize', /over the limit of 1000/)
    expect(() => decodeSignedBundle(encodeSignedBundle(s), { maxBytes: 1000 })).toThrow(expect.objectContaining({ reason: 'oversize' }))
  })

  it('rejects V8 cached data, snapshots and any extra field', async () => {
    const s = await signed()
    await expectRejected(verifyBundle({ ...s, cachedData: new Uint8Array(8) } as unknown as SignedBundle, { signer: submitter }), 'extra-field', /'cachedData'.*no V8 cached data/)
    await expectRejected(verifyBundle({ ...s, manifest: { ...s.manifest, snapshot: 'x' } } as unknown as SignedBundle, { signer: submitter }), 'extra-field', /'snapshot'/)
    // The same in transported bytes: rebuild the envelope with an extra header field.
    const bytes = encodeSignedBundle(s)
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4)
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>
    header.cachedData = 'AAAA'
    const newHeader = new TextEncoder().encode(JSON.stringify(header))
    const out = new Uint8Array(8 + newHeader.byteLength + bytes.byteLength - 8 - headerLength)
    out.set(bytes.subarray(0, 4))
    new DataView(out.buffer).setUint32(4, newHeader.byteLength)
    out.set(newHeader, 8)
    out.set(bytes.subarray(8 + headerLength), 8 + newHeader.byteLength)
    expect(() => decodeSignedBundle(out)).toThrow(expect.objectContaining({ name: 'BundleRejectedError', reason: 'extra-field' }))
  })

  it('rejects source that is not text: NUL bytes, bytes, invalid UTF-8', async () => {
    const s = await signed()
    await expectRejected(verifyBundle({ ...s, source: 'var a = 1;\u0000' }, { signer: submitter }), 'bad-source', /NUL/)
    await expectRejected(verifyBundle({ ...s, source: new Uint8Array([1, 2]) as unknown as string }, { signer: submitter }), 'bad-source', /binary data/)
    await expectRejected(verifyBundle({ ...s, source: 'x\uD800y' }, { signer: submitter }), 'bad-source', /UTF-8/)
    const bytes = encodeSignedBundle(s)
    const bad = new Uint8Array([...bytes, 0xff, 0xfe])
    expect(() => decodeSignedBundle(bad)).toThrow(expect.objectContaining({ reason: 'bad-source' }))
  })

  it('rejects an untrusted signer after checking the signature', async () => {
    const s = await signed()
    await expectRejected(verifyBundle(s, { signer: submitter, trusted: peer => peer === other }), 'untrusted-signer', /does not run bundles signed by/)
  })

  it('rejects a bad manifest inside a signed bundle', async () => {
    const s = await signed()
    await expectRejected(verifyBundle({ ...s, manifest: { ...s.manifest, replicas: 99 } }, { signer: submitter }), 'bad-manifest', /replicas/)
  })

  it('rejects truncated and garbled bytes', async () => {
    const bytes = encodeSignedBundle(await signed())
    for (const cut of [0, 3, 7, 20]) {
      expect(() => decodeSignedBundle(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(expect.objectContaining({ name: 'BundleRejectedError', reason: 'malformed' }))
    }
    const wrongMagic = new Uint8Array(bytes)
    wrongMagic[0] = 0x58
    expect(() => decodeSignedBundle(wrongMagic)).toThrow(/expected it to start with IGB1/)
    // A cut inside the source still decodes, and then fails the id check.
    const cutSource = decodeSignedBundle(bytes.subarray(0, bytes.byteLength - 5))
    await expectRejected(verifyBundle(cutSource, { signer: submitter }), 'id-mismatch')
  })
})

describe('createBundleCache', () => {
  it('stores, finds and re-verifies bundles; drops corrupt entries', async () => {
    const cacheDir = join(dir, 'cache')
    const cache = createBundleCache(cacheDir)
    const s = await signed({ name: 'cached' })
    expect(await cache.has(s.id)).toBe(false)
    expect(await cache.get(s.id)).toBeUndefined()
    await cache.put(s)
    expect(await cache.has(s.id)).toBe(true)
    expect(await cache.get(s.id)).toEqual(s)
    expect((await readdir(cacheDir)).filter(f => f.endsWith('.tmp'))).toEqual([])

    // A reopened cache sees the same entry.
    expect(await createBundleCache(cacheDir).get(s.id)).toEqual(s)

    // Corrupt the file behind the cache's back: it is dropped, not served.
    const path = join(cacheDir, `${s.id}.bundle`)
    const bytes = encodeSignedBundle(s)
    bytes[bytes.byteLength - 3] ^= 0x01
    await writeFile(path, bytes)
    expect(await cache.get(s.id)).toBeUndefined()
    expect(await cache.has(s.id)).toBe(false)

    // A valid bundle stored under another id's name is dropped too.
    const t = await signed({ name: 'other' })
    await writeFile(path, encodeSignedBundle(t))
    expect(await cache.get(s.id)).toBeUndefined()

    await cache.put(t)
    await cache.delete(t.id)
    expect(await cache.has(t.id)).toBe(false)
  })

  it('stays under its size: the bundles least recently stored or read go first, never the one just stored', async () => {
    const cacheDir = join(dir, 'cache-bounded')
    const bundles = await Promise.all(Array.from({ length: 5 }, async (_, i) => await signed({ name: `b${i}` }, `var __idlegridJob = { default: async (x) => x }; // ${'x'.repeat(1000)}${i}`)))
    const size = encodeSignedBundle(bundles[0]).byteLength
    const cache = createBundleCache(cacheDir, { maxCacheBytes: 3 * size + 10 })
    const stamp = async (id: string, ms: number): Promise<void> => { await utimes(join(cacheDir, `${id}.bundle`), ms / 1000, ms / 1000) }
    for (const [i, b] of bundles.slice(0, 3).entries()) {
      await cache.put(b)
      await stamp(b.id, 1_000_000 + i * 1000) // stored one after another
    }
    // reading b0 makes it the most recently used: b1 is the oldest now
    expect(await cache.get(bundles[0].id)).toEqual(bundles[0])
    await cache.put(bundles[3])
    const held = async (): Promise<boolean[]> => await Promise.all(bundles.map(async b => await cache.has(b.id)))
    expect(await held()).toEqual([true, false, true, true, false])
    // one bundle larger than the whole cache is still kept, alone
    const small = createBundleCache(join(dir, 'cache-tiny'), { maxCacheBytes: 10 })
    await small.put(bundles[0])
    await small.put(bundles[4])
    expect([await small.has(bundles[0].id), await small.has(bundles[4].id)]).toEqual([false, true])
    expect(() => createBundleCache(join(dir, 'cache-bad'), { maxCacheBytes: 0 })).toThrow(/maxCacheBytes must be a whole number of bytes above 0/)
  })

  it('refuses to store an unverifiable bundle and bad ids', async () => {
    const cache = createBundleCache(join(dir, 'cache2'))
    const s = await signed()
    await expect(cache.put({ ...s, source: 'changed' })).rejects.toMatchObject({ name: 'BundleRejectedError', reason: 'id-mismatch' })
    expect(await cache.has(s.id)).toBe(false)
    await expect(cache.get('../../etc/passwd')).rejects.toThrow(/64 lowercase hex/)
  })
})
