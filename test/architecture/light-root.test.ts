import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs scripts/check-light-root.mjs on `entry`: its exit code and what it printed. */
async function checkLightRoot(entry: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['scripts/check-light-root.mjs', entry], {
      cwd: root,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe("import 'warden'", () => {
  it('loads neither hono, the MCP SDK nor dockerode', async () => {
    const { code, output } = await checkLightRoot('src/index.ts');
    assert.equal(code, 0, output);
  });

  // The check must see each package when an entry does load it, or the test above proves nothing.
  for (const [entry, packages] of [
    ['src/server/index.ts', ['hono', '@hono/node-server']],
    ['src/mcp/index.ts', ['@modelcontextprotocol/sdk']],
    ['src/sandbox/docker-sandbox.ts', ['dockerode']],
  ] as const) {
    it(`sees ${packages.join(' and ')} loaded by ${entry}`, async () => {
      const { code, output } = await checkLightRoot(entry);
      assert.equal(code, 1, output);
      for (const name of packages) assert.match(output, new RegExp(`^  ${name} \\(`, 'm'));
    });
  }
});
