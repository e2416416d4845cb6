import { describe, expect, it } from 'vitest';
import { COMMANDS, splitCommand } from '../src/index.js';

describe('splitCommand', () => {
  it('recognises every command and help', () => {
    for (const c of COMMANDS) expect(splitCommand([c, '-x']).command).toBe(c);
    expect(splitCommand([]).command).toBe('help');
    expect(splitCommand(['--help']).command).toBe('help');
  });
  it('rejects unknown commands', () => {
    expect(() => splitCommand(['frobnicate'])).toThrow(/unknown command/);
  });
});
