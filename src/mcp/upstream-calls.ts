// The calls the gateway sends upstream itself (not through the SDK client), and the answer lines they came back in.
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, type JSONRPCError, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { StopHook } from '../execute/run-control.js';
import { type LineSender, withId } from './raw-lines.js';
import { type CheckedByReceiver, StdioLinesClientTransport } from './stdio-lines.js';

const DIRECT_ID_PREFIX = 'warden-';

/** A client's request as it arrived: its JSON line and its id. */
export interface RawRequest {
  line: string;
  id: string | number;
}

/** The answer line each result came in (with the gateway's id in it), for results read off a stdio upstream. */
const answerLines = new WeakMap<object, RawRequest>();

/**
 * The upstream's answer to a {@link Upstream.callTool} as the JSON line it came in, its id
 * changed to `id`; undefined when `result` is not such an answer, as it came (a result the
 * gateway changed, or refused, is re-encoded by whoever sends it).
 */
export function upstreamLine(result: object, id: string | number): string | undefined {
  const answer = answerLines.get(result);
  return answer && withId(answer.line, answer.id, id);
}

/** A response to one of {@link DirectCalls}' requests: taken, and checked, by it alone. */
export const isDirectResponse: CheckedByReceiver = (m) =>
  typeof m.id === 'string' && m.id.startsWith(DIRECT_ID_PREFIX) && m.method === undefined;

/**
 * Requests sent on a connected SDK client's transport without `Client.request` (which parses
 * every result against a schema and arms a timer per call), with ids of their own (`warden-N`)
 * so that they never collide with the client's; their responses are taken off the transport
 * before the client sees them. Warden's execution deadline governs how long a call may take:
 * it aborts `signal`, which cancels the call upstream (`notifications/cancelled`).
 */
export class DirectCalls {
  readonly #transport: Transport;
  readonly #lines: LineSender | undefined;
  readonly #server: string;
  readonly #pending = new Map<
    string,
    { resolve: (result: unknown) => void; reject: (error: Error) => void }
  >();
  /** Where the progress of a call sent with a token of the gateway's (its request id) goes, by that token. */
  readonly #progress = new Map<string, (progress: UpstreamProgress) => void>();
  #next = 0;

  constructor(transport: Transport, server: string) {
    this.#transport = transport;
    this.#server = server;
    const client = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const m = message as Record<string, unknown>;
      if (isDirectResponse(m)) this.#answer(message);
      else if (!this.#progressed(m)) client?.(message, extra);
    };
    // A stdio upstream hands over the line too: the answer can go back downstream as it came.
    if (transport instanceof StdioLinesClientTransport) {
      this.#lines = transport;
      transport.onrawmessage = (message, line) => {
        if (!isDirectResponse(message)) return false;
        this.#answer(message, line);
        return true;
      };
    }
  }

