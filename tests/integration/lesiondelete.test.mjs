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
import { newApplication, linkFilm, dropFilms } from './filmresult.mjs';

const skip = URL_BASE ? false : 'no test stack (run through tests/run.sh)';

const users = {};

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

after(() => {
  if (!skip) dropFilms();
});

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

test('删除病灶序号框 is the film readers\' only: a CT reader\'s boxes have no 删除 and a POST is refused',
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
