// The daemon's configuration from <dataDir>/config.json, IDLEGRID_*
// environment variables and flags. Later sources win: flags over environment
// over config file over defaults. Every value is validated here, with errors
// that name the source, the field, the value and what is allowed.
import { readFile } from 'node:fs/promises'
import { availableParallelism, totalmem } from 'node:os'
import { join } from 'node:path'
import { ConfigError, InvalidMultiaddrError } from '@idlegrid/interface'
import { multiaddr } from '@multiformats/multiaddr'

export const CONFIG_FILE = 'config.json'
// The rule of @idlegrid/swarm's validateSwarmName, kept here so loading config stays light.
const SWARM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/

export interface DaemonConfig {
  /** Multiaddrs to listen on. Default ['/ip4/127.0.0.1/tcp/0']. */
  listen: string[]
  /** Peers to dial at start, each ending in /p2p/<PeerId>. Default none. */
  bootstrap: string[]
  /** Find peers on the local network with mDNS. Default false. */
  mdns: boolean
  /** Cores given to tasks. Default: the node's (all but one, at least 1). */
  maxCores?: number
  /** Memory in MiB given to tasks. Default: the node's (half of total). */
  maxMemoryMb?: number
  /** Offer GPUs to tasks. Default false. */
  shareGpu: boolean
  /** Control API port on 127.0.0.1. Default 0 (ephemeral). */
  controlPort: number
  /** How often capacity is re-advertised, ms. Default: the node's. */
  advertiseIntervalMs?: number
  /** Debug logging of idlegrid:* namespaces. Default false. */
  verbose: boolean
  /** Private swarm to run in (see docs/private-swarms.md). Default none: the open network. */
  swarm?: string
  /** In a swarm, run bundles of any member, not only trusted signers. Default false. */
  runUntrusted: boolean
  /** As a volunteer, lease first from the submitters that gave this node the most compute (docs/trust.md). Default false. */
  preferGivers: boolean
}

export type ConfigKey = keyof DaemonConfig

/** Where each value came from, e.g. 'default', 'config.json', 'IDLEGRID_MAX_CORES', '--max-cores'. */
export type ConfigOrigins = Record<ConfigKey, string>

/** Flag values as parseArgs returns them. */
export type ConfigFlags = Partial<Record<string, string | boolean | string[] | undefined>>

export interface MachineBounds {
  cpuCores: number
  totalMemoryMb: number
}

type Kind = 'multiaddrs' | 'boolean' | 'integer' | 'swarmName'

interface FieldSpec {
  kind: Kind
  env: string
  flag: string
  min?: (m: MachineBounds) => number
  max?: (m: MachineBounds) => number
  /** Multiaddrs must end in /p2p/<PeerId>. */
  needsPeerId?: boolean
}

/** Every field, with its environment variable and flag. */
export const CONFIG_FIELDS: Record<ConfigKey, FieldSpec> = {
  listen: { kind: 'multiaddrs', env: 'IDLEGRID_LISTEN', flag: 'listen' },
  bootstrap: { kind: 'multiaddrs', env: 'IDLEGRID_BOOTSTRAP', flag: 'bootstrap', needsPeerId: true },
  mdns: { kind: 'boolean', env: 'IDLEGRID_MDNS', flag: 'mdns' },
  maxCores: { kind: 'integer', env: 'IDLEGRID_MAX_CORES', flag: 'max-cores', min: () => 1, max: m => m.cpuCores },
  maxMemoryMb: { kind: 'integer', env: 'IDLEGRID_MAX_MEMORY', flag: 'max-memory', min: () => 1, max: m => m.totalMemoryMb },
  shareGpu: { kind: 'boolean', env: 'IDLEGRID_SHARE_GPU', flag: 'share-gpu' },
  controlPort: { kind: 'integer', env: 'IDLEGRID_CONTROL_PORT', flag: 'control-port', min: () => 0, max: () => 65535 },
  advertiseIntervalMs: { kind: 'integer', env: 'IDLEGRID_ADVERTISE_INTERVAL_MS', flag: 'advertise-interval', min: () => 100, max: () => 86_400_000 },
  verbose: { kind: 'boolean', env: 'IDLEGRID_VERBOSE', flag: 'verbose' },
  swarm: { kind: 'swarmName', env: 'IDLEGRID_SWARM', flag: 'swarm' },
  runUntrusted: { kind: 'boolean', env: 'IDLEGRID_RUN_UNTRUSTED', flag: 'run-untrusted' },
  preferGivers: { kind: 'boolean', env: 'IDLEGRID_PREFER_GIVERS', flag: 'prefer-givers' }
}

export const DEFAULT_CONFIG: Readonly<DaemonConfig> = Object.freeze({
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: [],
  mdns: false,
  shareGpu: false,
  controlPort: 0,
  verbose: false,
  runUntrusted: false,
  preferGivers: false
})

export interface LoadConfigInit {
  dataDir: string
  env?: Record<string, string | undefined>
  flags?: ConfigFlags
  /** What values are checked against. Default: this machine. */
  machine?: MachineBounds
}

export function machineBounds (): MachineBounds {
  return { cpuCores: availableParallelism(), totalMemoryMb: Math.floor(totalmem() / 1024 / 1024) }
}

