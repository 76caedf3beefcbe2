import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type CheckContext, type CheckResult, fail, pass, warn } from './check-types.js';

const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  'dist',
  'build',
  'coverage',
  '.warden',
  '.venv',
  'venv',
  '__pycache__',
]);
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 20_000;

/**
 * No hard-coded API keys in `--repo`: every text file (dependencies, builds and VCS data aside;
 * at most 20,000 files of up to 1 MiB) through secretlint's recommended rules (AWS, GCP, GitHub,
 * Slack, OpenAI, Anthropic, private keys, basic auth in URLs, …), secrets masked in the output.
 */
export async function noSecretsInRepo(ctx: CheckContext): Promise<CheckResult> {
  const id = 'secrets';
  const title = 'No hard-coded API keys in the repository';
  if (!ctx.repo) return warn(id, title, 'no repository given, so none was scanned', 'warden check --repo .');
  // The same scanner as the secrets guard and the audit's redaction (secretlint's recommended
  // rules, a few formats it lacks, and an entropy check on secret-named values).
  const { secretScanner } = await import('../secrets/detect.js');
  const scanner = secretScanner();
  const found: string[] = [];
  let scanned = 0;
  for (const file of files(ctx.repo)) {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (content.includes('\0')) continue; // binary
    scanned++;
    for (const hit of scanner.scan(content)) {
      const line = content.slice(0, hit.start).split('\n').length;
      found.push(`${relative(ctx.repo, file)}:${line}: ${hit.detail} (${hit.rule}) ${mask(hit.value)}`);
    }
  }
  if (found.length > 0)
    return fail(
      id,
      title,
      `${found.length} secret(s) found: ${found.slice(0, 5).join('; ')}${found.length > 5 ? '; …' : ''}`,
      'move each secret to the environment or a secret manager (`env:NAME` in the policy), rotate it (it is in the history), and remove it from the file',
    );
  return pass(
    id,
    title,
    `${scanned} files in \`${ctx.repo}\` scanned with secretlint's recommended rules and the entropy check: none found`,
  );
}

function* files(root: string): Generator<string> {
  const pending = [root];
  let count = 0;
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) pending.push(path);
      } else if (e.isFile()) {
        if (++count > MAX_FILES) return;
        try {
          if (statSync(path).size <= MAX_FILE_BYTES) yield path;
        } catch {
          // gone while scanning
        }
      }
    }
  }
}

/** A secret as the output shows it: its first four characters, then its length. */
function mask(value: string): string {
  return `${value.slice(0, 4)}… (${value.length} characters)`;
}
