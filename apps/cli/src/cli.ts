// Parses the command line, runs one command and turns its outcome into an
// exit code and one clear line on stderr. main.ts wires it to the process.
import { parseArgs } from 'node:util'
import { resolveDataDir } from './data-dir.js'
import { UsageError } from './errors.js'
import { EXIT, exitCodeFor } from './exit-codes.js'
import { COMMANDS } from './commands/index.js'
import { VERSION } from './version.js'
import type { CliIo, Command, OptionSpec } from './command.js'
import type { ParseArgsConfig } from 'node:util'

/** Flags every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  'data-dir': { type: 'string', valueName: 'DIR', description: 'data directory (default $IDLEGRID_DATA_DIR, else ~/.idlegrid)' },
  json: { type: 'boolean', description: 'print JSON instead of text' },
  help: { type: 'boolean', short: 'h', description: 'show help' }
}

export interface RunCliInit {
  io: CliIo
  /** Aborted on SIGINT/SIGTERM. */
  signal?: AbortSignal
}

/** Runs `idlegrid <args>` and returns the exit code. Never throws. */
export async function runCli (args: string[], init: RunCliInit): Promise<number> {
  const { io } = init
  try {
    const { command, rest } = splitCommand(args)
    if (command == null) {
      if (rest.includes('--version')) {
        io.stdout(`idlegrid ${VERSION}\n`)
        return EXIT.OK
      }
      const asked = rest.includes('--help') || rest.includes('-h')
      ;(asked ? io.stdout : io.stderr)(generalHelp())
      return asked ? EXIT.OK : EXIT.USAGE
    }
    if (command === 'help') {
      const name = rest.find(a => !a.startsWith('-'))
      const target = name == null ? undefined : findCommand(name)
      io.stdout(target == null ? generalHelp() : commandHelp(target))
      return EXIT.OK
    }
    const target = findCommand(command)
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(commandHelp(target))
      return EXIT.OK
    }
    const { values, positionals } = parse(target, rest)
    const min = target.positionals?.min ?? 0
    const max = target.positionals?.max ?? 0
    if (positionals.length < min || positionals.length > max) {
      throw new UsageError(positionals.length > max
        ? `unexpected argument '${positionals[max]}' for \`idlegrid ${target.name}\`; see \`idlegrid ${target.name} --help\``
        : `\`idlegrid ${target.name}\` needs ${min} argument(s); see \`idlegrid ${target.name} --help\``)
    }
    return await target.run({
      values,
      positionals,
      dataDir: resolveDataDir(values['data-dir'] as string | undefined, io.env),
      json: values.json === true,
      io,
      signal: init.signal ?? new AbortController().signal
    })
  } catch (err) {
    io.stderr(`idlegrid: ${(err as Error).message ?? String(err)}\n`)
    if (exitCodeFor(err) === EXIT.FAILURE && io.env.IDLEGRID_DEBUG_STACK != null) {
      io.stderr(`${(err as Error).stack ?? ''}\n`)
    }
    return exitCodeFor(err)
  }
}

/** Finds the command word: the first argument that is neither a flag nor a global flag's value. */
function splitCommand (args: string[]): { command?: string, rest: string[] } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--') {
      break
    }
    if (arg === '--data-dir') {
      i++
      continue
    }
    if (!arg.startsWith('-')) {
      return { command: arg, rest: [...args.slice(0, i), ...args.slice(i + 1)] }
    }
  }
  return { rest: args }
}

function findCommand (name: string): Command {
  const command = COMMANDS.find(c => c.name === name)
  if (command == null) {
    throw new UsageError(`unknown command '${name}'; commands are ${COMMANDS.map(c => c.name).join(', ')} (see \`idlegrid --help\`)`)
  }
  return command
}

function parse (command: Command, args: string[]): { values: Record<string, any>, positionals: string[] } {
  const specs = { ...GLOBAL_OPTIONS, ...command.options }
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.short != null ? { short: spec.short } : {}), ...(spec.multiple === true ? { multiple: true } : {}) }
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true, allowNegative: true } as ParseArgsConfig & { allowNegative: boolean }) as { values: Record<string, any>, positionals: string[] }
  } catch (err) {
    // parseArgs' messages name the flag; point at the help too.
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, '')
    throw new UsageError(`${message}; see \`idlegrid ${command.name} --help\``)
  }
}

function optionLines (specs: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short != null ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`
    return [flag, spec.description + (spec.multiple === true ? ' (repeatable)' : '')]
  })
  const width = Math.max(...rows.map(([f]) => f.length))
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`)
}

export function generalHelp (): string {
  const width = Math.max(...COMMANDS.map(c => c.name.length))
  return [
    `idlegrid ${VERSION}: a peer-to-peer volunteer compute network`,
    '',
    'Usage: idlegrid <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global flags:',
    ...optionLines(GLOBAL_OPTIONS),
    '      --version       print the version',
    '',
    'Run `idlegrid <command> --help` for a command\'s flags. Exit codes: 0 ok, 1 failure,',
    '2 bad input, 3 no daemon running, 4 daemon already running, 5 identity key unusable,',
    '6 address in use, 7 control token refused, 8 some job records failed, 9 job cancelled or',
    'gave up waiting, 130 interrupted (docs/cli.md).',
    ''
  ].join('\n')
}

export function commandHelp (command: Command): string {
  return [
    `Usage: idlegrid ${command.usage}`,
    '',
    command.summary,
    '',
    'Flags:',
    ...optionLines({ ...command.options, ...GLOBAL_OPTIONS }),
    ...(command.details != null ? ['', command.details.trimEnd()] : []),
    ''
  ].join('\n')
}
