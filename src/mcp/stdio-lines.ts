import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/** The longest message line accepted (the SDK's stdio limit): a longer one closes the connection. */
export const MAX_LINE_CHARS = 10 * 1024 * 1024;

/**
 * Messages the receiving side checks itself, so the transport hands them on without the SDK's
 * schema parse (which costs more than Warden's whole pipeline on the gateway's hot path). Every
 * other message is parsed against `JSONRPCMessageSchema`, as the SDK's own transports do.
 */
export type CheckedByReceiver = (message: Record<string, unknown>) => boolean;

interface LineOptions {
  checkedByReceiver?: CheckedByReceiver;
}

/**
 * MCP's stdio framing (one JSON-RPC message per line, UTF-8) over a pair of streams, as the
 * SDK's stdio transports do it, with two differences that matter on a proxy's hot path:
 * messages the receiver checks itself skip the schema parse, and the messages sent in one turn
 * of the event loop leave in one write (a gateway answering a group commit's worth of calls
 * makes one system call, not sixteen).
 *
 * Errors match the SDK's: a line that is not JSON or not JSON-RPC goes to `onerror` and is
 * dropped; a line over {@link MAX_LINE_CHARS} closes the connection.
 */
abstract class LineTransport implements Transport {
  onmessage?: Transport['onmessage'];
  /**
   * Sees each message the receiver checks itself together with the line it came in, before
   * `onmessage`; returning true takes the message (it does not reach `onmessage`). The raw fast
   * path of `tools/call` forwards those bytes instead of re-encoding the message.
   */
  onrawmessage?: (message: Record<string, unknown>, line: string) => boolean;
  onerror?: Transport['onerror'];
  onclose?: Transport['onclose'];
  readonly #checkedByReceiver: CheckedByReceiver;
  #buffered = '';
  #output: Writable | undefined;
  #flushScheduled = false;
  /** Lines sent in this tick, written together on the next. */
  #unsent = '';

  constructor(options: LineOptions) {
    this.#checkedByReceiver = options.checkedByReceiver ?? (() => false);
  }

  abstract start(): Promise<void>;
  abstract close(): Promise<void>;

  /** Starts reading `input` and writing to `output`. */
  protected attach(input: Readable, output: Writable): void {
    this.#output = output;
    input.setEncoding('utf8');
    input.on('data', this.#ondata);
    input.on('error', this.#onerror);
    output.on('error', this.#onerror);
  }

  protected detach(input: Readable, output: Writable): void {
    input.off('data', this.#ondata);
    input.off('error', this.#onerror);
    output.off('error', this.#onerror);
    this.#output = undefined;
    this.#buffered = '';
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.sendLine(JSON.stringify(message));
  }

  /** Sends one message already encoded as JSON (one line, no newline in it). */
  sendLine(json: string): Promise<void> {
    const output = this.#output;
    if (!output) return Promise.reject(new Error('Not connected'));
    // Everything sent until the next tick goes out in one write of one string: no cork, no
    // buffered chunk list, no writev (each of which costs more than the line itself).
    this.#unsent += `${json}\n`;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush, output);
    }
    if (!output.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => output.once('drain', resolve));
  }

  readonly #flush = (output: Writable) => {
    const lines = this.#unsent;
    this.#unsent = '';
    this.#flushScheduled = false;
    if (lines !== '' && !output.destroyed) output.write(lines);
  };

  readonly #onerror = (error: Error) => this.onerror?.(error);

  readonly #ondata = (chunk: string) => {
    // Only the new chunk is searched: a long message arriving in many chunks stays linear.
    let from = 0;
    for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', from)) {
      const line = this.#buffered + chunk.slice(from, end);
      this.#buffered = '';
      from = end + 1;
      const text = line.endsWith('\r') ? line.slice(0, -1) : line;
      const message = this.#parse(text);
      if (message && !this.#raw(message, text)) this.onmessage?.(message);
    }
    this.#buffered += chunk.slice(from);
    if (this.#buffered.length > MAX_LINE_CHARS) {
      this.#buffered = '';
      this.onerror?.(
        new Error(`a message longer than ${MAX_LINE_CHARS} characters arrived; closing the connection`),
      );
      this.close().catch(() => undefined);
    }
  };

  /** Offers a message the receiver checks itself to `onrawmessage`; true when it was taken. */
  #raw(message: JSONRPCMessage, line: string): boolean {
    const raw = this.onrawmessage;
    const m = message as Record<string, unknown>;
    return raw !== undefined && this.#checkedByReceiver(m) && raw(m, line);
  }

  #parse(line: string): JSONRPCMessage | undefined {
    if (line.trim() === '') return undefined;
    try {
      const value: unknown = JSON.parse(line);
      if (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        (value as { jsonrpc?: unknown }).jsonrpc === '2.0' &&
        this.#checkedByReceiver(value as Record<string, unknown>)
      )
        return value as JSONRPCMessage;
      return JSONRPCMessageSchema.parse(value);
    } catch (error) {
      this.onerror?.(error as Error);
      return undefined;
    }
  }
}

/**
 * The server side of `warden mcp`: reads the client's messages on stdin, answers on stdout.
 * A drop-in for the SDK's `StdioServerTransport`.
 */
export class StdioLinesServerTransport extends LineTransport {
  readonly #stdin: Readable;
  readonly #stdout: Writable;
  #started = false;

