// Patient identity between a study and an application (issue 18, item 2).
// The study's PatientID, PatientName, PatientSex, PatientAge and
// AccessionNumber are compared with the application on upload, on linking
// by hand and on the receiver's automatic linking: a study whose patient
// differs is never linked silently.  It is held, shown side by side on the
// application page, and linked only when the applicant confirms with a
// reason (kept with the link, in the history and in the audit log), or
// declined.  Through nginx as a browser sends it, and through storescu as
// a PACS sends it.
//
// The receiver's tests count what 清溪县人民医院 has in the index, and
// these make studies there: this file runs on a test stack of its own,
// started and stopped here (tests/lib.sh) whenever a shared stack is up.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const run = promisify(execFile);
const DATA = process.env.ZY_DATA || `${ROOT}/../shared/data`;
// A chest radiograph of patient Covid0000 (DX, no BodyPartExamined).
const CXR = `${DATA}/xray/chest/nih-cxr14_DX_1024x1024_8bit_via-nhsx-nccid.dcm`;

let own = null;
if (process.env.ZY_STATE && existsSync(CXR)) {
  const out = execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; stack_start >&2 &&
    echo "$ZY_STATE $ZY_URL $ZY_PGPORT $ZY_SCP_PORT"`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [state, url, pgport, scpport] = out.trim().split('\n').pop().split(' ');
  own = { state, pgport };
  Object.assign(process.env, { ZY_STATE: state, ZY_URL: url, ZY_PGPORT: pgport, ZY_SCP_PORT: scpport });
}
const { Client, imagesFlagWrong, sql, unescapeHtml } = await import('./helpers.mjs');

after(() => {
  if (!own) return;
  execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; ZY_STATE=${own.state}
    ZY_PGPORT=${own.pgport}; stack_stop`], { stdio: 'ignore' });
});

const skip = !process.env.ZY_STATE ? 'no test stack (run through tests/run.sh)'
  : !existsSync(CXR) ? `${CXR} not found: skipping the identity tests` : false;

const work = skip ? null : mkdtempSync(`${tmpdir()}/zy-identity-`);
after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

// A copy of the radiograph as a study of its own (new Study, Series and
// SOP Instance UIDs) with the given patient attributes.
let serial = 0;
function study(tags) {
  const file = `${work}/s${++serial}.dcm`;
  copyFileSync(CXR, file);
  const args = ['-nb', '-gst', '-gse', '-gin'];
  for (const [tag, v] of Object.entries({ '(0008,0005)': 'ISO_IR 192', ...tags })) args.push('-i', `${tag}=${v}`);
  execFileSync('dcmodify', [...args, file], { stdio: 'ignore' });
  return file;
}

let client = null;
async function applicant() {
  if (!client) {
    client = new Client();
    assert.equal((await client.login('qx_apply')).status, 303);
    client.token = await client.csrf();
  }
  return client;
}

async function application(p) {
  const c = await applicant();
  const r = await c.post('/apply', {
    csrf: c.token, patient_name: p.name, patient_sex: p.sex, patient_age: p.age, patient_birth: '',
    patient_no: p.no, patient_phone: '13800000002', chief_complaint: '咳嗽一周',
    present_illness: '咳嗽一周，无发热', history: '无', clinical_diagnosis: '支气管炎', exam_type: 'DR',
    body_part: '胸部', urgency: 'routine', accession: p.accession || '', exam_date: '', mode: 'self',
    alliance: '', target: '',
  });
  assert.equal(r.status, 303, r.text.slice(0, 300));
  const id = Number(r.location.match(/id=(\d+)/)[1]);
  const [[diag]] = sql(`SELECT diag_no FROM applications WHERE id = ${id}`);
  return { id, diag };
}

async function upload(id, file) {
  const c = await applicant();
  const fd = new FormData();
  fd.append('files', new Blob([readFileSync(file)], { type: 'application/dicom' }), 'cxr.dcm');
  const r = await c.request('POST', `/upload/dicom?id=${id}&csrf=${encodeURIComponent(c.token)}`, {
    body: fd, headers: { accept: 'application/json' },
  });
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text);
}

