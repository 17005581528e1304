// Reading job input files: JSONL and JSON arrays, the line of the first bad
// record, records over the size limit by index, and what is not input at all.
import { describe, expect, it } from 'vitest'
import { formatOfName, parseInputs } from '../src/inputs.js'

const opts = { source: 'in.jsonl', maxRecordBytes: 1024 }

describe('parseInputs', () => {
  it('reads JSONL: one record a line, any JSON value, blank lines and CRLF ignored', () => {
    const parsed = parseInputs('{"n":1}\r\n\n[2,3]\n"four"\n5\nnull\n', opts)
    expect(parsed).toEqual({ format: 'jsonl', records: [{ n: 1 }, [2, 3], 'four', 5, null], lines: [1, 3, 4, 5, 6] })
  })

  it('reads a JSON array, pretty-printed or not, and finds where each record starts', () => {
    const text = '[\n  {"n": 1},\n  {"n": [2,\n 3]},\n  "x,]"\n]\n'
    expect(parseInputs(text, { ...opts, source: 'in.json' })).toEqual({ format: 'json', records: [{ n: 1 }, { n: [2, 3] }, 'x,]'], lines: [2, 3, 5] })
    // No extension: a file that parses as an array is one.
    expect(parseInputs('[1, 2, 3]', { ...opts, source: 'in.txt' }).records).toEqual([1, 2, 3])
    // ...but JSONL whose lines are arrays stays JSONL.
    expect(parseInputs('[1]\n[2]\n', { ...opts, source: 'in.txt' })).toMatchObject({ format: 'jsonl', records: [[1], [2]] })
    // A byte order mark is not part of the JSON.
    expect(parseInputs('\ufeff[1]', { ...opts, source: 'in.json' }).records).toEqual([1])
  })

  it('names the file and line of the first JSONL line that is not JSON', () => {
    expect(() => parseInputs('{"n":1}\n{"n":2}\n{"n":3,}\n{"n":4\n', opts))
      .toThrow(/^in\.jsonl:3: line 3 is not JSON \(.*\): "\{\\"n\\":3,\}"; inputs are JSONL \(one JSON value a line\) or one JSON array$/)
    try {
      parseInputs('1\n2\nthree\n', opts)
      expect.unreachable()
    } catch (err) {
      expect((err as Error).name).toBe('InvalidInputError')
    }
  })

  it('names the line of the broken record in a pretty-printed JSON array', () => {
    const text = '[\n  {"n": 1},\n  {"n": 2},\n  {"n": 3,},\n  {"n": 4}\n]\n'
    expect(() => parseInputs(text, { ...opts, source: 'in.json' })).toThrow(/^in\.json:4: not valid JSON at line 4 \(/)
    // A record spread over lines: the line inside it where V8 tells the position, else where the record starts.
    expect(() => parseInputs('[\n{"a": 1,\n "b": }\n]', { ...opts, source: 'in.json' })).toThrow(/^in\.json:[23]: not valid JSON /)
    expect(() => parseInputs('[\n1,\n{"a": 1,\n "b": ?}\n]', { ...opts, source: 'in.json' })).toThrow(/^in\.json:3: not valid JSON in the record that starts at line 3 \(Unexpected token '\?'\)/)
    // Missing closing bracket.
    expect(() => parseInputs('[1,\n2,\n3\n', { ...opts, source: 'in.json' })).toThrow(/^in\.json:\d: not valid JSON/)
  })

  it('refuses a .json file that is not an array, and an input without records', () => {
    expect(() => parseInputs('{"n": 1}', { ...opts, source: 'in.json' })).toThrow(/in\.json holds a JSON object, not an array: put the records in a JSON array, or write one record a line \(JSONL/)
    expect(() => parseInputs('\n  \n', opts)).toThrow(/in\.jsonl holds no records/)
    expect(() => parseInputs('[]', { ...opts, source: 'in.json' })).toThrow(/holds no records/)
  })

  it('names the index and line of a record over the size limit', () => {
    const big = JSON.stringify({ blob: 'x'.repeat(2000) })
    expect(() => parseInputs(`1\n2\n\n${big}\n5\n`, opts))
      .toThrow(/^in\.jsonl:4: record 2 is 2011 bytes of JSON, over the limit of 1024 bytes per record: split it/)
    expect(() => parseInputs(`[1,\n${big}]`, { ...opts, source: 'in.json' })).toThrow(/^in\.json:2: record 1 is 2011 bytes/)
    // Exactly at the limit is fine.
    const fits = JSON.stringify('y'.repeat(1022))
    expect(parseInputs(fits, opts).records).toHaveLength(1)
  })

  it('takes the format from the file name', () => {
    expect(formatOfName('a.JSONL')).toBe('jsonl')
    expect(formatOfName('a.ndjson')).toBe('jsonl')
    expect(formatOfName('a.json')).toBe('json')
    expect(formatOfName('a.csv')).toBeUndefined()
  })
})
