// iotwire-passwd: the mosquitto_passwd command line (-c, -b, -D, -U, prompting), the files it
// writes read back by the broker's PasswordFile, and — run as the built bin under a
// pseudo-terminal (util-linux `script`) — a password prompt that echoes nothing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PasswordFile } from '@iotwire/mqtt-broker';
import { describe, expect, it } from 'vitest';
import { type PasswdIo, runPasswd } from '../src/passwd.js';

const dir = mkdtempSync(join(tmpdir(), 'iotwire-passwd-'));
function io(answers: string[] = []): PasswdIo & { outText: string; errText: string; asked: string[] } {
  const r = {
    outText: '',
    errText: '',
    asked: [] as string[],
    prompt: async (q: string) => {
      r.asked.push(q);
      const a = answers.shift();
      if (a === undefined) throw new Error('no answer');
      return a;
    },
    out: (l: string) => void (r.outText += `${l}\n`),
    err: (l: string) => void (r.errText += `${l}\n`),
  };
  return r;
}

describe('iotwire-passwd', () => {
  it('-c -b creates a file, -b adds and updates users, -D deletes; PasswordFile verifies what it wrote', async () => {
    const f = join(dir, 'a');
    expect(await runPasswd(['-c', '-b', f, 'alice', 'pw1'], io())).toBe(0);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(await runPasswd(['-b', f, 'bob', 'pw2'], io())).toBe(0);
    expect(await runPasswd(['-b', f, 'alice', 'pw3'], io())).toBe(0);
    let file = await PasswordFile.load(f);
    expect(file.users).toEqual(['alice', 'bob']);
    expect(await file.verify('alice', 'pw3')).toBe(true);
    expect(await file.verify('alice', 'pw1')).toBe(false);
    expect(readFileSync(f, 'utf8')).toMatch(/^alice:\$scrypt\$ln=14,r=8,p=1\$/);
    expect(await runPasswd(['-D', f, 'alice'], io())).toBe(0);
    file = await PasswordFile.load(f);
    expect(file.users).toEqual(['bob']);
    const e = io();
    expect(await runPasswd(['-D', f, 'nobody'], e)).toBe(1);
    expect(e.errText).toContain('not in');
  });

  it('without -b asks twice and refuses a mismatch or an empty password', async () => {
    const f = join(dir, 'b');
    const ok = io(['s3cret', 's3cret']);
    expect(await runPasswd(['-c', f, 'carol'], ok)).toBe(0);
    expect(ok.asked).toEqual(['Password: ', 'Reenter password: ']);
    expect(await (await PasswordFile.load(f)).verify('carol', 's3cret')).toBe(true);
    const bad = io(['one', 'two']);
    expect(await runPasswd([f, 'carol'], bad)).toBe(1);
    expect(bad.errText).toContain('do not match');
    expect(await runPasswd([f, 'carol'], io(['', '']))).toBe(1);
  });

  it('-U hashes a plain-text file and keeps lines already hashed (mosquitto_passwd ones too)', async () => {
    const f = join(dir, 'c');
    writeFileSync(
      f,
      '# users\ndave:plain1\nerin:$7$101$peHByUAfSnH3FoNq$OUy0xliM2bNjyxCMW+kXJbByRcrWzJFpULcW0QQsfiq5fhIMs52LYOA4Wk9hiPrWMIROYvERk8tfo5A5rRY2Gg==\n',
    );
    const r = io();
    expect(await runPasswd(['-U', f], r)).toBe(0);
    expect(r.outText).toContain('1 password hashed');
    const file = await PasswordFile.load(f);
    expect(await file.verify('dave', 'plain1')).toBe(true);
    expect(await file.verify('erin', 's3cret')).toBe(true);
  });

  it('usage errors: unknown options, missing arguments, a file that does not exist without -c', async () => {
    for (const argv of [['-x', 'f', 'u'], ['-c', '-D', 'f', 'u'], ['-b', 'f', 'u'], ['f'], ['-U']]) {
      const r = io();
      expect(await runPasswd(argv, r)).toBe(2);
      expect(r.errText).toContain('Usage: iotwire-passwd');
    }
    const r = io();
    expect(await runPasswd(['-b', join(dir, 'missing'), 'u', 'p'], r)).toBe(1);
    expect(r.errText).toContain('use -c');
    const h = io();
    expect(await runPasswd(['--help'], h)).toBe(0);
    expect(h.outText).toContain('-U : convert');
  });

  it('the built bin prompts on a terminal without echoing the password', async () => {
    const bin = fileURLToPath(new URL('../dist/passwd.js', import.meta.url));
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first`);
    const f = join(dir, 'tty');
    // `script` gives the child a pseudo-terminal; we type each line once its prompt shows.
    const child = spawn('script', ['-qec', `${process.execPath} ${bin} -c ${f} frank`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const seen = (s: string) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${JSON.stringify(s)} in ${JSON.stringify(out)}`)), 15_000);
        const check = () => {
          if (out.includes(s)) {
            clearTimeout(t);
            resolve();
          } else child.stdout.once('data', check);
        };
        check();
      });
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    await seen('Password:');
    child.stdin.write('tty-secret-42\r');
    await seen('Reenter password:');
    child.stdin.write('tty-secret-42\r');
    expect(await exited).toBe(0);
    child.stdin.end();
    expect(out).not.toContain('tty-secret-42');
    expect(await (await PasswordFile.load(f)).verify('frank', 'tty-secret-42')).toBe(true);
  });
});