const links = (id) => sql(`SELECT linked_by, differences::text, confirm_reason FROM application_studies
  WHERE application_id = ${id}`);
const holds = (id) => sql(`SELECT proposed_by, differences::text FROM study_link_holds WHERE application_id = ${id}`);
const audits = (id) => sql(`SELECT action FROM audit_log WHERE object_type = 'application'
  AND object_id = '${id}' AND action LIKE 'study_%' ORDER BY id`).flat();
const page = async (id, q = '') => unescapeHtml((await (await applicant()).get(`/application?id=${id}${q}`)).text);
// The rows of the comparison table of a held study: [label, application, DICOM, verdict].
const rows = (html) => [...html.matchAll(/<tr class="(?:differs|same)"><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td class="verdict">([^<]*)<\/td><\/tr>/g)]
  .map((m) => m.slice(1));

test('one study, two patients: linked to its own patient, held for the other until confirmed with a reason', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  const file = study({ '(0010,0020)': `Covid${tag}`, '(0010,0010)': 'Zhang^San=张^三', '(0010,0040)': 'M',
    '(0010,1010)': '045Y', '(0008,0050)': `ACC${tag}` });
  const c = await applicant();

  // The patient of the file: matching ID, name (its ideographic group),
  // sex and age: linked on upload, as before.
  const own = await application({ name: '张三', sex: 'M', age: '45岁', no: `Covid${tag}` });
  let res = await upload(own.id, file);
  assert.equal(res.stored, 1);
  assert.equal(res.held, 0);
  assert.match(res.files[0].message, /^已上传：DX/);
  assert.doesNotMatch(res.files[0].message, /不一致/);
  assert.deepEqual(links(own.id), [['upload', '{}', '']]);

  // Another patient: the same file is stored once and not linked.
  const other = await application({ name: '李四', sex: 'F', age: '30岁', no: `P-OTHER-${tag}` });
  res = await upload(other.id, file);
  assert.equal(res.duplicate, 1);
  assert.equal(res.held, 1);
  assert.match(res.files[0].message, /^该影像此前已上传，未重复保存；影像的患者信息与申请单不一致，尚未关联/);
  assert.deepEqual(links(other.id), []);
  assert.deepEqual(holds(other.id), [['upload', '{patient_id,patient_name,patient_sex,patient_age,other_patient}']]);

  // The application page shows both sides and where they differ, and the
  // application the study serves already.
  let html = await page(other.id);
  assert.match(html, /id="held-studies"/);
  assert.match(html, /的患者信息与申请单不一致：<strong class="held-diff">患者号、姓名、性别、年龄、已关联其他患者的申请单<\/strong>/);
  assert.deepEqual(rows(html), [
    ['身份证号/病历号（患者号）', `P-OTHER-${tag}`, `Covid${tag}`, '不一致'],
    ['患者姓名', '李四', 'Zhang^San=张^三', '不一致'],
    ['性别', '女', '男', '不一致'],
    ['年龄', '30岁', '45岁', '不一致'],
    ['出生日期', '（未填写）', '（无）', ''],
    ['检查号', '（未填写）', `ACC${tag}`, ''],
  ]);
  assert.match(html, new RegExp(`该检查已关联到其他患者的申请单：${own.diag}（张三，Covid${tag}）`));
  assert.match(html, /id="no-studies"/, 'nothing linked yet');

  // Confirming without a reason links nothing.
  const [[sid]] = sql(`SELECT study_id FROM study_link_holds WHERE application_id = ${other.id}`);
  let r = await c.post('/application/link', { csrf: c.token, id: String(other.id), study: sid, confirm: '1', reason: '  ' });
  assert.equal(r.status, 303);
  assert.match(r.location, /mismatch=1/);
  assert.match(await page(other.id, '&mismatch=1'), /id="mismatch-notice">影像的患者信息与申请单不一致，请核对下表/);
  assert.deepEqual(links(other.id), []);

  // With a reason it is linked; the page, the history and the audit log
  // say what differed, who confirmed and why.
  const reason = '患者在PACS中登记错误，已电话与放射科核实为同一患者';
  r = await c.post('/application/link', { csrf: c.token, id: String(other.id), study: sid, confirm: '1', reason });
  assert.equal(r.status, 303, r.text);
  assert.doesNotMatch(r.location, /mismatch/);
  assert.deepEqual(links(other.id), [['upload', '{patient_id,patient_name,patient_sex,patient_age,other_patient}', reason]]);
  assert.deepEqual(holds(other.id), []);
  html = await page(other.id);
  assert.doesNotMatch(html, /id="held-studies"/);
  assert.match(html, new RegExp(`class="warning confirmed-mismatch">注意：该检查的患者信息与申请单不一致（患者号、姓名、性别、年龄、已关联其他患者的申请单），由 [^，]+ 确认关联，原因：${reason}<`));
  assert.match(html, new RegExp(`的患者信息与申请单不一致（患者号、姓名、性别、年龄、已关联其他患者的申请单），确认关联。原因：${reason}`));
  assert.deepEqual(audits(other.id), ['study_link_held', 'study_linked_confirmed']);
  const [[detail]] = sql(`SELECT detail->>'comment' FROM audit_log WHERE action = 'study_linked_confirmed'
    AND object_id = '${other.id}'`);
  assert.match(detail, new RegExp(reason));

  // A third patient declines it: the hold goes, with its history row.
  const third = await application({ name: '王五', sex: 'M', age: '45岁', no: `P-THIRD-${tag}` });
  res = await upload(third.id, file);
  assert.equal(res.held, 1);
  r = await c.post('/application/decline', { csrf: c.token, id: String(third.id), study: sid });
  assert.equal(r.status, 303, r.text);
  assert.deepEqual(holds(third.id), []);
  assert.deepEqual(links(third.id), []);
  assert.deepEqual(audits(third.id), ['study_link_held', 'study_link_declined']);
  assert.match(await page(third.id), /不一致（患者号、姓名、已关联其他患者的申请单），不予关联/);
});

