/**
 * Consuming a node's stream of forwarded messages (`fwd:<node>`).
 *
 * An entry counts as consumed only once what it did is in Redis: after processing entries the
 * reader records `fwdack:<node> = last id` through the Committer, which puts it in the same
 * transaction as the session changes (queued copies, in-flight state) and hand-ons those
 * entries caused. Until then the entry stays in the stream; a reaper re-delivers the entries
 * after the ack to the dead node's adopted sessions, so a message already forwarded to a node
 * that dies is neither lost nor delivered twice.
 */
import type { Redis } from 'ioredis';
import type { BrokerCore } from '../core.js';
import { BEGIN, DIRECTED, decodeFrames, END, FENCE, type Frame, MESSAGE } from './codec.js';
import type { Committer } from './commit.js';
import { type Router, setOrigin } from './routing.js';
import type { Keys } from './scripts.js';
import type { Takeover } from './takeover.js';

type Entries = [Buffer, Buffer[]][];

/** Stream ids compare as `ms-seq`. */
function after(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am > bm || (am === bm && as > bs);
}

export class ForwardReader {
  #last = '0-0';
  #running = false;
  #loop: Promise<void> | null = null;
  #waiters: { id: string; done: () => void }[] = [];

  constructor(
    private readonly core: BrokerCore,
    private readonly blk: Redis,
    private readonly cmd: Redis,
    private readonly keys: Keys,
    private readonly me: string,
    private readonly committer: Committer,
    private readonly router: Router,
    private readonly takeover: Takeover,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Reads from after `from` (this node id's last committed entry: a restarted node goes on where its previous run stopped). */
  start(from: string): void {
    this.#last = from;
    this.#running = true;
    this.#loop = this.#read();
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const w of this.#waiters.splice(0)) w.done();
    await this.#loop;
  }

  /** Resolves once every entry in this node's stream now has been processed. */
  async catchUp(): Promise<void> {
    const top = (await this.cmd.xrevrange(this.keys.k('fwd', this.me), '+', '-', 'COUNT', 1))[0]?.[0];
    if (top === undefined || !after(top, this.#last) || !this.#running) return;
    await new Promise<void>((done) => {
      const timer = setTimeout(done, 10_000);
      timer.unref();
      this.#waiters.push({
        id: top,
        done: () => {
          clearTimeout(timer);
          done();
        },
      });
    });
  }

  async #read(): Promise<void> {
    const key = this.keys.k('fwd', this.me);
    while (this.#running) {
      let res: [Buffer, Entries][] | null;
      try {
        res = (await this.blk.xreadBuffer('COUNT', 500, 'BLOCK', 1000, 'STREAMS', key, this.#last)) as typeof res;
      } catch (err) {
        if (!this.#running) return;
        this.onError(err);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (res === null) continue;
      for (const [, entries] of res) {
        for (const [id, fields] of entries) {
          this.#last = id.toString();
          for (let i = 0; i + 1 < fields.length; i += 2) this.#frames(fields[i + 1] as Buffer, undefined);
        }
      }
      // Copies waiting for a session being claimed here are not in it yet: ack once they are.
      if (this.takeover.holdsAck) this.#held = true;
      else this.#ack();
      if (this.#waiters.length > 0) {
        const keep = [];
        for (const w of this.#waiters) {
          if (after(w.id, this.#last)) keep.push(w);
          else w.done();
        }
        this.#waiters = keep;
      }
    }
  }

  #held = false;
  #ack(): void {
    this.#held = false;
    this.committer.ack(this.me, this.#last, this.core.persister?.pushed ?? 0);
  }

  /** A claim finished: entries held back for its copies count as consumed with what they did. */
  settled(): void {
    if (this.#held && !this.takeover.holdsAck) this.#ack();
  }

  #frames(buf: Buffer, only: ReadonlySet<string> | undefined, fences?: Set<string>): void {
    for (const f of decodeFrames(buf, () => this.core.nextMessageId())) {
      try {
        this.#frame(f, only, fences);
      } catch (err) {
        this.core.internalError(undefined, err);
      }
    }
  }

  #frame(f: Frame, only: ReadonlySet<string> | undefined, fences: Set<string> | undefined): void {
    switch (f.kind) {
      case MESSAGE:
        if (f.origin !== '') setOrigin(f.message, f.origin);
        this.router.deliverForwarded(f.message, f.normal, f.groups, only);
        return;
      case DIRECTED:
        setOrigin(f.message, f.origin);
        if (only === undefined || only.has(f.clientId)) this.takeover.directed(f);
        return;
      case FENCE:
        if (only === undefined) this.takeover.fence(f);
        else if (f.clientId === '') fences?.add(f.from);
        return;
      case END:
        if (only === undefined) this.takeover.endOf(f);
        return;
      case BEGIN:
        if (only === undefined) this.takeover.begin(f);
        return;
    }
  }

  /**
   * A dead node's stream: the entries it had not committed go to the sessions adopted from it
   * (and nowhere else: the other nodes got their own copies), acknowledged as they commit. It
   * is read until every node in `expect` has put its fence in (after all it routed there
   * before it knew the node was dead), or until `deadline`.
   */
  async reroute(node: string, adopted: ReadonlySet<string>, expect: ReadonlySet<string>, deadline: number): Promise<number> {
    const key = this.keys.k('fwd', node);
    let from = (await this.cmd.get(this.keys.k('fwdack', node))) ?? '0-0';
    const fences = new Set<string>();
    let n = 0;
    for (let round = 0; round < 100_000; round++) {
      const entries = (await this.cmd.xrangeBuffer(key, `(${from}`, '+', 'COUNT', 500)) as Entries;
      if (entries.length === 0) {
        if ([...expect].every((e) => fences.has(e)) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      for (const [id, fields] of entries) {
        from = id.toString();
        n++;
        for (let i = 0; i + 1 < fields.length; i += 2) this.#frames(fields[i + 1] as Buffer, adopted, fences);
      }
      this.committer.ack(node, from, this.core.persister?.pushed ?? 0);
      await this.core.persister?.flush();
      await this.committer.flush();
    }
    return n;
  }
}
