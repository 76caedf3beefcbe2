// The hop floor of the MCP bench: a bare JSON-RPC proxy over stdio, without Warden. It starts
// the server named by its arguments, parses each line both ways and gives requests ids of its own
// (as any proxy multiplexing one upstream must), so it does what the gateway must do at least.
// `node line-proxy.js <command> [args…]`; or `node line-proxy.js --fds` with the server already
// started on fds 3 (its stdin) and 4 (its stdout), as bin/warden hands one to Warden
// (line-launcher.sh): the start floor of that design.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { lines } from './line-framing.js';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: line-proxy <command> [args…] | line-proxy --fds\n');
  process.exit(2);
}
const upstream =
  command === '--fds'
    ? {
        stdin: createWriteStream('', { fd: 3 }),
        stdout: createReadStream('', { fd: 4 }),
        kill: () => process.exit(0),
        on: (_event: 'exit', _listener: (code: number | null) => void) => undefined,
      }
    : spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const ids = new Map<string, unknown>();
let next = 0;

lines(process.stdin, (line) => {
  const message = JSON.parse(line) as { id?: unknown; method?: string };
  if (message.id !== undefined && message.method) {
    const id = `p${++next}`;
    ids.set(id, message.id);
    message.id = id;
  }
  upstream.stdin.write(`${JSON.stringify(message)}\n`);
});
lines(upstream.stdout, (line) => {
  const message = JSON.parse(line) as { id?: unknown; method?: string };
  if (typeof message.id === 'string' && !message.method && ids.has(message.id)) {
    const id = message.id;
    message.id = ids.get(id);
    ids.delete(id);
  }
  process.stdout.write(`${JSON.stringify(message)}\n`);
});
process.stdin.on('end', () => upstream.kill());
upstream.on('exit', (code) => process.exit(code ?? 1));
