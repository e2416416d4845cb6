// libcoap's (D)TLS command-line options turned into @iotwire/coap `dtls` settings: PSK (-k -u,
// hint/identity match files), certificates (-c -j -C -R -n) and raw public keys (-M), with
// libcoap's rules for when a peer's certificate is checked.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { CoapDtlsClientOptions, CoapDtlsServerOptions } from '@iotwire/coap';
import { UsageError } from './command.js';

/** The security flags shared by the client commands and `serve`. */
export interface SecurityFlags {
  /** -k: pre-shared key (UTF-8 text, as libcoap takes it). */
  key?: string;
  /** -u: PSK identity (client). */
  user?: string;
  /** Client `--hint-file` (libcoap `-h`): lines `hint,identity,key`. Server `-i`: lines `hint,identity,key`. */
  matchFile?: string;
  /** Server `--hint` (libcoap `-h`): identity hint to send; default `CoAP`, empty for none. */
  hint?: string;
  /** -c: certificate PEM (may hold the key too). */
  cert?: string;
  /** -j: private key PEM for -c (default: the -c file). */
  certKey?: string;
  /** -C: CA PEM: trusted and, on a server, used to check client certificates. */
  caFile?: string;
  /** -R: trusted root CAs, a PEM file or a directory of them. */
  trust?: string;
  /** -n: do not check the peer's certificate. */
  noVerify?: boolean;
  /** -M: raw public key file (EC PRIVATE KEY PEM). */
  rpk?: string;
}

function read(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${path}: ${(err as Error).message}`);
  }
}

function privateKey(flag: string, path: string): string {
  const pem = read(flag, path);
  try {
    createPrivateKey(pem);
  } catch {
    throw new UsageError(`${flag} ${path} holds no usable private key (PEM)`);
  }
  return pem;
}

function certificate(flag: string, path: string): string {
  const pem = read(flag, path);
  try {
    new X509Certificate(pem);
  } catch {
    throw new UsageError(`${flag} ${path} holds no PEM certificate`);
  }
  return pem;
}

/** Lines `a,b,c` of a libcoap match file (comments with `#`, blank lines skipped). */
function matchLines(flag: string, path: string): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const [i, raw] of read(flag, path).split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(',');
    if (parts.length !== 3) throw new UsageError(`${flag} ${path}:${i + 1}: expected three comma-separated fields`);
    out.push(parts as [string, string, string]);
  }
  return out;
}

/** True when any security flag is present. */
export function hasSecurity(f: SecurityFlags): boolean {
  return (
    f.key !== undefined ||
    f.cert !== undefined ||
    f.certKey !== undefined ||
    f.rpk !== undefined ||
    f.user !== undefined ||
    f.matchFile !== undefined ||
    f.hint !== undefined ||
    f.caFile !== undefined ||
    f.trust !== undefined
  );
}

/**
 * Client settings for coaps://. Like libcoap's coap-client, the server's certificate (or raw
 * public key) is checked only when -C or -R gives trust anchors, and never with -n; otherwise
 * any is accepted (`verifyPeer` false: the caller accepts in `sslServerAuthentication`).
 */
