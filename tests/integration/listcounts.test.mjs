// The totals under the lists (list_counts, sql/041): kept by triggers on
// applications in the transaction of each change, and read by lists.c for
// a list without a filter or filtered by 报告状态 only.  Three institutions
// of their own (an applicant's, an upper hospital, a helper), so that no
// other test moves their totals: after every kind of change made to
// applications (one row and many, state, mode, reader, helper, applicant,
// a change of nothing they count, a rolled-back one, deletions) the
// totals agree with the rows, and the lists show what the rows say.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Client, URL_BASE, listCountsWrong, sql } from './helpers.mjs';

const skip = URL_BASE ? false : 'no test stack (run through tests/run.sh)';
const TAG = `LC${String(Date.now() % 1e8).padStart(8, '0')}`;
const inst = (k) => `(SELECT id FROM institutions WHERE code = '${TAG}-${k}')`;
const user = (k) => `(SELECT id FROM users WHERE login = '${TAG.toLowerCase()}_${k}')`;
const login = (k) => `${TAG.toLowerCase()}_${k}`;

const clients = new Map();
async function as(k) {
  if (!clients.has(k)) {
    const c = new Client();
    assert.equal((await c.login(login(k))).status, 303, `login ${k}`);
    clients.set(k, c);
  }
  return clients.get(k);
}

const totalOf = (html) => {
  const m = html.match(/(共|超过) <strong id="list-total">(\d+)<\/strong> 条/);
  assert.ok(m, 'the list says how many');
  return { exact: m[1] === '共', n: Number(m[2]) };
};
const rowIds = (html) => [...html.matchAll(/<tr id="app-(\d+)"/g)].map((m) => m[1]).sort();

// What a list shows, and what its scope holds counted from the rows.
async function shown(k, path) {
  const r = await (await as(k)).get(path);
  assert.equal(r.status, 200, path);
  return { ...totalOf(r.text), ids: rowIds(r.text) };
}
const READER = (i) => `((a.mode = 'self' AND a.applicant_institution_id = ${inst(i)})
  OR (a.mode = 'superior' AND a.target_institution_id = ${inst(i)})
  OR (a.assist AND a.assist_institution_id = ${inst(i)}))`;
const rows = (where) => sql(`SELECT a.id FROM applications a WHERE ${where} ORDER BY 1::text`)
  .map((r) => r[0]).sort();

// Every list of the three institutions against its rows, and the totals
// against all rows of every scope.
async function agree(what) {
  assert.deepEqual(listCountsWrong(), [], `${what}: the kept totals`);
  const checks = [
    ['up', '/worklist', `${READER('U')} AND a.state IN ('pending', 'reporting')`],
    ['up', '/worklist?status=reporting', `${READER('U')} AND a.state = 'reporting'`],
    ['up', '/review', `${READER('U')} AND a.state = 'in_review'`],
    ['up', '/reported', `${READER('U')} AND a.state IN ('reported', 'reviewed')`],
    ['help', '/worklist', `${READER('H')} AND a.state IN ('pending', 'reporting')`],
    ['pdoc', '/worklist', `${READER('P')} AND a.state IN ('pending', 'reporting')`],
    ['a1', '/applications', `a.applicant_id = ${user('a1')}`],
    ['a1', '/applications?mine=0', `a.applicant_institution_id = ${inst('P')}`],
    ['a1', '/applications?mine=0&status=pending',
      `a.applicant_institution_id = ${inst('P')} AND a.state = 'pending'`],
    ['a2', '/applications', `a.applicant_id = ${user('a2')}`],
    ['a2', '/applications?status=returned', `a.applicant_id = ${user('a2')} AND a.state = 'returned'`],
    // 诊断尾号, alone and with 报告状态.
    ['up', '/worklist?tail=2', `${READER('U')} AND a.state IN ('pending', 'reporting')
      AND right(a.diag_no, 1) = '2'`],
    ['up', '/worklist?tail=4&status=reporting', `${READER('U')} AND a.state = 'reporting'
      AND right(a.diag_no, 1) = '4'`],
    ['a1', '/applications?mine=0&tail=5', `a.applicant_institution_id = ${inst('P')}
      AND right(a.diag_no, 1) = '5'`],
  ];
  for (const [k, path, where] of checks) {
    const want = rows(where);
    const got = await shown(k, path);
    assert.equal(got.exact, true, `${what}: ${path} of ${k} counts exactly`);
    assert.equal(got.n, want.length, `${what}: ${path} of ${k}`);
    assert.deepEqual(got.ids, want, `${what}: ${path} of ${k} shows its rows`);
  }
}