  /** Hands a `notifications/progress` for one of these calls to its listener; false for any other message. */
  #progressed(m: Record<string, unknown>): boolean {
    if (m.method !== 'notifications/progress') return false;
    const params = m.params as Partial<UpstreamProgress> | undefined;
    const token = params?.progressToken;
    const listener = typeof token === 'string' ? this.#progress.get(token) : undefined;
    if (!listener || typeof params?.progress !== 'number') return false;
    listener(params as UpstreamProgress);
    return true;
  }

  /** Settles the call `message` answers (everything else on the connection goes to the SDK client). */
  #answer(message: unknown, line?: string): void {
    const m = message as { id: string; result?: unknown; error?: unknown };
    const pending = this.#pending.get(m.id);
    if (!pending) return; // a late answer to a call already cancelled: nothing waits for it
    this.#pending.delete(m.id);
    const error = m.error as Partial<JSONRPCError['error']> | undefined;
    if (error !== undefined) {
      const code = typeof error?.code === 'number' ? error.code : ErrorCode.InternalError;
      const text = typeof error?.message === 'string' ? error.message : JSON.stringify(error);
      pending.reject(new McpError(code, text, error?.data));
    } else if (m.result !== null && typeof m.result === 'object' && !Array.isArray(m.result)) {
      if (line !== undefined) answerLines.set(m.result, { line, id: m.id });
      pending.resolve(m.result);
    } else {
      pending.reject(
        new McpError(
          ErrorCode.InvalidRequest,
          `MCP server \`${this.#server}\` answered with a malformed response (no result object or error)`,
        ),
      );
    }
  }

  /**
   * Sends one request; `stop` (a signal, or a run's stop hook) cancels it upstream
   * (`notifications/cancelled`). With `onProgress`, the request asks for progress under a token
   * of the gateway's (its id: clients' own tokens may collide upstream), so it is re-encoded,
   * and each progress notification the server sends for it goes to `onProgress` until it settles.
   */
  request(
    method: string,
    params: unknown,
    stop?: AbortSignal | StopHook,
    raw?: RawRequest,
    onProgress?: (progress: UpstreamProgress) => void,
  ): Promise<unknown> {
    const id = `${DIRECT_ID_PREFIX}${++this.#next}`;
    const sentParams = onProgress ? withProgressToken(params, id) : params;
    return new Promise((resolve, reject) => {
      let sent = false;
      let unlisten: (() => void) | undefined;
      const onStop = (reason: unknown) => {
        this.#progress.delete(id);
        if (!this.#pending.delete(id)) return;
        if (!sent) {
          reject(reason); // stopped before it was sent: nothing to cancel upstream
          return;
        }
        const message = String(reason instanceof Error ? reason.message : (reason ?? 'aborted'));
        this.#transport
          .send({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: id, reason: message },
          })
          .catch(() => undefined);
        reject(reason instanceof Error ? reason : new Error(message));
      };
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          unlisten?.();
          this.#progress.delete(id);
          fn(value);
        };
      this.#pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      if (onProgress) this.#progress.set(id, onProgress);
      unlisten = stop === undefined ? undefined : listen(stop, onStop);
      if (!this.#pending.has(id)) return;
      sent = true;
      // The client's bytes with this call's id, when the line allows it; else the message re-encoded.
      const line = raw && this.#lines && !onProgress ? withId(raw.line, raw.id, id) : undefined;
      (line === undefined
        ? this.#transport.send({ jsonrpc: '2.0', id, method, params: sentParams as Record<string, unknown> })
        : (this.#lines as LineSender).sendLine(line)
      ).catch((error: Error) => {
        if (this.#pending.delete(id)) settle(reject)(error);
      });
    });
  }

  /** The connection is gone: every call still waiting fails. */
  closed(): void {
    const error = new McpError(
      ErrorCode.ConnectionClosed,
      `MCP server \`${this.#server}\` closed the connection`,
    );
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#progress.clear();
  }
}

/** A progress notification's params as a server sends them (MCP `notifications/progress`). */
export interface UpstreamProgress {
  progressToken: string | number;
  progress: number;
  total?: number;
  message?: string;
}

/** `params` asking for progress under `token` (in `_meta.progressToken`), the rest as given. */
function withProgressToken(params: unknown, token: string): Record<string, unknown> {
  const p = (params ?? {}) as Record<string, unknown>;
  const meta = (p._meta ?? {}) as Record<string, unknown>;
  return { ...p, _meta: { ...meta, progressToken: token } };
}

/** Listens for `stop` (at once when it has already happened); returns the function that stops listening. */
function listen(stop: AbortSignal | StopHook, onStop: (reason: unknown) => void): () => void {
  if (typeof stop === 'function') return stop(onStop);
  if (stop.aborted) {
    onStop(stop.reason);
    return () => undefined;
  }
  const onAbort = () => onStop(stop.reason);
  stop.addEventListener('abort', onAbort, { once: true });
  return () => stop.removeEventListener('abort', onAbort);
}
