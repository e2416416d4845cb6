// ACL file parsing and the filter relations used for SUBSCRIBE checks, including property
// tests against topicMatches (the same matcher the broker routes with).
import { topicMatches } from '@iotwire/mqtt-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AclFile, filterCovers, filtersOverlap, hashPassword, hashProblem, PasswordFile, verifyPasswordHash } from '../src/index.js';

const level = fc.constantFrom('a', 'b', '$SYS', '+', '#', 'c');
const filter = fc
  .array(level, { minLength: 1, maxLength: 4 })
  .filter((l) => l.indexOf('#') < 0 || l.indexOf('#') === l.length - 1)
  .map((l) => l.join('/'));
const topic = fc.array(fc.constantFrom('a', 'b', 'c', '$SYS', ''), { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));

describe('filter relations', () => {
  it('filterCovers(outer, inner): every topic matching inner matches outer', () => {
    fc.assert(
      fc.property(filter, filter, fc.array(topic, { minLength: 30, maxLength: 30 }), (outer, inner, topics) => {
        if (!filterCovers(outer, inner)) return;
        for (const t of topics) if (topicMatches(inner, t)) expect(topicMatches(outer, t)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
  it('filtersOverlap(a, b) is false only when no topic matches both', () => {
    fc.assert(
      fc.property(filter, filter, fc.array(topic, { minLength: 30, maxLength: 30 }), (a, b, topics) => {
        if (filtersOverlap(a, b)) return;
        for (const t of topics) expect(topicMatches(a, t) && topicMatches(b, t)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
  it('examples', () => {
    expect(filtersOverlap('#', 'a/b')).toBe(true);
    expect(filtersOverlap('#', '$SYS/x')).toBe(false);
    expect(filtersOverlap('a/+/c', 'a/b/+')).toBe(true);
    expect(filtersOverlap('a/b', 'a/b/c')).toBe(false);
    expect(filterCovers('a/#', 'a')).toBe(true);
    expect(filterCovers('a/+', 'a/#')).toBe(false);
    expect(filterCovers('#', '$SYS/#')).toBe(false);
  });
});

describe('AclFile', () => {
  const acl = AclFile.parse(
    ['topic read pub/#', 'user u1', 'topic a/#', 'topic deny a/secret', 'user with space', 'topic write s/x', 'pattern read in/%u/%c'].join(
      '\n',
    ),
  );
  it('applies user, anonymous and pattern rules; readwrite is the default; deny wins', () => {
    expect(acl.check('', 'x', 'pub/1', 'read')).toBe(true);
    expect(acl.check('', 'x', 'pub/1', 'write')).toBe(false);
    expect(acl.check('u1', 'x', 'a/1', 'write')).toBe(true);
    expect(acl.check('u1', 'x', 'a/secret', 'read')).toBe(false);
    expect(acl.check('u1', 'x', 'pub/1', 'read')).toBe(false);
    expect(acl.check('with space', 'x', 's/x', 'write')).toBe(true);
    expect(acl.check('u1', 'c1', 'in/u1/c1', 'read')).toBe(true);
    expect(acl.check('u1', 'c1', 'in/u1/c2', 'read')).toBe(false);
    // A client id or user name with a wildcard or separator never widens a pattern.
    expect(acl.check('u1', '#', 'in/u1/anything', 'read')).toBe(false);
    expect(acl.check('u1', 'a/b', 'in/u1/a/b', 'read')).toBe(false);
    // Cached decisions stay right.
    expect(acl.check('u1', 'c1', 'in/u1/c1', 'read')).toBe(true);
    expect(acl.check('u1', 'c2', 'in/u1/c1', 'read')).toBe(false);
  });
  it('SUBSCRIBE: granted when some readable topic can match, refused when a deny covers the filter', () => {
    expect(acl.checkSubscribe('u1', 'x', '#')).toBe(true);
    expect(acl.checkSubscribe('u1', 'x', 'a/secret')).toBe(false);
    expect(acl.checkSubscribe('u1', 'x', 'b/#')).toBe(false);
    expect(acl.checkSubscribe('', 'x', 'pub/+')).toBe(true);
  });
  it('reports the file and line of a mistake', () => {
    expect(() => AclFile.parse('user a\ntopic read a/#/b\n', 'acl.conf')).toThrow(/acl\.conf:2: invalid topic filter/);
    expect(() => AclFile.parse('topik read x', 'acl.conf')).toThrow(/acl\.conf:1: unknown keyword/);
    expect(() => AclFile.parse('user\n', 'acl.conf')).toThrow(/acl\.conf:1: "user" needs a user name/);
  });
});

describe('password hashes', () => {
  it('scrypt round trip, wrong password, malformed hashes', async () => {
    const h = await hashPassword('pässword', { ln: 10, r: 8, p: 1 });
    expect(h).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(await verifyPasswordHash(h, 'pässword')).toBe(true);
    expect(await verifyPasswordHash(h, 'password')).toBe(false);
    expect(hashProblem('plain')).toMatch(/unknown hash type/);
    expect(hashProblem('$scrypt$ln=40,r=8,p=1$a$b')).toMatch(/out of range/);
    expect(await verifyPasswordHash('$scrypt$ln=40,r=8,p=1$a$b', 'x')).toBe(false);
  });
  it("Mosquitto's $6$ (salted SHA-512) verifies", async () => {
    const { createHash } = await import('node:crypto');
    const salt = Buffer.from('0123456789ab');
    const hash = createHash('sha512').update('pw').update(salt).digest('base64');
    expect(await verifyPasswordHash(`$6$${salt.toString('base64')}$${hash}`, 'pw')).toBe(true);
    expect(await verifyPasswordHash(`$6$${salt.toString('base64')}$${hash}`, 'pw2')).toBe(false);
  });
  it('a password file line with a plain-text password names the line and the way out', () => {
    expect(() => PasswordFile.parse('# users\nbob:secret\n', 'passwd')).toThrow(/passwd:2: .*iotwire-passwd -U/);
  });
});