// Superior mode names an alliance; which one does not matter to a list.
const ALLIANCE = '(SELECT min(id) FROM alliances)';
const app = (n, applicant, mode, target) => `('${TAG}${String(n).padStart(3, '0')}', '${mode}',
  ${user(applicant)}, ${inst('P')}, ${target ? ALLIANCE : 'NULL'}, ${target ? inst(target) : 'NULL'},
  '计数${n}', 'M', 'P${n}', 'CT')`;
const INSERT = `INSERT INTO applications (diag_no, mode, applicant_id, applicant_institution_id,
  alliance_id, target_institution_id, patient_name, patient_sex, patient_no, exam_type) VALUES`;
const id = (n) => `(SELECT id FROM applications WHERE diag_no = '${TAG}${String(n).padStart(3, '0')}')`;
const upd = (set, where) => sql(`UPDATE applications SET ${set} WHERE ${where}`);
const lock = (n, who) => upd(`state = 'reporting', locked_by = ${user(who)}, locked_at = now(),
  lock_seen_at = now()`, `id = ${id(n)}`);

test.before(() => {
  if (skip) return;
  const pw = sql("SELECT password_hash FROM users WHERE login = 'qx_apply'")[0][0];
  sql(`INSERT INTO institutions (code, name, level) VALUES
    ('${TAG}-P', '${TAG}卫生院', 'primary'), ('${TAG}-U', '${TAG}人民医院', 'county'),
    ('${TAG}-H', '${TAG}中心医院', 'city')`);
  for (const [k, i, roles] of [['a1', 'P', 'applicant'], ['a2', 'P', 'applicant'],
    ['pdoc', 'P', 'applicant,doctor'], ['up', 'U', 'doctor'], ['help', 'H', 'doctor']]) {
    sql(`INSERT INTO users (institution_id, login, display_name, password_hash, roles, title)
      VALUES (${inst(i)}, '${login(k)}', '${TAG}${k}', :'p1', '{${roles}}',
      ${roles.includes('doctor') ? "'attending'" : 'NULL'})`, { params: [pw] });
  }
});

test('new institutions: every list empty, counted exactly', { skip }, async () => {
  await agree('empty');
  assert.equal((await shown('up', '/worklist')).n, 0);
});

test('insert: one row, then many in one statement', { skip }, async () => {
  sql(`${INSERT} ${app(1, 'a1', 'superior', 'U')}`);
  await agree('one row');
  sql(`${INSERT} ${app(2, 'a1', 'superior', 'U')}, ${app(3, 'a1', 'superior', 'U')},
    ${app(4, 'a2', 'superior', 'U')}, ${app(5, 'a2', 'self', null)}, ${app(6, 'a2', 'self', null)}`);
  await agree('many rows');
  assert.equal((await shown('up', '/worklist')).n, 4);
  assert.equal((await shown('pdoc', '/worklist')).n, 2);
  assert.equal((await shown('a1', '/applications?mine=0')).n, 6);
});

test('state: 写报告, 提交审核, 审核, 退回, 取消, one by one and many at once', { skip }, async () => {
  lock(1, 'up');
  await agree('locked');
  assert.equal((await shown('up', '/worklist?status=reporting')).n, 1);
  upd(`state = 'in_review', locked_by = NULL, locked_at = NULL, lock_seen_at = NULL,
    report_author_id = ${user('up')}, reported_at = now()`, `id = ${id(1)}`);
  await agree('submitted for review');
  upd(`state = 'reviewed', reviewer_id = ${user('up')}, reviewed_at = now()`, `id = ${id(1)}`);
  await agree('reviewed');
  upd(`state = 'returned', return_reason = '资料不全'`, `id = ${id(4)}`);
  await agree('returned');
  assert.equal((await shown('a2', '/applications?status=returned')).n, 1);
  upd(`state = 'pending', return_reason = ''`, `id = ${id(4)}`);
  await agree('resubmitted');
  upd(`state = 'cancelled'`, `id = ${id(3)}`);
  await agree('cancelled');
  // Two applications locked by one statement.
  upd(`state = 'reporting', locked_by = ${user('up')}, locked_at = now(), lock_seen_at = now()`,
    `id IN (${id(2)}, ${id(4)})`);
  await agree('two locked at once');
  assert.equal((await shown('up', '/worklist?status=reporting')).n, 2);
});

