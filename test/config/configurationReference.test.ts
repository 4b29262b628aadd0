import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { settingVariables, variablesReadElsewhere } from '../../src/config/config';
import { defaultTextOf, renderConfigurationReference } from '../../src/config/configurationReference';

describe('renderConfigurationReference', () => {
  it('shows a default in the variable’s own unit, before its transform, with its note', () => {
    const interval = {
      name: 'SOME_INTERVAL_SECONDS',
      schema: z.coerce.number().default(600).transform((seconds) => seconds * 1000),
      documentation: { meaning: 'How often.', defaultNote: 'ten minutes' },
    };
    expect(renderConfigurationReference([interval], [])).toContain('| `SOME_INTERVAL_SECONDS` | `600` (ten minutes) | How often. |');
  });

  it('lists the Upvest API’s variables in a table of their own, after the service’s', () => {
    const text = renderConfigurationReference(settingVariables, variablesReadElsewhere);
    const tables = text.split('| variable | default | meaning |').slice(1);
    expect(tables).toHaveLength(2);
    expect(tables[0]).toContain('| `UPVEST_WEBHOOK_JWKS` |');
    expect(tables[0]).not.toContain('| `UPVEST_CLIENT_ID` |');
    expect(tables[1]).toContain('| `UPVEST_CLIENT_ID` |');
  });
});

describe('docs/configuration.md', () => {
  it('is what npm run docs:config renders from src/config/config.ts', () => {
    const written = readFileSync(path.join(__dirname, '../../docs/configuration.md'), 'utf8');
    if (written !== renderConfigurationReference(settingVariables, variablesReadElsewhere)) {
      throw new Error('docs/configuration.md differs from src/config/config.ts: run npm run docs:config');
    }
  });

  it('documents each variable once', () => {
    const names = [...settingVariables, ...variablesReadElsewhere].map((variable) => variable.name);
    expect(names.length).toBe(new Set(names).size);
  });

  const withDefault = settingVariables.filter((variable) => defaultTextOf(variable.schema) !== undefined);
  const withoutDefault = settingVariables.filter((variable) => defaultTextOf(variable.schema) === undefined);

  it.each(withDefault)('shows the default of $name as the text that gives what its schema applies', ({ schema }) => {
    expect(schema.parse(defaultTextOf(schema))).toEqual(schema.parse(undefined));
  });

  // A default the renderer cannot find (wrapped in another schema kind) would be shown as none.
  it.each(withoutDefault)('shows no default for $name, whose schema applies none', ({ schema }) => {
    expect(schema.parse(undefined)).toBeUndefined();
  });
});