test('a name in pinyin against Chinese characters, an age a year apart, the case of the patient number: no difference', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  // Pinyin cannot be compared with Chinese characters; an age 1 year off
  // is the same patient (the study was made before a birthday).
  const file = study({ '(0010,0020)': `PY${tag}`, '(0010,0010)': 'CHEN^JING', '(0010,0040)': 'F',
    '(0010,1010)': '061Y', '(0008,0050)': '' });
  const same = await application({ name: '陈静', sex: 'F', age: '62岁', no: `py${tag}` });
  const res = await upload(same.id, file);
  assert.equal(res.held, 0, JSON.stringify(res));
  assert.deepEqual(links(same.id), [['upload', '{}', '']]);
});

test('linking by hand a study of the same patient number whose sex differs asks for a reason', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  const file = study({ '(0010,0020)': `HAND${tag}`, '(0010,0010)': '周^敏', '(0010,0040)': 'M', '(0010,1010)': '' });
  // Uploaded to one application; offered to another of the same patient
  // number, whose sex is written otherwise.
  const first = await application({ name: '周敏', sex: 'M', age: '50岁', no: `HAND${tag}` });
  assert.equal((await upload(first.id, file)).held, 0);
  await (await applicant()).post('/application/cancel', { csrf: client.token, id: String(first.id) });
  const second = await application({ name: '周敏', sex: 'F', age: '50岁', no: `HAND${tag}` });
  let html = await page(second.id);
  const m = html.match(/name="study" value="(\d+)">\s*<span>本机构同一患者号的检查/);
  assert.ok(m, 'the study of the same patient number is offered');
  const c = await applicant();
  let r = await c.post('/application/link', { csrf: c.token, id: String(second.id), study: m[1] });
  assert.equal(r.status, 303);
  assert.match(r.location, /mismatch=1/);
  assert.deepEqual(links(second.id), []);
  assert.deepEqual(holds(second.id), [['hand', '{patient_sex}']]);
  html = await page(second.id, '&mismatch=1');
  assert.match(html, /<strong class="held-diff">性别<\/strong>/);
  r = await c.post('/application/link', { csrf: c.token, id: String(second.id), study: m[1], confirm: '1',
    reason: '申请单性别填写错误' });
  assert.equal(r.status, 303);
  assert.deepEqual(links(second.id), [['hand', '{patient_sex}', '申请单性别填写错误']]);
});

