import forge from 'node-forge';

export interface SelfSignedOptions {
  /** Subject common name. Default `'localhost'`. */
  commonName?: string;
  /** DNS names and IP addresses for subjectAltName. Default `['localhost', '127.0.0.1', '::1']`. */
  altNames?: string[];
  /** Validity in days. Default 365. */
  days?: number;
  /** RSA modulus size. Default 2048. */
  keySize?: number;
}

export interface PemKeyPair {
  /** Certificate, PEM. */
  cert: string;
  /** Private key, PKCS#8 PEM. */
  key: string;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]*)$/i;

/** Generates a self-signed RSA certificate for demos and tests (node-forge). */
export function generateSelfSigned(options: SelfSignedOptions = {}): PemKeyPair {
  const { commonName = 'localhost', altNames = ['localhost', '127.0.0.1', '::1'], days = 365, keySize = 2048 } = options;
  const keys = forge.pki.rsa.generateKeyPair({ bits: keySize, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      altNames: altNames.map((n) => (IP.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey))),
  };
}
