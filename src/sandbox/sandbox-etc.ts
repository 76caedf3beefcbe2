import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The sandbox's `/etc`, built once per sandbox in its runtime directory and bound read-only as
 * one mount (eight separate binds cost more at every start). It holds only what programs need to
 * start: the loader's cache and config, time zone, CA certificates (for the allowlisting proxy),
 * a mount point for Debian's `alternatives` links (bound from the host), and an identity of its
 * own — a `passwd`/`group` naming only the sandbox user and a `hosts` naming only localhost. No host secret (`shadow`, keys, `resolv.conf`).
 */
export function buildSandboxEtc(dir: string, identity: { uid: number; home: string }): void {
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(
    join(dir, 'passwd'),
    `sandbox:x:${identity.uid}:${identity.uid}:sandbox:${identity.home}:/bin/sh\n`,
  );
  writeFileSync(join(dir, 'group'), `sandbox:x:${identity.uid}:\n`);
  writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  writeFileSync(join(dir, 'hostname'), 'sandbox\n');
  for (const name of [
    'ld.so.cache',
    'ld.so.conf',
    'ld.so.conf.d',
    'localtime',
    'ssl/certs/ca-certificates.crt',
  ])
    copyEntry(join('/etc', name), join(dir, name));
  // Debian's alternatives are hundreds of links: bound read-only over this mount point instead
  // of copied (copying took 50-400 ms on a loaded host).
  for (const bound of ETC_BOUND_DIRS)
    if (existsSync(bound)) mkdirSync(join(dir, bound.slice('/etc/'.length)));
}

/** Host /etc directories bound read-only over the sandbox's /etc (when they exist). */
export const ETC_BOUND_DIRS: readonly string[] = ['/etc/alternatives'];

/** Copies a file, a symlink (as a link: targets under /usr resolve inside) or a flat directory of them. */
function copyEntry(from: string, to: string): void {
  if (!existsSync(from) && !isLink(from)) return;
  const st = lstatSync(from);
  mkdirSync(dirname(to), { recursive: true });
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
  else if (st.isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const child = join(from, name);
      if (lstatSync(child).isDirectory()) continue;
      copyEntry(child, join(to, name));
    }
  } else if (st.isFile()) copyFileSync(from, to);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