// 退回 and resubmitted with the patient corrected: the linked studies are
// compared again.  One that no longer matches goes back to the holds
// (with its audit row); one that still matches, or whose difference was
// confirmed with a reason when it was linked, stays linked.
test('a resubmission that changes the patient compares its linked studies again', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  const c = await applicant();
  // 退回 comes from the reading hospital: 粤北市中心医院, above 清溪县.
  const doctor = new Client();
  assert.equal((await doctor.login('yb_resident')).status, 303);
  doctor.token = await doctor.csrf();
  const [[alliance]] = sql(`SELECT id FROM alliances WHERE code = 'YB-YLT'`);
  const [[target]] = sql(`SELECT id FROM institutions WHERE code = 'YB-CH'`);
  const fields = (p) => ({ patient_name: p.name, patient_sex: p.sex, patient_age: p.age, patient_birth: '',
    patient_no: p.no, patient_phone: '13800000002', chief_complaint: '咳嗽一周',
    present_illness: '咳嗽一周，无发热', history: '无', clinical_diagnosis: '支气管炎', exam_type: 'DR',
    body_part: '胸部', urgency: 'routine', accession: '', exam_date: '', mode: 'superior', alliance, target });
  const application = async (p) => {
    const r = await c.post('/apply', { csrf: c.token, ...fields(p) });
    assert.equal(r.status, 303, r.text.slice(0, 300));
    return { id: Number(r.location.match(/id=(\d+)/)[1]) };
  };
  const returnAndResubmit = async (id, p) => {
    let r = await doctor.post('/application/return', { csrf: doctor.token, id: String(id), reason: '请核对患者信息' });
    assert.equal(r.status, 303, r.text.slice(0, 300));
    r = await c.post('/application/edit', { csrf: c.token, id: String(id), ...fields(p) });
    assert.equal(r.status, 303, r.text.slice(0, 300));
    assert.equal(sql(`SELECT state FROM applications WHERE id = ${id}`)[0][0], 'pending');
  };

  // Linked on upload to 孙丽; the applicant corrects the name to 孙力
  // (another patient): the study is held, not linked.
  const p1 = { name: '孙丽', sex: 'F', age: '40岁', no: `RS${tag}` };
  const a = await application(p1);
  assert.equal((await upload(a.id, study({ '(0010,0020)': `RS${tag}`, '(0010,0010)': '孙^丽', '(0010,0040)': 'F',
    '(0010,1010)': '040Y' }))).held, 0);
  assert.deepEqual(links(a.id), [['upload', '{}', '']]);
  await returnAndResubmit(a.id, { ...p1, name: '孙力' });
  assert.deepEqual(links(a.id), []);
  assert.deepEqual(holds(a.id), [['upload', '{patient_name}']]);
  assert.deepEqual(audits(a.id), ['study_linked', 'study_link_held']);
  const [[by, detail]] = sql(`SELECT actor_login, detail->>'differences' FROM audit_log
    WHERE object_id = '${a.id}' AND action = 'study_link_held'`);
  assert.deepEqual([by, detail], ['qx_apply', '{patient_name}']);
  const html = await page(a.id);
  assert.match(html, /id="held-studies"/);
  assert.match(html, /<strong class="held-diff">姓名<\/strong>/);
  assert.match(html, /id="no-studies"/);
  // The doctors do not see it: 影像未到.
  assert.equal(Number(sql(`SELECT count(*) FROM application_studies WHERE application_id = ${a.id}`)[0][0]), 0);
  assert.equal(sql(`SELECT images_missing FROM applications WHERE id = ${a.id}`)[0][0], 't');

  // Resubmitted with only the complaint changed: still linked.
  const p2 = { name: '钱进', sex: 'M', age: '60岁', no: `RT${tag}` };
  const b = await application(p2);
  assert.equal((await upload(b.id, study({ '(0010,0020)': `RT${tag}`, '(0010,0010)': '钱^进', '(0010,0040)': 'M',
    '(0010,1010)': '060Y' }))).held, 0);
  await returnAndResubmit(b.id, p2);
  assert.deepEqual(links(b.id), [['upload', '{}', '']]);
  assert.deepEqual(holds(b.id), []);
  assert.equal(sql(`SELECT images_missing FROM applications WHERE id = ${b.id}`)[0][0], 'f');

  // Linked with a confirmed difference (sex): resubmitted with the same
  // difference, the link and its reason stay; with the age changed too,
  // it is held again.
  const p3 = { name: '吴静', sex: 'M', age: '35岁', no: `RC${tag}` };
  const d = await application(p3);
  assert.equal((await upload(d.id, study({ '(0010,0020)': `RC${tag}`, '(0010,0010)': '吴^静', '(0010,0040)': 'F',
    '(0010,1010)': '035Y' }))).held, 1);
  const [[sid]] = sql(`SELECT study_id FROM study_link_holds WHERE application_id = ${d.id}`);
  const r = await c.post('/application/link', { csrf: c.token, id: String(d.id), study: sid, confirm: '1',
    reason: '影像性别登记错误，已核实' });
  assert.equal(r.status, 303);
  await returnAndResubmit(d.id, p3);
  assert.deepEqual(links(d.id), [['upload', '{patient_sex}', '影像性别登记错误，已核实']]);
  await returnAndResubmit(d.id, { ...p3, age: '53岁' });
  assert.deepEqual(links(d.id), []);
  assert.deepEqual(holds(d.id), [['upload', '{patient_sex,patient_age}']]);
});

