// Integration tests of 统计 (stats.c, src/lib/stats.c, zhiying-stats): the
// figures of a known set of applications, reports and AI jobs, on the page,
// in the workbook of 导出Excel and in the workbook of the command, read
// back with an independent reader (Debian's python3-openpyxl); and the
// scope of a manager: one alliance's manager never sees another's figures.
//
// The data lives in two alliances of its own (institutions, users and
// applications whose codes start with TAG), so that its figures are exact
// whatever else the shared stack holds.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, ROOT_DIR, STATE, URL_BASE, sql, statsCountsWrong, unescapeHtml } from './helpers.mjs';

const skip = URL_BASE ? false : 'no test stack (run through tests/run.sh)';

const TAG = `ZS${String(Date.now() % 1e7).padStart(7, '0')}`;
const NAME = {
  C1: `${TAG}市医院`, P1: `${TAG}甲卫生院`, P2: `${TAG}乙卫生院`, K1: `${TAG}县医院`,
  AA: `${TAG}医联体`, AB: `${TAG}医共体`,
};
const LOGIN = {
  statsC1: `${TAG.toLowerCase()}_stats_c1`, statsK1: `${TAG.toLowerCase()}_stats_k1`,
  doc1: `${TAG.toLowerCase()}_doc1`, doc2: `${TAG.toLowerCase()}_doc2`,
  app1: `${TAG.toLowerCase()}_app1`, app2: `${TAG.toLowerCase()}_app2`,
  appK: `${TAG.toLowerCase()}_appk`,
};
const RANGE = 'from=2025-03-01&to=2025-03-31';
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'zy-stats-'));

const inst = (k) => `(SELECT id FROM institutions WHERE code = '${TAG}-${k}')`;
const user = (k) => `(SELECT id FROM users WHERE login = '${LOGIN[k]}')`;
const at = (day, h = 0) => `('2025-03-${day} 09:00'::timestamp + interval '${h} hours')`;

// key: [applicant inst, applicant user, mode, state, day, exam, extra]
const APPS = {
  1: ['P1', 'app1', 'superior', 'reviewed', '03', 'CT', { author: 'doc1', reviewer: 'doc2', rep: 2, rev: 5, ai: true }],
  2: ['P1', 'app1', 'superior', 'reported', '03', 'CT', { author: 'doc2', rep: 4 }],
  3: ['P2', 'app2', 'superior', 'reported', '04', 'DR', { author: 'doc2', rep: 10 }],
  4: ['P2', 'app2', 'superior', 'pending', '05', 'CT', { assist: true }],
  5: ['P1', 'app1', 'superior', 'cancelled', '10', 'DR', {}],
  6: ['P1', 'app1', 'superior', 'returned', '10', 'CT', { returned: true }],
  7: ['C1', 'doc1', 'self', 'in_review', '11', 'CT', { author: 'doc1', rep: 1 }],
  8: ['P2', 'app2', 'superior', 'reviewed', '17', 'CT', { author: 'doc1', reviewer: 'doc2', rep: 6, rev: 8, firstReview: 1, draftAi: true }],
  9: ['K1', 'appK', 'self', 'reported', '04', 'CT', { author: 'doc2', rep: 3 }],
};
const ID = {};

