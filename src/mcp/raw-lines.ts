/**
 * The raw side of the `tools/call` fast path: a JSON-RPC message forwarded as the bytes it came
 * in, with only its top-level `id` swapped, so that a proxy neither re-encodes requests nor
 * results (re-encoding a result costs more than the hop itself).
 */

/** A transport that can send a message already encoded: the stdio line transports. */
export interface LineSender {
  sendLine(json: string): Promise<void>;
}

export function isLineSender(transport: unknown): transport is LineSender {
  return typeof (transport as Partial<LineSender> | null)?.sendLine === 'function';
}

const COMMA = 44;
const OPEN_BRACE = 123;
const HEADS = ['{', '{"jsonrpc":"2.0",'];

/**
 * `line` (one JSON-RPC message, as JSON) with its top-level `id` changed from `from` to `to`, the
 * rest byte for byte; undefined when the id is not where compact encoders put it (the last member,
 * as the MCP SDK writes it, or the first, alone or after `"jsonrpc":"2.0"`), and the caller then
 * re-encodes the message.
 *
 * Hand-written rather than parsed: locating the member costs two string comparisons. It is exact
 * because the key's opening quote follows `{` or `,` (so it is not inside a string) and the value
 * is followed by the object's end or a `,`: the member found is one of the message's own.
 *
 * @example
 * withId('{"result":{},"jsonrpc":"2.0","id":"warden-7"}', 'warden-7', 3)
 * // → '{"result":{},"jsonrpc":"2.0","id":3}'
 */
export function withId(line: string, from: string | number, to: string | number): string | undefined {
  const old = `"id":${JSON.stringify(from)}`;
  const now = `"id":${JSON.stringify(to)}`;
  const tail = line.length - old.length - 1;
  if (tail > 0 && line.endsWith('}') && line.startsWith(old, tail)) {
    const before = line.charCodeAt(tail - 1);
    if (before === COMMA || before === OPEN_BRACE) return `${line.slice(0, tail)}${now}}`;
  }
  for (const head of HEADS) {
    if (!line.startsWith(head) || !line.startsWith(old, head.length)) continue;
    const after = line.charCodeAt(head.length + old.length);
    if (after === COMMA) return `${head}${now}${line.slice(head.length + old.length)}`;
  }
  return undefined;
}
