import { spawn } from 'node:child_process';

/** `npm run build`, so that the bench measures the compiled dist/main.js of the current sources. */
export function buildService(repositoryRoot: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    // Silent on success: stdout is for the results table only.
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`npm run build failed (exit code ${code}):\n${Buffer.concat(output).toString('utf8')}`));
    });
  });
}