function setup() {
  const pw = sql("SELECT password_hash FROM users WHERE login = 'gd_stats'")[0][0];
  sql(`INSERT INTO institutions (code, name, level) VALUES
      ('${TAG}-C1', '${NAME.C1}', 'city'), ('${TAG}-P1', '${NAME.P1}', 'primary'),
      ('${TAG}-P2', '${NAME.P2}', 'primary'), ('${TAG}-K1', '${NAME.K1}', 'county');
    INSERT INTO alliances (code, name, kind) VALUES
      ('${TAG}-AA', '${NAME.AA}', 'medical_alliance'), ('${TAG}-AB', '${NAME.AB}', 'county_community');
    INSERT INTO alliance_members (alliance_id, institution_id, superior_id) VALUES
      ((SELECT id FROM alliances WHERE code = '${TAG}-AA'), ${inst('C1')}, NULL),
      ((SELECT id FROM alliances WHERE code = '${TAG}-AB'), ${inst('K1')}, NULL);
    INSERT INTO alliance_members (alliance_id, institution_id, superior_id) VALUES
      ((SELECT id FROM alliances WHERE code = '${TAG}-AA'), ${inst('P1')}, ${inst('C1')}),
      ((SELECT id FROM alliances WHERE code = '${TAG}-AA'), ${inst('P2')}, ${inst('C1')});`);
  const users = [['statsC1', 'C1', '{stats}', null, '统计甲'], ['statsK1', 'K1', '{stats}', null, '统计乙'],
    ['doc1', 'C1', '{doctor}', 'attending', '医生甲'], ['doc2', 'C1', '{doctor}', 'chief', '医生乙'],
    ['app1', 'P1', '{applicant}', null, '申请甲'], ['app2', 'P2', '{applicant}', null, '申请乙'],
    ['appK', 'K1', '{applicant}', null, '申请丙']];
  for (const [k, i, roles, title, name] of users) {
    sql(`INSERT INTO users (institution_id, login, display_name, password_hash, roles, title)
      VALUES (${inst(i)}, '${LOGIN[k]}', '${name}${TAG}', :'p1', '${roles}', ${title ? `'${title}'` : 'NULL'})`,
    { params: [pw] });
  }
  for (const [k, [ai, au, mode, state, day, exam, x]] of Object.entries(APPS)) {
    const sup = mode === 'superior';
    ID[k] = sql(`INSERT INTO applications (diag_no, state, mode, applicant_id, applicant_institution_id,
        alliance_id, target_institution_id, assist, assist_institution_id, patient_name, patient_sex,
        patient_no, exam_type, report_author_id, reviewer_id, reported_at, reviewed_at, submitted_at)
      VALUES ('${TAG}${k}', '${state}', '${mode}', ${user(au)}, ${inst(ai)},
        ${sup ? `(SELECT id FROM alliances WHERE code = '${TAG}-AA')` : 'NULL'}, ${sup ? inst('C1') : 'NULL'},
        ${x.assist ? 'true' : 'false'}, ${x.assist ? inst('C1') : 'NULL'}, '统计患者${k}', 'M', 'P${TAG}${k}', '${exam}',
        ${x.author ? user(x.author) : 'NULL'}, ${x.reviewer ? user(x.reviewer) : 'NULL'},
        ${x.rep !== undefined ? at(day, x.rep) : 'NULL'}, ${x.rev !== undefined ? at(day, x.rev) : 'NULL'},
        ${at(day)}) RETURNING id`)[0][0];
    if (x.returned) {
      sql(`INSERT INTO application_history (application_id, at, from_state, to_state)
        VALUES (${ID[k]}, ${at(day, 1)}, 'pending', 'returned')`);
    }
    if (x.firstReview !== undefined) {
      sql(`INSERT INTO application_history (application_id, at, from_state, to_state) VALUES
        (${ID[k]}, ${at(day, x.firstReview)}, 'reporting', 'in_review'),
        (${ID[k]}, ${at(day, x.firstReview + 1)}, 'in_review', 'reporting'),
        (${ID[k]}, ${at(day, x.rep)}, 'reporting', 'in_review')`);
    }
    if (x.author) {
      sql(`INSERT INTO report_versions (application_id, version, author_id, ai_used, kind)
        VALUES (${ID[k]}, 1, ${user(x.author)}, ${x.ai ? 'true' : 'false'}, 'final')`);
    }
    if (x.draftAi) {
      sql(`INSERT INTO report_versions (application_id, version, author_id, ai_used, kind)
        VALUES (${ID[k]}, 2, ${user(x.author)}, true, 'draft')`);
    }
  }
  // Studies, series and AI jobs of applications 1, 2 and 3.
  // Application 3 also has a job of a reader not deployed (ended dead at
  // once with READER_UNDEPLOYED, as a reader missing from the build or
  // left out by infer_readers_off ends): no analysis, not a failure, not
  // counted.
  const jobs = { 1: [['ct_lung_nodule', 'done', 2], ['ct_pneumonia', 'done', 0]],
    2: [['ct_lung_nodule', 'failed', 0]],
    3: [['dr_tuberculosis', 'dead', 0], ['ct_rib_fracture', 'dead', 0, 'reader not available in this build']] };
  for (const [k, list] of Object.entries(jobs)) {
    const ai = APPS[k][0];
    const series = sql(`WITH p AS (INSERT INTO patients (institution_id, patient_id)
        VALUES (${inst(ai)}, 'P${TAG}${k}') RETURNING id),
      s AS (INSERT INTO studies (institution_id, patient_ref, study_uid)
        SELECT ${inst(ai)}, id, '1.2.${TAG.slice(2)}.${k}' FROM p RETURNING id),
      l AS (INSERT INTO application_studies (application_id, study_id, linked_by)
        SELECT ${ID[k]}, id, 'hand' FROM s)
      INSERT INTO series (study_id, series_uid, modality) SELECT id, '1.2.${TAG.slice(2)}.${k}.1', 'CT' FROM s
      RETURNING id`)[0][0];
    for (const [reader, state, lesions, error = ''] of list) {
      const job = sql(`INSERT INTO ai_jobs (series_id, reader, state, slices, error)
        VALUES (${series}, '${reader}', '${state}', 10, '${error}') RETURNING id`)[0][0];
      if (state !== 'done') continue;
      const res = sql(`INSERT INTO ai_results (job_id, series_id, reader) VALUES (${job}, ${series}, '${reader}')
        RETURNING id`)[0][0];
      for (let i = 1; i <= lesions; i++) {
        sql(`INSERT INTO ai_lesions (result_id, idx, type, slice, x0, y0, x1, y1, confidence)
          VALUES (${res}, ${i}, '结节', 5, 1, 1, 9, 9, 0.9)`);
      }
    }
  }
}

