// The shape of one CLI command: its options, help text and run function.
// Each command lives in its own file under commands/.

/** One flag of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** The flag may be given several times; its value is then an array. */
  multiple?: boolean
  /** Shown in help after the flag, e.g. 'MB' in `--max-memory MB`. */
  valueName?: string
  description: string
}

/** Where a command writes and what it can read. */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
  /** stderr is a terminal (progress bars are drawn only there). Default false. */
  stderrIsTTY?: boolean
  /** Width of that terminal in columns. */
  columns?: number
  /** Reads standard input to its end (`submit --input -`). Absent: there is none to read. */
  readStdin?: () => Promise<string>
}

export interface CommandContext {
  /** Parsed flags, global ones included. */
  values: Record<string, string | boolean | string[] | boolean[] | undefined>
  positionals: string[]
  /** Absolute data directory. */
  dataDir: string
  json: boolean
  io: CliIo
  /** Aborts on SIGINT/SIGTERM while the command runs. */
  signal: AbortSignal
}

export interface Command {
  name: string
  /** One line for the command list. */
  summary: string
  /** Usage line(s) after `idlegrid `, e.g. `find [--cpu N] [--memory MB]`. */
  usage: string
  /** More text for `--help`, shown after the options. */
  details?: string
  options: Record<string, OptionSpec>
  /** How many positionals the command takes (default 0). */
  positionals?: { min: number, max: number }
  /** Returns the exit code; throws named errors that the CLI maps to codes. */
  run: (context: CommandContext) => Promise<number>
}
