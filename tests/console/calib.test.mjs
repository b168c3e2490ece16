// 钙化积分校准 (panel 8) as an administrator uses it: in a real terminal
// (tmux on a private socket at 80x24, keys sent with send-keys, the pane
// read with capture-pane and polled with a deadline), a calibration is
// refused for its factor, added, listed, changed and removed after a
// confirmation; the rows and their audit rows are checked in the
// database.  An institution administrator only reads the table.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URL_BASE, sql } from '../integration/helpers.mjs';
import { ADMIN, CONF, replay, login, cli, existsSync } from './helpers.mjs';

let tmuxOk = true;
try { execFileSync('tmux', ['-V']); } catch { tmuxOk = false; }
const skip = !URL_BASE || !existsSync(ADMIN) ? 'no test stack' : !tmuxOk ? 'tmux not installed' : false;

const ENV = { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
const sock = join(mkdtempSync(join(tmpdir(), 'zy-tmux-')), 'sock');
const tmux = (...a) => execFileSync('tmux', ['-S', sock, ...a], { encoding: 'utf8', env: ENV });
const pane = () => tmux('capture-pane', '-p', '-t', 'zy');
const keys = (...k) => tmux('send-keys', '-t', 'zy', ...k);
const type = (text) => tmux('send-keys', '-t', 'zy', '-l', text);
const MAN = `ZYT${process.pid % 100000}`;

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

const audit = (action, id) => sql(`SELECT actor_login, channel, detail::json->>'manufacturer',
    detail::json->>'model', detail::json->>'kvp', detail::json->>'factor'
  FROM audit_log WHERE action = '${action}' AND object_type = 'cac_calibration' AND object_id = '${id}'
  ORDER BY id`);

test('校准: refuse a bad factor, add, list, change and remove a calibration in tmux', { skip }, async (t) => {
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'zy', '-x', '80', '-y', '24',
    `env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color ${ADMIN} -c ${CONF}`);
  t.after(() => { try { tmux('kill-server'); } catch { /* gone */ } });
  await waitFor(/管理员登录/);
  keys('admin', 'Tab', 'Zhiying2026', 'Enter');
  await waitFor(/本页 \d+ 条/);

  // The panel is the menu's eighth; the header keeps who is logged in.
  keys('8');
  const list = await waitFor(/钙化积分校准 \d+ 条/);
  assert.match(list.split('\n')[0], /8校准 .*admin\[平台\]/);
  assert.match(list, /编号\s+厂商\s+型号\s+管电压\s+系数\s+备注\s+更新/);
  assert.match(list.split('\n')[23], /F1帮助.*F2新增.*F4修改.*F8删除/);

  // A factor out of range: refused next to its field, input kept,
  // nothing written.
  keys('F2');
  await waitFor(/新增校准/);
  type(MAN);
  keys('Tab');
  type('CalibScan 64');
  keys('Tab');
  type('120');
  keys('Tab');
  type('2');
  keys('Tab');
  type('QRM 体模 2026-12');
  keys('F2');
  const bad = await waitFor(/校准系数须为0\.3–1\.5之间的数（mg\/cm³\/HU，120 kV）/);
  assert.match(bad, new RegExp(MAN), 'input kept');
  assert.match(bad, /QRM 体模 2026-12/);
  assert.equal(sql(`SELECT count(*) FROM cac_calibrations WHERE manufacturer = '${MAN}'`)[0][0], '0');

  // The field with the error has the focus: clear it, enter 0.68, save.
  keys('C-u');
  type('0.68');
  keys('F2');
  const saved = await waitFor(new RegExp(`已保存校准 ${MAN} CalibScan 64 120 kV：系数 0\\.680`));
  assert.match(saved, new RegExp(`${MAN}\\s+CalibScan 64\\s+120\\s+0\\.680 QRM 体模 2026-12 \\d{4}-\\d\\d-\\d\\d admin`));
  const [[id, model, kvp, factor, note, by]] = sql(`SELECT id, model, kvp, factor, note, updated_by
    FROM cac_calibrations WHERE manufacturer = '${MAN}'`);
  assert.deepEqual([model, kvp, factor, note, by], ['CalibScan 64', '120', '0.680', 'QRM 体模 2026-12', 'admin']);
  assert.deepEqual(audit('cac_calibration_saved', id),
    [['admin', 'console', MAN, 'CalibScan 64', '120', '0.680']]);

  // The manufacturer is required.
  keys('F2');
  await waitFor(/新增校准/);
  keys('Tab', 'Tab', 'Tab');
  type('0.7');
  keys('F2');
  await waitFor(/厂商不能为空/);
  keys('Escape');
  await waitFor(/已取消/);

  // Enter on the row: its factor and note change, the scanner stays.
  keys('Enter');
  const edit = await waitFor(/修改校准系数/);
  assert.match(edit, new RegExp(`厂商\\s+${MAN}`));
  keys('C-u');
  type('0.7');
  keys('F2');
  await waitFor(/已保存校准 .*：系数 0\.700/);
  assert.equal(sql(`SELECT factor FROM cac_calibrations WHERE id = ${id}`)[0][0], '0.700');
  assert.equal(audit('cac_calibration_saved', id).length, 2);

  // Remove: asked first; n keeps it, y removes it.
  keys('F8');
  await waitFor(new RegExp(`删除校准 ${MAN} CalibScan 64 120 kV（系数 0\\.700）？`));
  keys('n');
  await waitFor(/F8删除/);
  assert.equal(sql(`SELECT count(*) FROM cac_calibrations WHERE id = ${id}`)[0][0], '1');
  assert.equal(audit('cac_calibration_removed', id).length, 0);
  keys('F8');
  await waitFor(/删除校准/);
  keys('y');
  const gone = await waitFor(new RegExp(`已删除校准 ${MAN} CalibScan 64 120 kV`));
  assert.doesNotMatch(gone, new RegExp(`^\\d+\\s+${MAN}`, 'm'));
  assert.equal(sql(`SELECT count(*) FROM cac_calibrations WHERE id = ${id}`)[0][0], '0');
  assert.deepEqual(audit('cac_calibration_removed', id),
    [['admin', 'console', MAN, 'CalibScan 64', '120', '0.700']]);

  keys('F10');
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    try { tmux('has-session', '-t', 'zy'); } catch { return; }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('F10 did not quit');
});

