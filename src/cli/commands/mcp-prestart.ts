import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What the upstream server was started with, to compare with what the checked policy says. */
export interface StartedServer {
  child: ChildProcess;
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string | undefined;
}

/**
 * Starts `warden mcp`'s upstream server before the policy is checked and Warden is loaded, from
 * the policy file's YAML as written (its `mcp.servers` entry: env, and the command when none is
 * given after `--`), so the server's own start overlaps all of Warden's. The caller adopts the
 * process only if the checked policy leads to the same command, arguments, environment and
 * folder ({@link sameStart}); otherwise, or when the policy is invalid, it stops it. Anything this
 * cannot read (no file, YAML that does not parse, an unusual entry, a `url` server) starts
 * nothing: the gateway then starts the server itself, as before.
 */
export async function prestartServer(
  policyFile: string,
  serverOption: string | undefined,
  command: readonly string[],
): Promise<StartedServer | undefined> {
  let raw: unknown;
  try {
    const { parse } = await import('yaml');
    raw = parse(readFileSync(policyFile, 'utf8'));
  } catch {
    return undefined;
  }
  const servers = record(record(record(raw)?.mcp)?.servers) ?? {};
  const names = Object.keys(servers);
  const name = serverOption ?? (names.length === 1 ? names[0] : undefined) ?? 'upstream';
  const configured = servers[name] === undefined ? {} : record(servers[name]);
  if (!configured) return undefined;
  const env = configured.env === undefined ? {} : strings(configured.env);
  if (!env) return undefined;
  let start: Omit<StartedServer, 'child'>;
  if (command.length > 0) {
    start = { command: command[0] as string, args: command.slice(1), env, cwd: undefined };
  } else {
    const args = configured.args === undefined ? [] : configured.args;
    if (typeof configured.command !== 'string' || configured.url !== undefined) return undefined;
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) return undefined;
    if (configured.cwd !== undefined && typeof configured.cwd !== 'string') return undefined;
    start = { command: configured.command, args, env, cwd: configured.cwd };
  }
  const full = { ...defaultEnvironment(), ...start.env };
  const child = spawn(start.command, [...start.args], {
    env: full,
    stdio: ['pipe', 'pipe', 'inherit'],
    shell: false,
    ...(start.cwd ? { cwd: start.cwd } : {}),
  });
  // A command that cannot start: the gateway starts it again itself and reports that error.
  child.on('error', () => undefined);
  return { ...start, env: full, child };
}

/** Whether `started` is alive and was started exactly as `spec` (with `env` complete) asks. */
export function sameStart(
  started: StartedServer,
  spec: {
    command?: string | undefined;
    args?: readonly string[];
    env: Record<string, string>;
    cwd?: string | undefined;
  },
): boolean {
  const { child } = started;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  const args = spec.args ?? [];
  return (
    started.command === spec.command &&
    started.args.length === args.length &&
    started.args.every((a, i) => a === args[i]) &&
    (started.cwd || undefined) === (spec.cwd || undefined) &&
    JSON.stringify(Object.entries(started.env).sort()) === JSON.stringify(Object.entries(spec.env).sort())
  );
}

/** Stops a started server the gateway will not use (stdin closed, then SIGTERM). */
export function stopStarted(started: StartedServer | undefined): void {
  if (!started) return;
  started.child.stdin?.end();
  // A command that could not start has no pid: until Node has reported that, `kill` would signal
  // process 0, that is our whole process group (the MCP client that started us included).
  if (started.child.pid !== undefined) started.child.kill('SIGTERM');
}

// A copy of the MCP SDK's `DEFAULT_INHERITED_ENV_VARS`; `sameStart` against the SDK's own
// `getDefaultEnvironment()` catches any drift (the server is then started again, correctly).
const INHERITED =
  process.platform === 'win32'
    ? [
        'APPDATA',
        'HOMEDRIVE',
        'HOMEPATH',
        'LOCALAPPDATA',
        'PATH',
        'PROCESSOR_ARCHITECTURE',
        'SYSTEMDRIVE',
        'SYSTEMROOT',
        'TEMP',
        'USERNAME',
        'USERPROFILE',
        'PROGRAMFILES',
      ]
    : ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'];

function defaultEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = process.env[key];
    if (value !== undefined && !value.startsWith('()')) env[key] = value;
  }
  return env;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function strings(value: unknown): Record<string, string> | undefined {
  const r = record(value);
  if (!r || !Object.values(r).every((v) => typeof v === 'string')) return undefined;
  return r as Record<string, string>;
}
