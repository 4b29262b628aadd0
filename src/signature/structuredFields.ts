import type * as StructuredHeaders from 'structured-headers/dist/index';

// structured-headers declares its types only through package.json "exports", which TypeScript's
// moduleResolution "node" (this project's setting) ignores. The types are borrowed from the
// bundled declaration file and the package's CommonJS build is loaded through its normal entry.
const structuredHeaders: typeof StructuredHeaders = require('structured-headers');

export const { parseDictionary, serializeList } = structuredHeaders;
export type { Dictionary } from 'structured-headers/dist/index';

/**
 * The text of the last member named `key` of a serialized dictionary, exactly as sent (without the
 * `key=` prefix), or undefined. RFC 9421 signs the `@signature-params` text as the signer wrote it,
 * and a parse-then-serialize round trip could alter it. The last member wins, as in RFC 8941 parsing.
 * The caller must have validated the text with parseDictionary first.
 */
export function rawDictionaryMember(dictionary: string, key: string): string | undefined {
  let found: string | undefined;
  for (const member of splitTopLevel(dictionary)) {
    const equals = member.indexOf('=');
    if (equals > 0 && member.slice(0, equals).trim() === key) {
      found = member.slice(equals + 1).trim();
    }
  }
  return found;
}

// Commas separate members except inside quoted strings and inner lists.
function splitTopLevel(text: string): string[] {
  const members: string[] = [];
  let start = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      members.push(text.slice(start, i));
      start = i + 1;
    }
  }
  members.push(text.slice(start));
  return members;
}
