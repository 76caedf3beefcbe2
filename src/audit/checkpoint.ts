import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * A signed statement that the audit chain's record `seq` has hash `hash`: an anchor kept apart
 * from the store (a file, a bucket), verifiable offline with the public key alone. A chain that
 * ends before a checkpoint's `seq`, or holds another hash there, was cut or rewritten.
 */
export interface Checkpoint {
  v: 1;
  seq: number;
  /** SHA-256 (hex) chain hash of record `seq`. */
  hash: string;
  at: string;
  /** First 16 hex digits of the SHA-256 of the public key (SPKI DER): which key signed it. */
  keyId: string;
  /** Ed25519 signature (base64) of the canonical JSON of every other field. */
  sig: string;
}

/** A new Ed25519 key pair, as PEM (PKCS#8 private, SPKI public). */
export function generateCheckpointKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Reads a PEM private key; throws what to fix when it is not an Ed25519 key. */
export function checkpointSigner(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(
      `checkpoint key is ${key.asymmetricKeyType}, expected ed25519: make one with \`warden audit keygen\``,
    );
  }
  return key;
}

/** Reads a PEM public key (or derives it from a private one). */
export function checkpointVerifier(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`checkpoint public key is ${key.asymmetricKeyType}, expected ed25519`);
  }
  return key;
}

export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Signs the head `{ seq, hash }`. */
export function signCheckpoint(
  key: KeyObject,
  head: { seq: number; hash: string },
  at = new Date(),
): Checkpoint {
  const body = { v: 1 as const, seq: head.seq, hash: head.hash, at: at.toISOString(), keyId: keyIdOf(key) };
  return { ...body, sig: sign(null, Buffer.from(canonicalJson(body)), key).toString('base64') };
}

/** True when `cp` is well-formed and signed by `key`. */
export function checkpointSigned(key: KeyObject, cp: unknown): cp is Checkpoint {
  if (cp === null || typeof cp !== 'object') return false;
  const { sig, ...body } = cp as Partial<Checkpoint>;
  if (typeof sig !== 'string' || typeof body.seq !== 'number' || typeof body.hash !== 'string') return false;
  try {
    return verify(null, Buffer.from(canonicalJson(body)), key, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}
