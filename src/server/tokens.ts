import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { TokenStore } from '../store/store.js';

export const ROLES = ['agent', 'approver', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who a bearer token speaks for. An `agent` principal is bound to one agent name. */
export interface Principal {
  name: string;
  role: Role;
  agent?: string;
}

const TokenEntrySchema = z
  .object({
    name: z.string().min(1),
    role: z.enum(ROLES),
    agent: z.string().min(1).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'expected the hex SHA-256 of the token')
      .optional(),
    token: z.string().min(16, 'expected a token of at least 16 characters').optional(),
  })
  .strict()
  .refine(
    (t) => (t.sha256 === undefined) !== (t.token === undefined),
    'expected exactly one of `sha256` or `token`',
  )
  .refine(
    (t) => (t.role === 'agent') === (t.agent !== undefined),
    'an `agent` token names its `agent`; other roles do not',
  );

const TokensFileSchema = z.object({ tokens: z.array(TokenEntrySchema) }).strict();

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Looks tokens up by their SHA-256, so the file need not hold them in clear. */
export class TokenRegistry {
  private readonly byHash = new Map<string, Principal>();
  /** Tokens kept in the store (`warden token create --db`), replaced whenever the store's list changes. */
  private stored = new Map<string, Principal>();

  constructor(entries: ReadonlyArray<z.infer<typeof TokenEntrySchema>>) {
    for (const e of entries) {
      const principal: Principal = { name: e.name, role: e.role, ...(e.agent ? { agent: e.agent } : {}) };
      this.byHash.set(e.sha256 ?? hashToken(e.token as string), principal);
    }
  }

  /** Adds a token held only in memory (e.g. the demo agent's); it is never written anywhere. */
  register(token: string, principal: Principal): void {
    this.byHash.set(hashToken(token), principal);
  }

  authenticate(bearer: string | undefined): Principal | undefined {
    if (!bearer) return undefined;
    const hash = hashToken(bearer);
    return this.byHash.get(hash) ?? this.stored.get(hash);
  }

  /**
   * Follows the store's tokens: created and revoked ones are seen without a restart (a revoked
   * token stops working as soon as this server hears of it). Returns a function that stops.
   */
  follow(store: TokenStore): () => void {
    return store.watch((tokens) => {
      this.stored = new Map(
        tokens.map((t) => [t.sha256, { name: t.name, role: t.role, ...(t.agent ? { agent: t.agent } : {}) }]),
      );
    });
  }

  get size(): number {
    return this.byHash.size + this.stored.size;
  }
}

export function loadTokens(file: string): TokenRegistry {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `cannot read tokens file \`${file}\`: ${(error as Error).message}; create one with \`warden token create\``,
    );
  }
  const parsed = TokensFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`tokens file \`${file}\`: ${issue?.path.join('.') || '(file)'}: ${issue?.message}`);
  }
  return new TokenRegistry(parsed.data.tokens);
}

/**
 * Adds a new random token to the tokens file (created with mode 0600), storing only its hash.
 * Returns the token: it is shown once.
 */
export function createToken(file: string, principal: Principal): string {
  const token = `wdn_${randomBytes(24).toString('base64url')}`;
  const current = existsSync(file)
    ? TokensFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')))
    : { tokens: [] as Array<z.infer<typeof TokenEntrySchema>> };
  current.tokens.push({ ...principal, sha256: hashToken(token) });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/**
 * Removes from the tokens file the tokens held by `name`, or the one `token` (matched by its
 * hash, or in clear for an entry written by hand). Returns how many were removed. The file is
 * replaced whole (written beside it, then renamed), so a server reading it never sees half of it.
 */
export function revokeTokenInFile(file: string, which: { name?: string; token?: string }): number {
  if (which.name === undefined && which.token === undefined) {
    throw new TypeError('revoke needs the token holder `name` or the `token`');
  }
  const current = TokensFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const hash = which.token === undefined ? undefined : hashToken(which.token);
  const kept = current.tokens.filter((e) =>
    which.name !== undefined
      ? e.name !== which.name
      : e.sha256 !== hash && (e.token === undefined || hashToken(e.token) !== hash),
  );
  const removed = current.tokens.length - kept.length;
  if (removed > 0) {
    const next = `${file}.${process.pid}.tmp`;
    writeFileSync(next, `${JSON.stringify({ tokens: kept }, null, 2)}\n`, { mode: 0o600 });
    renameSync(next, file);
  }
  return removed;
}
