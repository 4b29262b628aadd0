import { PayloadTextError } from './errors';

/**
 * `{"payload":[…]}` with each element's text exactly as received, except those at `nulled`,
 * which become null so that the positions still match. For the rare batch that Postgres could not
 * parse whole (it slices the events out of the text): an element, or another member of the body,
 * nested too deeply or holding a lone surrogate would fail the whole delivery.
 * `text` must be valid JSON whose operative "payload" member is an array: classification parsed it.
 */
export function payloadText(text: string, nulled: ReadonlySet<number>): string {
  const [start, end] = payloadSpan(text);
  const elements: string[] = [];
  for (let index = skipWhitespace(text, start + 1); index < end - 1; ) {
    const elementEnd = valueEnd(text, index);
    elements.push(nulled.has(elements.length) ? 'null' : text.slice(index, elementEnd));
    index = skipWhitespace(text, elementEnd);
    if (text[index] === ',') index = skipWhitespace(text, index + 1);
  }
  return `{"payload":[${elements.join(',')}]}`;
}

/** Where the value of the top-level "payload" member starts and ends; the last one wins, as in JSON.parse. */
function payloadSpan(text: string): [number, number] {
  let span: [number, number] | undefined;
  for (let index = skipWhitespace(text, skipWhitespace(text, 0) + 1); text[index] !== '}'; ) {
    const keyEnd = valueEnd(text, index);
    const key: unknown = JSON.parse(text.slice(index, keyEnd));
    const valueStart = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1);
    const end = valueEnd(text, valueStart);
    if (key === 'payload') span = [valueStart, end];
    index = skipWhitespace(text, end);
    if (text[index] === ',') index = skipWhitespace(text, index + 1);
  }
  if (span === undefined) throw new PayloadTextError('the body has no "payload" member');
  return span;
}

/** The index after the JSON value that starts at `start`; iterative, as the value may be nested very deeply. */
function valueEnd(text: string, start: number): number {
  const first = text[start];
  if (first === '"') return stringEnd(text, start) + 1;
  if (first !== '[' && first !== '{') {
    let index = start;
    while (index < text.length && !SCALAR_ENDS.has(text[index])) index += 1;
    return index;
  }
  let depth = 0;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (char === '"') index = stringEnd(text, index);
    else if (char === '[' || char === '{') depth += 1;
    else if (char === ']' || char === '}') {
      depth -= 1;
      if (depth === 0) return index + 1;
    }
  }
  throw new PayloadTextError('unterminated JSON value');
}

const SCALAR_ENDS: ReadonlySet<string> = new Set([',', ']', '}', ' ', '\t', '\n', '\r']);

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index += 1) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === '"') return index;
  }
  throw new PayloadTextError('unterminated JSON string');
}

function skipWhitespace(text: string, start: number): number {
  let index = start;
  while (text[index] === ' ' || text[index] === '\t' || text[index] === '\n' || text[index] === '\r') index += 1;
  return index;
}
