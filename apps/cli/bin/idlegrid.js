#!/usr/bin/env node
// Entry point of the `idlegrid` command. It runs a bundle of the CLI built by
// esbuild into node_modules/.cache/idlegrid/ when every file the bundle was
// built from is unchanged, builds one when none is current, and otherwise
// loads the TypeScript sources through tsx. The bundle exists for footprint:
// tsx keeps a loader thread and an esbuild child alive for the life of the
// process (docs/footprint.md). IDLEGRID_FROM_SOURCE=1 always uses tsx.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { setFlagsFromString } from 'node:v8'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** Bump when the build options change, so older bundles are rebuilt. */
const RECIPE = 9
const CLI_ROOT = fileURLToPath(new URL('..', import.meta.url))
const WORKSPACE = join(CLI_ROOT, '..', '..')
const ENTRY = join(CLI_ROOT, 'src', 'main.ts')
const CACHE = join(CLI_ROOT, 'node_modules', '.cache', 'idlegrid')
const META = join(CACHE, 'cli.meta.json')
const LOCK = join(CACHE, 'build.lock')
const FAILED = join(CACHE, 'build-failed.json')
/** A build lock older than this belongs to a builder that died. */
const STALE_LOCK_MS = 120_000
/** Loaded from where they are installed: native addons and tools that find files next to themselves. */
const EXTERNAL = /^(isolated-vm|better-sqlite3|esbuild|tsx|typescript|vitest)(\/.*)?$/
/** Externals that are CommonJS, loaded with require() (see keepLocations). */
const CJS_EXTERNAL = /^(isolated-vm|better-sqlite3)(\/.*)?$/
/** Files outside the module graph that change what a build produces. */
const EXTRA_INPUTS = ['pnpm-lock.yaml', 'node_modules/.modules.yaml', 'tsconfig.base.json', 'apps/cli/bin/idlegrid.js']

/** [mtimeMs, size] of a file, or [-1, -1] when it does not exist. */
function fileState (path) {
  try {
    const s = statSync(path)
    return [s.mtimeMs, s.size]
  } catch {
    return [-1, -1]
  }
}

