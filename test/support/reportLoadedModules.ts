import fs from 'node:fs';

/**
 * Preloaded into a service process (node --import) by the test of what each role loads: when the
 * process exits, it writes the files of every CommonJS module it loaded, one per line, to
 * LOADED_MODULES_FILE. The service is CommonJS, and so are the packages whose cost is measured.
 */
const file = process.env.LOADED_MODULES_FILE as string;
process.on('exit', () => fs.writeFileSync(file, Object.keys(require.cache).join('\n')));
