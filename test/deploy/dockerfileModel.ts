import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Just enough of a Dockerfile reader for the instructions this repository's Dockerfile uses. */
export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  text: string;
}

export interface CopyInstruction {
  from?: string;
  sources: string[];
  destination: string;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export function parseDockerfile(content: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const line of content.split('\n')) {
    if (pending === '' && /^\s*(#|$)/.test(line)) continue;
    if (/^\s*#/.test(line)) continue; // a comment inside a continued instruction
    if (line.trimEnd().endsWith('\\')) {
      pending += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const [keyword] = full.split(/\s/, 1);
    instructions.push({ keyword: keyword.toUpperCase(), text: full.slice(keyword.length).trim() });
  }
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [base, as, name] = instruction.text.split(/\s+/);
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : String(stages.length), instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

export function parseCopy(instruction: Instruction): CopyInstruction {
  const flags = instruction.text.match(/^(--\S+\s+)*/)?.[0] ?? '';
  const rest = instruction.text.slice(flags.length).trim();
  const from = flags.match(/--from=(\S+)/)?.[1];
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  return { from, sources: parts.slice(0, -1), destination: parts[parts.length - 1] };
}

/** The JSON (exec) form of CMD, ENTRYPOINT or the command of HEALTHCHECK. */
export function execForm(text: string): string[] {
  const json = text.slice(text.indexOf('['));
  return JSON.parse(json) as string[];
}

/** The commands of a RUN, split at `&&`. */
export function runCommands(instruction: Instruction): string[] {
  return instruction.text.split('&&').map((command) => command.trim().replace(/\s+/g, ' '));
}

/**
 * .dockerignore semantics as in moby's patternmatcher: a pattern excludes a path when it matches the
 * path or one of its parent directories; `!` re-includes; the last matching pattern wins.
 */
export function dockerignoreMatcher(content: string): (relativePath: string) => boolean {
  const rules = content
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix.normalize((negate ? line.slice(1) : line).trim()).replace(/^\/+|\/+$/g, '');
      return { negate, regex: globToRegExp(pattern) };
    });
  return (relativePath) => {
    const parts = relativePath.split('/');
    const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negate;
    }
    return excluded;
  };
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (pattern.startsWith('**/', index)) {
      source += '(.*/)?';
      index += 2;
    } else if (pattern.startsWith('**', index)) {
      source += '.*';
      index += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Files under `source` (relative to the context) that the build context holds, relative to the context. */
export function contextFiles(contextDir: string, source: string, isIgnored: (relativePath: string) => boolean): string[] {
  const absolute = path.join(contextDir, source);
  if (isIgnored(source)) {
    // A directory whose own path is excluded may still have re-included children; not used here.
    return [];
  }
  if (!statSync(absolute).isDirectory()) return [source];
  return readdirSync(absolute).flatMap((entry) => contextFiles(contextDir, path.posix.join(source, entry), isIgnored));
}

/** Docker's COPY of context sources: a directory's contents go into the destination, a file into it or onto it. */
export function copyFromContext(contextDir: string, copy: CopyInstruction, targetDir: string, isIgnored: (relativePath: string) => boolean): void {
  const destination = path.join(targetDir, copy.destination);
  for (const source of copy.sources) {
    const isDirectory = statSync(path.join(contextDir, source)).isDirectory();
    for (const file of contextFiles(contextDir, source, isIgnored)) {
      const relative = isDirectory ? path.relative(source, file) : path.basename(file);
      const target = isDirectory || copy.destination.endsWith('/') ? path.join(destination, relative) : destination;
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(path.join(contextDir, file), target);
    }
  }
}

/** COPY --from=<stage> <absolute path> <destination>, with the stage's WORKDIR mapped onto its directory. */
export function copyFromStage(stageDir: string, stageWorkdir: string, copy: CopyInstruction, targetDir: string): void {
  for (const source of copy.sources) {
    const relative = path.posix.relative(stageWorkdir, source);
    if (relative.startsWith('..')) throw new Error(`COPY --from source ${source} is outside the stage's WORKDIR ${stageWorkdir}`);
    cpSync(path.join(stageDir, relative), path.join(targetDir, copy.destination), { recursive: true });
  }
}
