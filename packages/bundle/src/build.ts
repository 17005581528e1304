// buildBundle: turns a job file and its imports into one classic script with
// esbuild, and checks it can run in the sandbox (no Node built-ins, a default export).
import { stat } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { basename, extname, resolve } from 'node:path'
import { logger } from '@libp2p/logger'
import * as esbuild from 'esbuild'
import { BUNDLE_GLOBAL_NAME, DEFAULT_MAX_SOURCE_BYTES, DEFAULT_REQUIREMENTS, MANIFEST_VERSION } from './constants.js'
import { BundleBuildError } from './errors.js'
import { validateManifest, validateRequirements } from './manifest.js'
import type { Bundle } from './canonical.js'
import type { BuildMessage } from './errors.js'
import type { TaskRequirements } from '@idlegrid/interface'

const log = logger('idlegrid:bundle:build')

export interface BuildBundleInit {
  /** PeerId (string) of the submitting node; the bundle must be signed with its key. */
  submitter: string
  /** Job name. Default: the entry file's name without extension. */
  name?: string
  /** Requirements; missing fields take DEFAULT_REQUIREMENTS (1 core, 256 MiB, 60 s, no GPU, not deterministic). */
  requirements?: Partial<TaskRequirements>
  /** Volunteers per task. Default 1. */
  replicas?: number
  /** Input records per task. Default 1. */
  batch?: number
  /** Creation time in ms. Default Date.now(). */
  createdAt?: number
  /** Largest bundled source in UTF-8 bytes. Default DEFAULT_MAX_SOURCE_BYTES (8 MiB). */
  maxSourceBytes?: number
  /** Minify the output. Default false (readable stack traces for the submitter). */
  minify?: boolean
}

const ENTRY_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs']

/** Why each kind of Node built-in is unavailable, for the error the submitter sees. */
function builtinReason (name: string): string {
  if (['fs', 'fs/promises', 'path', 'os'].includes(name)) {
    return 'the sandbox has no file system'
  }
  if (['net', 'http', 'https', 'http2', 'dgram', 'dns', 'dns/promises', 'tls'].includes(name)) {
    return 'the sandbox has no network access'
  }
  if (['child_process', 'cluster', 'worker_threads', 'process'].includes(name)) {
    return 'the sandbox cannot start or control processes or threads'
  }
  return 'the sandbox is not Node.js; task code gets only plain JavaScript and its ctx argument'
}

const builtins = new Set(builtinModules)

const SKIP = Symbol('idlegrid-resolving-builtin')

/**
 * An esbuild plugin that fails every import of a Node built-in with a message
 * saying why, unless esbuild itself resolves it to a replacement (a package's
 * `browser` map, or an npm polyfill such as `buffer`), which is plain JavaScript.
 */
const refuseNodeBuiltins: esbuild.Plugin = {
  name: 'idlegrid-refuse-node-builtins',
  setup (build) {
    build.onResolve({ filter: /^[a-z_:/0-9]+$/ }, async args => {
      const name = args.path.startsWith('node:') ? args.path.slice(5) : args.path
      if (args.pluginData === SKIP || (!args.path.startsWith('node:') && !builtins.has(name))) {
        return undefined
      }
      if (!args.path.startsWith('node:')) {
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: SKIP })
        if (resolved.errors.length === 0 && !resolved.external) {
          return resolved
        }
      }
      return { errors: [{ text: `task code cannot use Node's '${name}' module: ${builtinReason(name)}` }] }
    })
  }
}

function toMessages (messages: esbuild.Message[]): BuildMessage[] {
  return messages.map(m => ({
    text: m.text,
    file: m.location?.file,
    line: m.location?.line,
    column: m.location?.column
  }))
}

function formatMessages (messages: BuildMessage[]): string {
  return messages.map(m => m.file != null ? `${m.file}:${m.line ?? 0}:${m.column ?? 0}: ${m.text}` : m.text).join('\n')
}

