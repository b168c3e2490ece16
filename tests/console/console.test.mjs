// The administration console driven in replay mode against the test
// stack (tests/run.sh starts it): an alliance with an upper hospital and
// two grassroots members, users of every role created there, and what
// those users then see on the web.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Client, URL_BASE, PASSWORD, sql } from '../integration/helpers.mjs';
import { replay, cli, login, existsSync, ADMIN } from './helpers.mjs';

const skip = URL_BASE && existsSync(ADMIN) ? false : 'no test stack or no zhiying-admin';

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
    inst('C0-UP', '控制台测试市医院', '<Left>'),
    inst('C0-G1', '控制台测试一卫生院', '<Right>'),
    inst('C0-G2', '控制台测试二卫生院', '<Right>'),
    inst('C0-G2', '另一个名字', '<Right>'),
    '<Dump dupcode><Esc>',
    inst('C0-G3', '控制台测试二卫生院', '<Right>'),
    '<Dump dupname><Esc>',
    inst('bad code!', '坏代码医院', ''),
    '<Dump badcode><Esc>',
    '<Dump insts>',
    '3<F2>A0-CON<Tab>控制台测试医联体<Tab><F2>',
    '<F2>A0-CON<Tab>另一医联体<Tab><F2><Dump dupal><Esc>',
    '<Home><Enter>',
    '<F2>C0-UP<Tab><F2>',
    '<F2>C0-G1<Tab>C0-UP<F2>',
    '<F2>C0-G2<Tab>C0-UP<F2>',
    '<F2>C0-G2<Tab>C0-G2<F2><Dump selfsup><Esc>',
    '<Dump members>',
  ]);
  assert.equal(rc, 0);
  assert.match(dumps.dupcode, /机构代码已存在/);
  assert.match(dumps.dupcode, /另一个名字/, 'input kept');
  assert.match(dumps.dupname, /机构名称已存在/);
  assert.match(dumps.dupal, /代码已存在/);
  assert.equal(sql(`SELECT count(*) FROM institutions WHERE code = 'C0-G3'`)[0][0], '0');
  assert.equal(sql(`SELECT count(*) FROM alliances WHERE name = '另一医联体'`)[0][0], '0');
  assert.match(dumps.badcode, /机构代码须为2-32位/);
  assert.match(dumps.insts, /C0-UP\s+控制台测试市医院\s+市级/);
  assert.match(dumps.insts, /C0-G1\s+控制台测试一卫生院\s+基层/);
  assert.match(dumps.selfsup, /上级医院不能是本机构/);
  assert.match(dumps.members, /控制台测试医联体（医联体）的成员 3 个/);
  assert.match(dumps.members, /C0-G1\s+控制台测试一卫生院\s+基层 C0-UP 控制台测试市医院/);
  assert.match(dumps.members, /C0-UP\s+控制台测试市医院\s+市级 （牵头医院）/);
  const rows = sql(`SELECT i.code, coalesce(s.code, '') FROM alliance_members m
    JOIN alliances a ON a.id = m.alliance_id JOIN institutions i ON i.id = m.institution_id
    LEFT JOIN institutions s ON s.id = m.superior_id WHERE a.code = 'A0-CON' ORDER BY 1`);
  assert.deepEqual(rows, [['C0-G1', 'C0-UP'], ['C0-G2', 'C0-UP'], ['C0-UP', '']]);
  const audit = sql(`SELECT count(*) FROM audit_log WHERE channel = 'console'
    AND action IN ('institution_created', 'alliance_created', 'alliance_member_set')
    AND actor_login = 'admin'`);
  assert.ok(Number(audit[0][0]) >= 7);
});

test('users of each role, then the web shows each the navigation of its roles', { skip }, async () => {
  const { dumps } = replay([
    login('admin'),
    user('c0_apply', '申请人甲', 'C0-G1', '1', 0),
    user('c0_doctor', '医生乙', 'C0-UP', '2', 2),
    user('c0_stats', '统计丙', 'C0-UP', '3', 0),
    user('c0_admin', '管理丁', 'C0-G1', '4', 0),
    user('c0_nodoc', '缺职称', 'C0-UP', '2', 0),
    '<Dump notitle><Esc>',
    user('c0_apply', '重复', 'C0-G1', '1', 0),
    '<Dump dup><Esc>',
    '<F3>c0_<Enter><Dump list>',
    // Any part of a name: 医生乙 by 生乙; a login only by its start.
    '<F3><C-u>生乙<Enter><Dump byname>',
    '<F3><C-u>_doctor<Enter><Dump mid>',
  ]);
  assert.match(dumps.byname, /c0_doctor\s+医生乙/);
  // The rows: after the column heads, up to the first blank line.
  const lines = dumps.byname.split('\n');
  const head = lines.findIndex((l) => l.startsWith('用户名'));
  const found = lines.slice(head + 1, lines.indexOf('', head));
  assert.ok(found.length >= 1 && found.every((l) => l.split(/\s+/)[1].includes('生乙')), found.join('\n'));
  assert.match(dumps.mid, /没有符合条件的用户/);
  assert.match(dumps.notitle, /受邀方人员须选择职称/);
  assert.match(dumps.dup, /用户名已存在/);
  assert.match(dumps.list, /c0_admin\s+管理丁\s+C0-G1\s+管理员/);
  assert.match(dumps.list, /c0_doctor\s+医生乙\s+C0-UP\s+受邀方人员\s+主治医师/);
  assert.match(dumps.list, /本页 4 条/);
  const expect = {
    c0_apply: ['申请', '申请列表'],
    c0_doctor: ['待诊断', '已报告'],
    c0_stats: ['统计'],
    c0_admin: ['机构用户'],
  };
  for (const [lg, items] of Object.entries(expect)) {
    const c = new Client();
    const r = await c.login(lg);
    assert.equal(r.status, 303, `${lg} logs in`);
    const nav = navOf((await c.get('/')).text);
    for (const it of items) assert.ok(nav.includes(it), `${lg} sees ${it} in ${nav}`);
  }
  const c = new Client();
  await c.login('c0_stats');
  assert.ok(!navOf((await c.get('/')).text).includes('申请'));
});

