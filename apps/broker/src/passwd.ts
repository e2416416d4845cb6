#!/usr/bin/env node
/**
 * `iotwire-passwd`: manages password files for `@iotwire/mqtt-broker` (salted scrypt hashes),
 * with the command line of `mosquitto_passwd`:
 *
 *   iotwire-passwd [-c | -D] passwordfile username            (asks for the password, no echo)
 *   iotwire-passwd [-c] -b passwordfile username password
 *   iotwire-passwd -U passwordfile                            (hashes a plain-text user:password file)
 *
 * Files written by `mosquitto_passwd` ($7$ / $6$ hashes) are read and kept as they are.
 */
import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { hashPassword, hashProblem, PasswordFile } from '@iotwire/mqtt-broker';

export const PASSWD_USAGE = `Usage: iotwire-passwd [-c | -D] passwordfile username
       iotwire-passwd [-c] -b passwordfile username password
       iotwire-passwd -U passwordfile

 -b : batch mode: the password is given on the command line.
 -c : create a new password file (an existing one is overwritten).
 -D : delete the user from the file.
 -U : convert a plain-text "user:password" file to hashed passwords.

Hashes are salted scrypt. Without -b the password is asked for twice, without echo (or read
as two lines from standard input when it is not a terminal).`;

export interface PasswdIo {
  /** Asks for a secret (no echo on a terminal). */
  prompt(question: string): Promise<string>;
  out(line: string): void;
  err(line: string): void;
}

/** Runs the tool; resolves with the exit code (0 ok, 1 error, 2 usage). */
export async function runPasswd(argv: string[], io: PasswdIo): Promise<number> {
  const flags = new Set<string>();
  const args: string[] = [];
  for (const a of argv) {
    if (/^-[bcDUh]$/.test(a) || a === '--help') flags.add(a === '--help' ? '-h' : a);
    else if (a.startsWith('-') && a.length > 1) {
      io.err(`iotwire-passwd: unknown option ${a}\n\n${PASSWD_USAGE}`);
      return 2;
    } else args.push(a);
  }
  if (flags.has('-h')) {
    io.out(PASSWD_USAGE);
    return 0;
  }
  const usage = (why: string) => {
    io.err(`iotwire-passwd: ${why}\n\n${PASSWD_USAGE}`);
    return 2;
  };
  if ((flags.has('-c') && flags.has('-D')) || (flags.has('-U') && flags.size > 1)) return usage('these options cannot be combined');
  try {
    if (flags.has('-U')) {
      if (args.length !== 1) return usage('-U takes the password file only');
      return await convert(args[0] as string, io);
    }
    const batch = flags.has('-b');
    if (flags.has('-D')) {
      if (batch || args.length !== 2) return usage('-D takes the password file and a user name');
      const [path, user] = args as [string, string];
      const file = await PasswordFile.load(path);
      if (!file.delete(user)) {
        io.err(`iotwire-passwd: user ${user} not in ${path}`);
        return 1;
      }
      await file.save();
      return 0;
    }
    if (args.length !== (batch ? 3 : 2))
      return usage(batch ? '-b takes the password file, a user name and a password' : 'give the password file and a user name');
    const [path, user, given] = args as [string, string, string | undefined];
    if (user === '' || user.includes(':')) return usage('a user name must be non-empty and contain no ":"');
    let password = given;
    if (password === undefined) {
      password = await io.prompt('Password: ');
      const again = await io.prompt('Reenter password: ');
      if (password !== again) {
        io.err('iotwire-passwd: the passwords do not match');
        return 1;
      }
    }
    if (password === '') {
      io.err('iotwire-passwd: empty passwords are not allowed');
      return 1;
    }
    if (!flags.has('-c') && !existsSync(path)) {
      io.err(`iotwire-passwd: ${path} does not exist (use -c to create it)`);
      return 1;
    }
    const file = flags.has('-c') ? PasswordFile.empty(path) : await PasswordFile.load(path);
    await file.set(user, password);
    await file.save(path);
    return 0;
  } catch (err) {
    io.err(`iotwire-passwd: ${(err as Error).message}`);
    return 1;
  }
}

/** -U: hashes every plain-text password of a `user:password` file; lines already hashed stay. */
async function convert(path: string, io: PasswdIo): Promise<number> {
  const text = await readFile(path, 'utf8');
  const file = PasswordFile.empty(path);
  let converted = 0;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      io.err(`iotwire-passwd: ${path}:${i + 1}: expected "user:password"`);
      return 1;
    }
    const user = line.slice(0, colon);
    const secret = line.slice(colon + 1);
    if (secret.startsWith('$') && hashProblem(secret) === undefined) file.setHash(user, secret);
    else {
      file.setHash(user, await hashPassword(secret));
      converted++;
    }
  }
  await file.save();
  io.out(`${converted} password${converted === 1 ? '' : 's'} hashed in ${path}`);
  return 0;
}

/** Reads a secret: without echo from a terminal, else one line of standard input. */
function terminalIo(): PasswdIo {
  const lines: string[] = [];
  let ended = false;
  let waiting: (() => void) | null = null;
  let buffered = '';
  let typedAhead = '';
  const stdin = process.stdin;
  const onPiped = (d: string) => {
    buffered += d;
    const parts = buffered.split(/\r?\n/);
    buffered = parts.pop() as string;
    lines.push(...parts);
    waiting?.();
  };
  return {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
    prompt(question: string): Promise<string> {
      if (!stdin.isTTY) {
        process.stdout.write(question);
        if (stdin.listenerCount('data') === 0) {
          stdin.setEncoding('utf8');
          stdin.on('data', onPiped);
          stdin.on('end', () => {
            ended = true;
            if (buffered !== '') lines.push(buffered);
            buffered = '';
            waiting?.();
          });
        }
        return new Promise((resolve, reject) => {
          const take = () => {
            if (lines.length > 0) {
              waiting = null;
              stdin.pause();
              process.stdout.write('\n');
              resolve(lines.shift() as string);
            } else if (ended) reject(new Error('no password on standard input'));
            else {
              waiting = take;
              stdin.resume();
            }
          };
          take();
        });
      }
      // A terminal: raw mode (set before the prompt shows), nothing echoed.
      return new Promise((resolve, reject) => {
        let value = '';
        const done = (err?: Error) => {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onKey);
          process.stdout.write('\n');
          if (err) reject(err);
          else resolve(value);
        };
        const onKey = (chunk: string) => {
          // Keys typed ahead of the next prompt are kept for it.
          typedAhead += chunk;
          while (typedAhead.length > 0) {
            const ch = typedAhead[0] as string;
            typedAhead = typedAhead.slice(1);
            if (ch === '\r' || ch === '\n') return done();
            if (ch === '\u0003' || ch === '\u0004') return done(new Error('cancelled'));
            if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
            else value += ch;
          }
        };
        stdin.setRawMode(true);
        stdin.setEncoding('utf8');
        process.stdout.write(question);
        stdin.on('data', onKey);
        stdin.resume();
        if (typedAhead !== '') onKey('');
      });
    },
  };
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (invokedDirectly) process.exitCode = await runPasswd(process.argv.slice(2), terminalIo());
