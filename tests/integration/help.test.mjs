// Every program answers --help (and -h) with its usage on standard output
// and exit status 0, without a configuration or a database; a wrong
// option gets the usage on standard error and status 2.  The programs are
// those Makefile.am builds for bin_PROGRAMS, so a new one is checked too.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ROOT_DIR } from './helpers.mjs';

const programs = [...readFileSync(`${ROOT_DIR}/Makefile.am`, 'utf8')
  .matchAll(/^bin_PROGRAMS\s*\+?=\s*(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));

function run(bin, args) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ZHIYING_')) delete env[k];
  env.ZHIYING_CONF = '/nonexistent/zhiying.conf';
  return spawnSync(`${ROOT_DIR}/${bin}`, args, { env, encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] });
}

test('the seven programs are built', () => {
  assert.deepEqual(programs.map((p) => p.split('/').pop()).sort(), ['zhiying-admin', 'zhiying-db',
    'zhiying-inferd', 'zhiying-phantom', 'zhiying-scp', 'zhiying-stats', 'zhiying-web']);
  for (const p of programs) assert.ok(existsSync(`${ROOT_DIR}/${p}`), `${p} built (make)`);
});

for (const p of programs) {
  const name = p.split('/').pop();
  test(`${name} --help and -h: usage on standard output, status 0; a wrong option: status 2`, () => {
    for (const flag of ['--help', '-h']) {
      const r = run(p, [flag]);
      assert.equal(r.status, 0, `${name} ${flag}: status ${r.status}, ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: ${name} `), `${name} ${flag}`);
      assert.ok(r.stdout.split('\n').length > 3, `${name} ${flag} explains its options`);
      assert.equal(r.stderr, '', `${name} ${flag} writes nothing to standard error`);
    }
    const bad = run(p, ['--no-such-option']);
    assert.equal(bad.status, 2, `${name} --no-such-option: status ${bad.status}`);
    assert.match(bad.stderr, /usage: /);
  });
}