export function clientSecurity(f: SecurityFlags): { dtls: CoapDtlsClientOptions; verifyPeer: boolean } {
  const dtls: CoapDtlsClientOptions = {};
  if (f.user !== undefined && f.key === undefined) throw new UsageError('-u needs -k (the pre-shared key)');
  if (f.matchFile !== undefined && f.key === undefined) throw new UsageError('--hint-file needs -k and -u for the default');
  if (f.key !== undefined) {
    if (f.key === '') throw new UsageError('-k: the pre-shared key cannot be empty');
    const fallback = { identity: f.user ?? '', key: f.key };
    if (f.matchFile === undefined) dtls.psk = fallback;
    else {
      const table = matchLines('--hint-file', f.matchFile);
      // Pick the identity and key for the hint the server sent (libcoap -h match_hint_file).
      dtls.psk = (hint) => {
        const h = hint?.toString('utf8') ?? '';
        const m = table.find(([hintToMatch]) => hintToMatch === h);
        return m ? { identity: m[1], key: m[2] } : fallback;
      };
    }
  }
  if (f.rpk !== undefined) {
    if (f.cert !== undefined) throw new UsageError('use -M (raw public key) or -c (certificate), not both');
    dtls.key = privateKey('-M', f.rpk);
    dtls.useRawPublicKey = true;
  }
  if (f.cert !== undefined) {
    dtls.cert = certificate('-c', f.cert);
    dtls.key = privateKey(f.certKey !== undefined ? '-j' : '-c', f.certKey ?? f.cert);
  } else if (f.certKey !== undefined) throw new UsageError('-j needs -c (the certificate)');
  const ca: string[] = [];
  if (f.caFile !== undefined) ca.push(certificate('-C', f.caFile));
  if (f.trust !== undefined) {
    if (isDirectory(f.trust)) dtls.caDir = f.trust;
    else ca.push(certificate('-R', f.trust));
  }
  if (ca.length > 0) dtls.ca = ca;
  const verifyPeer = (f.caFile !== undefined || f.trust !== undefined) && !f.noVerify;
  return { dtls, verifyPeer };
}

/**
 * Server settings for coaps, libcoap coap-server style: -k is the key for any identity (unless
 * -i matches the identity to another key) with identity hint `CoAP` by default; -c/-j serve a
 * certificate and -C/-R also request and check client certificates (not with -n); -M serves a
 * raw public key and accepts any client key (`acceptAnyPeer`).
 */
export function serverSecurity(f: SecurityFlags): { dtls: CoapDtlsServerOptions; acceptAnyPeer: boolean } {
  const dtls: CoapDtlsServerOptions = {};
  if (f.matchFile !== undefined && f.key === undefined) throw new UsageError('-i needs -k for the default key');
  if (f.key !== undefined) {
    if (f.key === '') throw new UsageError('-k: the pre-shared key cannot be empty');
    const byIdentity = new Map<string, string>();
    if (f.matchFile !== undefined) for (const [, identity, key] of matchLines('-i', f.matchFile)) byIdentity.set(identity, key);
    const key = f.key;
    dtls.psk = {
      hint: f.hint ?? 'CoAP',
      lookup: (identity) => byIdentity.get(identity.toString('utf8')) ?? key,
    };
    if (dtls.psk.hint === '') dtls.psk.hint = undefined;
  } else if (f.hint !== undefined) throw new UsageError('--hint needs -k');
  let acceptAnyPeer = false;
  if (f.rpk !== undefined) {
    if (f.cert !== undefined) throw new UsageError('use -M (raw public key) or -c (certificate), not both');
    dtls.key = privateKey('-M', f.rpk);
    dtls.useRawPublicKey = true;
    // Ask for the client's key (RFC 7250) but let clients without one in, as libcoap does.
    dtls.requestClientCert = !f.noVerify;
    dtls.requireClientCert = false;
    acceptAnyPeer = true;
  }
  if (f.cert !== undefined) {
    dtls.cert = certificate('-c', f.cert);
    dtls.key = privateKey(f.certKey !== undefined ? '-j' : '-c', f.certKey ?? f.cert);
    const ca: string[] = [];
    if (f.caFile !== undefined) ca.push(certificate('-C', f.caFile));
    if (f.trust !== undefined) {
      if (isDirectory(f.trust)) dtls.caDir = f.trust;
      else ca.push(certificate('-R', f.trust));
    }
    if (ca.length > 0) dtls.clientCa = ca;
    if ((f.caFile !== undefined || f.trust !== undefined) && !f.noVerify) dtls.requestClientCert = true;
  } else if (f.certKey !== undefined) throw new UsageError('-j needs -c (the certificate)');
  else if (f.caFile !== undefined || f.trust !== undefined) throw new UsageError('-C/-R need -c (the server certificate)');
  if (dtls.psk === undefined && dtls.key === undefined)
    throw new UsageError('coaps needs -k (PSK), -c/-j (certificate) or -M (raw public key)');
  if (f.user !== undefined) throw new UsageError('-u is a client option');
  return { dtls, acceptAnyPeer };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    throw new UsageError(`cannot read -R ${path}: ${(err as Error).message}`);
  }
}