test('reader: 请求协助, a helper that already reads it, another upper hospital, the mode', { skip }, async () => {
  upd(`assist = true, assist_institution_id = ${inst('H')}`, `id = ${id(5)}`);
  await agree('assisted by H');
  assert.equal((await shown('help', '/worklist')).n, 1);
  // Asked of the institution that reads it already: counted once.
  upd(`assist = true, assist_institution_id = ${inst('U')}`, `id = ${id(2)}`);
  await agree('assisted by its own reader');
  upd(`target_institution_id = ${inst('H')}`, `id = ${id(4)}`);
  await agree('another upper hospital');
  upd(`mode = 'superior', alliance_id = ${ALLIANCE}, target_institution_id = ${inst('U')}`,
    `id = ${id(6)}`);
  await agree('self to superior');
  upd(`assist = false, assist_institution_id = NULL`, `id IN (${id(2)}, ${id(5)})`);
  await agree('assistance taken back');
});

test('applicant, a change of nothing counted, a rolled-back change, the 诊断号', { skip }, async () => {
  upd(`applicant_id = ${user('a1')}`, `id = ${id(5)}`);
  await agree('another applicant');
  const before = sql(`SELECT kind, owner, state, n, xmin::text FROM list_counts
    WHERE owner IN (${inst('P')}, ${inst('U')}, ${inst('H')}, ${user('a1')}, ${user('a2')}) ORDER BY 1, 2, 3`);
  upd(`patient_name = '计数改名', lock_seen_at = now()`, `diag_no LIKE '${TAG}%'`);
  // Nothing counted moved: no total was written (nor locked).
  assert.deepEqual(sql(`SELECT kind, owner, state, n, xmin::text FROM list_counts
    WHERE owner IN (${inst('P')}, ${inst('U')}, ${inst('H')}, ${user('a1')}, ${user('a2')}) ORDER BY 1, 2, 3`), before);
  sql(`BEGIN; ${INSERT} ${app(7, 'a1', 'superior', 'U')};
    UPDATE applications SET state = 'cancelled' WHERE state = 'pending' AND diag_no LIKE '${TAG}%';
    ROLLBACK;`);
  await agree('rolled back');
  // Another 诊断号, another 诊断尾号.
  upd(`diag_no = '${TAG}015'`, `id = ${id(5)}`);
  await agree('another 诊断号');
  // An account moved to another institution (zhiying-admin) sees as its
  // own only what it submitted from there: none; then back.
  sql(`UPDATE users SET institution_id = ${inst('H')} WHERE login = '${login('a2')}'`);
  clients.delete('a2');
  let got = await shown('a2', '/applications');
  assert.equal(got.n, 0);
  assert.deepEqual(got.ids, []);
  sql(`UPDATE users SET institution_id = ${inst('P')} WHERE login = '${login('a2')}'`);
  clients.delete('a2');
  got = await shown('a2', '/applications');
  assert.equal(got.n, rows(`a.applicant_id = ${user('a2')}`).length);
  assert.ok(got.n > 0);
  await agree('the account back home');
});

test('delete: one row and the rest', { skip }, async () => {
  sql(`DELETE FROM applications WHERE id = ${id(3)}`);
  await agree('one deleted');
  sql(`DELETE FROM applications WHERE diag_no LIKE '${TAG}%'`);
  await agree('all deleted');
  assert.equal((await shown('up', '/worklist')).n, 0);
  assert.equal((await shown('a1', '/applications?mine=0')).n, 0);
});
