// The console in a real terminal: tmux on a private socket at 80x24,
// keys sent with send-keys, the pane read with capture-pane and polled
// with a deadline instead of fixed sleeps.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URL_BASE } from '../integration/helpers.mjs';
import { ADMIN, CONF, existsSync } from './helpers.mjs';

let tmuxOk = true;
try { execFileSync('tmux', ['-V']); } catch { tmuxOk = false; }
const skip = !URL_BASE || !existsSync(ADMIN) ? 'no test stack' : !tmuxOk ? 'tmux not installed' : false;

const sock = join(mkdtempSync(join(tmpdir(), 'zy-tmux-')), 'sock');
const tmux = (...a) => execFileSync('tmux', ['-S', sock, ...a], { encoding: 'utf8' });
const pane = () => tmux('capture-pane', '-p', '-t', 'zy');

async function waitFor(re, ms = 10000) {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    last = pane();
    if (re.test(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${re}; screen:\n${last}`);
}

// Display width: CJK characters take two cells.
const width = (s) => [...s].reduce((n, ch) => n + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1), 0);

test('in tmux: login, function keys, aligned Chinese columns, resize', { skip }, async (t) => {
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'zy', '-x', '80', '-y', '24',
    `env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color ${ADMIN} -c ${CONF}`);
  t.after(() => { try { tmux('kill-server'); } catch { /* gone */ } });
  await waitFor(/管理员登录/);
  tmux('send-keys', '-t', 'zy', 'admin', 'Tab', 'Zhiying2026', 'Enter');
  const users = await waitFor(/本页 \d+ 条/);
  // Columns line up: the 机构 column starts at the same cell on every row.
  // Rows of users whose logins sort first, so that they are on the first
  // page however many users other tests have added.
  const rows = users.split('\n').filter((l) => /^(admin|gd_chief|jn_attending|jn_chief) /.test(l));
  assert.ok(rows.length >= 3, users);
  const cols = rows.map((l) => width(l.slice(0, l.search(/ (GD-PH|JN-PH) /) + 1)));
  assert.equal(new Set(cols).size, 1, `columns misaligned:\n${rows.join('\n')}`);
  assert.match(users.split('\n')[23], /F1帮助/);
  // F1 help, Esc back, F2 form, Esc.
  tmux('send-keys', '-t', 'zy', 'F1');
  await waitFor(/通用按键/);
  tmux('send-keys', '-t', 'zy', 'Escape');
  await waitFor(/本页 \d+ 条/);
  tmux('send-keys', '-t', 'zy', '2');
  await waitFor(/广东省人民医院\s+省级/);
  // Resize: the bar follows the new last line, nothing left behind.
  tmux('resize-window', '-t', 'zy', '-x', '100', '-y', '30');
  // Wait for the redraw (the list and the bar on the 30th line), not for
  // the old bar still on the 24th line of the taller pane.
  const big = await waitFor(/^(?=[\s\S]*广东省人民医院)(?:[^\n]*\n){29}F1帮助/);
  const lines = big.split('\n');
  assert.match(lines[29] ?? '', /F1帮助/, big);
  assert.equal(lines.filter((l) => /F1帮助/.test(l)).length, 1, 'one function bar');
  tmux('resize-window', '-t', 'zy', '-x', '80', '-y', '24');
  const small = await waitFor(/^(?=[\s\S]*广东省人民医院)(?:[^\n]*\n){23}F1帮助/);
  assert.equal(small.split('\n').filter((l) => /F1帮助/.test(l)).length, 1);
  for (const l of small.split('\n')) assert.ok(width(l) <= 80, `line too wide: ${l}`);
  // Stray keys do no harm.
  tmux('send-keys', '-t', 'zy', 'F12', 'Home', 'End', 'x', 'Left', 'PageDown', 'BTab');
  await waitFor(/智影管理/);
  tmux('send-keys', '-t', 'zy', 'F10');
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    try { tmux('has-session', '-t', 'zy'); } catch { return; }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('F10 did not quit');
});
