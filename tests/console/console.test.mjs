// The administration console driven in replay mode against the test
// stack (tests/run.sh starts it): an alliance with an upper hospital and
// two grassroots members, users of every role created there, and what
// those users then see on the web.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Client, URL_BASE, PASSWORD, sql } from '../integration/helpers.mjs';
import { replay, cli, login, existsSync, ADMIN } from './helpers.mjs';

const skip = URL_BASE && existsSync(ADMIN) ? false : 'no test stack or no zhiying-admin';

// Every run makes its own institutions, alliances and users, so the file
// can run again on the same stack: codes, names and logins carry a tag of
// four letters or digits that sorts a later run first (the seconds of the
// clock counted down), since the alliance panel opens the first alliance
// by code; institutions and logins start with Z/z so that they sort after
// the seeded ones that tmux.test.mjs looks for on the first page.  The
// lengths fit the console's columns at 80x24 (a code of 8 cells, a name
// of 18, the top bar's "login[机构]" of 14).
const T = (36 ** 4 - 1 - (Math.floor(Date.now() / 1000) % 36 ** 4)).toString(36).padStart(4, '0').toUpperCase();
const t = T.toLowerCase();
const UP = `Z${T}-UP`, G1 = `Z${T}-G1`, G2 = `Z${T}-G2`, G3 = `Z${T}-G3`;
const UPN = `控制台市医院${T}`, G1N = `控制台一卫生院${T}`, G2N = `控制台二卫生院${T}`;
const AL = `A0${T}-CON`, ALN = `控制台医联体${T}`, ALDUP = `另一医联体${T}`;
const U = (role) => `z${t}_${role}`;

function navOf(html) {
  const nav = html.match(/<nav class="sidebar"[\s\S]*?<\/nav>/);
  if (!nav) return [];
  return [...nav[0].matchAll(/<a [^>]*>([^<]*)<\/a>/g)].map((m) => m[1]);
}

// Institution form: code, name, level (from 县级: Left = 市级, Right = 基层).
const inst = (code, name, level) => `<F2>${code}<Tab>${name}<Tab>${level}<Tab>测试地区<Tab>0751-1234<F2>`;
// User form: login, name, institution, roles (digits toggle), title (Right steps), password.
const user = (lg, name, code, roles, titleSteps) =>
  `<F2>${lg}<Tab>${name}<Tab><C-u>${code}<Tab>${roles}<Tab>${'<Right>'.repeat(titleSteps)}<Tab>${PASSWORD}<F2>`;

test('platform administrator builds an alliance with its upper hospital', { skip }, () => {
  const { dumps, rc } = replay([
    login('admin'),
    '2',
    inst(UP, UPN, '<Left>'),
    inst(G1, G1N, '<Right>'),
    inst(G2, G2N, '<Right>'),
    inst(G2, `另一个名字${T}`, '<Right>'),
    '<Dump dupcode><Esc>',
    inst(G3, G2N, '<Right>'),
    '<Dump dupname><Esc>',
    inst('bad code!', '坏代码医院', ''),
    '<Dump badcode><Esc>',
    `<F3>Z${T}-<Enter><Dump insts>`,
    `3<F2>${AL}<Tab>${ALN}<Tab><F2>`,
    `<F2>${AL}<Tab>${ALDUP}<Tab><F2><Dump dupal><Esc>`,
    '<Home><Enter>',
    `<F2>${UP}<Tab><F2>`,
    `<F2>${G1}<Tab>${UP}<F2>`,
    `<F2>${G2}<Tab>${UP}<F2>`,
    `<F2>${G2}<Tab>${G2}<F2><Dump selfsup><Esc>`,
    '<Dump members>',
  ]);
  assert.equal(rc, 0);
  assert.match(dumps.dupcode, /机构代码已存在/);
  assert.match(dumps.dupcode, new RegExp(`另一个名字${T}`), 'input kept');
  assert.match(dumps.dupname, /机构名称已存在/);
  assert.match(dumps.dupal, /代码已存在/);
  assert.equal(sql(`SELECT count(*) FROM institutions WHERE code = '${G3}'`)[0][0], '0');
  assert.equal(sql(`SELECT count(*) FROM alliances WHERE name = '${ALDUP}'`)[0][0], '0');
  assert.match(dumps.badcode, /机构代码须为2-32位/);
  assert.match(dumps.insts, new RegExp(`${UP}\\s+${UPN}\\s+市级`));
  assert.match(dumps.insts, new RegExp(`${G1}\\s+${G1N}\\s+基层`));
  assert.match(dumps.selfsup, /上级医院不能是本机构/);
  assert.match(dumps.members, new RegExp(`${ALN}（医联体）的成员 3 个`));
  assert.match(dumps.members, new RegExp(`${G1}\\s+${G1N}\\s+基层 ${UP} ${UPN}`));
  assert.match(dumps.members, new RegExp(`${UP}\\s+${UPN}\\s+市级 （牵头医院）`));
  const rows = sql(`SELECT i.code, coalesce(s.code, '') FROM alliance_members m
    JOIN alliances a ON a.id = m.alliance_id JOIN institutions i ON i.id = m.institution_id
    LEFT JOIN institutions s ON s.id = m.superior_id WHERE a.code = '${AL}' ORDER BY 1`);
  assert.deepEqual(rows, [[G1, UP], [G2, UP], [UP, '']]);
  const audit = sql(`SELECT count(*) FROM audit_log WHERE channel = 'console'
    AND action IN ('institution_created', 'alliance_created', 'alliance_member_set')
    AND actor_login = 'admin'`);
  assert.ok(Number(audit[0][0]) >= 7);
});