// The workbook as {sheet: {rows, freeze, filter, charts}}, read by openpyxl.
const READER = `
import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {}
for ws in wb.worksheets:
    rows = []
    for r in ws.iter_rows(values_only=True):
        rows.append([v.strftime('%Y-%m-%d') if isinstance(v, datetime.datetime) else v for v in r])
    out[ws.title] = {'rows': rows, 'freeze': ws.freeze_panes, 'filter': ws.auto_filter.ref,
        'charts': len(ws._charts), 'fmt': [c.number_format for c in (ws[2] if ws.max_row > 1 else [])]}
print(json.dumps(out, ensure_ascii=False))
`;
function readXlsx(file) {
  return JSON.parse(execFileSync(fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', READER, file], { encoding: 'utf8' }));
}
// Several workbooks at once (one python start): a list, in order.
function readXlsxMany(files) {
  const many = READER.replace('wb = openpyxl.load_workbook(sys.argv[1])\nout = {}',
    'books = []\nfor arg in sys.argv[1:]:\n  wb = openpyxl.load_workbook(arg)\n  out = {}')
    .replace(/\nfor ws in wb.worksheets:\n([\s\S]*?)\nprint\(json.dumps\(out, ensure_ascii=False\)\)/,
      (m, body) => `\n  for ws in wb.worksheets:\n${body.replace(/^/gm, '  ')}\n  books.append(out)\nprint(json.dumps(books, ensure_ascii=False))`);
  return JSON.parse(execFileSync(fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', many, ...files], { encoding: 'utf8' }));
}

async function login(who) {
  const c = new Client();
  const r = await c.login(who);
  assert.equal(r.status, 303, `login ${who}`);
  return c;
}

async function exportHttp(c, qs, file) {
  const res = await fetch(`${URL_BASE}/stats/export?${qs}`, { headers: { cookie: c.cookieHeader() } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /spreadsheetml/);
  assert.match(res.headers.get('content-disposition'),
    /^attachment; filename="stats-\d{8}\.xlsx"; filename\*=UTF-8''%E7%BB%9F%E8%AE%A1-\d{8}\.xlsx$/);
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return readXlsx(file);
}

const rowsOf = (wb, sheet) => wb[sheet].rows.slice(1);
const near = (a, b) => Math.abs(a - b) < 1e-6;

// Every figure of the tagged data in the C1 manager's scope, March 2025.
function checkC1(wb, grain) {
  assert.deepEqual(Object.keys(wb), ['按机构', '按时间', '时效', '比率', '医生工作量', 'AI阅片', '筛选条件']);
  assert.deepEqual(wb['按机构'].rows[0], ['申请机构', '申请数', '待报告', '报告中', '审核中', '已报告', '已审核', '已取消', '已退回']);
  assert.deepEqual(rowsOf(wb, '按机构'), [
    [NAME.P1, 4, 0, 0, 0, 1, 1, 1, 1],
    [NAME.P2, 3, 1, 0, 0, 1, 1, 0, 0],
    [NAME.C1, 1, 0, 0, 1, 0, 0, 0, 0],
  ]);
  for (const s of ['按机构', '按时间', '时效', '比率', '医生工作量', 'AI阅片']) {
    assert.equal(wb[s].freeze, 'A2', `${s} frozen header`);
    assert.ok(wb[s].filter && wb[s].filter.startsWith('A1:'), `${s} autofilter`);
  }
  assert.equal(wb['按机构'].charts, 1);
  assert.equal(wb['按时间'].charts, 1);
  assert.equal(wb['按时间'].fmt[0], 'yyyy-mm-dd');
  assert.equal(wb['比率'].fmt[3], '0.0%');
  if (grain === 'week') {
    assert.deepEqual(rowsOf(wb, '按时间'), [['2025-03-03', 4, 3], ['2025-03-10', 3, 0], ['2025-03-17', 1, 1]]);
  } else {
    assert.deepEqual(rowsOf(wb, '按时间'), [['2025-03-03', 2, 2], ['2025-03-04', 1, 1],
      ['2025-03-05', 1, 0], ['2025-03-10', 2, 0], ['2025-03-11', 1, 0], ['2025-03-17', 1, 1]]);
  }
  // First report: 2, 4, 10, 1 and 1 (the first submission to review of
  // application 8, not its later resubmission); final: 5, 4, 10 and 8.
  const turn = rowsOf(wb, '时效');
  assert.deepEqual(turn.map((r) => r.slice(0, 2)), [['提交→首次报告', 5], ['提交→最终报告', 4]]);
  assert.ok(near(turn[0][2], 2) && near(turn[0][3], 7.6), JSON.stringify(turn[0]));
  assert.ok(near(turn[1][2], 6.5) && near(turn[1][3], 9.4), JSON.stringify(turn[1]));
  const rate = rowsOf(wb, '比率');
  assert.deepEqual(rate.map((r) => r.slice(0, 3)), [['退回', 1, 8], ['取消', 1, 8], ['请求协助', 1, 8], ['报告引用AI文本', 1, 4]]);
  assert.deepEqual(rate.map((r) => r[3]), [0.125, 0.125, 0.125, 0.25]);
  // Ordered by reports and reviews together.
  assert.deepEqual(rowsOf(wb, '医生工作量'), [
    [`医生乙${TAG}`, LOGIN.doc2, NAME.C1, 2, 2],
    [`医生甲${TAG}`, LOGIN.doc1, NAME.C1, 3, 0],
  ]);
  // The use of AI text is credited to the readers that produced a result
  // for the application, out of the applications they did: the nodule
  // reader failed on application 2, which is not held against it; the
  // undeployed rib reader is not there at all.
  assert.deepEqual(rowsOf(wb, 'AI阅片'), [
    ['CT肺结节智能诊断', 2, 1, 1, 0.5, 1, 1, 1, 1],
    ['CT肺炎辅助诊断', 1, 1, 0, 0, 0, 0, 1, 1],
    ['DR肺结核智能诊断', 1, 0, 1, 1, 0, null, 0, null],
  ]);
  const used = Object.fromEntries(rowsOf(wb, '筛选条件').map((r) => [r[0], r[1]]));
  assert.equal(used['统计范围'], NAME.C1);
  assert.equal(used['开始日期'], '2025-03-01');
  assert.equal(used['结束日期'], '2025-03-31');
  assert.match(used['导出时间'], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
}

before(() => { if (!skip) setup(); });

test('the page shows every figure of the scope', { skip }, async () => {
  const c = await login(LOGIN.statsC1);
  const r = await c.get(`/stats?${RANGE}`);
  assert.equal(r.status, 200);
  const t = unescapeHtml(r.text);
  assert.match(t, /id="stats-total">8</);
  for (const n of [NAME.P1, NAME.P2, NAME.C1, 'CT肺结节智能诊断', `医生甲${TAG}`, '提交→首次报告', '报告引用AI文本']) {
    assert.ok(t.includes(n), n);
  }
  assert.ok(!t.includes(NAME.K1), 'another alliance');
  assert.match(t, /<span class="bar w100"><\/span>/);
  assert.ok(!/style="/.test(r.text), 'no inline styles (CSP)');
  assert.ok(t.includes(`href="/stats/export?${RANGE}"`), 'the export link keeps the filter');
  // The filter narrows: one institution, and nothing outside the scope.
  const p1 = sql(`SELECT id FROM institutions WHERE code = '${TAG}-P1'`)[0][0];
  const k1 = sql(`SELECT id FROM institutions WHERE code = '${TAG}-K1'`)[0][0];
  assert.match((await c.get(`/stats?${RANGE}&hospital=${p1}`)).text, /id="stats-total">4</);
  assert.match((await c.get(`/stats?${RANGE}&hospital=${k1}`)).text, /id="stats-total">0</);
  assert.match((await c.get(`/stats?${RANGE}&exam_type=DR`)).text, /id="stats-total">2</);
  assert.match((await c.get(`/stats?${RANGE}&status=reviewed&mode=superior`)).text, /id="stats-total">2</);
  assert.match((await c.get(`/stats?${RANGE}&reader=ct_lung_nodule`)).text, /id="stats-total">2</);
});

test('导出Excel: the workbook holds every figure, and is audited', { skip }, async () => {
  const c = await login(LOGIN.statsC1);
  const wb = await exportHttp(c, `${RANGE}&grain=week`, path.join(TMP, 'web.xlsx'));
  checkC1(wb, 'week');
  const row = sql(`SELECT detail->>'from', detail->>'grain', channel FROM audit_log
    WHERE action = 'stats_exported' AND actor_login = '${LOGIN.statsC1}' ORDER BY id DESC LIMIT 1`);
  assert.deepEqual(row, [['2025-03-01', 'week', 'web']]);
});

test('导出Excel starts at once; a database failure after that gives a workbook that says so', { skip }, async () => {
  const c = await login(LOGIN.statsC1);
  // The headers come before the figures are computed.
  const t0 = Date.now();
  const res = await fetch(`${URL_BASE}/stats/export?${RANGE}`, { headers: { cookie: c.cookieHeader() } });
  const headersAfter = Date.now() - t0;
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  console.log(`# headers after ${headersAfter} ms, whole workbook after ${Date.now() - t0} ms`);
  // The AI figures read ai_jobs, which nothing else of an export does:
  // take it away from the web workers for one export.
  sql('REVOKE SELECT ON ai_jobs FROM zhiying_app');
  let wb;
  try {
    wb = await exportHttp(c, RANGE, path.join(TMP, 'failed.xlsx'));
  } finally {
    sql('GRANT SELECT ON ai_jobs TO zhiying_app');
  }
  assert.deepEqual(Object.keys(wb), ['导出失败']);
  assert.equal(wb['导出失败'].rows[0][0], '导出失败');
  assert.match(wb['导出失败'].rows[0][1], /数据库暂时不可用，统计未能完成/);
  assert.equal(wb['导出失败'].rows[2][1], LOGIN.statsC1);
  // And the next export is whole again.
  checkC1(await exportHttp(c, RANGE, path.join(TMP, 'again.xlsx')), 'day');
});

test('zhiying-stats writes the same workbook', { skip }, () => {
  const file = path.join(TMP, 'cli.xlsx');
  execFileSync(path.join(ROOT_DIR, 'src/tools/zhiying-stats'), ['-c', path.join(STATE, 'zhiying.conf'),
    '--scope', `${TAG}-C1`, '--from', '2025-03-01', '--to', '2025-03-31', '-o', file], { stdio: 'pipe' });
  checkC1(readXlsx(file), 'day');
  assert.throws(() => execFileSync(path.join(ROOT_DIR, 'src/tools/zhiying-stats'),
    ['-c', path.join(STATE, 'zhiying.conf'), '--scope', 'NO-SUCH', '-o', file], { stdio: 'pipe' }));
});

test('a manager of one alliance never sees another alliance', { skip }, async () => {
  // Our second alliance's manager: only application 9.
  const k = await login(LOGIN.statsK1);
  const wk = await exportHttp(k, RANGE, path.join(TMP, 'k1.xlsx'));
  assert.deepEqual(rowsOf(wk, '按机构'), [[NAME.K1, 1, 0, 0, 0, 1, 0, 0, 0]]);
  const aa = sql(`SELECT id FROM alliances WHERE code = '${TAG}-AA'`)[0][0];
  const wx = await exportHttp(k, `${RANGE}&alliance=${aa}`, path.join(TMP, 'k1x.xlsx'));
  assert.deepEqual(rowsOf(wx, '按机构'), []);
  assert.deepEqual(rowsOf(wx, '医生工作量'), []);
  // yb_stats (粤北医联体): nothing of 江南县医共体 nor of our alliances.
  const yb = await login('yb_stats');
  const page = unescapeHtml((await yb.get('/stats')).text);
  for (const n of ['江南县人民医院', '白沙镇卫生院', '龙湾镇卫生院', '江南县医共体', NAME.C1, NAME.K1, NAME.AA]) {
    assert.ok(!page.includes(n), n);
  }
  const jn = sql("SELECT id FROM institutions WHERE code = 'JN-PH'")[0][0];
  const jny = sql("SELECT id FROM alliances WHERE code = 'JN-YGT'")[0][0];
  const wy = await exportHttp(yb, '', path.join(TMP, 'yb.xlsx'));
  const text = JSON.stringify(wy);
  for (const n of ['江南县', '白沙镇', '龙湾镇', TAG]) assert.ok(!text.includes(n), n);
  for (const r of rowsOf(wy, '按机构')) assert.ok(['粤北市中心医院', '清溪县人民医院', '石岭镇卫生院'].includes(r[0]), r[0]);
  for (const qs of [`hospital=${jn}`, `alliance=${jny}`]) {
    const w = await exportHttp(yb, qs, path.join(TMP, 'yb2.xlsx'));
    assert.deepEqual(rowsOf(w, '按机构'), [], qs);
  }
  // The province sees both of ours.
  const gd = await login('gd_stats');
  const g = unescapeHtml((await gd.get(`/stats?${RANGE}`)).text);
  assert.ok(g.includes(NAME.C1) && g.includes(NAME.K1));
});

test('统计 is for managers only', { skip }, async () => {
  const c = await login(LOGIN.doc1);
  assert.equal((await c.get('/stats/export')).status, 403);
});

// The fill of 统计 (stats.c sq_base) against a straightforward reference on
// random data: per application, its first report is the earliest of
// reported_at and its first submission to review or sign-off in the
// history (when it has a report), it counts as returned when it is or ever
// was, and as using AI text when a submitted or final version did.  An
// institution of its own, all time, through zhiying-stats.
test('the figures of random applications and histories match a reference query', { skip }, () => {
  const code = `${TAG}-R1`;
  const login = `${TAG.toLowerCase()}_appr`;
  const pw = sql("SELECT password_hash FROM users WHERE login = 'gd_stats'")[0][0];
  sql(`INSERT INTO institutions (code, name, level) VALUES ('${code}', '${TAG}丙卫生院', 'primary')`);
  sql(`INSERT INTO users (institution_id, login, display_name, password_hash, roles)
    SELECT id, '${login}', '申请丁${TAG}', :'p1', '{applicant}' FROM institutions WHERE code = '${code}'`,
  { params: [pw] });
  const r1 = `(SELECT id FROM institutions WHERE code = '${code}')`;
  const u = `(SELECT id FROM users WHERE login = '${login}')`;
  sql(`SELECT setseed(${(Date.now() % 1000) / 1000});
    CREATE TEMP TABLE g AS SELECT n, random() AS r1, random() AS r2, random() AS r3,
      '2024-01-01'::timestamptz + random() * interval '300 days' AS t
      FROM generate_series(1, 400) n;
    INSERT INTO applications (diag_no, state, mode, applicant_id, applicant_institution_id,
        patient_name, patient_sex, patient_no, exam_type, report_author_id, reported_at, submitted_at)
      SELECT '${TAG}R' || n,
        (ARRAY['pending','reporting','in_review','reported','reviewed','cancelled','returned'])[1 + (r1 * 7)::int % 7],
        'self', ${u}, ${r1}, '随机' || n, 'F', 'PR' || n, 'CT',
        CASE WHEN r2 < 0.7 THEN ${u} END,
        CASE WHEN r2 < 0.7 THEN t + r3 * interval '30 hours' END, t
      FROM g;
    -- 0 to 3 history rows each, of the states the fill looks at and others.
    INSERT INTO application_history (application_id, at, from_state, to_state)
      SELECT a.id, a.submitted_at + random() * interval '40 hours', 'pending',
        (ARRAY['in_review','reported','returned','reporting','pending'])[1 + (random() * 5)::int % 5]
      FROM applications a, generate_series(1, 3) k
      WHERE a.applicant_institution_id = ${r1} AND random() < 0.6;
    INSERT INTO report_versions (application_id, version, author_id, ai_used, kind)
      SELECT a.id, k, ${u}, random() < 0.5, (ARRAY['draft','submitted','final'])[k]
      FROM applications a, generate_series(1, 3) k
      WHERE a.applicant_institution_id = ${r1} AND random() < 0.5;`);
  const ref = sql(`WITH f AS (SELECT a.state,
        CASE WHEN a.reported_at IS NOT NULL THEN least(a.reported_at,
          (SELECT min(x.at) FROM application_history x WHERE x.application_id = a.id
            AND x.to_state IN ('in_review', 'reported'))) END AS first_at,
        CASE a.state WHEN 'reported' THEN a.reported_at WHEN 'reviewed' THEN a.reviewed_at END AS final_at,
        a.submitted_at,
        a.state = 'returned' OR EXISTS (SELECT 1 FROM application_history x
          WHERE x.application_id = a.id AND x.to_state = 'returned') AS ret,
        EXISTS (SELECT 1 FROM report_versions v WHERE v.application_id = a.id
          AND v.ai_used AND v.kind <> 'draft') AS aiu
      FROM applications a WHERE a.applicant_institution_id = ${r1}),
    t AS (SELECT date_part('epoch', first_at - submitted_at) / 3600 AS fh FROM f)
    SELECT (SELECT count(*) FROM f), (SELECT count(*) FILTER (WHERE ret) FROM f),
      (SELECT count(*) FILTER (WHERE state IN ('reported', 'reviewed')) FROM f),
      (SELECT count(*) FILTER (WHERE state IN ('reported', 'reviewed') AND aiu) FROM f),
      (SELECT count(fh) FROM t),
      (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY fh)::numeric, 2) FROM t),
      (SELECT round(percentile_cont(0.9) WITHIN GROUP (ORDER BY fh)::numeric, 2) FROM t)`)[0].map(Number);
  const file = path.join(TMP, 'random.xlsx');
  execFileSync(path.join(ROOT_DIR, 'src/tools/zhiying-stats'), ['-c', path.join(STATE, 'zhiying.conf'),
    '--scope', code, '-o', file], { stdio: 'pipe' });
  const wb = readXlsx(file);
  const [n, ret, done, aiu, nf, mf, pf] = ref;
  assert.equal(n, 400);
  assert.ok(ret > 0 && nf > 0 && aiu > 0, `random data with every case: ${ref}`);
  const rate = Object.fromEntries(rowsOf(wb, '比率').map((r) => [r[0], r]));
  assert.deepEqual(rate['退回'].slice(1, 3), [ret, n]);
  assert.deepEqual(rate['报告引用AI文本'].slice(1, 3), [aiu, done]);
  const turn = rowsOf(wb, '时效')[0];
  assert.equal(turn[0], '提交→首次报告');
  assert.equal(turn[1], nf);
  assert.ok(near(turn[2], mf) && near(turn[3], pf), `${JSON.stringify(turn)} against ${mf}, ${pf}`);
});

// 统计's daily counts (sql/040) against the applications after every kind
// of change a user makes, through the site: submit, 写报告 (the lock) and
// its release, a report submitted to review with the AI text, rejected,
// resubmitted and approved, a self-signed final report, 退回 and the
// corrected resubmission, 取消; then the demo's back-dating (the same
// statement as src/tools/zhiying-demo) and a deletion by the schema owner
// (nothing in the product deletes an application).  After each, the counts
// equal those taken from the rows, and zhiying-stats writes the same
// workbook from the counts as from the rows (--from-rows), for the
// province and for narrower filters.
test('the daily counts follow every change of state; the workbook is the one counted from the rows', { skip }, async () => {
  const as = {};
  for (const l of ['qx_apply', 'yb_resident', 'yb_attending']) {
    as[l] = await login(l);
    as[l].token = await as[l].csrf();
  }
  const [[qx, ybch, ylt]] = sql(`SELECT (SELECT i.code FROM users u JOIN institutions i ON i.id = u.institution_id
      WHERE u.login = 'qx_apply'), (SELECT id FROM institutions WHERE code = 'YB-CH'),
    (SELECT id FROM alliances WHERE code = 'YB-YLT')`);
  const today = sql(`SELECT to_char(now() AT TIME ZONE stats_zone(), 'YYYY-MM-DD'),
    to_char(now() AT TIME ZONE stats_zone() - interval '40 days', 'YYYY-MM-DD')`)[0];
  const filters = [[], ['--grain', 'week'], ['--grain', 'month'],
    ['--scope', 'YB-CH', '--exam', 'CT', '--mode', 'superior', '--grain', 'week'],
    ['--status', 'returned'], ['--hospital', qx, '--from', today[1], '--to', today[0]],
    ['--alliance', 'YB-YLT', '--status', 'reviewed', '--grain', 'month']];
  const stripTime = (wb) => {
    wb['筛选条件'].rows = wb['筛选条件'].rows.filter((r) => r[0] !== '导出时间');
    return wb;
  };
  let step = 0;
  // The counts against the rows; the workbooks both ways for the first
  // two filters after each change, for all of them at the end.
  const check = (what, all = false) => {
    assert.deepEqual(statsCountsWrong(), [], `counts after ${what}`);
    const files = [];
    const names = [];
    for (const args of all ? filters : filters.slice(0, 2)) {
      const a = [...args];
      if (!a.includes('--scope')) a.push('--scope', 'GD-PH');
      for (const extra of [[], ['--from-rows']]) {
        const file = path.join(TMP, `counts-${++step}.xlsx`);
        execFileSync(path.join(ROOT_DIR, 'src/tools/zhiying-stats'), ['-c', path.join(STATE, 'zhiying.conf'),
          ...a, ...extra, '-o', file], { stdio: 'pipe' });
        files.push(file);
      }
      names.push(a.join(' '));
    }
    const books = readXlsxMany(files).map(stripTime);
    for (let i = 0; i < names.length; i++) {
      assert.ok(books[2 * i]['按机构'].rows.length > 1, `${what}: ${names[i]}: some figures`);
      assert.deepEqual(books[2 * i], books[2 * i + 1], `${what}: ${names[i]}`);
    }
  };
  const apply = async (no) => {
    const c = as.qx_apply;
    const r = await c.post('/apply', { csrf: c.token, patient_name: '统计计数', patient_sex: 'F',
      patient_age: '61岁', patient_birth: '', patient_no: `${TAG}${no}`, patient_phone: '13800000000',
      chief_complaint: '咳嗽一周', present_illness: '咳嗽伴发热', history: '无', clinical_diagnosis: '肺炎？',
      exam_type: no === 'D' ? 'DR' : 'CT', body_part: '胸部', urgency: 'routine', accession: '', exam_date: '',
      mode: 'superior', alliance: ylt, target: ybch });
    assert.equal(r.status, 303, [...r.text.matchAll(/id="err-[^"]*">([^<]*)</g)].map((m) => m[1]).join(' '));
    return Number(r.location.match(/^\/application\?id=(\d+)/)[1]);
  };
  const state = (id) => sql(`SELECT state FROM applications WHERE id = ${Number(id)}`)[0][0];
  const editorVersion = (html) => Number(html.match(/name="version" id="report-version" value="([0-9]+)"/)[1]);
  const submitReport = (c, id, version, final, ai) => c.post('/report/submit', { csrf: c.token, id: String(id),
    version: String(version), findings: '双肺纹理增多。', conclusion: '双肺未见明显实变。', ai_used: ai, final });
  const { yb_resident: res, yb_attending: att } = as;

  // The figures of the first two filters, the two ways, before anything of
  // this test; those of every filter once this test's own applications give
  // each of them figures (from 退回 on), whatever ran before it.
  check('nothing new');
  const a = await apply('A');
  check('a submission');
  let r = await res.write(a);
  assert.equal(state(a), 'reporting');
  check('写报告 (the lock)');
  assert.equal((await res.post('/report/unlock', { csrf: res.token, id: String(a) })).status, 303);
  assert.equal(state(a), 'pending');
  check('the lock released');
  r = await res.write(a);
  r = await submitReport(res, a, editorVersion(r.text), '0', '1');
  assert.equal(r.status, 303);
  assert.equal(state(a), 'in_review');
  check('a report submitted to review, with the AI text');
  r = await att.post('/review/decide', { csrf: att.token, id: String(a), approve: '0', comment: '请补充随访建议。' });
  assert.equal(r.status, 303);
  assert.equal(state(a), 'reporting');
  check('a review that rejects');
  r = await res.write(a);
  r = await submitReport(res, a, editorVersion(r.text), '0', '0');
  assert.equal(r.status, 303);
  r = await att.post('/review/decide', { csrf: att.token, id: String(a), approve: '1', comment: '' });
  assert.equal(r.status, 303);
  assert.equal(state(a), 'reviewed');
  check('a review that approves');

  // B is corrected and sent again below; E stays returned (and is not
  // back-dated), so that the 已退回 filter and the sending hospital's last
  // 40 days have figures of this test's own to the end.
  const b = await apply('B');
  const e = await apply('E');
  for (const id of [b, e]) {
    r = await res.post('/application/return', { csrf: res.token, id: String(id), reason: '缺少既往影像' });
    assert.equal(r.status, 303);
    assert.equal(state(id), 'returned');
  }
  check('退回', true);
  const edit = await as.qx_apply.get(`/application/edit?id=${b}`);
  assert.equal(edit.status, 200);
  r = await as.qx_apply.post('/application/edit', { csrf: as.qx_apply.token, id: String(b), patient_name: '统计计数',
    patient_sex: 'F', patient_age: '61岁', patient_birth: '', patient_no: `${TAG}B`, patient_phone: '13800000000',
    chief_complaint: '咳嗽一周', present_illness: '咳嗽伴发热，已补充', history: '无', clinical_diagnosis: '肺炎？',
    exam_type: 'CT', body_part: '胸部', urgency: 'routine', accession: '', exam_date: '',
    mode: 'superior', alliance: ylt, target: ybch });
  assert.equal(r.status, 303, r.text.slice(0, 300));
  assert.equal(state(b), 'pending');
  check('a corrected resubmission');

  const cn = await apply('C');
  r = await as.qx_apply.post('/application/cancel', { csrf: as.qx_apply.token, id: String(cn) });
  assert.equal(r.status, 303);
  assert.equal(state(cn), 'cancelled');
  check('取消');

  const d = await apply('D');
  r = await att.write(d);
  r = await submitReport(att, d, editorVersion(r.text), '1', '1');
  assert.equal(r.status, 303);
  assert.equal(state(d), 'reported');
  check('a self-signed final report');

  // zhiying-demo's back-dating: the applications 3 to 50 days back.
  sql(`UPDATE applications a SET created_at = a.created_at - s.back, submitted_at = a.submitted_at - s.back,
      reported_at = a.reported_at - s.back + interval '2 hours',
      reviewed_at = a.reviewed_at - s.back + interval '5 hours'
    FROM (SELECT id, make_interval(days => 3 + (id % 48)::int) AS back FROM applications
      WHERE id IN (${a}, ${b}, ${cn}, ${d})) s WHERE s.id = a.id`);
  sql(`UPDATE application_history h SET at = h.at - make_interval(days => 3 + (h.application_id % 48)::int)
    WHERE h.application_id IN (${a}, ${b}, ${cn}, ${d})`);
  check('the demo\'s back-dating');
  sql(`DELETE FROM application_history WHERE application_id = ${cn};
    DELETE FROM applications WHERE id = ${cn}`);
  check('a deletion', true);
});