// The receiver links by accession number, or patient number and exam
// date: with the patient's identity compared too, and nobody to ask.
function storescu(file) {
  return run('storescu', ['-aet', 'QX_PACS', '-aec', 'ZHIYING', '127.0.0.1', process.env.ZY_SCP_PORT, file],
    { maxBuffer: 1 << 24 });
}

async function until(what, cond, ms = 120000) {
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the receiver links a study whose patient matches and holds one whose patient differs', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  const match = await application({ name: '刘洋', sex: 'M', age: '40岁', no: `RX${tag}`, accession: `RA${tag}` });
  const differ = await application({ name: '孙丽', sex: 'F', age: '33岁', no: `RY${tag}`, accession: `RB${tag}` });
  await storescu(study({ '(0010,0020)': `RX${tag}`, '(0010,0010)': '刘^洋', '(0010,0040)': 'M',
    '(0010,1010)': '040Y', '(0008,0050)': `RA${tag}` }));
  // Same accession number as the second application, another patient.
  await storescu(study({ '(0010,0020)': `RZ${tag}`, '(0010,0010)': '赵^强', '(0010,0040)': 'M',
    '(0010,1010)': '070Y', '(0008,0050)': `RB${tag}` }));
  await until('the receiver to link or hold both', () => links(match.id).length === 1 && holds(differ.id).length === 1);
  assert.deepEqual(links(match.id), [['accession', '{}', '']]);
  assert.deepEqual(links(differ.id), []);
  assert.deepEqual(holds(differ.id), [['accession', '{patient_id,patient_name,patient_sex,patient_age}']]);
  const [[actor, channel]] = sql(`SELECT coalesce(actor_login, ''), channel FROM audit_log
    WHERE action = 'study_link_held' AND object_id = '${differ.id}'`);
  assert.deepEqual([actor, channel], ['QX_PACS', 'scp']);
  const html = await page(differ.id);
  assert.match(html, /（1 个序列，检查号自动关联，[0-9: -]+）的患者信息与申请单不一致：<strong class="held-diff">患者号、姓名、性别、年龄<\/strong>/);
  assert.match(html, /class="confirm-link danger">确认是同一患者并关联</);
});

// ---------------------------------------------------------------------
// The matcher with the application (issue 18, item 3): a chest film
// without BodyPartExamined is a chest on a DR 胸部 application, whether the
// film came before the application, after it, or by upload.