test('users of each role, then the web shows each the navigation of its roles', { skip }, async () => {
  const { dumps } = replay([
    login('admin'),
    user(U('apply'), '申请人甲', G1, '1', 0),
    user(U('doctor'), '医生乙', UP, '2', 2),
    user(U('stats'), '统计丙', UP, '3', 0),
    user(U('ad'), '管理丁', G1, '4', 0),
    user(U('nodoc'), '缺职称', UP, '2', 0),
    '<Dump notitle><Esc>',
    user(U('apply'), '重复', G1, '1', 0),
    '<Dump dup><Esc>',
    `<F3>z${t}_<Enter><Dump list>`,
    // Any part of a name: 医生乙 by 生乙; a login only by its start.
    '<F3><C-u>生乙<Enter><Dump byname>',
    '<F3><C-u>_doctor<Enter><Dump mid>',
  ]);
  assert.match(dumps.byname, new RegExp(`${U('doctor')}\\s+医生乙`));
  // The rows: after the column heads, up to the first blank line.
  const lines = dumps.byname.split('\n');
  const head = lines.findIndex((l) => l.startsWith('用户名'));
  const found = lines.slice(head + 1, lines.indexOf('', head));
  assert.ok(found.length >= 1 && found.every((l) => l.split(/\s+/)[1].includes('生乙')), found.join('\n'));
  assert.match(dumps.mid, /没有符合条件的用户/);
  assert.match(dumps.notitle, /受邀方人员须选择职称/);
  assert.match(dumps.dup, /用户名已存在/);
  assert.match(dumps.list, new RegExp(`${U('ad')}\\s+管理丁\\s+${G1}\\s+管理员`));
  assert.match(dumps.list, new RegExp(`${U('doctor')}\\s+医生乙\\s+${UP}\\s+受邀方人员\\s+主治医师`));
  assert.match(dumps.list, /本页 4 条/);
  const expect = {
    [U('apply')]: ['申请', '申请列表'],
    [U('doctor')]: ['待诊断', '已报告'],
    [U('stats')]: ['统计'],
    [U('ad')]: ['机构用户'],
  };
  for (const [lg, items] of Object.entries(expect)) {
    const c = new Client();
    const r = await c.login(lg);
    assert.equal(r.status, 303, `${lg} logs in`);
    const nav = navOf((await c.get('/')).text);
    for (const it of items) assert.ok(nav.includes(it), `${lg} sees ${it} in ${nav}`);
  }
  const c = new Client();
  await c.login(U('stats'));
  assert.ok(!navOf((await c.get('/')).text).includes('申请'));
});

