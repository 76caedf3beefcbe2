import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ROOT } from '../helpers/cli.js';

export const FILESYSTEM_SERVER = join(
  ROOT,
  'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js',
);
export const EVERYTHING_SERVER = join(
  ROOT,
  'node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);
export const TINY_SERVER = join(ROOT, 'test/fixtures/mcp-tiny-server.mjs');
export const CLI_MAIN = join(ROOT, 'src/cli/main.ts');

/** An SDK client connected over stdio to `command args…`. */
export async function stdioClient(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  setup?: (client: Client) => void,
): Promise<Client> {
  const client = new Client(
    { name: 'warden-test', version: '1.0.0' },
    setup ? { capabilities: { elicitation: { form: {} } } } : {},
  );
  setup?.(client);
  await client.connect(
    new StdioClientTransport({
      command,
      args,
      env: { ...(process.env as Record<string, string>), ...env },
      cwd: ROOT,
      stderr: 'pipe',
    }),
  );
  return client;
}

/** An SDK client speaking to `warden mcp …` (from source, as a user would run it). */
export function gatewayClient(
  args: string[],
  env: Record<string, string> = {},
  setup?: (client: Client) => void,
): Promise<Client> {
  return stdioClient(process.execPath, ['--import', 'tsx', CLI_MAIN, 'mcp', ...args], env, setup);
}

export function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
}

export function reasonCode(result: CallToolResult): string | undefined {
  const reason = result._meta?.['warden/reason'] as { code?: string } | undefined;
  return reason?.code;
}
