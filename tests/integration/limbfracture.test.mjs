// The limb fracture reader (DR骨折辅助诊断, src/infer/apps/limb.c) through
// the real path: the forearm phantom of zhiying-phantom -F limb (a right
// forearm AP whose radius is broken obliquely in its distal third) sent by
// storescu to the stack's receiver, matched to the reader by its body part,
// read by the stack's zhiying-inferd; linked to an application, its result
// page shows the numbered fracture box where the phantom has its fracture,
// with 病灶位置 and 骨折类型; the doctor writing the report may delete it
// (删除病灶序号框) and 上传影像结论 takes its sentences.
//
// The receiver's tests count what 清溪县人民医院 has in the index and its
// audit log, and this sends a study there: as identity.test.mjs, this
// file runs on a test stack of its own, started and stopped here
// (tests/lib.sh) whenever a shared stack is up.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
let own = null;
if (process.env.ZY_STATE) {
  const out = execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; stack_start >&2 &&
    echo "$ZY_STATE $ZY_URL $ZY_PGPORT $ZY_SCP_PORT"`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [state, url, pgport, scpport] = out.trim().split('\n').pop().split(' ');
  own = { state, pgport };
  Object.assign(process.env, { ZY_STATE: state, ZY_URL: url, ZY_PGPORT: pgport, ZY_SCP_PORT: scpport });
}
after(() => {
  if (!own) return;
  execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; ZY_STATE=${own.state}
    ZY_PGPORT=${own.pgport}; stack_stop`], { stdio: 'ignore' });
});
const { Client, ROOT_DIR, unescapeHtml, sql } = await import('./helpers.mjs');

const run = promisify(execFile);
const skip = own ? false : 'no test stack (run through tests/run.sh)';
const PHANTOM = `${ROOT_DIR}/src/tools/zhiying-phantom`;
const tag = `${process.pid}${Date.now() % 100000}`;
const PID = `LIMB${tag}`;
const users = {};
let dir;

before(async () => {
  if (skip) return;
  for (const login of ['yb_attending', 'qx_apply']) {
    const c = new Client();
    const r = await c.login(login);
    assert.equal(r.status, 303, `login ${login}`);
    c.token = await c.csrf();
    users[login] = c;
  }
  dir = mkdtempSync(`${tmpdir()}/zy-limb-`);
});

// The stack is this file's own and goes with what it holds.
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

