import { timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of two strings (false when either is missing or lengths differ). */
export function equalSecrets(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