const fitsOf = (study) => Object.fromEntries(sql(`SELECT m.reader, m.fits, m.reason FROM series_matches m
  JOIN series se ON se.id = m.series_id WHERE se.study_id = ${study}`).map(([r, f, why]) => [r, { fits: f === 't', why }]));
const studyOf = (uidTag) => Number(sql(`SELECT s.id FROM studies s JOIN patients p ON p.id = s.patient_ref
  WHERE p.patient_id = '${uidTag}'`)[0]?.[0] ?? 0);
// The jobs queued for a reader (the inference daemon of the stack may have
// taken them since: their count, not their state).
const jobs = (study, reader) => Number(sql(`SELECT count(*) FROM ai_jobs j JOIN series se ON se.id = j.series_id
  WHERE se.study_id = ${study} AND j.reader = '${reader}'`)[0][0]);

test('a chest film received before its DR 胸部 application is matched again once linked: 肺结核 fits', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  const pid = `MB${tag}`;
  await storescu(study({ '(0010,0020)': pid, '(0010,0010)': '黄^华', '(0010,0040)': 'M', '(0010,1010)': '081Y',
    '(0008,0020)': '20240315', '(0008,0050)': '' }));
  const sid = await until('the film to be received and matched', () => {
    const s = studyOf(pid);
    return s && fitsOf(s).dr_tuberculosis ? s : 0;
  });
  // Nothing tells where the film is: no reader for it yet.
  assert.equal(fitsOf(sid).dr_tuberculosis.fits, false);
  assert.match(fitsOf(sid).dr_tuberculosis.why, /无法确定检查部位/);
  assert.equal(jobs(sid, 'dr_tuberculosis'), 0);

  // The application names the patient number and the exam date: linked
  // when it is made, and matched again with its 检查类型 and 检查部位.
  const c = await applicant();
  const r = await c.post('/apply', {
    csrf: c.token, patient_name: '黄华', patient_sex: 'M', patient_age: '81岁', patient_birth: '',
    patient_no: pid, patient_phone: '13800000003', chief_complaint: '咳嗽咳痰两月', present_illness: '午后低热，盗汗',
    history: '无', clinical_diagnosis: '肺结核待排', exam_type: 'DR', body_part: '胸部', urgency: 'routine',
    accession: '', exam_date: '2024-03-15', mode: 'self', alliance: '', target: '',
  });
  assert.equal(r.status, 303, r.text.slice(0, 300));
  const id = Number(r.location.match(/id=(\d+)/)[1]);
  assert.deepEqual(links(id), [['patient_date', '{}', '']]);
  assert.equal(fitsOf(sid).dr_tuberculosis.fits, true);
  assert.equal(fitsOf(sid).ct_lung_nodule.fits, false);
  assert.equal(jobs(sid, 'dr_tuberculosis'), 1);
  const html = await page(id);
  assert.match(html, /<td class="match"><span class="fits">适用：[^<]*DR肺结核智能诊断/);
});

test('a chest film received after its DR 胸部 application fits 肺结核 at once', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  const pid = `MA${tag}`;
  const app = await application({ name: '郑芳', sex: 'F', age: '81岁', no: pid, accession: `MA${tag}` });
  await storescu(study({ '(0010,0020)': pid, '(0010,0010)': '郑^芳', '(0010,0040)': 'F', '(0010,1010)': '081Y',
    '(0008,0050)': `MA${tag}` }));
  const sid = await until('the film to be linked and matched', () => {
    const s = studyOf(pid);
    return s && links(app.id).length === 1 && fitsOf(s).dr_tuberculosis ? s : 0;
  });
  assert.equal(fitsOf(sid).dr_tuberculosis.fits, true, fitsOf(sid).dr_tuberculosis.why);
  assert.equal(jobs(sid, 'dr_tuberculosis'), 1);
  // Matched once, with the application known.
  assert.equal(Number(sql(`SELECT count(*) FROM audit_log a JOIN series se ON a.object_id = se.id::text
    WHERE a.action = 'series_matched' AND se.study_id = ${sid}`)[0][0]), 1);
});

