import { base64UrlDecode } from './jwt.js';
import { bytesToBase64Url } from './jwt-key.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const VERSION = 'v1';

/**
 * What makes a shared store safe to read: keys that are keyed hashes, and values sealed with an HMAC.
 * Both keys are derived (HKDF-SHA256) from secret material only this app's servers hold — the Clerk
 * secret key for machine-token verifications, the signing secret for webhooks — so someone who can
 * read the store learns no token, and someone who can write to it cannot forge, alter, move (to
 * another key) or extend (past its `until`, which is sealed) an entry: a value that does not open is
 * ignored, exactly like a miss.
 *
 * @internal
 */
export class StoreSeal {
  private constructor(
    private readonly nameKey: CryptoKey,
    private readonly entryKey: CryptoKey,
  ) {}

  /** Derives the two HMAC keys from `secret` for one `purpose` (e.g. `machine-tokens`). */
  static async derive(secret: string, purpose: string): Promise<StoreSeal> {
    const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey']);
    const derive = (use: string) =>
      crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('clerk-api-auth store'), info: encoder.encode(`${purpose} ${use} ${VERSION}`) },
        material,
        { name: 'HMAC', hash: 'SHA-256', length: 256 },
        false,
        ['sign', 'verify'],
      );
    const [nameKey, entryKey] = await Promise.all([derive('names'), derive('entries')]);
    return new StoreSeal(nameKey, entryKey);
  }

  /** The keyed hash naming `subject` (a token, a message id) in the store: base64url, 43 characters. */
  async name(subject: string): Promise<string> {
    return bytesToBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', this.nameKey, encoder.encode(subject))));
  }

  /** `payload` sealed for the store key `key`: `v1.<payload>.<mac>`, the MAC over the key and the payload. */
  async seal(key: string, payload: string): Promise<string> {
    const body = bytesToBase64Url(encoder.encode(payload));
    const mac = await crypto.subtle.sign('HMAC', this.entryKey, encoder.encode(`${VERSION}.${key}.${body}`));
    return `${VERSION}.${body}.${bytesToBase64Url(new Uint8Array(mac))}`;
  }

  /** The payload of a value sealed for `key`, or `undefined` when it is not one (tampered, moved, foreign, garbage). */
  async open(key: string, sealed: unknown): Promise<string | undefined> {
    if (typeof sealed !== 'string' || sealed.length > 65_536) return undefined;
    const parts = sealed.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return undefined;
    const [, body = '', macText = ''] = parts;
    const mac = base64UrlDecode(macText);
    if (mac === undefined || mac.length !== 32) return undefined;
    const valid = await crypto.subtle.verify('HMAC', this.entryKey, mac as Uint8Array<ArrayBuffer>, encoder.encode(`${VERSION}.${key}.${body}`));
    if (!valid) return undefined;
    const bytes = base64UrlDecode(body);
    if (bytes === undefined) return undefined;
    try {
      return decoder.decode(bytes);
    } catch {
      return undefined;
    }
  }
}