async function runEsbuild (entry: string, options: esbuild.BuildOptions): Promise<esbuild.BuildResult & { metafile: esbuild.Metafile, outputFiles: esbuild.OutputFile[] }> {
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      // 'browser', not 'neutral': only the browser platform applies package.json
      // `browser` maps, which npm packages use to swap Node-only files (node:crypto
      // in multiformats, for one) for plain JavaScript. See docs/bundles.md.
      platform: 'browser',
      target: 'es2022',
      mainFields: ['browser', 'module', 'main'],
      conditions: ['browser', 'module'],
      resolveExtensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json'],
      write: false,
      metafile: true,
      outfile: 'bundle.js',
      logLevel: 'silent',
      charset: 'ascii',
      legalComments: 'none',
      plugins: [refuseNodeBuiltins],
      ...options
    })
    return result as esbuild.BuildResult & { metafile: esbuild.Metafile, outputFiles: esbuild.OutputFile[] }
  } catch (err) {
    const failure = err as esbuild.BuildFailure
    if (Array.isArray(failure.errors)) {
      const messages = toMessages(failure.errors)
      throw new BundleBuildError(`${entry} does not bundle:\n${formatMessages(messages)}`, messages, { cause: err })
    }
    throw new BundleBuildError(`${entry} does not bundle: ${(err as Error).message}`, [], { cause: err })
  }
}

/**
 * Bundles a job file (and the local files and npm packages it imports) into
 * one classic script that defines the global `__idlegridJob`, whose
 * `.default` is the job function `async (input, ctx) => result`. Returns the
 * unsigned bundle: pass it to signBundle.
 */
export async function buildBundle (entryPath: string, init: BuildBundleInit): Promise<Bundle> {
  const entry = resolve(entryPath)
  const ext = extname(entry)
  if (!ENTRY_EXTENSIONS.includes(ext)) {
    throw new BundleBuildError(`${entryPath}: a job file must end in ${ENTRY_EXTENSIONS.join(', ')}, got '${ext === '' ? 'no extension' : ext}'`)
  }
  try {
    const info = await stat(entry)
    if (!info.isFile()) {
      throw new BundleBuildError(`${entryPath} is not a file: pass the job's .ts or .js file`)
    }
  } catch (err) {
    if (err instanceof BundleBuildError) {
      throw err
    }
    throw new BundleBuildError(`job file not found: ${entryPath} (resolved to ${entry})`, [], { cause: err })
  }

  // Validate the manifest fields before the (slower) build, so a typo in a flag fails fast.
  const requirements = validateRequirements({ ...DEFAULT_REQUIREMENTS, ...init.requirements }, 'requirements')
  const manifest = validateManifest({
    version: MANIFEST_VERSION,
    name: init.name ?? basename(entry, ext),
    entry: basename(entry),
    requirements,
    replicas: init.replicas ?? 1,
    batch: init.batch ?? 1,
    submitter: init.submitter,
    createdAt: init.createdAt ?? Date.now()
  })

  // An ESM build tells us the entry's exports (an IIFE's metafile lists none).
  const check = await runEsbuild(entry, { format: 'esm' })
  const entryInput = Object.entries(check.metafile.inputs).find(([path]) => resolve(path) === entry)?.[1]
  if (entryInput?.format === 'cjs') {
    throw new BundleBuildError(`${entryPath} is CommonJS (module.exports): write the job as \`export default async function (input, ctx) { ... }\``)
  }
  const exports = Object.values(check.metafile.outputs)[0]?.exports ?? []
  if (!exports.includes('default')) {
    throw new BundleBuildError(`${entryPath} has no default export: add \`export default async function (input, ctx) { ... }\``)
  }

  const result = await runEsbuild(entry, { format: 'iife', globalName: BUNDLE_GLOBAL_NAME, minify: init.minify ?? false })
  const source = result.outputFiles[0]?.text ?? ''
  const maxSourceBytes = init.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES
  const size = Buffer.byteLength(source, 'utf8')
  if (size > maxSourceBytes) {
    throw new BundleBuildError(`${entryPath} bundles to ${size} bytes, over the limit of ${maxSourceBytes}: import less, or ship large data as task input instead of code`)
  }
  log('built %s: %d bytes from %d inputs', entryPath, size, Object.keys(result.metafile.inputs).length)
  return { manifest, source }
}
