import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { K8sObject, renderChart } from './helm';

/** Debian's `prometheus` package puts both here; .ci/run installs it. */
export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';

/**
 * The binaries, or undefined after saying in one line why the tests that need them are skipped
 * (where the package cannot be installed, the rest of the suite still runs).
 */
export function prometheusTools(): { promtool: string; prometheus: string } | undefined {
  const missing = [PROMTOOL, PROMETHEUS].filter((binary) => !existsSync(binary));
  if (missing.length === 0) return { promtool: PROMTOOL, prometheus: PROMETHEUS };
  process.stderr.write(`skipped: ${missing.join(' and ')} not found (apt-get install prometheus)\n`);
  return undefined;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The chart's PrometheusRule, rendered with these helm arguments. */
export function renderPrometheusRule(args: string[]): K8sObject {
  const rules = renderChart(['--set', 'prometheusRule.enabled=true', ...args]).filter((object) => object.kind === 'PrometheusRule');
  if (rules.length !== 1) throw new Error(`expected one PrometheusRule, rendered ${rules.length}`);
  return rules[0];
}

export function alertingRules(rule: K8sObject): AlertingRule[] {
  return rule.spec.groups.flatMap((group: { rules: AlertingRule[] }) => group.rules);
}

/** A Prometheus rules file (what `rule_files` loads) of the PrometheusRule's groups. */
export function rulesFile(rule: K8sObject): string {
  return stringify({ groups: rule.spec.groups });
}
