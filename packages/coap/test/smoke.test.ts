import { describe, expect, it } from 'vitest';
import { pair } from './helpers.js';

describe('smoke', () => {
  it('GET round trip', async () => {
    const p = await pair();
    p.server.resource('/hello', { get: () => ({ payload: 'world' }) });
    const r = await p.client.get(`${p.base}/hello`);
    expect(r.code).toBe('2.05');
    expect(r.text()).toBe('world');
    const nf = await p.client.get(`${p.base}/nope`);
    expect(nf.code).toBe('4.04');
    await p.close();
  });
});