test('disabling a user ends their web session; reset password is shown once', { skip }, async () => {
  const c = new Client();
  assert.equal((await c.login('c0_apply')).status, 303);
  assert.equal((await c.get('/')).status, 200);
  const { dumps } = replay([
    login('admin'),
    '<F3>c0_apply<Enter><F6><Dump ask>y<Dump done>',
  ]);
  assert.match(dumps.ask, /停用用户 c0_apply/);
  assert.match(dumps.done, /已停用用户 c0_apply/);
  assert.match(dumps.done, /c0_apply .*已停用/);
  const r = await c.get('/');
  assert.equal(r.status, 303);
  assert.match(r.location, /^\/login/);
  assert.equal((await new Client().login('c0_apply')).status, 200, 'refused at login too');
  // Enable again, and reset the password: the new one works on the web.
  const { dumps: d2 } = replay([
    login('admin'),
    '<F3>c0_apply<Enter><F6>y<F7>y<Dump pw>',
  ]);
  const pw = d2.pw.match(/新密码：([A-Za-z0-9]+)/)[1];
  assert.equal((await new Client().login('c0_apply', pw)).status, 303);
  assert.equal((await new Client().login('c0_apply', PASSWORD)).status, 200);
});

test('an institution administrator manages only their own institution', { skip }, () => {
  const { dumps } = replay([
    login('c0_admin'),
    '<Dump own>',
    '<F3>gd_<Enter><Dump other>',
    user('c0_intruder', '越权', 'GD-PH', '1', 0),
    '<Dump refused><Esc>',
    '2<F2><Dump noinst><Esc>',
  ]);
  assert.match(dumps.own, /\[机构\]/);
  assert.match(dumps.own, /c0_admin/);
  assert.doesNotMatch(dumps.own, /gd_chief|c0_doctor/);
  assert.match(dumps.other, /没有符合条件的用户/);
  assert.match(dumps.refused, /只能管理本机构的用户/);
  assert.equal(sql(`SELECT count(*) FROM users WHERE login = 'c0_intruder'`)[0][0], '0');
});

test('a non-administrator cannot use the console; the attempt is audited', { skip }, () => {
  const { dumps } = replay([login('c0_doctor'), '<Dump denied>']);
  assert.match(dumps.denied, /没有管理员角色/);
  const n = sql(`SELECT count(*) FROM audit_log WHERE actor_login = 'c0_doctor' AND channel = 'console'`);
  assert.ok(Number(n[0][0]) >= 1);
});

test('subcommands provision as the operator, audited with channel cli', { skip }, async () => {
  assert.equal(cli(['institution', 'add', '--code', 'C1-CLI', '--name', '命令行医院', '--level', 'county']).rc, 0);
  assert.equal(cli(['alliance', 'add', '--code', 'A1-CLI', '--name', '命令行医共体', '--kind', 'county_community']).rc, 0);
  assert.equal(cli(['alliance', 'member', '--alliance', 'A1-CLI', '--institution', 'C1-CLI']).rc, 0);
  assert.equal(cli(['alliance', 'member', '--alliance', 'A1-CLI', '--institution', 'C0-G2', '--superior', 'C1-CLI']).rc, 0);
  const add = cli(['user', 'add', '--login', 'c1_doc', '--name', '命令行医生', '--institution', 'C1-CLI',
    '--roles', 'applicant,doctor', '--title', 'chief', '--password-stdin'], `${PASSWORD}\n`);
  assert.equal(add.rc, 0, add.err);
  const dup = cli(['user', 'add', '--login', 'c1_doc', '--name', 'x', '--institution', 'C1-CLI', '--roles', 'applicant']);
  assert.equal(dup.rc, 1);
  assert.match(dup.err, /用户名已存在/);
  assert.equal((await new Client().login('c1_doc')).status, 303);
  assert.equal(cli(['user', 'disable', 'c1_doc']).rc, 0);
  assert.equal((await new Client().login('c1_doc')).status, 200);
  assert.equal(cli(['user', 'enable', 'c1_doc']).rc, 0);
  const pw = cli(['user', 'passwd', 'c1_doc']);
  assert.equal(pw.rc, 0);
  const np = pw.out.match(/password: (\S+)/)[1];
  assert.equal((await new Client().login('c1_doc', np)).status, 303);
  assert.equal(cli(['user', 'unlock', 'c1_doc']).rc, 0);
  assert.equal(cli(['user', 'add', '--help']).rc, 0);
  assert.equal(cli(['user', 'frobnicate']).rc, 2);
  const rows = sql(`SELECT count(*) FROM audit_log WHERE channel = 'cli'`);
  assert.ok(Number(rows[0][0]) >= 8);
});
