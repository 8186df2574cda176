import { ClerkAuthConfigError } from './errors.js';

/** An RSA public key as a JWK, ready for `@clerk/backend`'s `verifyJwt`. @internal */
export interface RsaPublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  alg: 'RS256';
  kid?: string;
}

const RSA_ENCRYPTION_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]; // 1.2.840.113549.1.1.1

/**
 * Parses a PEM (SPKI, `-----BEGIN PUBLIC KEY-----`) RSA public key into a JWK, synchronously, so a
 * bad key fails at creation. Any modulus size works (Clerk's own PEM loader assumes 2048 bits).
 * Escaped newlines (`\n`, common in environment variables) are accepted.
 *
 * @internal
 */
export function parseJwtKey(pem: string): RsaPublicJwk {
  const fix =
    'Set CLERK_JWT_KEY to the PEM public key from the Clerk Dashboard (API keys → Show JWT public key → PEM Public Key), including the BEGIN/END lines.';
  const normalized = pem.replace(/\\n/g, '\n').trim();
  const match = /^-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----$/.exec(normalized);
  if (!match) {
    if (normalized.includes('PRIVATE KEY')) {
      throw new ClerkAuthConfigError(`The JWT key is a private key. Never deploy a private key; ${fix}`);
    }
    throw new ClerkAuthConfigError(`The JWT key is not a PEM public key. ${fix}`);
  }
  const body = (match[1] ?? '').replace(/\s+/g, '');
  let der: Uint8Array;
  try {
    der = base64ToBytes(body);
  } catch {
    throw new ClerkAuthConfigError(`The JWT key's PEM body is not valid base64. ${fix}`);
  }
  try {
    return spkiToJwk(der);
  } catch (error) {
    throw new ClerkAuthConfigError(`The JWT key does not parse as an RSA public key (${(error as Error).message}). ${fix}`);
  }
}

function spkiToJwk(der: Uint8Array): RsaPublicJwk {
  const reader = new DerReader(der);
  const spki = reader.child(0x30);
  if (!reader.done()) throw new Error('trailing bytes');
  const algorithm = spki.child(0x30);
  const oid = algorithm.read(0x06);
  if (oid.length !== RSA_ENCRYPTION_OID.length || !oid.every((b, i) => b === RSA_ENCRYPTION_OID[i])) {
    throw new Error('not an RSA key; Clerk signs with RS256');
  }
  const bitString = spki.read(0x03);
  if (bitString[0] !== 0) throw new Error('bad BIT STRING');
  const rsa = new DerReader(bitString.subarray(1)).child(0x30);
  const n = stripLeadingZeros(rsa.read(0x02));
  const e = stripLeadingZeros(rsa.read(0x02));
  if (n.length < 256) throw new Error(`the modulus has ${n.length * 8} bits; at least 2048 are required`);
  return { kty: 'RSA', n: bytesToBase64Url(n), e: bytesToBase64Url(e), alg: 'RS256' };
}

class DerReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  done(): boolean {
    return this.offset === this.bytes.length;
  }

  read(tag: number): Uint8Array {
    if (this.bytes[this.offset] !== tag) throw new Error(`expected DER tag 0x${tag.toString(16)}`);
    this.offset += 1;
    let length = this.bytes[this.offset++];
    if (length === undefined) throw new Error('truncated');
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4) throw new Error('bad DER length');
      length = 0;
      for (let i = 0; i < count; i++) {
        const b = this.bytes[this.offset++];
        if (b === undefined) throw new Error('truncated');
        length = length * 256 + b;
      }
    }
    const end = this.offset + length;
    if (end > this.bytes.length) throw new Error('truncated');
    const value = this.bytes.subarray(this.offset, end);
    this.offset = end;
    return value;
  }

  child(tag: number): DerReader {
    return new DerReader(this.read(tag));
  }
}

function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** @internal */
export function base64ToBytes(base64: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new Error('not base64');
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** @internal */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
