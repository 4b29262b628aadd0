// Validates Kubernetes objects, a JSON array on stdin, against the OpenAPI schemas of kubernetes-models and
// @kubernetes-models/prometheus-operator, offline. Prints a JSON array with one message per invalid object.
// A process of its own because both packages are ES modules only, which jest's CommonJS runtime cannot load.
import { readFileSync } from 'node:fs';

/** The module holding the models of an apiVersion: "apps/v1" → kubernetes-models/apps/v1, "v1" → kubernetes-models/v1. */
const moduleOf = (apiVersion) =>
  apiVersion.startsWith('monitoring.coreos.com/') ? `@kubernetes-models/prometheus-operator/${apiVersion}` : `kubernetes-models/${apiVersion}`;

const objects = JSON.parse(readFileSync(0, 'utf8'));
const problems = [];
for (const object of objects) {
  const where = `${object.apiVersion} ${object.kind} ${object.metadata?.name}`;
  const Model = await import(moduleOf(object.apiVersion)).then(
    (module) => module[object.kind],
    () => undefined,
  );
  if (Model === undefined) {
    problems.push(`${where}: no model for this apiVersion and kind`);
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${error.message}`);
  }
}
process.stdout.write(JSON.stringify(problems));
