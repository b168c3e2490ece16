// Integration tests of 删除病灶序号框 (the manual's tuberculosis reader:
// a doctor deletes a numbered box that is not a lesion; src/web/ai.c and
// wf_ai_lesion_delete in src/lib/workflow.c): who may delete, what the
// result page then shows and 上传影像结论 takes, that a deleted box stays
// deleted for that result and that application only, and the history
// and audit, over HTTP against the real stack (tests/lib.sh).  The film
// study and its finished result are made with SQL as the schema owner,
// as zhiying-inferd writes them; the reader itself is tested on films in
// inferd.test.mjs and test_tb.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, URL_BASE, unescapeHtml, sql } from './helpers.mjs';

const skip = URL_BASE ? false : 'no test stack (run through tests/run.sh)';

const users = {};
let seq = 0;
const made = [];

before(async () => {
  if (skip) return;
  for (const login of ['yb_attending', 'yb_assoc', 'qx_apply', 'jn_attending']) {
    const c = new Client();
    const r = await c.login(login);
    assert.equal(r.status, 303, `login ${login}`);
    c.token = await c.csrf();
    users[login] = c;
  }
});

// Take the studies away again: other test files count the stack's studies.
after(() => {
  if (skip) return;
  for (const uid of made) {
    sql(`DELETE FROM application_studies WHERE study_id IN (SELECT id FROM studies WHERE study_uid = :'p1')`,
      { params: [uid] });
    sql(`DELETE FROM studies WHERE study_uid = :'p1'`, { params: [uid] });
    sql(`DELETE FROM patients WHERE patient_id = :'p1'`, { params: [uid] });
  }
});

