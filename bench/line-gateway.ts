// The gateway floor of the MCP bench: the leanest `warden mcp` this design allows, keeping the
// guarantees of the real one. Lines are framed by hand, as in line-proxy.ts; every message but
// `tools/call` is proxied as the line proxy does (requests get ids of its own). A `tools/call`
// runs through the whole Warden pipeline on the SQLite store `warden mcp` opens (the decision
// committed before the request goes upstream, the result record riding the next commit); the
// request goes upstream as the bytes it came in with only its id swapped, the result is reviewed
// (`secrets.toolResults`) and learnt (taint, SPEC §2b), and goes back as the bytes it came in.
// Its observations are stored as the real gateway's own session's are: riding the audit's next
// commit (`durable: 'next-commit'`). Left out, and not free in the real gateway: tool pins (a Map
// lookup per call once approved), several-action mappings, progress.
// No MCP SDK object on the path.
// `node line-gateway.js <policy.yaml> <db-file> <agent> <command> [args…]`
import { spawn } from 'node:child_process';
import { reviewOutput } from '../src/adapters/core.js';
import { openStore } from '../src/cli/common.js';
import type { Reason } from '../src/contract/decision.js';
import { withId } from '../src/mcp/raw-lines.js';
import { createWarden } from '../src/pipeline/warden.js';
import { loadPolicyFile } from '../src/policy/load.js';
import { lines } from './line-framing.js';

const [policyFile, dbFile, agent, command, ...args] = process.argv.slice(2);
if (!policyFile || !dbFile || !agent || !command) {
  process.stderr.write('usage: line-gateway <policy.yaml> <db-file> <agent> <command> [args…]\n');
  process.exit(2);
}
const SERVER = 'everything';
const session = `mcp-bench-${process.pid}`;

interface ToolResult {
  content?: { type: string; text?: string; resource?: { text?: unknown } }[];
  structuredContent?: unknown;
}
interface Pending {
  resolve: (result: ToolResult) => void;
  reject: (error: Error) => void;
}

const upstream = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
upstream.on('exit', (code) => process.exit(code ?? 1));
const policy = loadPolicyFile(policyFile);
const store = await openStore(dbFile, { sync: policy.config.audit.sync, auditWriter: 'inline' });
const warden = await createWarden({ policy, store });

/** Requests proxied as they are: the gateway's id → the client's. */
const proxied = new Map<string, unknown>();
/** Tool calls sent upstream, by the gateway's id. */
const calls = new Map<string, Pending>();
/** The line each upstream result came in (the result, parsed once, is what Warden records and reviews). */
const answerLines = new WeakMap<object, string>();
let next = 0;

/** `message` (parsed from `line`) as a line with id `to`: spliced when the id is where encoders put it. */
function reId(line: string, message: Record<string, unknown>, to: unknown): string {
  const from = message.id as string | number;
  return (
    (typeof to === 'string' || typeof to === 'number' ? withId(line, from, to) : undefined) ??
    JSON.stringify({ ...message, id: to })
  );
}

lines(process.stdin, (line) => {
  const message = JSON.parse(line) as Record<string, unknown>;
  if (message.method === 'tools/call' && message.id !== undefined) {
    void toolCall(line, message);
    return;
  }
  if (message.id !== undefined && message.method) {
    const id = `p${++next}`;
    proxied.set(id, message.id);
    upstream.stdin.write(`${reId(line, message, id)}\n`);
    return;
  }
  upstream.stdin.write(`${line}\n`);
});

lines(upstream.stdout, (line) => {
  const message = JSON.parse(line) as Record<string, unknown>;
  const id = message.id;
  if (typeof id === 'string' && message.method === undefined) {
    const call = calls.get(id);
    if (call) {
      calls.delete(id);
      const result = message.result;
      if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
        answerLines.set(result, line);
        call.resolve(result as ToolResult);
      } else call.reject(new Error(`MCP server \`${SERVER}\` answered: ${JSON.stringify(message.error)}`));
      return;
    }
    if (proxied.has(id)) {
      const client = proxied.get(id);
      proxied.delete(id);
      process.stdout.write(`${reId(line, message, client)}\n`);
      return;
    }
  }
  process.stdout.write(`${line}\n`);
});