function readJson (path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

/** Whether a record of files (meta or failed build) is of this recipe and none of its files changed. */
function unchanged (path) {
  const record = readJson(path)
  if (record?.recipe !== RECIPE || record.files == null || Object.keys(record.files).length === 0) {
    return false
  }
  for (const [file, [mtimeMs, size]] of Object.entries(record.files)) {
    const [m, s] = fileState(join(WORKSPACE, file))
    if (m !== mtimeMs || s !== size) {
      return false
    }
  }
  return true
}

/** The bundle to run, when the last build is complete and nothing it was built from changed. */
function currentBundle () {
  const meta = readJson(META)
  if (meta?.node !== process.version || typeof meta.bundle !== 'string' || !unchanged(META)) {
    return undefined
  }
  const bundle = join(CACHE, meta.bundle)
  return fileState(bundle)[1] > 0 ? bundle : undefined
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/** Waits while another process holds the build lock, up to its staleness limit. */
async function waitForBuilder () {
  const until = Date.now() + STALE_LOCK_MS
  while (Date.now() < until) {
    const [mtimeMs] = fileState(LOCK)
    if (mtimeMs < 0 || Date.now() - mtimeMs > STALE_LOCK_MS) return
    await sleep(50)
  }
}

/** Takes the build lock, or says another process is building. */
function lock () {
  for (let i = 0; i < 2; i++) {
    try {
      closeSync(openSync(LOCK, 'wx'))
      return true
    } catch (err) {
      if (err.code !== 'EEXIST') return false
      const [mtimeMs] = fileState(LOCK)
      if (mtimeMs < 0 || Date.now() - mtimeMs < STALE_LOCK_MS) return false
      try { unlinkSync(LOCK) } catch {}
    }
  }
  return false
}

function loadEsbuild () {
  const require = createRequire(join(CLI_ROOT, 'package.json'))
  try {
    return require('esbuild')
  } catch {
    // tsx depends on esbuild, and the CLI depends on tsx
    return createRequire(require.resolve('tsx/package.json'))('esbuild')
  }
}

/**
 * esbuild plugin: every module keeps its own location. import.meta.url names
 * the source file, not the bundle, so files found next to a module (the
 * sandbox runner, package.json) resolve as they do from source; externals are
 * imported (CommonJS addons required) by absolute path, resolved from the
 * module that imports them. It also applies PATCHES.
 */
const keepLocations = {
  name: 'idlegrid-keep-locations',
  setup (build) {
    build.onResolve({ filter: EXTERNAL }, args => {
      try {
        const resolved = createRequire(join(args.resolveDir, 'index.js')).resolve(args.path)
        if (CJS_EXTERNAL.test(args.path)) {
          return { path: resolved, namespace: 'idlegrid-cjs' }
        }
        return { path: pathToFileURL(resolved).href, external: true }
      } catch {
        return { path: args.path, external: true }
      }
    })
    // CommonJS addons are loaded with require(): an ES import of a CommonJS
    // file makes Node compile its WebAssembly export scanner (cjs-module-lexer),
    // whose code then stays resident
    build.onLoad({ filter: /.*/, namespace: 'idlegrid-cjs' }, args => ({
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
      loader: 'js',
      resolveDir: dirname(args.path)
    }))
    build.onResolve({ filter: /.*/, namespace: 'idlegrid-cjs' }, args => ({ path: args.path, external: true }))
    build.onLoad({ filter: /\.(m|c)?(j|t)sx?$/ }, async args => {
      let text = await readFile(args.path, 'utf8')
      const patched = PATCHES.reduce((t, p) => p.file.test(args.path) ? p.apply(t) : t, text)
      if (patched === text && !text.includes('import.meta.')) {
        return undefined
      }
      text = patched
      const url = pathToFileURL(args.path).href
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(url))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
      const ext = /\.(m|c)?(j|t)sx?$/.exec(args.path)[0]
      const loader = ext.includes('t') ? (ext.endsWith('x') ? 'tsx' : 'ts') : (ext.endsWith('x') ? 'jsx' : 'js')
      return { contents, loader, resolveDir: dirname(args.path) }
    })
  }
}

/**
 * Source edits to dependencies, for memory or CPU, each a no-op when its
 * pattern no longer matches (a new version of the library).
 */
const PATCHES = [{
  // noise loads two WebAssembly ciphers when its module loads (ChaCha20-
  // Poly1305 for small messages, SHA-256), and the ChaCha20 package
  // instantiates its modules as it loads: several MiB for the life of the
  // process. @idlegrid/node gives noise ciphers without WebAssembly
  // (packages/node/src/noise-crypto.ts), so here the ChaCha20 package is only
  // required if noise's own WebAssembly path is ever used, and SHA-256 comes
  // from node:crypto, which noise also imports.
  file: /[\\/]@chainsafe[\\/]libp2p-noise[\\/]dist[\\/]src[\\/]crypto[\\/]index\.js$/,
  apply: text => {
    const sha = "import { digest } from '@chainsafe/as-sha256';"
    const chacha = "import { newInstance, ChaCha20Poly1305 } from '@chainsafe/as-chacha20poly1305';"
    const instance = 'const ctx = newInstance();\nconst asImpl = new ChaCha20Poly1305(ctx);'
    if (![sha, chacha, instance, "import crypto from 'node:crypto';"].every(t => text.includes(t))) {
      return text
    }
    const lazy = "(asInstance ??= (({ newInstance, ChaCha20Poly1305 }) => new ChaCha20Poly1305(newInstance()))(require('@chainsafe/as-chacha20poly1305')))"
    return text
      .replace(sha, "const digest = data => crypto.createHash('sha256').update(data).digest();")
      .replace(chacha, '')
      .replace(instance, `let asInstance;\nconst asImpl = { seal: (...a) => ${lazy}.seal(...a), open: (...a) => ${lazy}.open(...a) };`)
  }
}, {
  // libp2p's peer store sorts protocols, metadata keys and addresses with
  // localeCompare only to store them in a fixed order, and peer records sort
  // both address lists the same way to compare them; the collator pages in
  // about 3 MiB of ICU data and code for the life of the process. The daemon's
  // peer store lives in memory, so plain code-unit order is as good.
  file: /[\\/]@libp2p[\\/](peer-store|peer-record)[\\/]dist[\\/]src[\\/].*\.js$/,
  apply: text => {
    const edited = text.replace(/([\w$.]+(?:\(\))?)\.localeCompare\(([\w$.]+(?:\(\))?)\)/g, '__idlegridCompare($1, $2)')
    return edited === text ? text : `const __idlegridCompare = (a, b) => a < b ? -1 : a > b ? 1 : 0;\n${edited}`
  }
}, {
  // kad-dht re-tags its closest peers every 5 s (a timer that kad-dht 16
  // offers no option for), whether or not its routing table changed; the tags
  // only steer which connections the connection manager keeps, so once a
  // minute is plenty, and an idle daemon wakes 11 times a minute less.
  file: /[\\/]@libp2p[\\/]kad-dht[\\/]dist[\\/]src[\\/]routing-table[\\/]closest-peers\.js$/,
  apply: text => text.replace('export const REFRESH_INTERVAL = 5000;', 'export const REFRESH_INTERVAL = 60000;')
}, {
  // yamux answers every data frame it reads with a window-update frame as
  // soon as its receive window is below full, so each session message costs
  // two frames (each ciphered, written and read on its own). Other yamux
  // implementations (Go's) wait until half the window is used: the sender
  // still has half a window (128 KiB at first) to go when the update leaves,
  // so it never waits for one, and small messages need about one update per
  // thousand instead of one each (docs/job-lifecycle.md, the per-task hot path).
  file: /[\\/]@libp2p[\\/]yamux[\\/]dist[\\/]src[\\/]stream\.js$/,
  apply: text => text.replace('if (this.recvWindowCapacity >= this.recvWindow && flags === 0) {', 'if (flags === 0 && this.recvWindowCapacity >= this.recvWindow / 2) {')
}, {
  // noise hands the TCP connection each frame as two buffers (its 2-byte
  // length, then the ciphertext) and the connection writes each on its own:
  // two syscalls and two TCP segments per message, and the reader wakes for
  // each. Corked until the end of the current tick, everything written in it
  // (every frame of every message) leaves in one writev, as Node's HTTP
  // server does with its responses (docs/job-lifecycle.md, the per-task hot path).
  file: /[\\/]@libp2p[\\/]tcp[\\/]dist[\\/]src[\\/]socket-to-conn\.js$/,
  apply: text => text.replace('    sendData(data) {\n        let sentBytes = 0;', `    sendData(data) {
        if (this.idlegridCorked !== true && !this.socket.destroyed) {
            this.idlegridCorked = true;
            this.socket.cork();
            process.nextTick(() => { this.idlegridCorked = false; this.socket.uncork(); });
        }
        let sentBytes = 0;`)
}, {
  // The length-prefixed decoder (noise frames, among others) reads frames
  // until its length decoder throws a RangeError for want of bytes, so every
  // chunk read from a connection ends with an Error created and caught, and
  // its stack trace captured: ~3 % of a volunteer's CPU in a Monte Carlo
  // run (perf). An empty buffer cannot hold a length: stop there instead.
  file: /[\\/]@libp2p[\\/]utils[\\/]dist[\\/]src[\\/]length-prefixed-decoder\.js$/,
  apply: text => text.replace('        while (true) {\n            let dataLength;', '        while (true) {\n            if (this.buffer.byteLength === 0) {\n                break;\n            }\n            let dataLength;')
}]

/** Builds the bundle and its list of inputs; returns the bundle's path, or undefined when it cannot. */
async function build () {
  mkdirSync(CACHE, { recursive: true })
  if (unchanged(FAILED)) {
    return undefined
  }
  if (!lock()) {
    // another process is building: its bundle, if it finishes current, is ours too
    await waitForBuilder()
    return currentBundle()
  }
  // states taken as each file is read, so an edit during the build makes it stale
  const before = new Map()
  let esbuild
  try {
    esbuild = loadEsbuild()
    const result = await esbuild.build({
      entryPoints: [ENTRY],
      absWorkingDir: WORKSPACE,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      minify: true,
      keepNames: true,
      legalComments: 'none',
      write: false,
      metafile: true,
      // dynamic imports stay lazy, so client commands load only what they use
      splitting: true,
      outdir: join(CACHE, 'out'),
      entryNames: 'main',
      chunkNames: 'chunk-[hash]',
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
      // CommonJS dependencies call require(); an ES module has none of its own
      banner: { js: 'import { createRequire as __idlegridRequire } from "node:module"; const require = __idlegridRequire(import.meta.url);' },
      plugins: [{
        name: 'idlegrid-record-inputs',
        setup (b) {
          b.onLoad({ filter: /.*/ }, args => {
            if (!before.has(args.path)) before.set(args.path, fileState(args.path))
            return undefined
          })
        }
      }, keepLocations]
    })
    const files = {}
    const record = (abs, state) => { files[relative(WORKSPACE, abs).split(sep).join('/')] = state ?? fileState(abs) }
    for (const input of Object.keys(result.metafile.inputs)) {
      const abs = join(WORKSPACE, input)
      record(abs, before.get(abs))
    }
    for (const extra of EXTRA_INPUTS) {
      record(join(WORKSPACE, extra))
    }
    // package.json and tsconfig.json files steer resolution and transforms; one
    // that appears later (recorded as absent) makes the bundle stale too
    const visited = new Set()
    for (const file of Object.keys(files)) {
      for (let d = dirname(join(WORKSPACE, file)); d.startsWith(WORKSPACE) && !visited.has(d); d = dirname(d)) {
        visited.add(d)
        const inPackage = d.includes(`${sep}node_modules${sep}`)
        record(join(d, 'package.json'))
        if (!inPackage) record(join(d, 'tsconfig.json'))
        // an installed package ends at its own package.json
        if (inPackage && files[relative(WORKSPACE, join(d, 'package.json'))][0] >= 0) break
        if (d === WORKSPACE) break
      }
    }
    // each build gets its own folder: a process that picked an older build keeps loading its chunks
    const name = `cli-${Date.now()}-${process.pid}`
    const outdir = join(CACHE, name)
    for (const out of result.outputFiles) {
      const target = join(outdir, relative(join(CACHE, 'out'), out.path))
      mkdirSync(dirname(target), { recursive: true })
      writeFileSync(target, out.contents)
    }
    const bundle = `${name}/main.mjs`
    const tmp = `${META}.${process.pid}`
    writeFileSync(tmp, JSON.stringify({ recipe: RECIPE, node: process.version, bundle, builtAt: new Date().toISOString(), files }))
    renameSync(tmp, META)
    rmSync(FAILED, { force: true })
    for (const old of readdirSync(CACHE)) {
      // a long-running daemon may still load a lazy chunk of its own build
      if (old !== name && /^cli-/.test(old) && Date.now() - fileState(join(CACHE, old))[0] > 24 * 3600_000) {
        rmSync(join(CACHE, old), { recursive: true, force: true })
      }
    }
    return join(CACHE, bundle)
  } catch (err) {
    // a build that failed is not retried until one of the files it read changes; tsx reports the error meanwhile
    const files = {}
    for (const [path, state] of before) {
      files[relative(WORKSPACE, path).split(sep).join('/')] = state
    }
    for (const extra of EXTRA_INPUTS) {
      files[extra] = fileState(join(WORKSPACE, extra))
    }
    try {
      writeFileSync(FAILED, JSON.stringify({ recipe: RECIPE, files, error: String(err?.message ?? err) }))
    } catch {}
    return undefined
  } finally {
    // esbuild's service process would otherwise live as long as this one
    try { await esbuild?.stop() } catch {}
    try { unlinkSync(LOCK) } catch {}
  }
}

async function fromSource () {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/main.ts')
}

// V8 settings of the daemon, which idles for hours on someone else's PC
// (docs/footprint.md). Only flags V8 reads while running work here; the others
// need `node --flag`. IDLEGRID_DAEMON_V8_FLAGS replaces both settings below.
// - The young generation grows from 1 MiB to 16 MiB a half while the daemon
//   starts and never shrinks back: a third of an idle daemon's heap. Kept at
//   its first size it costs a few more, quicker, scavenges when busy.
// - No optimising compilers (--max-opt=1: V8's interpreter and Sparkplug):
//   optimising start-up code, and then the idle timers' code, left about
//   8 MiB resident in a daemon that may never run a task. The daemon only
//   moves messages and rows; the job code runs in the sandbox runners, which
//   keep V8's defaults. --max-opt=1 also turns --turbofan off (a V8 flag
//   implication that raising --max-opt again does not undo): the daemons of
//   every benchmark since it came ran like this. Turned back on at the first
//   work, TurboFan cost the end-to-end no-op benchmark 12-25 % of its
//   throughput on 2 cores (its compiler threads share the cores), Monte
//   Carlo 2 % of its speedup, and did not change the round trip
//   (docs/footprint.md).
//   IDLEGRID_DAEMON_V8_FLAGS=--semi-space-growth-factor=1 gives a daemon
//   TurboFan from the start.
const DAEMON_V8_FLAGS = '--semi-space-growth-factor=1'
if (process.argv.slice(2).includes('daemon')) {
  const override = process.env.IDLEGRID_DAEMON_V8_FLAGS
  setFlagsFromString(override ?? DAEMON_V8_FLAGS)
  if (override == null) {
    setFlagsFromString('--max-opt=1')
  }
}

if (process.env.IDLEGRID_FROM_SOURCE === '1') {
  await fromSource()
} else {
  let bundle
  try {
    bundle = currentBundle() ?? await build()
  } catch {
    bundle = undefined
  }
  if (bundle == null) {
    await fromSource()
  } else {
    await import(pathToFileURL(bundle).href)
  }
}
