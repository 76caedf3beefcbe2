import { linkSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The real tree the fs corpus runs against (tests and bench): ordinary files, protected ones,
 * symlinks that stay inside the root or escape it, and hard links to a file outside it. `{outside}` in a link target is the sibling
 * directory outside the root.
 */
export const FILES = [
  'README.md',
  'package.json',
  'tsconfig.json',
  'config.yaml',
  '.gitignore',
  '.env',
  'config.json',
  'secrets.yaml',
  'docs/readme.md',
  'docs/meeting notes.txt',
  'docs/café.md',
  'docs/..hidden-notes',
  'docs/environment.md',
  'docs/secrets-management.md',
  'docs/key-points.txt',
  'docs/pem-format.txt',
  'docs/100%.txt',
  'docs/hooks.md',
  'src/main.ts',
  'src/config/json.ts',
  'dist/v1.2.3.tar.gz',
  '.github/workflows/ci.yml',
  '.git/HEAD',
  '.git/hooks/pre-commit.sample',
  'keys/server.pem',
  'keys/tls.key',
  '.ssh/id_rsa',
  'out/existing.txt',
  'tmp/scratch.txt',
  'test/app.test.ts',
  'backup/id_rsa',
];

/** [link, target]: relative targets resolve from the link's directory, like `ln -s`. */
export const LINKS: Array<[string, string]> = [
  ['docs/up', '../..'],
  ['docs/readme-key', '../keys/server.pem'],
  ['tmp/old-link', '../README.md'],
  ['escape', '{outside}'],
  ['link-passwd', '/etc/passwd'],
  ['rel-escape', '../outside'],
  ['chain-a', 'chain-b'],
  ['chain-b', '{outside}'],
  ['loop', 'loop2'],
  ['loop2', 'loop'],
  ['tmp-link', '/tmp'],
  ['proc-link', '/proc'],
  ['innocent', '.env'],
  ['readme-link', 'README.md'],
  ['docs-link', 'docs'],
  ['rootfs', '/'],
  ['hardlink-alias', 'hardlink'],
  ['dangling-out', '{outside}/planted.sh'],
  ['dangling-dir', '{outside}/new-dir'],
  ['dangling-rel', '../outside/planted-rel.sh'],
  ['dangling-in', 'out/from-link.txt'],
];

/** Hard links inside the root to `{outside}/secret.txt`. */
export const HARD_LINKS = ['hardlink', 'tmp/hardlink-write', 'tmp/hardlink-delete'];

export function buildFsFixture(): { base: string; root: string; outside: string } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-fs-corpus-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), 'outside');
  for (const f of FILES) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), `contents of ${f}\n`);
  }
  mkdirSync(join(root, 'tmp', 'empty-dir'), { recursive: true });
  for (const [link, target] of LINKS) symlinkSync(target.replace('{outside}', outside), join(root, link));
  // Hard links to the file outside: reads are refused (`fs.hard-link`); a write replaces the link and
  // a delete removes only the link, so both leave the outside file as it was.
  for (const link of HARD_LINKS) linkSync(join(outside, 'secret.txt'), join(root, link));
  return { base, root, outside };
}