async function until(what, cond, ms = 180000) {
  const t0 = Date.now();
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rowsOf = (html) => [...html.matchAll(/<tr class="lesion[^"]*" data-idx="(\d+)"/g)].map((m) => Number(m[1]));
const boxesOf = (html) => [...html.matchAll(/<g class="box[^"]*" data-slice="\d+" data-idx="(\d+)"/g)]
  .map((m) => Number(m[1]));
const deleteButtons = (html) => [...html.matchAll(/id="delete-(\d+)"/g)].map((m) => Number(m[1]));

test('a forearm film through the receiver and the daemon: its fracture boxed on the result page, with place and type, deletable, uploaded',
  { skip }, async () => {
    const { yb_attending: att } = users;
    const { stdout } = await run(PHANTOM, ['-F', 'limb', '-P', PID, '-N', 'LIMB^TEST', '-o', dir]);
    assert.match(stdout, /^files 1 /m);
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.dcm'));
    await run('storescu', ['-aet', 'QX_PACS', '-aec', 'ZHIYING', '127.0.0.1', process.env.ZY_SCP_PORT,
      `${dir}/${file}`], { maxBuffer: 1 << 24 });

    // Matched by its body part (FOREARM) to the limb fracture reader
    // only, and read by the stack's daemon.
    const job = await until('the limb fracture job to end', () => {
      const rows = sql(`SELECT j.id, j.state, coalesce(j.error, '') FROM ai_jobs j
        JOIN series se ON se.id = j.series_id JOIN studies s ON s.id = se.study_id
        JOIN patients p ON p.id = s.patient_ref
        WHERE p.patient_id = :'p1' AND j.reader = 'dr_limb_fracture'`, { params: [PID] });
      return rows.length === 1 && !['queued', 'running'].includes(rows[0][1]) ? rows[0] : null;
    });
    assert.equal(job[1], 'done', job[2]);
    const readers = sql(`SELECT string_agg(m.reader, ',' ORDER BY m.reader) FROM series_matches m
      JOIN series se ON se.id = m.series_id JOIN studies s ON s.id = se.study_id
      JOIN patients p ON p.id = s.patient_ref WHERE p.patient_id = :'p1' AND m.fits`, { params: [PID] });
    assert.deepEqual(readers, [['dr_limb_fracture']]);

    // The stored result: one box about the phantom's fracture (the
    // radius's centre 13 mm left of the middle, 80 mm down; 0.35 mm
    // pixels of a 700 x 1000 film).
    const lesions = sql(`SELECT l.idx, l.type, l.location, l.x0, l.y0, l.x1, l.y1, l.confidence
      FROM ai_lesions l JOIN ai_results r ON r.id = l.result_id WHERE r.job_id = :'p1' ORDER BY l.idx`,
    { params: [job[0]] });
    assert.equal(lesions.length, 1, JSON.stringify(lesions));
    const [idx, type, location, x0, y0, x1, y1, conf] = lesions[0];
    assert.equal(idx, '1');
    assert.equal(type, '斜形骨折');
    assert.equal(location, '右前臂（图像左起第1骨）远端1/3');
    const [cx, cy] = [-13 / 0.35 + 349.5, 80 / 0.35 + 499.5];
    assert.ok(Number(x0) <= cx && cx <= Number(x1) && Number(y0) <= cy && cy <= Number(y1),
      `box ${x0},${y0}-${x1},${y1} about ${cx},${cy}`);
    assert.ok(Number(conf) >= 0.5 && Number(conf) <= 1);

    // An application of 清溪县人民医院 to 粤北市中心医院 for the patient,
    // the study linked to it by hand.
    const [[app]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
        applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
        patient_age, patient_no, chief_complaint, exam_type, body_part, urgency, exam_date)
      SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
        'superior', u.id, u.institution_id, al.id, t.id, :'p1', 'M', '35岁', :'p2',
        '跌倒后右腕痛', 'DR', '右前臂', 'routine', current_date
      FROM users u, alliances al, institutions t
      WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
      RETURNING id`, { params: [`骨折${tag}`, PID] });
    sql(`INSERT INTO application_studies (application_id, study_id, linked_by)
      SELECT :'p1'::bigint, s.id, 'hand' FROM studies s JOIN patients p ON p.id = s.patient_ref
      WHERE p.patient_id = :'p2'`, { params: [app, PID] });

    // The result page: the box drawn on the film and listed, with its
    // type, place and the reader's method and notice.
    const page = `/ai/result?id=${app}&job=${job[0]}`;
    let r = await att.get(page);
    assert.equal(r.status, 200);
    const html = unescapeHtml(r.text);
    assert.deepEqual(rowsOf(r.text), [1]);
    assert.deepEqual(boxesOf(r.text), [1]);
    assert.match(html, /DR骨折辅助诊断/);
    assert.match(html, /斜形骨折/);
    assert.match(html, /右前臂（图像左起第1骨）远端1\/3/);
    assert.match(html, /Ricci/);
    assert.match(html, /结果仅供参考/);
    assert.deepEqual(deleteButtons(r.text), []);

    // 写报告 takes the lock: the box may be deleted; 上传影像结论 takes
    // its sentences into the draft.
    assert.equal((await att.write(app)).status, 200);
    r = await att.get(page);
    assert.deepEqual(deleteButtons(r.text), [1]);
    const stamp = unescapeHtml(r.text.match(/name="stamp" value="([^"]*)"/)[1]);
    r = await att.post('/ai/upload', { csrf: att.token, id: String(app), job: String(job[0]),
      version: '0', stamp, lesion: '1' });
    assert.equal(r.status, 303, r.text.slice(0, 300));
    const [[findings, conclusion]] = sql(`SELECT findings, conclusion FROM report_versions
      WHERE application_id = :'p1' ORDER BY version DESC LIMIT 1`, { params: [app] });
    assert.match(findings, /右前臂（图像左起第1骨）远端1\/3见透亮骨折线/);
    assert.match(conclusion, /右前臂（图像左起第1骨）远端1\/3斜形骨折可能/);
    await att.post('/report/unlock', { csrf: att.token, id: String(app) });
  });
