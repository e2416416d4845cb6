// Keeps the statement index (statements.ts) and the suite honest: every `broker` statement has a
// test titled with its id in the version's directory, every `codec` statement's id is cited by
// the named @iotwire/mqtt-packet test file, and no test cites an id that does not exist.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SpecVersion, STATEMENTS, TEST_DIR } from './statements.js';

const here = import.meta.dirname;
const packetPkg = join(here, '../../../mqtt-packet');
const ID = /\[(MQTT-[0-9]+(?:[.-][0-9]+)*)\]/g;

/** Titles of every `it(...)`/`test(...)` in the version's test files, read from the source. */
function titles(version: SpecVersion): { title: string; file: string }[] {
  const dir = join(here, TEST_DIR[version]);
  const out: { title: string; file: string }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
    const src = readFileSync(join(dir, file), 'utf8');
    for (const m of src.matchAll(/\b(?:it|test)\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g)) out.push({ title: m[2] as string, file });
  }
  return out;
}

function citedIds(version: SpecVersion): Map<string, string[]> {
  const cited = new Map<string, string[]>();
  for (const { title, file } of titles(version)) {
    for (const m of title.matchAll(ID)) {
      const id = m[1] as string;
      cited.set(id, [...(cited.get(id) ?? []), `${file}: ${title}`]);
    }
  }
  return cited;
}

for (const version of Object.keys(STATEMENTS) as SpecVersion[]) {
  const list = STATEMENTS[version];
  describe(`MQTT ${version} normative statements`, () => {
    it('are listed once each, classified, with a reason or a file where one is needed', () => {
      const ids = list.map((s) => s.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const s of list) {
        expect(s.id).toMatch(/^MQTT-[0-9]+(?:[.-][0-9]+)*-[0-9]+$/);
        expect(['broker', 'codec', 'client', 'n/a']).toContain(s.cls);
        expect(s.text.length).toBeGreaterThan(10);
        if (s.cls === 'codec' || s.cls === 'n/a') expect(s.where, s.id).toBeTruthy();
      }
    });

    it('every broker statement has a conformance test titled with its id', () => {
      const cited = citedIds(version);
      const missing = list.filter((s) => s.cls === 'broker' && !cited.has(s.id)).map((s) => `${s.id} ${s.text}`);
      expect(missing).toEqual([]);
    });

    it('tests cite only ids of this version that are classified broker', () => {
      const byId = new Map(list.map((s) => [s.id, s]));
      const wrong: string[] = [];
      for (const [id, where] of citedIds(version)) {
        const s = byId.get(id);
        if (!s) wrong.push(`${id} does not exist in ${version}: ${where[0]}`);
        else if (s.cls !== 'broker') wrong.push(`${id} is classified ${s.cls}: ${where[0]}`);
      }
      expect(wrong).toEqual([]);
    });

    it('every codec statement is cited by the named @iotwire/mqtt-packet test file', () => {
      const absent: string[] = [];
      for (const s of list.filter((x) => x.cls === 'codec')) {
        const file = join(packetPkg, s.where as string);
        if (!existsSync(file) || !readFileSync(file, 'utf8').includes(s.id)) absent.push(`${s.id} not in ${s.where}`);
      }
      expect(absent).toEqual([]);
    });
  });
}
