/**
 * AllowedClients / BlockedClients: exact IP addresses, CIDR subnets (an extension), and host
 * names resolved to their addresses. IPv4-mapped IPv6 peers (`::ffff:a.b.c.d`) match their
 * IPv4 form.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** `::ffff:1.2.3.4` → `1.2.3.4`; everything else unchanged. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function parseList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const items = typeof value === 'string' ? value.split(',') : [...value];
  return items.map((s) => s.trim()).filter(Boolean);
}

export class AccessList {
  readonly entries: readonly string[];
  #list = new BlockList();
  #count = 0;
  /** Host names still waiting for resolution. */
  #names: string[] = [];
  #resolving: Promise<void> | undefined;

  constructor(entries: string | readonly string[] | undefined) {
    this.entries = parseList(entries);
    for (const e of this.entries) {
      const slash = e.indexOf('/');
      const addr = normalizeAddress(slash >= 0 ? e.slice(0, slash) : e);
      const family = isIP(addr);
      if (family === 0) {
        this.#names.push(e);
      } else if (slash >= 0) {
        this.#list.addSubnet(addr, Number(e.slice(slash + 1)), family === 6 ? 'ipv6' : 'ipv4');
        this.#count++;
      } else {
        this.#list.addAddress(addr, family === 6 ? 'ipv6' : 'ipv4');
        this.#count++;
      }
    }
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Resolves host-name entries (forward lookup, all addresses). Unresolvable names match nothing. */
  resolve(): Promise<void> {
    this.#resolving ??= this.#lookup();
    return this.#resolving;
  }

  async #lookup(): Promise<void> {
    const names = this.#names;
    this.#names = [];
    await Promise.all(
      names.map(async (name) => {
        try {
          for (const { address, family } of await lookup(name, { all: true })) {
            this.#list.addAddress(normalizeAddress(address), family === 6 ? 'ipv6' : 'ipv4');
            this.#count++;
          }
        } catch {
          // An unknown name simply matches no peer.
        }
      }),
    );
  }

  /** Whether an (already normalised) peer address is on the list. */
  matches(address: string): boolean {
    if (this.#count === 0) return false;
    return this.#list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
}
