import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Sandbox } from './sandbox.js';

/**
 * What every `Sandbox` backend must do, run against each implementation (bubblewrap always;
 * Docker where an engine answers). `make` returns the backend, or a message saying why this host
 * cannot run it (each case then reports itself skipped with that message).
 */
export function sandboxConformance(name: string, make: () => Promise<Sandbox | string>): void {
  describe(`Sandbox conformance: ${name}`, () => {
    let made: Promise<Sandbox | string> | undefined;
    const get = () => {
      made ??= make();
      return made;
    };
    after(async () => {
      const box = await get();
      if (typeof box !== 'string') await box.close();
    });
    const it = (title: string, fn: (box: Sandbox) => Promise<void>) =>
      test(title, async (t) => {
        const box = await get();
        if (typeof box === 'string') return t.skip(box);
        await fn(box);
      });

    it('returns the exit code and both streams', async (box) => {
      const r = await box.run({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
      assert.equal(r.exitCode, 3);
      assert.equal(r.stdout.text, 'out\n');
      assert.equal(r.stderr.text, 'err\n');
      assert.deepEqual(r.violations, []);
    });

    it('passes arguments exactly: quotes, newlines, dollars, backquotes, empty strings', async (box) => {
      const args = ["it's", 'two\nlines', '$HOME', '`id`', '"q"', '', '\\n', ' lead'];
      const r = await box.run({ argv: ['printf', '<%s>', ...args] });
      assert.equal(r.stdout.text, args.map((a) => `<${a}>`).join(''));
    });

    it('passes stdin to the command', async (box) => {
      const r = await box.run({ argv: ['python3', '-'], stdin: 'print(6 * 7)' });
      assert.equal(r.stdout.text, '42\n');
    });

    it('runs as uid 65534 on a read-only root with a writable workspace', async (box) => {
      const r = await box.run({
        argv: [
          'sh',
          '-c',
          'id -u; touch /pwned 2>/dev/null || echo read-only; echo ok > note && cat note; pwd',
        ],
      });
      assert.equal(r.stdout.text, '65534\nread-only\nok\n/workspace\n');
    });

    it('has no network', async (box) => {
      const r = await box.run({
        argv: [
          'python3',
          '-c',
          'import urllib.request\ntry:\n urllib.request.urlopen("http://example.com", timeout=3); print("FETCHED")\nexcept Exception: print("no network")',
        ],
      });
      assert.equal(r.stdout.text, 'no network\n');
    });

    it('kills the run at its deadline and says so', async (box) => {
      const r = await box.run({ argv: ['sleep', '60'], deadline: Date.now() + 500 });
      assert.deepEqual(r.violations, ['timeout']);
      assert.equal(r.exitCode, null);
    });

    it('cuts an output flood at the cap', async (box) => {
      const r = await box.run({ argv: ['yes'] });
      assert.deepEqual(r.violations, ['output-cap']);
      assert.equal(r.stdout.truncated, true);
    });
  });
}
