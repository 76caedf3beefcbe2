import { z } from 'zod';

/**
 * The policy's `sandbox` section: how `shell.exec` and `code.exec` run (docs/sandbox.md).
 * Every field has its default here; `docs/policy.md` documents the same fields.
 */

const SIZE_UNITS = { b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** A byte size: a number of bytes or a string such as `512MiB`, `64m`, `1GiB`. */
export const SizeSchema = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(
      /^\d+(\.\d+)?\s*(b|k|kib|m|mib|g|gib)$/i,
      'expected a size such as `512MiB`, `64MiB` or `1GiB` (or a number of bytes)',
    ),
]);

/** Bytes of a `SizeSchema` value. */
export function sizeBytes(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(value);
  if (!m) throw new Error(`invalid size \`${value}\`: expected a number and a unit such as \`512MiB\``);
  return Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] as string).toLowerCase() as keyof typeof SIZE_UNITS]);
}

const SandboxDurationSchema = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m)$/, 'expected a duration such as `30s` or `500ms`'),
]);

export const SandboxLimitsSchema = z
  .object({
    memory: SizeSchema.default('512MiB').describe(
      'memory of the whole process tree, no swap; default 512MiB',
    ),
    cpu: z
      .number()
      .min(0.01)
      .max(64)
      .default(0.5)
      .describe('CPU share in cores (0.5 = half of one core); default 0.5'),
    pids: z.number().int().min(4).max(100_000).default(64).describe('processes and threads; default 64'),
    timeout: SandboxDurationSchema.default('30s').describe(
      'wall clock; the whole tree is killed at it; default 30s',
    ),
    output: SizeSchema.default('1MiB').describe(
      'per stream (stdout, stderr); then the run is killed; default 1MiB',
    ),
    fileSize: SizeSchema.default('64MiB').describe(
      'largest file the command may write (RLIMIT_FSIZE); default 64MiB',
    ),
    tmpSize: SizeSchema.default('64MiB').describe(
      'size of the private /tmp and of the fresh /workspace (each a tmpfs); default 64MiB',
    ),
  })
  .strict();

export const SandboxPolicySchema = z
  .object({
    backend: z
      .enum(['auto', 'bwrap', 'docker', 'none'])
      .default('auto')
      .describe('auto picks the strongest available: bwrap, then docker; none disables sandboxed execution'),
    limits: SandboxLimitsSchema.prefault({}),
    unenforceable: z
      .enum(['refuse', 'report'])
      .default('refuse')
      .describe(
        'a limit the host cannot enforce: refuse every run (default), or run and list it under `unenforced` in each result',
      ),
    workspace: z
      .string()
      .min(1)
      .optional()
      .describe(
        'host directory bound read-write at /workspace; default a fresh directory per run, removed after it',
      ),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'),
        z.string(),
      )
      .default({})
      .describe('environment variables set inside (the host environment is never passed); default none'),
    network: z
      .object({
        allow: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'domains reachable through the filtering proxy (`example.com`, `*.example.com`); default none',
          ),
        ports: z
          .array(z.number().int().min(1).max(65535))
          .min(1)
          .default([80, 443])
          .describe('destination ports the proxy allows; default 80 and 443'),
      })
      .strict()
      .prefault({}),
    warm: z
      .number()
      .int()
      .min(0)
      .max(16)
      .default(2)
      .describe(
        'sandboxes kept started, each waiting for its command, to take set-up off the start of a run; 0 starts each run cold; default 2',
      ),
    seccomp: z
      .boolean()
      .default(true)
      .describe(
        'block dangerous syscalls (ptrace, mount, bpf, …) with a seccomp filter where the host can build one',
      ),
    docker: z
      .object({
        socket: z.string().min(1).default('/var/run/docker.sock'),
        image: z.string().min(1).default('python:3.12-slim').describe('image for commands and code'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type SandboxPolicy = z.infer<typeof SandboxPolicySchema>;
export type SandboxPolicyInput = z.input<typeof SandboxPolicySchema>;
