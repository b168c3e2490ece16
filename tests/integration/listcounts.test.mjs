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

// The filters the kept totals cannot answer (申请时间, 申请医院, 关键字:
// two characters of a name, a whole name, a 诊断号 fragment with its date,
// a serial number) are counted from the rows up to 1,000 past the page
// and found through the waiting rows' indexes (sql/042), each statement
// planned with its values.  Against the rows, on a few hundred
// applications of the three institutions and as many of another hospital
// that share their names, dates and numbers and must never show: the
// same rows in the same order, page after page, and the same totals.
test('filtered lists: the same rows, order and totals as the rows say; no other hospital\'s', { skip }, async () => {
  sql(`INSERT INTO institutions (code, name, level) VALUES ('${TAG}-X', '${TAG}外院', 'primary')`);
  sql(`INSERT INTO users (institution_id, login, display_name, password_hash, roles)
    SELECT ${inst('X')}, '${login('x1')}', '${TAG}x1', password_hash, '{applicant}'
    FROM users WHERE login = 'qx_apply'`);
  // 诊断号 ZY<date><serial>: three dates, the serials of this test.
  const S = TAG.slice(-4);
  const names = ['欧阳明华', '王明华', '李华', '明华', '赵一'];
  const fill = (who, k, mode, target, from, to) => sql(`INSERT INTO applications (diag_no, state,
      mode, applicant_id, applicant_institution_id, alliance_id, target_institution_id,
      patient_name, patient_sex, patient_no, exam_type, submitted_at, images_missing)
    SELECT 'ZY' || (ARRAY['20240315', '20240316', '20250101'])[1 + n % 3] || '${S}' || '${k}'
        || lpad(n::text, 4, '0'),
      (ARRAY['pending', 'reporting', 'pending', 'reported', 'cancelled', 'pending'])[1 + n % 6],
      '${mode}', ${user(who)}, ${inst(who === 'x1' ? 'X' : 'P')},
      ${target ? ALLIANCE : 'NULL'}, ${target ? inst(target) : 'NULL'},
      (ARRAY['${names.join("', '")}'])[1 + n % 5], 'F', 'P' || n, 'CT',
      now() - n * interval '97 minutes', n % 4 = 0
    FROM generate_series(${from}, ${to}) n`);
  fill('a1', 1, 'superior', 'U', 1, 150);
  fill('a2', 2, 'self', null, 1, 60);
  fill('x1', 3, 'superior', 'H', 1, 150);
  sql('ANALYZE applications');
  const W = "a.state IN ('pending', 'reporting')";
  const WORK = 'a.images_missing, a.submitted_at DESC, a.id DESC';
  const NEW = 'a.submitted_at DESC, a.id DESC';
  const like = (s) => `(a.patient_name ILIKE '%${s}%' OR a.diag_no ILIKE '%${s}%')`;
  const day = (n) => `(current_date - ${n})`;
  const q = encodeURIComponent;
  const U = READER('U');
  const P = `a.applicant_institution_id = ${inst('P')}`;
  const nameLike = (s) => `a.patient_name ILIKE '%${s}%'`;
  const week = `a.submitted_at >= ${day(6)}`;
  // [user, list, scope, filter, order]
  const checks = [
    ['up', `/worklist?q=${q('明华')}`, U, `${W} AND ${nameLike('明华')}`, WORK],
    ['up', `/worklist?q=${q('华')}`, U, `${W} AND ${nameLike('华')}`, WORK],
    ['up', `/worklist?q=${q('王明华')}`, U, `${W} AND ${like('王明华')}`, WORK],
    ['up', '/worklist?q=20240315', U, `${W} AND ${like('20240315')}`, WORK],
    ['up', `/worklist?q=${S}1`, U, `${W} AND ${like(`${S}1`)}`, WORK],
    ['up', `/worklist?q=zy20250101${S}1`, U, `${W} AND ${like(`ZY20250101${S}1`)}`, WORK],
    ['up', '/worklist?q=20240316&status=reporting', U, `a.state = 'reporting' AND ${like('20240316')}`, WORK],
    ['up', '/worklist?time=week', U, `${W} AND ${week}`, WORK],
    ['up', '/worklist?time=today', U, `${W} AND a.submitted_at >= ${day(0)}`, WORK],
    ['up', `/worklist?time=week&q=${q('明华')}`, U, `${W} AND ${week} AND ${nameLike('明华')}`, WORK],
    ['up', `/worklist?hospital=${sql(`SELECT ${inst('P')}`)[0][0]}&q=20240315`, U,
      `${W} AND ${P} AND ${like('20240315')}`, WORK],
    ['up', `/worklist?q=${q('明华')}&sort=name`, U, `${W} AND ${nameLike('明华')}`, 'a.patient_name, a.id'],
    ['pdoc', '/worklist?q=20250101', READER('P'), `${W} AND ${like('20250101')}`, WORK],
    ['help', `/worklist?q=${q('明华')}`, READER('H'), `${W} AND ${nameLike('明华')}`, WORK],
    ['a1', `/applications?mine=0&q=${q('明华')}`, P, nameLike('明华'), NEW],
    ['a1', '/applications?mine=0&q=20240315', P, like('20240315'), NEW],
    ['a1', `/applications?q=${q('王明华')}&time=week`, `a.applicant_id = ${user('a1')}`,
      `${like('王明华')} AND ${week}`, NEW],
  ];
  let foreign = 0;
  for (const [k, path, scope, filter, order] of checks) {
    const want = sql(`SELECT a.id FROM applications a WHERE ${scope} AND ${filter} ORDER BY ${order}`)
      .map((r) => r[0]);
    // The other hospital's rows that the same filter finds.
    const other = new Set(sql(`SELECT a.id FROM applications a WHERE a.applicant_institution_id
      = ${inst('X')} AND ${filter}`).map((r) => r[0]));
    foreign += other.size;
    const got = [];
    let first;
    for (let page = 1; ; page++) {
      const r = await (await as(k)).get(`${path}&page=${page}`);
      assert.equal(r.status, 200, path);
      first ??= totalOf(r.text);
      got.push(...[...r.text.matchAll(/<tr id="app-(\d+)"/g)].map((m) => m[1]));
      if (got.length >= want.length || !/<a href="[^"]*" class="next">/.test(r.text)) break;
    }
    assert.ok(want.length > 0, `${path} of ${k}: the data has rows for it`);
    assert.deepEqual(first, { exact: true, n: want.length }, `${path} of ${k}: the total`);
    assert.deepEqual(got, want, `${path} of ${k}: the rows, in order`);
    // H reads the other hospital's applications; nobody else does.
    if (k !== 'help') assert.deepEqual(got.filter((x) => other.has(x)), [], `${path} of ${k}`);
  }
  assert.ok(foreign > 0, 'the other hospital has rows the filters find');
  sql(`DELETE FROM applications WHERE applicant_institution_id = ${inst('X')}
    OR diag_no LIKE 'ZY2024031_${S}%' OR diag_no LIKE 'ZY20250101${S}%'`);
  await agree('after the filters');
});

test('delete: one row and the rest', { skip }, async () => {
  sql(`DELETE FROM applications WHERE id = ${id(3)}`);
  await agree('one deleted');
  sql(`DELETE FROM applications WHERE diag_no LIKE '${TAG}%'`);
  await agree('all deleted');
  assert.equal((await shown('up', '/worklist')).n, 0);
  assert.equal((await shown('a1', '/applications?mine=0')).n, 0);
});
