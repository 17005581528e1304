// Reading a job's input file: JSONL (one record a line) or a JSON array,
// with errors that name the line of the first bad record, and the size
// check each record must pass before it can travel to a volunteer.
import { InvalidInputError } from '@idlegrid/interface'

export type InputFormat = 'jsonl' | 'json'

export interface ParseInputsOptions {
  /** Name used in messages (the file path). */
  source: string
  /** Largest record, in bytes of its JSON encoding. */
  maxRecordBytes: number
  /** Force a format; default: `.json` is a JSON array, `.jsonl`/`.ndjson` is JSONL, else sniffed. */
  format?: InputFormat
}

export interface ParsedInputs {
  format: InputFormat
  records: unknown[]
  /** 1-based line on which each record starts. */
  lines: number[]
}

/** The format a file name implies, if any. */
export function formatOfName (path: string): InputFormat | undefined {
  const lower = path.toLowerCase()
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl'
  if (lower.endsWith('.json')) return 'json'
  return undefined
}

/**
 * Parses input text into records.
 *
 * @throws InvalidInputError naming the line of the first bad record, or the
 * index and line of a record over the size limit
 */
export function parseInputs (text: string, options: ParseInputsOptions): ParsedInputs {
  const { source } = options
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const format = options.format ?? formatOfName(source) ?? sniff(body)
  const parsed = format === 'json' ? parseJsonArray(body, source) : parseJsonl(body, source)
  if (parsed.records.length === 0) {
    throw new InvalidInputError(`${source} holds no records: give one JSON value a line (JSONL) or a JSON array of records`)
  }
  checkSizes(parsed, options)
  return parsed
}

/** A file whose first line alone is not JSON but which starts with `[` is a (pretty-printed) JSON array. */
function sniff (text: string): InputFormat {
  const trimmed = text.trimStart()
  if (!trimmed.startsWith('[')) {
    return 'jsonl'
  }
  try {
    JSON.parse(text)
    return 'json'
  } catch {}
  const firstLine = trimmed.split('\n', 1)[0]
  try {
    JSON.parse(firstLine)
    return 'jsonl'
  } catch {
    return 'json'
  }
}

function parseJsonl (text: string, source: string): ParsedInputs {
  const records: unknown[] = []
  const lines: number[] = []
  const all = text.split('\n')
  for (let i = 0; i < all.length; i++) {
    const line = all[i].endsWith('\r') ? all[i].slice(0, -1) : all[i]
    if (line.trim() === '') {
      continue
    }
    try {
      records.push(JSON.parse(line))
    } catch (err) {
      throw new InvalidInputError(`${source}:${i + 1}: line ${i + 1} is not JSON (${shortReason(err)}): ${preview(line)}; inputs are JSONL (one JSON value a line) or one JSON array`)
    }
    lines.push(i + 1)
  }
  return { format: 'jsonl', records, lines }
}

function parseJsonArray (text: string, source: string): ParsedInputs {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    const { line, reason, exact } = locateArrayError(text, err)
    throw new InvalidInputError(`${source}:${line}: not valid JSON ${exact ? `at line ${line}` : `in the record that starts at line ${line}`} (${reason}); inputs are JSONL (one JSON value a line) or one JSON array`)
  }
  if (!Array.isArray(value)) {
    throw new InvalidInputError(`${source} holds a JSON ${value === null ? 'null' : typeof value}, not an array: put the records in a JSON array, or write one record a line (JSONL, e.g. ${source.replace(/\.json$/i, '')}.jsonl)`)
  }
  return { format: 'json', records: value, lines: recordLines(text, value.length) }
}

function checkSizes (parsed: ParsedInputs, options: ParseInputsOptions): void {
  for (let i = 0; i < parsed.records.length; i++) {
    const size = Buffer.byteLength(JSON.stringify(parsed.records[i]) ?? 'null')
    if (size > options.maxRecordBytes) {
      throw new InvalidInputError(`${options.source}:${parsed.lines[i]}: record ${i} is ${size} bytes of JSON, over the limit of ${options.maxRecordBytes} bytes per record: split it, or pass a reference (URL, key) and fetch the data inside the task`)
    }
  }
}

