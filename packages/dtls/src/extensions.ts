import { ByteReader, ByteWriter } from './bytes.js';
import { AlertDescription, ExtensionType } from './constants.js';
import { DtlsDecodeError, DtlsError } from './errors.js';

/** One hello extension, kept raw so unknown ones can be ignored (and echoed checks done). */
export interface Extension {
  type: number;
  data: Buffer;
}

/** Parses the `extensions<0..2^16-1>` block of a hello (absent block = no extensions). */
export function parseExtensions(r: ByteReader): Extension[] {
  if (r.remaining === 0) return [];
  const block = r.sub(2, 'extensions');
  const out: Extension[] = [];
  const seen = new Set<number>();
  while (block.remaining > 0) {
    const type = block.u16('extension type');
    const data = block.vector(2, 'extension data');
    // RFC 5246 §7.4.1.4: at most one extension of each type.
    if (seen.has(type)) throw new DtlsError('ERR_DTLS_DECODE', `duplicate extension ${type}`, AlertDescription.IllegalParameter);
    seen.add(type);
    out.push({ type, data });
  }
  return out;
}

export function writeExtensions(w: ByteWriter, exts: readonly Extension[]): void {
  if (exts.length === 0) return;
  w.block(2, (b) => {
    for (const e of exts) b.u16(e.type).vector(2, e.data);
  });
}

export function findExtension(exts: readonly Extension[], type: number): Buffer | undefined {
  for (const e of exts) if (e.type === type) return e.data;
  return undefined;
}

function u16List(values: readonly number[], lenBytes: 1 | 2): Buffer {
  const w = new ByteWriter(2 + values.length * 2);
  w.block(lenBytes, (b) => {
    for (const v of values) b.u16(v);
  });
  return w.finish();
}

function parseU16List(data: Buffer, what: string): number[] {
  const r = new ByteReader(data);
  const list = r.sub(2, what, 2);
  r.end(what);
  if (list.remaining % 2 !== 0) throw new DtlsDecodeError(`${what}: odd length`);
  const out: number[] = [];
  while (list.remaining > 0) out.push(list.u16(what));
  return out;
}

export const ext = {
  supportedGroups: (groups: readonly number[]): Extension => ({ type: ExtensionType.SupportedGroups, data: u16List(groups, 2) }),
  parseSupportedGroups: (d: Buffer): number[] => parseU16List(d, 'supported_groups'),

  /** ec_point_formats with `uncompressed` (0) only (RFC 8422 §5.1.2). */
  pointFormats: (): Extension => ({ type: ExtensionType.EcPointFormats, data: Buffer.from([1, 0]) }),
  parsePointFormats(d: Buffer): number[] {
    const r = new ByteReader(d);
    const list = r.vector(1, 'ec_point_formats', 1);
    r.end('ec_point_formats');
    return [...list];
  },

  signatureAlgorithms: (schemes: readonly number[]): Extension => ({ type: ExtensionType.SignatureAlgorithms, data: u16List(schemes, 2) }),
  parseSignatureAlgorithms: (d: Buffer): number[] => parseU16List(d, 'signature_algorithms'),

  extendedMasterSecret: (): Extension => ({ type: ExtensionType.ExtendedMasterSecret, data: Buffer.alloc(0) }),

  /** renegotiation_info for an initial handshake: empty renegotiated_connection (RFC 5746 §3.2). */
  renegotiationInfo: (): Extension => ({ type: ExtensionType.RenegotiationInfo, data: Buffer.from([0]) }),
  /** True if the renegotiation_info body is the empty initial form. */
  isInitialRenegotiationInfo: (d: Buffer): boolean => d.length === 1 && d[0] === 0,

  /** Client form of client/server_certificate_type (RFC 7250 §3): a list of types. */
  certTypeList: (type: number, types: readonly number[]): Extension => ({ type, data: Buffer.from([types.length, ...types]) }),
  parseCertTypeList(d: Buffer, what: string): number[] {
    const r = new ByteReader(d);
    const list = r.vector(1, what, 1);
    r.end(what);
    return [...list];
  },
  /** Server form: the one selected type. */
  certTypeSelected: (type: number, selected: number): Extension => ({ type, data: Buffer.from([selected]) }),
  parseCertTypeSelected(d: Buffer, what: string): number {
    if (d.length !== 1) throw new DtlsDecodeError(`${what}: server form must be one byte`);
    return d[0]!;
  },

  /** server_name with one host_name entry (RFC 6066 §3). */
  serverName(host: string): Extension {
    const name = Buffer.from(host, 'ascii');
    const w = new ByteWriter(name.length + 5);
    w.block(2, (b) => b.u8(0).vector(2, name));
    return { type: ExtensionType.ServerName, data: w.finish() };
  },
  parseServerName(d: Buffer): string | undefined {
    if (d.length === 0) return undefined; // server's empty acknowledgement
    const r = new ByteReader(d);
    const list = r.sub(2, 'server_name_list', 1);
    r.end('server_name');
    while (list.remaining > 0) {
      const type = list.u8('name_type');
      const name = list.vector(2, 'host_name', 1);
      if (type === 0) return name.toString('ascii');
    }
    return undefined;
  },
};
