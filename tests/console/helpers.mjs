// Helpers of the console tests: run zhiying-admin against the test stack,
// in replay mode (keys from a script, screens dumped as text) or through
// its subcommands.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_DIR, STATE } from '../integration/helpers.mjs';

export const ADMIN = join(ROOT_DIR, 'admin/zhiying-admin');
export const CONF = STATE ? join(STATE, 'zhiying.conf') : '';

// Play a script (lines joined as they are) at a size; returns { dumps, rc }
// where dumps maps each <Dump name> to its screen text.
export function replay(script, { size = '80x24' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'zy-console-'));
  const file = join(dir, 'script.txt');
  writeFileSync(file, Array.isArray(script) ? script.join('\n') : script);
  const r = spawnSync(ADMIN, ['-c', CONF, '--replay', file, '--dump', dir, '--size', size],
    { encoding: 'utf8', timeout: 30000 });
  const dumps = {};
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.txt') && f !== 'script.txt') dumps[f.slice(0, -4)] = readFileSync(join(dir, f), 'utf8');
  }
  return { dumps, rc: r.status, stderr: r.stderr };
}

// Run a subcommand; returns { rc, out, err }.
export function cli(args, input) {
  const r = spawnSync(ADMIN, ['-c', CONF, ...args], { encoding: 'utf8', input, timeout: 30000 });
  return { rc: r.status, out: r.stdout, err: r.stderr };
}

export const login = (user, pw = 'Zhiying2026') => `${user}<Tab>${pw}<Enter>`;
export { existsSync, execFileSync };