test('校准: the command line and the panel share one table; an institution administrator only reads it', { skip }, () => {
  const add = cli(['calibration', 'add', '--manufacturer', `${MAN}C`, '--kvp', '100', '--factor', '0.81',
    '--note', 'cli']);
  assert.equal(add.rc, 0, add.err);
  const [[id]] = sql(`SELECT id FROM cac_calibrations WHERE manufacturer = '${MAN}C'`);
  const { dumps, rc } = replay([login('yb_admin'), '8<Dump ro>', '<F2><Dump f2>', '<F8><Dump f8>', '<F10>']);
  assert.equal(rc, 0);
  assert.match(dumps.ro, new RegExp(`${id}\\s+${MAN}C\\s+全部\\s+100\\s+0\\.810 cli`));
  assert.match(dumps.ro, /仅平台管理员可修改/);
  assert.doesNotMatch(dumps.ro, /F2新增|F8删除/);
  assert.match(dumps.f2, /只有平台管理员可以管理钙化积分校准/);
  assert.doesNotMatch(dumps.f2, /新增校准/);
  assert.match(dumps.f8, /只有平台管理员可以管理钙化积分校准/);
  assert.doesNotMatch(dumps.f8, /请确认/);
  assert.equal(sql(`SELECT count(*) FROM cac_calibrations WHERE id = ${id}`)[0][0], '1');
  // The operator's refusal says the same as the panel's.
  const bad = cli(['calibration', 'add', '--manufacturer', `${MAN}C`, '--factor', '0.1']);
  assert.equal(bad.rc, 1);
  assert.match(bad.err, /校准系数须为0\.3–1\.5之间的数（mg\/cm³\/HU，120 kV）: 0\.1/);
  assert.equal(cli(['calibration', 'remove', id]).rc, 0);
  assert.deepEqual(audit('cac_calibration_removed', id).map((r) => r.slice(1)),
    [['cli', `${MAN}C`, '', '100', '0.810']]);
});
