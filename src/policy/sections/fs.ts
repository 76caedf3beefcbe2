import { z } from 'zod';

/**
 * Names and globs no agent may read, write, list or delete, matched case-insensitively against
 * every segment of the path (a pattern with a `/` against consecutive segments), before and
 * after symlinks are resolved.
 */
export const DEFAULT_PROTECTED = [
  '.env',
  '.env.*',
  'config.json',
  'secrets.yaml',
  'secrets.yml',
  'secrets.json',
  'id_rsa*',
  'id_dsa*',
  'id_ecdsa*',
  'id_ed25519*',
  '*.pem',
  '*.key',
  '*.p12',
  '*.pfx',
  '.ssh',
  '.gnupg',
  '.aws',
  '.netrc',
  '.pgpass',
  '.npmrc',
  '.git/hooks',
  '.git/config',
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.zshrc',
  '.zshenv',
  '.zprofile',
  '.zlogin',
  '.profile',
] as const;

const MiB = 1024 * 1024;

/** Policy section `fs` (see docs/policy.md): the file guard and Warden's file executor. */
export const FsPolicySchema = z
  .object({
    roots: z
      .array(z.string().min(1).startsWith('/', 'expected an absolute path such as `/workspace`'))
      .default([])
      .describe(
        'directories fs.* may touch, after symlinks are resolved; default none (the agent’s path grants alone)',
      ),
    protected: z
      .array(z.string().min(1))
      .default([...DEFAULT_PROTECTED])
      .describe('protected names/globs; listing it replaces the defaults'),
    protectedExtra: z
      .array(z.string().min(1))
      .default([])
      .describe('protected names/globs added to `protected`'),
    maxReadBytes: z
      .number()
      .int()
      .min(1)
      .default(10 * MiB),
    maxWriteBytes: z
      .number()
      .int()
      .min(1)
      .default(10 * MiB),
    maxListEntries: z.number().int().min(1).default(10_000),
    deleteApproval: z
      .boolean()
      .default(true)
      .describe('fs.delete is critical and needs explicit approval unless a rule allows it'),
    hardLinks: z
      .enum(['refuse', 'allow'])
      .default('refuse')
      .describe(
        'fs.read of a regular file with more than one name (a hard link, which may be a file outside the roots): `refuse` (default, `fs.hard-link`) or `allow` for trees built with hard links (pnpm stores, `git clone --local`)',
      ),
  })
  .strict()
  .prefault({});

export type FsPolicy = z.infer<typeof FsPolicySchema>;
