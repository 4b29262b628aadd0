import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { settingVariables, variablesReadElsewhere } from '../config/config';
import { renderConfigurationReference } from '../config/configurationReference';

/** `npm run docs:config`: writes docs/configuration.md from the variables of src/config/config.ts. */
const target = path.resolve(__dirname, '../../docs/configuration.md');
writeFileSync(target, renderConfigurationReference(settingVariables, variablesReadElsewhere));
console.log(`written: ${path.relative(process.cwd(), target)}`);
