import { createHmac } from 'node:crypto';

/** TLS 1.2 PRF with P_SHA256 (RFC 5246 §5): `length` bytes of PRF(secret, label, seed). */
export function prf(secret: Uint8Array, label: string, seed: Uint8Array, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out = Buffer.allocUnsafe(length);
  let a: Buffer = labelSeed; // A(0)
  let filled = 0;
  while (filled < length) {
    a = createHmac('sha256', secret).update(a).digest(); // A(i)
    const block = createHmac('sha256', secret).update(a).update(labelSeed).digest();
    filled += block.copy(out, filled, 0, Math.min(block.length, length - filled));
  }
  return out;
}
