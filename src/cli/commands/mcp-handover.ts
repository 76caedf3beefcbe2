import { EventEmitter } from 'node:events';
import { fstatSync, readFileSync, readlinkSync } from 'node:fs';
import { Socket } from 'node:net';

/**
 * The upstream server that `bin/warden`, the POSIX launcher, started before Node for
 * `warden mcp … -- COMMAND ARGS…`: its stdin and stdout are FIFOs open on fds 3 and 4, and
 * `$WARDEN_MCP_STARTED` is "PID AT" (AT: the position of `--` among the arguments).
 */
export interface HandedOver {
  child: HandedOverServer;
  /** The command and arguments it runs: those after the `--`. */
  command: string[];
}

const INPUT_FD = 3;
const OUTPUT_FD = 4;
let handedOver: HandedOver | undefined;

/**
 * Takes the server the launcher started, if any (once: the variable is removed, so no child
 * process inherits it). From here, a server not adopted is stopped as this process exits, as a
 * spawned one is; one this process cannot talk to (fds 3 and 4 not FIFOs) is stopped at once, and
 * the server is started as without the launcher.
 * A `$WARDEN_MCP_STARTED` naming no child of this process is ignored.
 */
export function takeHandover(argv: readonly string[]): void {
  const value = process.env.WARDEN_MCP_STARTED;
  if (value === undefined) return;
  delete process.env.WARDEN_MCP_STARTED;
  const match = /^([1-9]\d*) ([1-9]\d*)$/.exec(value);
  const pid = Number(match?.[1]);
  const at = Number(match?.[2]) + 1; // argv has node and the script first
  if (!match || !childOfThisProcess(pid)) return;
  const command = argv.slice(at + 1);
  if (argv[at] !== '--' || command.length === 0 || !isFifo(INPUT_FD) || !isFifo(OUTPUT_FD)) {
    // Not closed: without the launcher's FIFOs, fds 3 and 4 are Node's own (its event loop's).
    signal(pid, 'SIGTERM');
    return;
  }
  const child = new HandedOverServer(pid, INPUT_FD, OUTPUT_FD);
  handedOver = { child, command };
  process.once('exit', () => child.kill('SIGTERM'));
}

/** The server the launcher handed over ({@link takeHandover}), if any. */
export function handover(): HandedOver | undefined {
  return handedOver;
}

/**
 * A server process this one did not spawn but is the parent of (the launcher `exec`ed Node):
 * shaped as the `ChildProcess` that the line transport adopts. Node collects the exit status of
 * the processes it spawned only, so this one's is unknown: it has exited once its stdout is
 * closed and (where `/proc` tells) it is no longer running; `exitCode` is then -1. Until this
 * process exits it stays a zombie, so its pid names no other process.
 */
export class HandedOverServer extends EventEmitter {
  readonly stdin: Socket;
  readonly stdout: Socket;
  readonly signalCode: NodeJS.Signals | null = null;
  exitCode: number | null = null;

  constructor(
    readonly pid: number,
    input: number,
    output: number,
  ) {
    super();
    this.stdin = new Socket({ fd: input, readable: false, writable: true });
    this.stdout = new Socket({ fd: output, readable: true, writable: false });
    // Reported by the transport once it reads and writes them (a server gone away: EPIPE).
    this.stdin.on('error', () => undefined);
    this.stdout.on('error', () => undefined);
    this.stdout.once('close', () => {
      this.stdin.destroy();
      void this.#exited();
    });
  }

  kill(name: NodeJS.Signals = 'SIGTERM'): boolean {
    return this.exitCode === null && signal(this.pid, name);
  }

  /** Its stdout has closed: once it is no longer running (stopped if it still is), 'close'. */
  async #exited(): Promise<void> {
    // Without `/proc`, a closed stdout counts as exited: SIGTERM is for one that lives on.
    const running = runs(this.pid);
    if (running !== false) signal(this.pid, 'SIGTERM');
    if (running && (await runningAfter(this.pid, 2000))) signal(this.pid, 'SIGKILL');
    this.exitCode = -1;
    this.emit('close', null, null);
  }
}

/** Whether `pid` still runs after up to `ms` (polled); see {@link runs}. */
async function runningAfter(pid: number, ms: number): Promise<boolean | undefined> {
  for (const until = Date.now() + ms; ; ) {
    const running = runs(pid);
    if (running !== true || Date.now() >= until) return running;
    await new Promise((resolve) => setTimeout(resolve, 20).unref());
  }
}

/** Whether `pid` runs: false once it has exited (a zombie), undefined where there is no `/proc`. */
function runs(pid: number): boolean | undefined {
  const stat = procStat(pid);
  if (stat === undefined) return procStat(process.pid) === undefined ? undefined : false;
  return !'ZX'.includes(stat.state);
}

/** Linux's `/proc/PID/stat`: the state letter and the parent's pid (after the command's name). */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid = ''] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

function childOfThisProcess(pid: number): boolean {
  const stat = procStat(pid);
  if (stat) return stat.ppid === process.pid;
  return procStat(process.pid) === undefined && signal(pid, 0);
}

function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Whether `fd` is a named FIFO (where `/proc` tells: not a pipe of Node's own, `pipe:[…]`). */
function isFifo(fd: number): boolean {
  try {
    if (!fstatSync(fd).isFIFO()) return false;
  } catch {
    return false;
  }
  try {
    return !readlinkSync(`/proc/self/fd/${fd}`).startsWith('pipe:');
  } catch {
    return true;
  }
}
