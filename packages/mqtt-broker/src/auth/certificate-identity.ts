import type { X509Certificate } from 'node:crypto';
import type { CertificateIdentity } from '../transport.js';

/**
 * The user name a client certificate stands for: its Common Name (`'cn'`), or its whole subject
 * as RFC 2253 (`'subject'`: most specific first, `CN=dev1,O=Acme,C=DE`), as Mosquitto's
 * `use_identity_as_username` / `use_subject_as_username`. Undefined when there is none.
 */
export function certificateUserName(cert: X509Certificate, mode: CertificateIdentity): string | undefined {
  // Node gives the subject one attribute per line, least specific first.
  const attrs = cert.subject.split('\n').filter((l) => l.includes('='));
  if (mode === 'cn') {
    const cn = attrs.filter((a) => a.startsWith('CN=')).pop();
    return cn === undefined || cn.length === 3 ? undefined : cn.slice(3);
  }
  if (attrs.length === 0) return undefined;
  return attrs
    .reverse()
    .map((a) => {
      const eq = a.indexOf('=');
      return `${a.slice(0, eq)}=${a.slice(eq + 1).replace(/([,+"\\<>;])/g, '\\$1')}`;
    })
    .join(',');
}
