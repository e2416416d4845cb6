import { MemoryStorage } from '@iotwire/mqtt-broker';
import { storageContract } from '@iotwire/mqtt-broker/testing';
import { describe, expect, it } from 'vitest';

// The in-memory backend runs the shared contract (through the package's own `./testing` export).
storageContract('MemoryStorage', { describe, it, expect }, async () => new MemoryStorage());