  constructor(options: LineOptions & { stdin?: Readable; stdout?: Writable } = {}) {
    super(options);
    this.#stdin = options.stdin ?? process.stdin;
    this.#stdout = options.stdout ?? process.stdout;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('StdioLinesServerTransport already started');
    this.#started = true;
    this.attach(this.#stdin, this.#stdout);
  }

  async close(): Promise<void> {
    this.detach(this.#stdin, this.#stdout);
    if (this.#stdin.listenerCount('data') === 0) this.#stdin.pause();
    this.onclose?.();
  }
}

/**
 * A server process started before the transport, which adopts it: a `ChildProcess`, or one that
 * `warden mcp`'s launcher started and handed over (which has the same parts).
 */
export interface StartedProcess {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'close', listener: () => void): this;
  once(event: 'close', listener: () => void): this;
}

export interface StdioLinesServerParameters {
  command: string;
  args?: readonly string[];
  env?: Record<string, string>;
  cwd?: string;
  stderr?: 'inherit' | 'ignore';
  /** The server already started (by `warden mcp`, before loading Warden), with these parameters: adopted, not spawned. */
  started?: StartedProcess;
}

/**
 * The client side of an upstream server started as a child process: its stdin and stdout carry
 * the messages. A drop-in for the SDK's `StdioClientTransport`, closing the same way: stdin is
 * ended, then SIGTERM after 2 s, then SIGKILL after 2 s more.
 */
export class StdioLinesClientTransport extends LineTransport {
  readonly #params: StdioLinesServerParameters;
  #process: StartedProcess | undefined;

  constructor(params: StdioLinesServerParameters, options: LineOptions = {}) {
    super(options);
    this.#params = params;
  }

  /** The server's process id once started. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  start(): Promise<void> {
    if (this.#process) return Promise.reject(new Error('StdioLinesClientTransport already started'));
    return new Promise((resolve, reject) => {
      const started = this.#params.started;
      const spawned = started
        ? undefined
        : spawn(this.#params.command, [...(this.#params.args ?? [])], {
            env: this.#params.env ?? {},
            stdio: ['pipe', 'pipe', this.#params.stderr ?? 'inherit'],
            shell: false,
            ...(this.#params.cwd ? { cwd: this.#params.cwd } : {}),
          });
      const child: StartedProcess = started ?? (spawned as StartedProcess);
      this.#process = child;
      child.on('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      const attach = () => {
        this.attach(child.stdout as Readable, child.stdin as Writable);
        resolve();
      };
      if (spawned) spawned.on('spawn', attach);
      else attach(); // already started: its 'spawn' event is past
      child.on('close', () => {
        if (this.#process === child) this.#process = undefined;
        this.onclose?.();
      });
    });
  }

  async close(): Promise<void> {
    const child = this.#process;
    if (!child) return;
    this.#process = undefined;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const within = (ms: number) =>
      Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
    try {
      child.stdin?.end();
    } catch {
      // already gone
    }
    await within(2000);
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      child.kill(signal);
      if (signal === 'SIGTERM') await within(2000);
    }
    this.detach(child.stdout as Readable, child.stdin as Writable);
  }
}