async function toolCall(line: string, message: Record<string, unknown>): Promise<void> {
  const clientId = message.id as string | number;
  const params = (message.params ?? {}) as { name?: unknown; arguments?: Record<string, unknown> };
  const tool = String(params.name);
  const id = `g${++next}`;
  const result = await warden.run<ToolResult>(
    {
      agent,
      type: `mcp.${SERVER}.${tool}`,
      params: params.arguments ?? {},
      description: `MCP tool \`${tool}\` of server \`${SERVER}\``,
      session,
    },
    (_action, execution) =>
      new Promise<ToolResult>((resolve, reject) => {
        let unlisten: (() => void) | undefined;
        calls.set(id, {
          resolve: (output) => {
            unlisten?.();
            resolve(output);
          },
          reject: (error) => {
            unlisten?.();
            reject(error);
          },
        });
        // Stopped (deadline, kill): the call is cancelled upstream, as the gateway's DirectCalls does.
        unlisten = execution.onStop?.((reason) => {
          if (!calls.delete(id)) return;
          const text = reason instanceof Error ? reason.message : String(reason ?? 'aborted');
          const cancel = {
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: id, reason: text },
          };
          upstream.stdin.write(`${JSON.stringify(cancel)}\n`);
          reject(reason instanceof Error ? reason : new Error(text));
        });
        if (calls.has(id)) upstream.stdin.write(`${reId(line, message, id)}\n`);
      }),
    { resultRecord: 'next-commit' },
  );
  if (result.status !== 'completed') {
    const reason = result.reason ?? { code: 'execute.failed', stage: 'execute', message: 'not completed' };
    return refuse(clientId, reason as Reason);
  }
  const output = result.output as ToolResult;
  const reviewed = reviewOutput(warden, output, { toolResult: true });
  if ('refused' in reviewed) return refuse(clientId, reviewed.refused);
  try {
    await warden.observe(
      { agent, session, source: `mcp:${SERVER}/${tool}`, content: resultContent(output) },
      { durable: 'next-commit' },
    );
  } catch (error) {
    return refuse(clientId, {
      code: 'taint.observe-failed',
      stage: 'execute',
      message: `the result could not be recorded as read (${(error as Error).message}); it is withheld`,
    });
  }
  // A result the review changed is re-encoded; a clean one goes back as the bytes it came in.
  const answer = reviewed.output === output ? answerLines.get(output) : undefined;
  const spliced = answer === undefined ? undefined : withId(answer, id, clientId);
  process.stdout.write(
    `${spliced ?? JSON.stringify({ jsonrpc: '2.0', id: clientId, result: reviewed.output })}\n`,
  );
}

function refuse(id: string | number, reason: Reason): void {
  const result = {
    content: [{ type: 'text', text: `Refused by Warden (${reason.code}): ${reason.message}` }],
    isError: true,
    _meta: { 'warden/reason': reason },
  };
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
}

/** The text a model reads from a tool result (as the gateway's `resultContent`). */
function resultContent(output: ToolResult): string {
  const parts: string[] = [];
  for (const item of output.content ?? []) {
    if (item.type === 'text') parts.push(String(item.text));
    else if (item.type === 'resource' && item.resource && 'text' in item.resource)
      parts.push(String(item.resource.text));
  }
  if (output.structuredContent !== undefined) parts.push(JSON.stringify(output.structuredContent));
  return parts.join('\n').slice(0, 4_000_000);
}

process.stdin.on('end', () => {
  upstream.removeAllListeners('exit');
  upstream.kill();
  void warden
    .close()
    .then(() => store.close())
    .finally(() => process.exit(0));
});
