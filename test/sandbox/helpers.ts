import { readdirSync, readFileSync } from 'node:fs';
import { type SandboxPolicyInput, SandboxPolicySchema } from '../../src/policy/sections/sandbox.js';
import { findOnPath } from '../../src/sandbox/bwrap-host.js';
import { type BwrapSandbox, createBwrapSandbox } from '../../src/sandbox/bwrap-sandbox.js';

/** Small limits keep the escape suite fast; each test may override them. */
export const TEST_LIMITS = {
  memory: '64MiB',
  cpu: 0.5,
  pids: 32,
  timeout: '5s',
  output: '64KiB',
  fileSize: '1MiB',
  tmpSize: '8MiB',
} as const;

/** A real bubblewrap sandbox; fails (never skips) when bubblewrap is missing. */
export function testSandbox(policy: SandboxPolicyInput = {}): BwrapSandbox {
  if (!findOnPath('bwrap'))
    throw new Error(
      'bubblewrap is missing: install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`) to run the sandbox suite',
    );
  return createBwrapSandbox(
    SandboxPolicySchema.parse({ ...policy, limits: { ...TEST_LIMITS, ...policy.limits } }),
  );
}

/** Host pids whose command line contains `marker` (processes a run may have left behind). */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Waits (up to `ms`) until no host process has `marker` in its command line; returns those left. */
export async function leftAfter(marker: string, ms = 3000): Promise<number[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = processesWith(marker);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function sh(script: string): string[] {
  return ['/bin/sh', '-c', script];
}
