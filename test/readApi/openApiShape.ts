/**
 * A deliberately small JSON-schema check for the read API's own OpenAPI document: $ref, type
 * (also lists of types), required, properties, additionalProperties: false, items, enum, pattern
 * and the uuid and date-time formats. Enough to catch a response drifting from the document.
 */
type Schema = Record<string, any>;

const FORMATS: Record<string, RegExp> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/,
};

export function resolve(document: Schema, schema: Schema): Schema {
  if (typeof schema.$ref !== 'string') return schema;
  return resolve(document, (schema.$ref as string).slice(2).split('/').reduce((node: Schema, key) => node[key], document));
}

/** The schema of the answer to GET `path` with `status` and `contentType`, or undefined if the document has none. */
export function responseSchema(document: Schema, path: string, status: number, contentType: string): Schema | undefined {
  const template = Object.keys(document.paths).find((candidate) => new RegExp(`^${candidate.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
  if (template === undefined) return undefined;
  const response = document.paths[template].get.responses[String(status)];
  return response === undefined ? undefined : resolve(document, response).content?.[contentType]?.schema;
}

/** Every mismatch, as `path: problem`; empty when the value fits. */
export function mismatches(document: Schema, schemaOrRef: Schema, value: unknown, at = '$'): string[] {
  const schema = resolve(document, schemaOrRef);
  const types: string[] | undefined = schema.type === undefined ? undefined : [schema.type].flat();
  if (types !== undefined && !types.includes(typeOf(value))) return [`${at}: expected ${types.join('|')}, got ${typeOf(value)}`];
  if (schema.enum !== undefined && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not in the enum`];
  if (typeof value === 'string') return stringMismatches(schema, value, at);
  if (Array.isArray(value)) return value.flatMap((item, index) => mismatches(document, schema.items ?? {}, item, `${at}[${index}]`));
  if (typeOf(value) !== 'object') return [];
  const record = value as Record<string, unknown>;
  const properties: Schema = schema.properties ?? {};
  return [
    ...(schema.required ?? []).filter((name: string) => !(name in record)).map((name: string) => `${at}: missing ${name}`),
    ...(schema.additionalProperties === false ? Object.keys(record).filter((name) => !(name in properties)).map((name) => `${at}: unexpected ${name}`) : []),
    ...Object.entries(properties).filter(([name]) => name in record).flatMap(([name, property]) => mismatches(document, property, record[name], `${at}.${name}`)),
  ];
}

function stringMismatches(schema: Schema, value: string, at: string): string[] {
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return [`${at}: ${value} does not match ${schema.pattern}`];
  const format = FORMATS[schema.format as string];
  return format !== undefined && !format.test(value) ? [`${at}: ${value} is not a ${schema.format}`] : [];
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
