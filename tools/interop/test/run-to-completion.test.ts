import { describe, expect, it } from 'vitest';
import { runToCompletion } from '../src/index.js';

describe('runToCompletion', () => {
  it('feeds stdin, collects stdout and stderr, and reports the exit code', async () => {
    const r = await runToCompletion(
      process.execPath,
      [
        '-e',
        "process.stdin.on('data', (d) => process.stdout.write(d.toString().toUpperCase())); process.stdin.on('end', () => { console.error('done'); process.exit(3); });",
      ],
      { stdin: 'hello' },
    );
    expect(r).toEqual({ code: 3, stdout: 'HELLO', stderr: 'done\n' });
  });

  it('kills a command that runs past its deadline and rejects with its output so far', async () => {
    await expect(
      runToCompletion(process.execPath, ['-e', "console.log('started'); setInterval(() => {}, 1000)"], {
        timeoutMs: 1500,
        name: 'sleeper',
      }),
    ).rejects.toThrow(/sleeper .* did not finish\. stdout:\nstarted/s);
  });

  it('rejects when the command cannot be spawned', async () => {
    await expect(runToCompletion('/nonexistent/tool', [])).rejects.toThrow(/ENOENT/);
  });
});