/**
 * Reads config.json (if present), then the environment, then flags.
 *
 * @throws ConfigError for a malformed file, an unknown field or a bad value
 * @throws InvalidMultiaddrError for a listen or bootstrap value that is not a multiaddr
 */
export async function loadConfig (init: LoadConfigInit): Promise<{ config: DaemonConfig, origins: ConfigOrigins }> {
  const machine = init.machine ?? machineBounds()
  const file = await readConfigFile(join(init.dataDir, CONFIG_FILE))
  const config: Partial<DaemonConfig> = { ...DEFAULT_CONFIG, listen: [...DEFAULT_CONFIG.listen] }
  const origins = Object.fromEntries(Object.keys(CONFIG_FIELDS).map(k => [k, 'default'])) as ConfigOrigins
  const set = (key: ConfigKey, value: unknown, origin: string): void => {
    (config as Record<string, unknown>)[key] = parseValue(key, value, origin, machine)
    origins[key] = origin
  }

  for (const [key, value] of Object.entries(file ?? {})) {
    if (!Object.hasOwn(CONFIG_FIELDS, key)) {
      throw new ConfigError(`${CONFIG_FILE}: unknown field '${key}'; allowed fields are ${Object.keys(CONFIG_FIELDS).join(', ')}`)
    }
    set(key as ConfigKey, value, CONFIG_FILE)
  }

  const env = init.env ?? {}
  for (const [key, spec] of Object.entries(CONFIG_FIELDS) as Array<[ConfigKey, FieldSpec]>) {
    const value = env[spec.env]
    if (value != null && value !== '') {
      set(key, spec.kind === 'multiaddrs' ? value.split(/[\s,]+/).filter(s => s !== '') : value, spec.env)
    }
  }

  for (const [key, spec] of Object.entries(CONFIG_FIELDS) as Array<[ConfigKey, FieldSpec]>) {
    const value = init.flags?.[spec.flag]
    if (value !== undefined) {
      set(key, value, `--${spec.flag}`)
    }
  }

  return { config: config as DaemonConfig, origins }
}

async function readConfigFile (path: string): Promise<Record<string, unknown> | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined
    }
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON (${(err as Error).message}); fix it or remove it to use defaults`, { cause: err })
  }
  if (typeof parsed !== 'object' || parsed == null || Array.isArray(parsed)) {
    throw new ConfigError(`${path} must hold a JSON object such as {"maxCores": 2}, got ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`)
  }
  return parsed as Record<string, unknown>
}

function parseValue (key: ConfigKey, value: unknown, origin: string, machine: MachineBounds): unknown {
  const spec = CONFIG_FIELDS[key]
  // Name the field the way the user wrote it: config.json field, env var, or flag.
  const where = origin === CONFIG_FILE ? `${CONFIG_FILE}: ${key}` : origin
  switch (spec.kind) {
    case 'boolean': return parseBoolean(where, value)
    case 'integer': return parseInteger(where, value, spec.min?.(machine) ?? 0, spec.max?.(machine) ?? Number.MAX_SAFE_INTEGER)
    case 'multiaddrs': return parseMultiaddrs(where, value, spec.needsPeerId === true)
    case 'swarmName': return parseSwarmName(where, value)
  }
}

function show (value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value)
}

function parseBoolean (where: string, value: unknown): boolean {
  if (typeof value === 'boolean') {
    return value
  }
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase()
    if (['true', '1', 'yes', 'on'].includes(v)) return true
    if (['false', '0', 'no', 'off'].includes(v)) return false
  }
  throw new ConfigError(`${where} must be true or false, got ${show(value)}`)
}

function parseInteger (where: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${where} must be an integer between ${min} and ${max}, got ${show(value)}`)
  }
  return n
}

/** A swarm name; '' (or null in config.json) means the open network. */
function parseSwarmName (where: string, value: unknown): string | undefined {
  if (value === '' || value === null) {
    return undefined
  }
  if (typeof value !== 'string' || !SWARM_NAME.test(value)) {
    throw new ConfigError(`${where} must be the name of a swarm this node is in (1-32 lowercase letters, digits, '-' or '_'), got ${show(value)}; see \`idlegrid swarm show\``)
  }
  return value
}

function parseMultiaddrs (where: string, value: unknown, needsPeerId: boolean): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.some(v => typeof v !== 'string')) {
    throw new ConfigError(`${where} must be a list of multiaddr strings, got ${show(value)}`)
  }
  return list.map(addr => checkMultiaddr(where, addr, needsPeerId))
}

/**
 * @throws InvalidMultiaddrError naming where the address came from
 */
export function checkMultiaddr (where: string, addr: string, needsPeerId: boolean): string {
  const example = needsPeerId ? '/ip4/192.0.2.7/tcp/4001/p2p/12D3KooW...' : '/ip4/127.0.0.1/tcp/4001'
  let components
  try {
    components = multiaddr(addr.trim()).getComponents()
  } catch (err) {
    throw new InvalidMultiaddrError(`${where}: '${addr}' is not a multiaddr (${(err as Error).message}); expected something like ${example}`)
  }
  if (needsPeerId && components.at(-1)?.name !== 'p2p') {
    throw new InvalidMultiaddrError(`${where}: '${addr}' must end in /p2p/<PeerId> so the peer can be authenticated, e.g. ${example}; \`idlegrid status\` on that node prints its full addresses`)
  }
  return addr.trim()
}