// A superior-mode application from 清溪县人民医院 to 粤北市中心医院, 待报告.
function newApplication() {
  const name = `删框${process.pid % 1000}-${++seq}`;
  const [[id]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
      applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
      patient_age, patient_no, chief_complaint, exam_type, body_part, urgency, exam_date)
    SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
      'superior', u.id, u.institution_id, al.id, t.id, :'p1', 'M', '45岁', :'p2',
      '咳嗽咳痰两月', 'DR', '胸部', 'routine', current_date
    FROM users u, alliances al, institutions t
    WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
    RETURNING id`, { params: [name, `DEL${Date.now()}${seq}`] });
  return { id, name };
}

// A film study linked to app, with a finished result of reader: three
// boxes on its one image, each with its own sentences.
function linkFilm(app, reader = 'dr_tuberculosis') {
  const uid = `1.2.826.0.1.3680043.10.${process.pid}.${Date.now()}.${++seq}`;
  made.push(uid);
  sql(`WITH i AS (SELECT id FROM institutions WHERE code = 'QX-PH'),
    p AS (INSERT INTO patients (institution_id, patient_id, name)
      SELECT id, :'p1', 'DEL^TEST' FROM i RETURNING id, institution_id),
    s AS (INSERT INTO studies (institution_id, patient_ref, study_uid, study_date, description)
      SELECT institution_id, id, :'p1', to_char(current_date, 'YYYYMMDD'), '胸部正位片' FROM p
      RETURNING id),
    l AS (INSERT INTO application_studies (application_id, study_id, linked_by)
      SELECT :'p2'::bigint, id, 'hand' FROM s),
    a AS (INSERT INTO series (study_id, series_uid, series_number, modality, description,
        instance_count, matched_at)
      SELECT id, :'p1' || '.1', 1, :'p4', 'Chest PA', 1, now() FROM s RETURNING id),
    j AS (INSERT INTO ai_jobs (series_id, reader, state, slices, finished_at)
      SELECT a.id, :'p3', 'done', 1, now() FROM a RETURNING id, series_id)
    INSERT INTO ai_results (job_id, series_id, reader, slice_uids, nx, ny, summary)
    SELECT j.id, j.series_id, :'p3', ARRAY[:'p1' || '.1.1'], 1000, 1000,
      '[{"name": "肺结核评分", "value": 0.81, "unit": ""}]' FROM j`,
  { params: [uid, app.id, reader, reader === 'dr_tuberculosis' ? 'DX' : 'CT'] });
  const [[job, result]] = sql(`SELECT j.id, r.id FROM ai_jobs j JOIN ai_results r ON r.job_id = j.id
    JOIN series se ON se.id = j.series_id WHERE se.series_uid = :'p1'`, { params: [`${uid}.1`] });
  const zones = ['右上肺野', '左上肺野', '右中肺野'];
  zones.forEach((zone, k) => sql(`INSERT INTO ai_lesions (result_id, idx, type, location, slice,
      x0, y0, x1, y1, confidence, findings_text, conclusion_text)
    VALUES (:'p1', :'p2', '斑片影', :'p3', 0, :'p4', 100, :'p5', 300, 0.8, :'p6', :'p7')`,
  { params: [result, k + 1, zone, 100 + 300 * k, 250 + 300 * k, `${zone}见斑片影（框${k + 1}）。`,
    `${zone}斑片影，AI肺结核评分0.81（框${k + 1}）。`] }));
  return { uid, job, result };
}

function stampOf(html) {
  const m = html.match(/name="stamp" value="([^"]*)"/);
  return m ? unescapeHtml(m[1]) : null;
}

const rowsOf = (html) => [...html.matchAll(/<tr class="lesion[^"]*" data-idx="(\d+)"/g)].map((m) => Number(m[1]));
const boxesOf = (html) => [...html.matchAll(/<g class="box[^"]*" data-slice="\d+" data-idx="(\d+)"/g)]
  .map((m) => Number(m[1]));
const deleteButtons = (html) => [...html.matchAll(/id="delete-(\d+)"/g)].map((m) => Number(m[1]));

function del(c, app, film, lesion, stamp) {
  return c.post('/ai/lesion/delete', { csrf: c.token, id: String(app.id), job: String(film.job),
    stamp, lesion: String(lesion), z: '0', window: 'auto' });
}

test('删除病灶序号框: only the doctor writing the report deletes; the box leaves the page and the upload, for this application only, with its history and audit',
  { skip }, async () => {
    const { yb_attending: att, yb_assoc: assoc, qx_apply: qx, jn_attending: jn } = users;
    const app = newApplication();
    const film = linkFilm(app);
    const page = `/ai/result?id=${app.id}&job=${film.job}`;

    // Before the lock: the boxes and rows, no 删除 button; a POST is
    // told to lock first and deletes nothing.
    let r = await att.get(page);
    assert.equal(r.status, 200);
    assert.deepEqual(rowsOf(r.text), [1, 2, 3]);
    assert.deepEqual(boxesOf(r.text), [1, 2, 3]);
    assert.deepEqual(deleteButtons(r.text), []);
    const stamp = stampOf(r.text);
    assert.ok(stamp);
    r = await del(att, app, film, 2, stamp);
    assert.equal(r.status, 409);
    assert.match(unescapeHtml(r.text), /删除病灶序号框须先在写报告页面锁定该申请单/);

    // 写报告 takes the lock: each row has its 删除.
    assert.equal((await att.write(app.id)).status, 200);
    r = await att.get(page);
    assert.deepEqual(deleteButtons(r.text), [1, 2, 3]);
    r = await del(att, app, film, 2, stamp);
    assert.equal(r.status, 303);
    assert.equal(r.location, `/ai/result?id=${app.id}&job=${film.job}&z=0&window=auto&deleted=2#lesions`);
    r = await att.get(r.location.replace(/#.*/, ''));
    assert.match(unescapeHtml(r.text), /<div class="notice" id="ai-notice" role="status">已删除病灶序号框 2<\/div>/);
    assert.deepEqual(rowsOf(r.text), [1, 3], 'the deleted box is not listed');
    assert.deepEqual(boxesOf(r.text), [1, 3], 'nor drawn');
    assert.match(unescapeHtml(r.text), /共 2 个/);
    const [[who]] = sql(`SELECT display_name FROM users WHERE login = 'yb_attending'`);
    assert.match(unescapeHtml(r.text), new RegExp('已删除的病灶序号框（不显示、不上传）：' +
      `<span class="deleted" data-idx="2">2（${who}，\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}）</span>`));

    // It stays deleted: twice is refused, a stale page or a box the
    // result does not have deletes nothing.
    r = await del(att, app, film, 2, stamp);
    assert.equal(r.status, 400);
    assert.match(unescapeHtml(r.text), /病灶序号框未删除：该病灶序号框已删除/);
    r = await del(att, app, film, 1, '1');
    assert.equal(r.status, 409);
    assert.match(unescapeHtml(r.text), /AI阅片结果已更新，病灶序号框未删除/);
    r = await del(att, app, film, 9, stamp);
    assert.equal(r.status, 404);
    assert.match(unescapeHtml(r.text), /病灶序号框未删除：该病灶序号框不存在/);

    // Nobody else: a colleague without the lock, a doctor of a hospital
    // that cannot see the application, the applicant.
    r = await del(assoc, app, film, 1, stamp);
    assert.equal(r.status, 409);
    assert.match(unescapeHtml(r.text), /该申请单正由.+书写报告，只有锁定该申请单的医生可删除病灶序号框/);
    r = await del(jn, app, film, 1, stamp);
    assert.equal(r.status, 404);
    assert.ok(!r.text.includes(app.name));
    r = await del(qx, app, film, 1, stamp);
    assert.equal(r.status, 403);
    assert.deepEqual(sql(`SELECT idx FROM ai_lesion_deletions WHERE application_id = :'p1'`,
      { params: [app.id] }), [['2']]);

    // 上传影像结论 cannot take the deleted box, and takes the others.
    r = await att.post('/ai/upload', { csrf: att.token, id: String(app.id), job: String(film.job),
      version: '0', stamp, lesion: '2' });
    assert.equal(r.status, 400);
    assert.match(unescapeHtml(r.text), /所选病灶不存在，影像结论未上传/);
    r = await att.post('/ai/upload', { csrf: att.token, id: String(app.id), job: String(film.job),
      version: '0', stamp, lesion: '3' });
    assert.equal(r.status, 303);
    const [[findings]] = sql(`SELECT findings FROM report_versions WHERE application_id = :'p1'
      ORDER BY version DESC LIMIT 1`, { params: [app.id] });
    assert.match(findings, /右中肺野见斑片影（框3）/);
    assert.doesNotMatch(findings, /框2/);

    // The history and the audit say who deleted which box.
    assert.deepEqual(sql(`SELECT actor_login, detail->>'comment' FROM audit_log
      WHERE action = 'ai_lesion_deleted' AND object_type = 'application' AND object_id = :'p1'`,
    { params: [app.id] }), [['yb_attending', '删除病灶序号框 2（DR肺结核智能诊断）']]);
    assert.deepEqual(sql(`SELECT count(*) FROM application_history WHERE application_id = :'p1'
      AND comment = '删除病灶序号框 2（DR肺结核智能诊断）'`, { params: [app.id] }), [['1']]);

    // Another application with the same study sees the result whole:
    // a deletion is one report's.
    const other = newApplication();
    sql(`INSERT INTO application_studies (application_id, study_id, linked_by)
      SELECT :'p1', id, 'hand' FROM studies WHERE study_uid = :'p2'`, { params: [other.id, film.uid] });
    r = await att.get(`/ai/result?id=${other.id}&job=${film.job}`);
    assert.equal(r.status, 200);
    assert.deepEqual(rowsOf(r.text), [1, 2, 3]);
    assert.doesNotMatch(r.text, /id="lesions-deleted"/);

    // The reader writes the result again: new boxes, no deletion left.
    sql(`DELETE FROM ai_lesions WHERE result_id = :'p1' AND idx = 2`, { params: [film.result] });
    assert.deepEqual(sql(`SELECT count(*) FROM ai_lesion_deletions WHERE result_id = :'p1'`,
      { params: [film.result] }), [['0']]);

    await att.post('/report/unlock', { csrf: att.token, id: String(app.id) });
  });

test('删除病灶序号框 is the tuberculosis reader\'s only: a CT reader\'s boxes have no 删除 and a POST is refused',
  { skip }, async () => {
    const att = users.yb_attending;
    const app = newApplication();
    const film = linkFilm(app, 'ct_lung_nodule');
    assert.equal((await att.write(app.id)).status, 200);
    let r = await att.get(`/ai/result?id=${app.id}&job=${film.job}`);
    assert.equal(r.status, 200);
    assert.deepEqual(rowsOf(r.text), [1, 2, 3]);
    assert.deepEqual(deleteButtons(r.text), []);
    r = await del(att, app, film, 1, stampOf(r.text));
    assert.equal(r.status, 400);
    assert.match(unescapeHtml(r.text), /CT肺结节智能诊断的病灶不能删除/);
    assert.deepEqual(sql(`SELECT count(*) FROM ai_lesion_deletions WHERE application_id = :'p1'`,
      { params: [app.id] }), [['0']]);
    await att.post('/report/unlock', { csrf: att.token, id: String(app.id) });
  });
