import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDurableStorage, MemoryStorage } from '@iotwire/mqtt-broker';
import { storageContract } from '@iotwire/mqtt-broker/testing';
import { describe, expect, it } from 'vitest';

// Every backend runs the one shared contract (through the package's own `./testing` export).
// The in-memory backend "reopens" as itself: its data lives as long as the object.
storageContract(
  'MemoryStorage',
  { describe, it, expect },
  async () => new MemoryStorage(),
  async (old) => old,
);

const dirs = new WeakMap<object, string>();
storageContract(
  'durable (LevelDB)',
  { describe, it, expect },
  async () => {
    const directory = mkdtempSync(join(tmpdir(), 'iotwire-store-'));
    const s = await createDurableStorage({ directory });
    dirs.set(s, directory);
    return s;
  },
  async (old) => {
    const directory = dirs.get(old) as string;
    const s = await createDurableStorage({ directory });
    dirs.set(s, directory);
    return s;
  },
);