test('a chest film uploaded to a DR 胸部 application fits 肺结核', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  const pid = `MU${tag}`;
  const app = await application({ name: '钱进', sex: 'M', age: '81岁', no: pid });
  const res = await upload(app.id, study({ '(0010,0020)': pid, '(0010,0040)': 'M' }));
  assert.equal(res.stored, 1);
  const sid = studyOf(pid);
  assert.equal(fitsOf(sid).dr_tuberculosis.fits, true, fitsOf(sid).dr_tuberculosis.why);
  assert.match(await page(app.id), /<span class="fits">适用：[^<]*DR肺结核智能诊断/);
});

// ---------------------------------------------------------------------
// What a doctor sees of an application whose images are still coming
// (issue 18, item 1): in 待诊断, marked 影像未到 (or 影像待核对 when a study
// is held), after those whose images have arrived.

// The rows of a list page: [诊断号, the state cell's text].
const listRows = (html) => [...html.matchAll(/<tr id="app-\d+"[^>]*data-diag="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)]
  .map((m) => [m[1], (m[2].match(/<td class="state[^"]*">([\s\S]*?)<\/td>/) || [, ''])[1].replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ').trim()]);

test('待诊断: an application whose images have not arrived is listed with 影像未到, after those whose images have', { skip }, async () => {
  const tag = `${process.pid}${Date.now() % 100000}`;
  // Oldest: its images uploaded.  Then one still waiting, then one whose
  // only study is held (another patient's).
  const withImages = await application({ name: `乙序${tag}`, sex: 'M', age: '81岁', no: `WLB${tag}` });
  assert.equal((await upload(withImages.id, study({ '(0010,0020)': `WLB${tag}`, '(0010,0010)': '' }))).stored, 1);
  const waiting = await application({ name: `甲序${tag}`, sex: 'M', age: '81岁', no: `WLA${tag}` });
  const held = await application({ name: `丙序${tag}`, sex: 'M', age: '81岁', no: `WLC${tag}` });
  assert.equal((await upload(held.id, study({ '(0010,0020)': `OTHER${tag}`, '(0010,0010)': '' }))).held, 1);

  const doctor = new Client();
  assert.equal((await doctor.login('qx_doctor')).status, 303);
  const q = encodeURIComponent(`序${tag}`);
  const r = await doctor.get(`/worklist?q=${q}`);
  assert.equal(r.status, 200);
  assert.deepEqual(listRows(unescapeHtml(r.text)), [
    [withImages.diag, '待报告'],
    [held.diag, '待报告 影像未到 影像待核对'],
    [waiting.diag, '待报告 影像未到'],
  ]);
  // Oldest first: the same grouping.
  const asc = await doctor.get(`/worklist?q=${q}&sort=time`);
  assert.deepEqual(listRows(unescapeHtml(asc.text)).map((x) => x[0]), [withImages.diag, waiting.diag, held.diag]);
  // The applicant's 申请列表 says it too.
  const c = await applicant();
  const mine = await c.get(`/applications?q=${q}`);
  assert.deepEqual(listRows(unescapeHtml(mine.text)).find((x) => x[0] === waiting.diag), [waiting.diag, '待报告 影像未到']);
  // The held study linked by the applicant (with a reason): its images
  // have arrived, and it moves up among those that have.
  const [[sid]] = sql(`SELECT study_id FROM study_link_holds WHERE application_id = ${held.id}`);
  const l = await c.post('/application/link', { csrf: c.token || await c.csrf(), id: String(held.id), study: sid,
    confirm: '1', reason: '同一患者，PACS登记号有误，已电话核实' });
  assert.equal(l.status, 303, l.text.slice(0, 300));
  const linked = await doctor.get(`/worklist?q=${q}`);
  assert.deepEqual(listRows(unescapeHtml(linked.text)), [
    [held.diag, '待报告'],
    [withImages.diag, '待报告'],
    [waiting.diag, '待报告 影像未到'],
  ]);
  // Whatever linked or unlinked studies so far, the flag the list orders
  // by agrees with the links.
  assert.deepEqual(imagesFlagWrong(), []);
});
