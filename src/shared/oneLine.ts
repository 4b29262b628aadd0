/** The text with every run of whitespace, line breaks included, as one space: for one-line listings. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