test('disabling a user ends their web session; reset password is shown once', { skip }, async () => {
  const c = new Client();
  assert.equal((await c.login(U('apply'))).status, 303);
  assert.equal((await c.get('/')).status, 200);
  const { dumps } = replay([
    login('admin'),
    `<F3>${U('apply')}<Enter><F6><Dump ask>y<Dump done>`,
  ]);
  assert.match(dumps.ask, new RegExp(`停用用户 ${U('apply')}`));
  assert.match(dumps.done, new RegExp(`已停用用户 ${U('apply')}`));
  assert.match(dumps.done, new RegExp(`${U('apply')} .*已停用`));
  const r = await c.get('/');
  assert.equal(r.status, 303);
  assert.match(r.location, /^\/login/);
  assert.equal((await new Client().login(U('apply'))).status, 200, 'refused at login too');
  // Enable again, and reset the password: the new one works on the web.
  const { dumps: d2 } = replay([
    login('admin'),
    `<F3>${U('apply')}<Enter><F6>y<F7>y<Dump pw>`,
  ]);
  const pw = d2.pw.match(/新密码：([A-Za-z0-9]+)/)[1];
  assert.equal((await new Client().login(U('apply'), pw)).status, 303);
  assert.equal((await new Client().login(U('apply'), PASSWORD)).status, 200);
});

test('an institution administrator manages only their own institution', { skip }, () => {
  const { dumps } = replay([
    login(U('ad')),
    '<Dump own>',
    '<F3>gd_<Enter><Dump other>',
    user(U('intruder'), '越权', 'GD-PH', '1', 0),
    '<Dump refused><Esc>',
    '2<F2><Dump noinst><Esc>',
  ]);
  assert.match(dumps.own, /\[机构\]/);
  assert.match(dumps.own, new RegExp(U('ad')));
  assert.doesNotMatch(dumps.own, new RegExp(`gd_chief|${U('doctor')}`));
  assert.match(dumps.other, /没有符合条件的用户/);
  assert.match(dumps.refused, /只能管理本机构的用户/);
  assert.equal(sql(`SELECT count(*) FROM users WHERE login = '${U('intruder')}'`)[0][0], '0');
});

test('a non-administrator cannot use the console; the attempt is audited', { skip }, () => {
  const { dumps } = replay([login(U('doctor')), '<Dump denied>']);
  assert.match(dumps.denied, /没有管理员角色/);
  const n = sql(`SELECT count(*) FROM audit_log WHERE actor_login = '${U('doctor')}' AND channel = 'console'`);
  assert.ok(Number(n[0][0]) >= 1);
});

test('subcommands provision as the operator, audited with channel cli', { skip }, async () => {
  const CLI = `Z${T}-CLI`, ACLI = `A1${T}-CLI`, DOC = `y${t}_doc`;
  assert.equal(cli(['institution', 'add', '--code', CLI, '--name', `命令行医院${T}`, '--level', 'county']).rc, 0);
  assert.equal(cli(['alliance', 'add', '--code', ACLI, '--name', `命令行医共体${T}`, '--kind', 'county_community']).rc, 0);
  assert.equal(cli(['alliance', 'member', '--alliance', ACLI, '--institution', CLI]).rc, 0);
  assert.equal(cli(['alliance', 'member', '--alliance', ACLI, '--institution', G2, '--superior', CLI]).rc, 0);
  const add = cli(['user', 'add', '--login', DOC, '--name', '命令行医生', '--institution', CLI,
    '--roles', 'applicant,doctor', '--title', 'chief', '--password-stdin'], `${PASSWORD}\n`);
  assert.equal(add.rc, 0, add.err);
  const dup = cli(['user', 'add', '--login', DOC, '--name', 'x', '--institution', CLI, '--roles', 'applicant']);
  assert.equal(dup.rc, 1);
  assert.match(dup.err, /用户名已存在/);
  assert.equal((await new Client().login(DOC)).status, 303);
  assert.equal(cli(['user', 'disable', DOC]).rc, 0);
  assert.equal((await new Client().login(DOC)).status, 200);
  assert.equal(cli(['user', 'enable', DOC]).rc, 0);
  const pw = cli(['user', 'passwd', DOC]);
  assert.equal(pw.rc, 0);
  const np = pw.out.match(/password: (\S+)/)[1];
  assert.equal((await new Client().login(DOC, np)).status, 303);
  assert.equal(cli(['user', 'unlock', DOC]).rc, 0);
  assert.equal(cli(['user', 'add', '--help']).rc, 0);
  assert.equal(cli(['user', 'frobnicate']).rc, 2);
  const rows = sql(`SELECT count(*) FROM audit_log WHERE channel = 'cli'`);
  assert.ok(Number(rows[0][0]) >= 8);
});
