// Turning a submitter's input records into the JSON bytes the store keeps,
// with the size checks that make a job leasable at all.
import { InvalidInputError } from '@idlegrid/interface'
import { MAX_RECORD_SIZE, MAX_RECORDS_PER_TASK, MAX_TASK_INPUT_SIZE } from '@idlegrid/protocol-work'

const utf8 = new TextEncoder()

/**
 * JSON-encodes every record and checks the per-record and per-task size
 * limits, so a job that is accepted can always be leased.
 *
 * @throws InvalidInputError naming the record index and what to do
 */
export function encodeRecords (inputs: unknown, batch: number): Uint8Array[] {
  if (!Array.isArray(inputs)) {
    throw new InvalidInputError(`inputs must be an array of records, got ${inputs === null ? 'null' : typeof inputs}`)
  }
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_RECORDS_PER_TASK) {
    throw new InvalidInputError(`batch must be a whole number from 1 to ${MAX_RECORDS_PER_TASK}, got ${String(batch)}`)
  }
  const records = inputs.map((record, i) => {
    let text: string | undefined
    try {
      text = JSON.stringify(record)
    } catch (err) {
      throw new InvalidInputError(`record ${i} cannot be encoded as JSON: ${(err as Error).message}`, { cause: err })
    }
    if (text === undefined) {
      throw new InvalidInputError(`record ${i} is ${typeof record}, which JSON cannot hold: use null, a number, a string, an array or an object`)
    }
    const bytes = utf8.encode(text)
    if (bytes.byteLength > MAX_RECORD_SIZE) {
      throw new InvalidInputError(`record ${i} is ${bytes.byteLength} bytes of JSON, over the limit of ${MAX_RECORD_SIZE}: split it, or pass a reference (URL, key) and fetch the data inside the task`)
    }
    return bytes
  })
  for (let first = 0; first < records.length; first += batch) {
    let size = 0
    for (let i = first; i < Math.min(first + batch, records.length); i++) {
      size += records[i].byteLength
    }
    if (size > MAX_TASK_INPUT_SIZE) {
      throw new InvalidInputError(`records ${first}..${Math.min(first + batch, records.length) - 1} form one task of ${size} bytes, over the limit of ${MAX_TASK_INPUT_SIZE}: use a smaller batch`)
    }
  }
  return records
}