/**
 * The line each top-level element of a JSON array starts on, found by a
 * scan that tracks strings and nesting (the text is already known to parse).
 */
function recordLines (text: string, count: number): number[] {
  const lines: number[] = []
  let line = 1
  let depth = 0
  let inString = false
  let expectValue = false
  for (let i = 0; i < text.length && lines.length < count; i++) {
    const c = text[i]
    if (c === '\n') {
      line++
      continue
    }
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r') continue
    if (depth === 1 && expectValue) {
      lines.push(line)
      expectValue = false
    }
    if (c === '"') inString = true
    else if (c === '[' || c === '{') {
      depth++
      if (depth === 1) expectValue = true
    } else if (c === ']' || c === '}') depth--
    else if (c === ',' && depth === 1) expectValue = true
  }
  while (lines.length < count) lines.push(line)
  return lines
}

/**
 * Where a JSON array that does not parse goes wrong: V8's messages carry no
 * position for most errors, so the array is cut into its top-level elements
 * and each is parsed alone; the first that fails names the line.
 */
function locateArrayError (text: string, err: unknown): { line: number, reason: string, exact: boolean } {
  let line = 1
  let depth = 0
  let inString = false
  let start = -1
  let startLine = 1
  const tryElement = (end: number): { line: number, reason: string, exact: boolean } | undefined => {
    const piece = text.slice(start, end)
    if (piece.trim() === '') return undefined
    try {
      JSON.parse(piece)
      return undefined
    } catch (e) {
      const inner = lineOfError(e, piece)
      const lead = piece.length - piece.trimStart().length
      const leadLines = piece.slice(0, lead).split('\n').length - 1
      // The position V8 gives counts the leading newlines too.
      return { line: inner != null ? startLine + inner - 1 : startLine + leadLines, reason: shortReason(e), exact: inner != null }
    }
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\n') line++
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === '[' || c === '{') {
      depth++
      if (depth === 1) { start = i + 1; startLine = line }
    } else if (c === ']' || c === '}') {
      if (depth === 1) {
        const found = tryElement(i)
        if (found != null) return found
      }
      depth--
      if (depth < 0) return { line, reason: `unexpected '${c}'`, exact: true }
    } else if (c === ',' && depth === 1) {
      const found = tryElement(i)
      if (found != null) return found
      start = i + 1
      startLine = line
    }
  }
  if (depth > 0 && start >= 0) {
    const found = tryElement(text.length)
    if (found != null) return found
  }
  const at = lineOfError(err, text)
  return { line: at ?? text.trimEnd().split('\n').length, reason: shortReason(err), exact: at != null }
}

/** Line of a JSON.parse error, from "(line N column M)" (Node 22+) or "at position N" (Node 20). */
function lineOfError (err: unknown, text: string): number | undefined {
  const message = (err as Error).message ?? ''
  const byLine = /line (\d+) column \d+/.exec(message)
  if (byLine != null) return Number(byLine[1])
  const byPos = /at position (\d+)/.exec(message)
  if (byPos != null) {
    const pos = Math.min(Number(byPos[1]), text.length)
    let line = 1
    for (let i = 0; i < pos; i++) if (text.charCodeAt(i) === 10) line++
    return line
  }
  if (/Unexpected end of JSON input/.test(message)) {
    return text.trimEnd().split('\n').length
  }
  return undefined
}

function shortReason (err: unknown): string {
  return ((err as Error).message ?? String(err))
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/\s*\(line \d+ column \d+\)$/, '')
}

function preview (line: string): string {
  const max = 60
  return JSON.stringify(line.length > max ? line.slice(0, max) + '…' : line)
}
