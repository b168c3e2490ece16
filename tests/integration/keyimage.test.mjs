// Integration tests of the report's key images (关键图像, src/web/report.c
// and wf_key_image_add/remove in src/lib/workflow.c): who may choose them,
// which images may be chosen, the limit, the audit, and who may fetch
// them, over HTTP against the real stack (tests/lib.sh).  Applications,
// studies and AI results are made with SQL as the schema owner; the
// pictures themselves (stored DICOM) are the browser test's
// (tests/browser/print.test.mjs).
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, URL_BASE, unescapeHtml, sql } from './helpers.mjs';

const skip = URL_BASE ? false : 'no test stack (run through tests/run.sh)';

const users = {};
let seq = 0;
const made = [];

before(async () => {
  if (skip) return;
  for (const login of ['yb_attending', 'yb_assoc', 'qx_apply', 'jn_attending', 'lw_apply', 'bs_apply']) {
    const c = new Client();
    const r = await c.login(login);
    assert.equal(r.status, 303, `login ${login}`);
    c.token = await c.csrf();
    assert.ok(c.token, `csrf of ${login}`);
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

// A superior-mode application, 待报告: from 清溪县人民医院 to 粤北市中心医院
// (qx), or from 龙湾镇卫生院 to 江南县人民医院 (lw).
function newApplication(from) {
  const [applicant, alliance, target] = from === 'qx' ? ['qx_apply', 'YB-YLT', 'YB-CH'] :
    ['lw_apply', 'JN-YGT', 'JN-PH'];
  const name = `关键图像${process.pid % 1000}-${++seq}`;
  const [[id, diag]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
      applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
      patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
      exam_type, body_part, urgency, exam_date)
    SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
      'superior', u.id, u.institution_id, al.id, t.id, :'p1', 'M', '61岁', :'p2',
      '咳嗽一月', '一月前无诱因咳嗽', '吸烟史30年', '肺结节？', 'CT', '胸部', 'routine', current_date
    FROM users u, alliances al, institutions t
    WHERE u.login = :'p3' AND al.code = :'p4' AND t.code = :'p5'
    RETURNING id, diag_no`, { params: [name, `KEY${Date.now()}${seq}`, applicant, alliance, target] });
  return { id, diag, name };
}

// A CT study linked to the application: a chest series with a finished
// lung nodule result of three slices (the second one a key image of the
// reader's), and a scout.  Returns the ids of both series and the job.
function linkImages(app, inst) {
  const uid = `1.2.826.0.1.3680043.10.${process.pid}.${Date.now()}.${++seq}`;
  made.push(uid);
  sql(`WITH i AS (SELECT id FROM institutions WHERE code = :'p3'),
    p AS (INSERT INTO patients (institution_id, patient_id, name)
      SELECT id, :'p1', 'KEY^TEST' FROM i RETURNING id, institution_id),
    s AS (INSERT INTO studies (institution_id, patient_ref, study_uid, study_date, description)
      SELECT institution_id, id, :'p1', to_char(current_date, 'YYYYMMDD'), '胸部CT平扫' FROM p
      RETURNING id),
    l AS (INSERT INTO application_studies (application_id, study_id, linked_by)
      SELECT :'p2'::bigint, id, 'hand' FROM s),
    a AS (INSERT INTO series (study_id, series_uid, series_number, modality, description, kernel,
        slice_thickness, kvp, instance_count, matched_at)
      SELECT id, :'p1' || '.1', 2, 'CT', 'Chest 1.0 B60f', 'B60f', 1.0, 120, 3, now() FROM s
      RETURNING id),
    b AS (INSERT INTO series (study_id, series_uid, series_number, modality, description,
        instance_count, match_summary, matched_at)
      SELECT id, :'p1' || '.9', 1, 'CT', 'Topogram', 1, '定位像，非断层图像，不适用于AI阅片', now() FROM s),
    j AS (INSERT INTO ai_jobs (series_id, reader, state, slices, finished_at)
      SELECT a.id, 'ct_lung_nodule', 'done', 3, now() FROM a RETURNING id, series_id)
    INSERT INTO ai_results (job_id, series_id, reader, key_images, slice_uids, nx, ny)
    SELECT j.id, j.series_id, 'ct_lung_nodule',
      '[{"slice": 1, "window_center": -600, "window_width": 1500, "caption": "右肺上叶结节"}]',
      ARRAY[:'p1' || '.1.1', :'p1' || '.1.2', :'p1' || '.1.3'], 512, 512 FROM j`,
  { params: [uid, app.id, inst] });
  const [[chest, job]] = sql(`SELECT se.id, j.id FROM series se JOIN studies st ON st.id = se.study_id
    JOIN ai_jobs j ON j.series_id = se.id WHERE st.study_uid = :'p1' AND se.series_number = 2`, { params: [uid] });
  const [[scout]] = sql(`SELECT se.id FROM series se JOIN studies st ON st.id = se.study_id
    WHERE st.study_uid = :'p1' AND se.series_number = 1`, { params: [uid] });
  return { chest, scout, job };
}

function keys(id) {
  return sql(`SELECT id, kind, caption, position FROM report_key_images WHERE application_id = :'p1'
    ORDER BY position`, { params: [id] }).map(([key, kind, caption, position]) =>
    ({ key, kind, caption, position: Number(position) }));
}

function audits(id) {
  return sql(`SELECT action, actor_login, detail->>'comment' FROM audit_log
    WHERE action IN ('key_image_added', 'key_image_removed') AND object_type = 'application'
    AND object_id = :'p1' ORDER BY id`, { params: [id] });
}

// The text of an element with the given id, entities decoded.
function textOf(html, id) {
  const m = html.match(new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`));
  return m ? unescapeHtml(m[1]).trim() : null;
}

function add(c, id, fields) {
  return c.post('/report/key-image/add', { csrf: c.token, id: String(id), ...fields });
}

function remove(c, id, key) {
  return c.post('/report/key-image/remove', { csrf: c.token, id: String(id), key: String(key) });
}

test('the writer chooses key images of the application only; the others may not change them', { skip }, async () => {
  const { yb_attending: att, yb_assoc: assoc, qx_apply: qx, jn_attending: jn, lw_apply: lw, bs_apply: bs } = users;
  const app = newApplication('qx');
  const img = linkImages(app, 'QX-PH');
  const other = newApplication('lw');
  const oimg = linkImages(other, 'LW-THC');

  // 写报告: the section offers the application's series and the key
  // slice of its AI result, nothing of the other hospital's.
  let r = await att.write(app.id);
  assert.equal(r.status, 200);
  assert.match(r.text, /id="key-images"/);
  assert.equal(textOf(r.text, 'key-count'), '已选 0 / 4 幅');
  assert.equal(textOf(r.text, 'key-none'), '尚未选择关键图像');
  assert.match(r.text, new RegExp(`name="series" value="${img.chest}"`));
  assert.match(r.text, new RegExp(`data-job="${img.job}" data-z="1"`));
  assert.match(unescapeHtml(r.text), /CT肺结节智能诊断 第 2 层 右肺上叶结节/);
  assert.doesNotMatch(r.text, new RegExp(`value="${oimg.chest}"|data-job="${oimg.job}"`));

  // The series' preview, then the reader's key slice.
  r = await add(att, app.id, { series: String(img.chest), window: 'lung' });
  assert.equal(r.status, 303);
  assert.equal(r.location, `/report?id=${app.id}&key=added#key-images`);
  r = await add(att, app.id, { job: String(img.job), z: '1', window: 'lung' });
  assert.equal(r.status, 303);
  assert.deepEqual(keys(app.id).map((k) => [k.kind, k.caption, k.position]), [
    ['series', '序列 2 Chest 1.0 B60f', 1],
    ['ai', 'CT肺结节智能诊断 第 2 层 右肺上叶结节', 2]]);
  r = await att.get(`/report?id=${app.id}&key=added`);
  assert.equal(textOf(r.text, 'report-notice'), '已添加关键图像');
  assert.equal(textOf(r.text, 'key-count'), '已选 2 / 4 幅');
  const shown = [...unescapeHtml(r.text).matchAll(/<span class="key-caption">(\d\. [^<]*)<\/span>/g)].map((m) => m[1]);
  assert.deepEqual(shown.slice(0, 2), ['1. 序列 2 Chest 1.0 B60f', '2. CT肺结节智能诊断 第 2 层 右肺上叶结节']);
  assert.deepEqual(audits(app.id), [
    ['key_image_added', 'yb_attending', '序列 2 Chest 1.0 B60f'],
    ['key_image_added', 'yb_attending', 'CT肺结节智能诊断 第 2 层 右肺上叶结节']]);

  // Another hospital's images are refused, and nothing is stored.
  for (const f of [{ series: String(oimg.chest) }, { job: String(oimg.job), z: '1' }]) {
    r = await add(att, app.id, f);
    assert.equal(r.status, 404, JSON.stringify(f));
    assert.equal(textOf(r.text, 'report-error'), '所选影像不存在或不属于该申请单');
    assert.ok(!r.text.includes(other.name), 'nothing of the other patient is shown');
  }
  // A slice the result does not have, the same image twice, no image.
  r = await add(att, app.id, { job: String(img.job), slice: '4' });
  assert.equal(r.status, 400);
  assert.equal(textOf(r.text, 'report-error'), '所选层面不存在');
  r = await add(att, app.id, { series: String(img.chest), window: 'bone' });
  assert.equal(r.status, 400);
  assert.equal(textOf(r.text, 'report-error'), '该影像已在关键图像中');
  r = await add(att, app.id, { window: 'lung' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<h1>请选择要添加的关键图像<\/h1>/);
  r = await add(att, app.id, { job: String(img.job), window: 'lung' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<h1>请填写要添加的层面（从1开始的层号）<\/h1>/);
  assert.equal(keys(app.id).length, 2);

  // Who may not write the report may not change its images: a doctor of
  // the reading hospital without the lock, a doctor of a hospital that
  // cannot see the application, the applicants (no such page for them).
  const first = keys(app.id)[0].key;
  r = await add(assoc, app.id, { job: String(img.job), z: '0' });
  assert.equal(r.status, 409);
  assert.match(r.text, /修改关键图像须先在写报告页面锁定该申请单/);
  r = await remove(assoc, app.id, first);
  assert.equal(r.status, 409);
  r = await add(assoc, app.id, { window: 'lung' });
  assert.equal(r.status, 400);
  assert.doesNotMatch(r.text, /id="report-form"/, 'no editor for a doctor without the lock');
  for (const c of [jn, lw]) {
    r = await add(c, app.id, { series: String(img.chest) });
    assert.ok(r.status === 403 || r.status === 404, `${r.status}`);
    assert.ok(!r.text.includes(app.name));
    r = await remove(c, app.id, first);
    assert.ok(r.status === 403 || r.status === 404, `${r.status}`);
  }
  r = await add(qx, app.id, { series: String(img.chest) });
  assert.equal(r.status, 403);
  // Without the session's CSRF token nothing changes either.
  r = await att.post('/report/key-image/add', { csrf: 'x', id: String(app.id), job: String(img.job), z: '0' });
  assert.equal(r.status, 403);
  assert.equal(keys(app.id).length, 2);
  assert.equal(audits(app.id).length, 2);

  // At most four.
  for (const z of ['0', '2']) {
    r = await add(att, app.id, { job: String(img.job), slice: String(Number(z) + 1), window: 'mediastinum' });
    assert.equal(r.status, 303, z);
  }
  r = await att.get(`/report?id=${app.id}`);
  assert.equal(textOf(r.text, 'key-full'), '已选满4幅，如需更换请先移除。');
  r = await add(att, app.id, { series: String(img.scout) });
  assert.equal(r.status, 400);
  assert.equal(textOf(r.text, 'report-error'), '关键图像最多4幅，请先移除一幅再添加');
  assert.deepEqual(keys(app.id).map((k) => k.caption), ['序列 2 Chest 1.0 B60f',
    'CT肺结节智能诊断 第 2 层 右肺上叶结节', 'CT肺结节智能诊断 第 1 层', 'CT肺结节智能诊断 第 3 层']);

  // 移除: one of this report's; another's key is not found.
  r = await remove(att, app.id, '999999999');
  assert.equal(r.status, 404);
  assert.equal(textOf(r.text, 'report-error'), '该关键图像不存在或已移除');
  const third = keys(app.id)[2].key;
  r = await remove(att, app.id, third);
  assert.equal(r.status, 303);
  assert.equal(r.location, `/report?id=${app.id}&key=removed#key-images`);
  assert.deepEqual(keys(app.id).map((k) => k.position), [1, 2, 4]);
  assert.deepEqual(audits(app.id).at(-1), ['key_image_removed', 'yb_attending', 'CT肺结节智能诊断 第 1 层']);

  // The pictures: for who may see the application, through the same
  // checks as the images themselves; a preview by /series/preview.
  const [k1, k2] = keys(app.id);
  r = await qx.get(`/report/key-image?id=${app.id}&key=${k1.key}`);
  assert.equal(r.status, 303);
  assert.equal(r.location, `/series/preview?series=${img.chest}&window=lung`);
  for (const c of [jn, lw, bs]) {
    r = await c.get(`/report/key-image?id=${app.id}&key=${k2.key}`);
    assert.ok(r.status === 404 || r.status === 403, `${r.status}`);
    r = await c.get(`/report/key-image?id=${app.id}&key=${k1.key}`);
    assert.ok(r.status === 404 || r.status === 403, `${r.status}`);
  }
  // A key asked for under another application is not found.
  r = await lw.get(`/report/key-image?id=${other.id}&key=${k1.key}`);
  assert.equal(r.status, 404);

  // Once submitted the images are fixed.
  r = await att.post('/report/submit', { csrf: att.token, id: String(app.id), version: '0',
    findings: '右肺上叶见一实性结节。', conclusion: '右肺上叶结节，建议随访。', ai_used: '0', final: '1' });
  assert.equal(r.status, 303);
  r = await add(att, app.id, { job: String(img.job), z: '0' });
  assert.equal(r.status, 409);
  assert.match(r.text, /该报告当前不在书写中，不能修改关键图像/);
  r = await remove(att, app.id, k1.key);
  assert.equal(r.status, 409);
  assert.equal(keys(app.id).length, 3);

  // The printed report carries them, captioned, in their order.
  r = await qx.get(`/report/print?id=${app.id}`);
  assert.equal(r.status, 200);
  const figs = [...unescapeHtml(r.text).matchAll(/<img src="(\/report\/key-image\?id=\d+&key=\d+)" alt="[^"]*">\s*<figcaption>([^<]*)<\/figcaption>/g)]
    .map((m) => [m[1], m[2]]);
  assert.deepEqual(figs, keys(app.id).map((k, i) => [`/report/key-image?id=${app.id}&key=${k.key}`,
    `${i + 1}. ${k.caption}`]));
  assert.equal(textOf(r.text, 'print-author'), '黄文静（主治医师）');
});

// 设为关键图像 on the AI result page (POST /ai/key-image, src/web/ai.c):
// the slice and window shown become a key image through the same workflow
// checks; back to the same slice with the notice, or the page again with
// the refusal, and nothing stored.
function keyFromAi(c, app, job, fields) {
  return c.post('/ai/key-image', { csrf: c.token, id: String(app.id), job: String(job), ...fields });
}

function aiPage(c, app, job, extra = '') {
  return c.get(`/ai/result?id=${app.id}&job=${job}${extra}`);
}

test('设为关键图像 on the AI result page: only the writer, 报告中, the application\'s own slices, at most four', { skip }, async () => {
  const { yb_attending: att, yb_assoc: assoc, qx_apply: qx, jn_attending: jn } = users;
  const app = newApplication('qx');
  const img = linkImages(app, 'QX-PH');

  // Before anyone writes the report: the button is off, with the reason,
  // and a post is refused.
  let r = await aiPage(att, app, img.job);
  assert.equal(r.status, 200);
  assert.match(r.text, /<button type="submit" id="btn-key-set" disabled[^>]*>设为关键图像<\/button>/);
  assert.equal(textOf(r.text, 'key-off'), '设置关键图像须先在写报告页面锁定该申请单');
  r = await keyFromAi(att, app, img.job, { z: '1', window: 'lung' });
  assert.equal(r.status, 409);
  assert.equal(textOf(r.text, 'ai-error'), '设置关键图像须先在写报告页面锁定该申请单');
  assert.equal(keys(app.id).length, 0);

  // The lock holder: the button is on; the slice shown is chosen.
  r = await att.write(app.id);
  assert.equal(r.status, 200);
  r = await aiPage(att, app, img.job, '&z=1&window=lung');
  assert.match(r.text, /<button type="submit" id="btn-key-set">设为关键图像<\/button>/);
  assert.equal(textOf(r.text, 'key-total'), '报告已选关键图像 0/4 幅');
  assert.equal(textOf(r.text, 'key-slices'), '本结果尚无层面设为关键图像。');
  assert.match(r.text, /id="key-z" value="1"/);
  r = await keyFromAi(att, app, img.job, { z: '1', window: 'lung', sort: 'slice' });
  assert.equal(r.status, 303);
  assert.equal(r.location, `/ai/result?id=${app.id}&job=${img.job}&z=1&window=lung&sort=slice&key=added#viewer`);
  r = await att.get(r.location.replace(/#.*/, ''));
  assert.equal(r.status, 200);
  assert.equal(textOf(r.text, 'ai-notice'), '已设为关键图像（第 2 层），共 1/4 幅');
  assert.match(r.text, /id="slice-no"[^>]*>第 2 \/ 3 层</);
  assert.match(unescapeHtml(r.text), /本结果已设为关键图像的层面：<a class="goto key-slice on" href="[^"]*z=1[^"]*" data-slice="1">第 2 层<\/a>/);
  assert.doesNotMatch(r.text, /id="key-here" hidden/);
  assert.deepEqual(sql(`SELECT kind, job_id, slice, window_name, caption FROM report_key_images
    WHERE application_id = :'p1'`, { params: [app.id] }),
  [['ai', String(img.job), '1', 'lung', 'CT肺结节智能诊断 第 2 层 右肺上叶结节']]);
  assert.deepEqual(audits(app.id), [['key_image_added', 'yb_attending', 'CT肺结节智能诊断 第 2 层 右肺上叶结节']]);
  // The notice speaks only of a slice that is chosen.
  r = await aiPage(att, app, img.job, '&z=2&window=lung&key=added');
  assert.equal(r.status, 200);
  assert.equal(textOf(r.text, 'ai-notice'), null);
  assert.match(r.text, /id="key-here" hidden/);
  // 写报告 shows it among the chosen.
  r = await att.get(`/report?id=${app.id}`);
  assert.equal(textOf(r.text, 'key-count'), '已选 1 / 4 幅');

  // The same slice again (in another window), a slice the result does
  // not have, no slice: refused on the same page, nothing stored.
  r = await keyFromAi(att, app, img.job, { z: '1', window: 'bone' });
  assert.equal(r.status, 400);
  assert.equal(textOf(r.text, 'ai-error'), '未设为关键图像：该影像已在关键图像中');
  assert.match(r.text, /id="slice-no"[^>]*>第 2 \/ 3 层</, 'the page stays at the slice posted');
  r = await keyFromAi(att, app, img.job, { z: '3', window: 'lung' });
  assert.equal(r.status, 400);
  assert.equal(textOf(r.text, 'ai-error'), '未设为关键图像：所选层面不存在');
  for (const f of [{ window: 'lung' }, { z: '-1' }, { z: 'x' }, { z: '0', window: 'nope' }]) {
    r = await keyFromAi(att, app, img.job, f);
    assert.equal(r.status, 400, JSON.stringify(f));
    assert.equal(textOf(r.text, 'ai-error'), '请选择要设为关键图像的层面', JSON.stringify(f));
  }
  assert.equal(keys(app.id).length, 1);

  // A doctor of the reading hospital without the lock: the button is off
  // with the holder's name, a post is refused.  A doctor of a hospital
  // that cannot see the application, the applicant (no such page), and a
  // post without the session's token change nothing either.
  r = await aiPage(assoc, app, img.job);
  assert.equal(r.status, 200);
  assert.match(r.text, /id="btn-key-set" disabled/);
  assert.equal(textOf(r.text, 'key-off'), '该申请单正由黄文静书写报告，只有锁定该申请单的医生可设置关键图像');
  r = await keyFromAi(assoc, app, img.job, { z: '0', window: 'lung' });
  assert.equal(r.status, 409);
  assert.equal(textOf(r.text, 'ai-error'), '该申请单正由黄文静书写报告，只有锁定该申请单的医生可设置关键图像');
  r = await keyFromAi(jn, app, img.job, { z: '0', window: 'lung' });
  assert.equal(r.status, 404);
  assert.ok(!r.text.includes(app.name), 'nothing of the patient is shown');
  r = await aiPage(jn, app, img.job);
  assert.equal(r.status, 404);
  r = await keyFromAi(qx, app, img.job, { z: '0', window: 'lung' });
  assert.equal(r.status, 403);
  r = await att.post('/ai/key-image', { csrf: 'x', id: String(app.id), job: String(img.job), z: '0' });
  assert.equal(r.status, 403);
  // A job of another application's study is not this application's.
  const other = newApplication('qx');
  const oimg = linkImages(other, 'QX-PH');
  r = await keyFromAi(att, app, oimg.job, { z: '0', window: 'lung' });
  assert.equal(r.status, 404);
  assert.equal(keys(app.id).length, 1);
  assert.equal(audits(app.id).length, 1);

  // At most four: two series previews from 写报告, one more slice here;
  // the fifth is refused.
  for (const s of [img.chest, img.scout]) {
    r = await add(att, app.id, { series: String(s), window: 'lung' });
    assert.equal(r.status, 303);
  }
  r = await keyFromAi(att, app, img.job, { z: '0', window: 'mediastinum' });
  assert.equal(r.status, 303);
  r = await att.get(r.location.replace(/#.*/, ''));
  assert.equal(textOf(r.text, 'ai-notice'), '已设为关键图像（第 1 层），共 4/4 幅');
  assert.equal(textOf(r.text, 'key-total'), '报告已选关键图像 4/4 幅');
  r = await keyFromAi(att, app, img.job, { z: '2', window: 'lung' });
  assert.equal(r.status, 400);
  assert.equal(textOf(r.text, 'ai-error'), '未设为关键图像：关键图像最多4幅，请先移除一幅再添加');
  assert.deepEqual(keys(app.id).map((k) => k.caption), ['CT肺结节智能诊断 第 2 层 右肺上叶结节',
    '序列 2 Chest 1.0 B60f', '序列 1 Topogram', 'CT肺结节智能诊断 第 1 层']);
  assert.equal(sql(`SELECT window_name FROM report_key_images WHERE application_id = :'p1' AND position = 4`,
    { params: [app.id] })[0][0], 'mediastinum');

  // Once submitted (已报告) the images are fixed: no button, a post is
  // refused with the state.
  const first = keys(app.id)[0].key;
  r = await remove(att, app.id, first);
  assert.equal(r.status, 303);
  r = await att.post('/report/submit', { csrf: att.token, id: String(app.id), version: '0',
    findings: '右肺上叶见一实性结节。', conclusion: '右肺上叶结节，建议随访。', ai_used: '0', final: '1' });
  assert.equal(r.status, 303);
  r = await aiPage(att, app, img.job);
  assert.match(r.text, /id="btn-key-set" disabled/);
  assert.equal(textOf(r.text, 'key-off'), '该申请单当前状态为“已报告”，不能设置关键图像');
  r = await keyFromAi(att, app, img.job, { z: '1', window: 'lung' });
  assert.equal(r.status, 409);
  assert.equal(textOf(r.text, 'ai-error'), '该申请单当前状态为“已报告”，不能设置关键图像');
  assert.equal(keys(app.id).length, 3);
});
