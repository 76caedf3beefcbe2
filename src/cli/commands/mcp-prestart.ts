import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { StartedProcess } from '../../mcp/stdio-lines.js';
import { handover } from './mcp-handover.js';

/** What the upstream server was started with, to compare with what the checked policy says. */
export interface StartedServer {
  child: StartedProcess;
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
 *
 * The server `bin/warden` (the POSIX launcher) started even before Node is this one when the
 * file as written starts the same (no `env` of its own in the entry), or when this cannot read
 * the file (the checked policy then decides); otherwise it is stopped and this starts its own.
 */
export async function prestartServer(
  policyFile: string,
  serverOption: string | undefined,
  command: readonly string[],
): Promise<StartedServer | undefined> {
  const start = await plannedStart(policyFile, serverOption, command);
  const launched = launchedServer();
  if (launched) {
    if (!start || sameStart(launched, start)) return launched;
    void stopStarted(launched);
  }
  if (!start) return undefined;
  const child = spawn(start.command, [...start.args], {
    env: start.env,
    stdio: ['pipe', 'pipe', 'inherit'],
    shell: false,
    ...(start.cwd ? { cwd: start.cwd } : {}),
  });
  // A command that cannot start: the gateway starts it again itself and reports that error.
  child.on('error', () => undefined);
  return { ...start, child };
}

/** How the policy file as written starts the server (its `env` made complete), if this can tell. */
async function plannedStart(
  policyFile: string,
  serverOption: string | undefined,
  command: readonly string[],
): Promise<Omit<StartedServer, 'child'> | undefined> {
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
  return { ...start, env: { ...defaultEnvironment(), ...start.env } };
}

/** The server the launcher started (its command after `--`, the default environment), if any. */
function launchedServer(): StartedServer | undefined {
  const handed = handover();
  if (!handed) return undefined;
  const [command, ...args] = handed.command as [string, ...string[]];
  return { child: handed.child, command, args, env: defaultEnvironment(), cwd: undefined };
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

/**
 * Stops a started server the gateway will not use: stdin closed, then SIGTERM, then SIGKILL if it
 * has not exited 2 s later.
 */
export async function stopStarted(started: StartedServer | undefined): Promise<void> {
  if (!started) return;
  const { child } = started;
  child.stdin?.end();
  // A command that could not start has no pid: until Node has reported that, `kill` would signal
  // process 0, that is our whole process group (the MCP client that started us included).
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdout?.resume(); // 'close' waits for its output to end
  child.kill('SIGTERM');
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
