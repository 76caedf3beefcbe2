import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolRequest,
  type CallToolResult,
  ErrorCode,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallExtra } from './gateway.js';
import { isLineSender } from './raw-lines.js';
import { type CheckedByReceiver, StdioLinesServerTransport } from './stdio-lines.js';
import { upstreamLine } from './upstream-calls.js';

type Handler = (params: CallToolRequest['params'], extra: CallExtra) => Promise<CallToolResult>;

/**
 * The messages {@link serveToolCallsDirectly} answers and checks itself (`tools/call` requests):
 * a transport may hand them on without the SDK's schema parse.
 */
export const toolCallsCheckedHere: CheckedByReceiver = (m) =>
  m.method === 'tools/call' && (typeof m.id === 'string' || typeof m.id === 'number');

/**
 * Answers the `tools/call` requests arriving on `transport` without the SDK's per-request
 * machinery (schema parsing of every request and result, timers, handler lookup), which cost
 * more than Warden's whole pipeline on the gateway's hot path; every other message goes on to
 * the SDK `Server` already connected to `transport`, as before. Cancellation
 * (`notifications/cancelled`) of a call answered here aborts it, as the SDK would.
 *
 * On a stdio line transport this is the raw fast path: the request's line goes on to the
 * handler (and from there upstream, its id swapped, see `Upstream.callTool`), and an upstream
 * answer the gateway let through unchanged goes back as the bytes it came in, the client's id
 * spliced in; whatever the gateway changed or refused is encoded anew.
 *
 * Call after `server.connect(transport)`.
 */
export function serveToolCallsDirectly(transport: Transport, handle: Handler): void {
  const sdk = transport.onmessage;
  const inFlight = new Map<string | number, AbortController>();
  const lines = isLineSender(transport) ? transport : undefined;
  const reply = (message: JSONRPCMessage) => transport.send(message).catch(() => undefined);
  const answer = (id: string | number, result: CallToolResult) => {
    const line = lines && upstreamLine(result, id);
    return line === undefined
      ? reply({ jsonrpc: '2.0', id, result })
      : lines?.sendLine(line).catch(() => undefined);
  };

  const call = (m: Record<string, unknown>, line?: string) => {
    const id = m.id as string | number;
    const params = callParams(m.params);
    if (typeof params === 'string') {
      void reply({ jsonrpc: '2.0', id, error: { code: ErrorCode.InvalidParams, message: params } });
      return;
    }
    const controller = new AbortController();
    inFlight.set(id, controller);
    const extra: CallExtra = {
      signal: controller.signal,
      requestId: id,
      sendNotification: (notification) =>
        transport.send({ jsonrpc: '2.0', ...notification } as JSONRPCMessage),
      ...(line === undefined ? {} : { requestLine: line }),
    };
    handle(params, extra)
      .then(
        (result) => (controller.signal.aborted ? undefined : answer(id, result)),
        (error: unknown) =>
          controller.signal.aborted
            ? undefined
            : reply({
                jsonrpc: '2.0',
                id,
                error: {
                  code: ErrorCode.InternalError,
                  message: String((error as Error)?.message ?? error),
                },
              }),
      )
      .finally(() => inFlight.delete(id));
  };

  if (transport instanceof StdioLinesServerTransport) {
    transport.onrawmessage = (m, line) => {
      if (!toolCallsCheckedHere(m)) return false;
      call(m, line);
      return true;
    };
  }
  transport.onmessage = (message, extra) => {
    const m = message as Record<string, unknown> & { params?: unknown };
    if (toolCallsCheckedHere(m)) {
      call(m);
      return;
    }
    if (m.method === 'notifications/cancelled') {
      const requestId = (m.params as { requestId?: string | number } | undefined)?.requestId;
      const controller = requestId === undefined ? undefined : inFlight.get(requestId);
      if (controller) {
        controller.abort((m.params as { reason?: unknown }).reason ?? 'cancelled by the client');
        return;
      }
    }
    sdk?.(message, extra);
  };
}

/** The params of a `tools/call`, or what is wrong with them (as the SDK's schema would refuse them). */
function callParams(params: unknown): CallToolRequest['params'] | string {
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    return 'Invalid params: `tools/call` needs an object with `name`';
  const p = params as { name?: unknown; arguments?: unknown };
  if (typeof p.name !== 'string') return 'Invalid params: `name` must be a string';
  if (
    p.arguments !== undefined &&
    (p.arguments === null || typeof p.arguments !== 'object' || Array.isArray(p.arguments))
  )
    return 'Invalid params: `arguments` must be an object';
  return p as CallToolRequest['params'];
}
