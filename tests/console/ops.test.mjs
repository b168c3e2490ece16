// The console's operations panels driven by replay: 锁定 (force a report
// lock open), AI任务 (retry a dead job) and 审计 (the audit log shows what
// the console just did).  Their effects are checked in the database.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Client, sql } from '../integration/helpers.mjs';
import { replay, login, ADMIN, CONF, existsSync } from './helpers.mjs';

const skip = !CONF ? 'no test stack (run through tests/run.sh)'
  : !existsSync(ADMIN) ? 'admin/zhiying-admin is not built' : false;
const TAG = `OPS${process.pid % 100000}`;

// A 诊断号 as the web gives them: ZY, the date and six digits.
const DIAG = `ZY20261207${String(process.pid % 1000000).padStart(6, '0')}`;

test('锁定: the administrator sees who holds a report and forces it open', { skip }, () => {
  const [[id, diag]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id, applicant_institution_id,
      alliance_id, target_institution_id, patient_name, patient_sex, patient_no, exam_type)
    SELECT :'p1', 'superior', u.id, u.institution_id, al.id, t.id, '锁定测试', 'F', :'p1', 'CT'
    FROM users u, alliances al, institutions t
    WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH' RETURNING id, diag_no`,
  { params: [DIAG] });
  sql(`UPDATE applications SET state = 'reporting', locked_by = u.id, locked_at = now() - interval '2 hours',
    lock_seen_at = now() - interval '2 hours' FROM users u WHERE applications.id = ${id} AND u.login = 'yb_resident'`);
  const { dumps, rc } = replay([login('admin'), '5<Dump locks>', '<F8><Dump confirm>y<Dump after>', '<F10>']);
  assert.equal(rc, 0);
  // The whole 诊断号, not cut by its column.
  assert.equal(diag.length, 16);
  assert.match(dumps.locks, new RegExp(diag));
  assert.match(dumps.locks, /周子健/);
  assert.match(dumps.confirm, /解锁/);
  const [[state, holder]] = sql(`SELECT state, coalesce(locked_by, 0) FROM applications WHERE id = ${id}`);
  assert.deepEqual([state, holder], ['pending', '0']);
  const [[n]] = sql(`SELECT count(*) FROM audit_log WHERE action = 'report_lock_broken' AND object_id = '${id}'
    AND actor_login = 'admin' AND channel = 'console'`);
  assert.equal(n, '1');
  // Gone from the table; the status line names what was done.
  assert.doesNotMatch(dumps.after, new RegExp(`^${diag} `, 'm'));
  assert.match(dumps.after, new RegExp(`已强制解锁 ${diag}`));
});

test('AI任务: a dead job shows its error and is queued again', { skip }, () => {
  const uid = `1.2.826.0.1.3680043.10.77.${process.pid}.${Date.now()}`;
  const [[job]] = sql(`WITH i AS (SELECT id FROM institutions WHERE code = 'QX-PH'),
    p AS (INSERT INTO patients (institution_id, patient_id) SELECT id, :'p1' FROM i RETURNING id, institution_id),
    s AS (INSERT INTO studies (institution_id, patient_ref, study_uid) SELECT institution_id, id, :'p2' FROM p RETURNING id),
    se AS (INSERT INTO series (study_id, series_uid, modality) SELECT id, :'p2' || '.1', 'CT' FROM s RETURNING id)
    INSERT INTO ai_jobs (series_id, reader, state, slices, attempts, error)
    SELECT id, 'ct_coronary_calcium', 'dead', 1, 3, :'p3' FROM se RETURNING id`,
  { params: [`${TAG}P`, uid, `${TAG} series could not be loaded`] });
  const { dumps, rc } = replay([login('admin'), '6<Dump jobs>', '<F8><Dump confirm>y<Dump after>', '<F10>']);
  assert.equal(rc, 0);
  assert.match(dumps.jobs, new RegExp(`${TAG} series could not`));
  assert.match(dumps.jobs, /已放弃/);
  const [[n]] = sql(`SELECT count(*) FROM audit_log WHERE action = 'ai_job_retried' AND object_id = '${job}'`);
  assert.equal(n, '1');
  // Queued again with its attempts cleared (the daemon may have taken it
  // up already: then it was claimed again after the retry).
  const [[state, attempts]] = sql(`SELECT state, attempts FROM ai_jobs WHERE id = ${job}`);
  assert.ok(state === 'queued' || Number(attempts) <= 1, `${state} ${attempts}`);
});

test('审计: the audit log lists the console\'s own actions', { skip }, () => {
  const { dumps, rc } = replay([login('admin'), '7<Dump audit>', '<F10>'], { size: '120x40' });
  assert.equal(rc, 0);
  assert.match(dumps.audit, /AI任务重试|强制解锁报告/);
  assert.match(dumps.audit, /admin/);
  assert.doesNotMatch(dumps.audit, /ai_job_retried|report_lock_broken/, 'actions in Chinese');
});

test('角色权限: the table of who may do what, as the manual has it', { skip }, () => {
  const { dumps, rc } = replay([login('admin'), '4<Dump roles><F1><Dump help><Esc>', '<F10>'], { size: '120x40' });
  assert.equal(rc, 0);
  for (const word of ['申请', '待诊断', '申请列表', '待审核/已报告', '打印报告', '统计', '机构用户', '安全退出',
    '邀请方人员', '受邀方人员', '管理员']) {
    assert.ok(dumps.roles.includes(word), word);
  }
  assert.match(dumps.roles, /住院医师 < 主治医师 < 副主任医师 < 主任医师/);
  assert.match(dumps.help, /主治医师及以上/);
});

test('审计: reads of a patient\'s record are listed, filtered by action', { skip }, async () => {
  const [[id]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id, applicant_institution_id,
      alliance_id, target_institution_id, patient_name, patient_sex, patient_no, exam_type)
    SELECT :'p1', 'superior', u.id, u.institution_id, al.id, t.id, '审计测试', 'M', :'p1', 'CT'
    FROM users u, alliances al, institutions t
    WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH' RETURNING id`,
  { params: [`${TAG}A`] });
  const c = new Client();
  assert.equal((await c.login('yb_attending')).status, 303);
  assert.equal((await c.get(`/application?id=${id}`)).status, 200);
  const { dumps, rc } = replay([login('admin'), '7/<Tab>application_viewed<F2><Dump audit>', '<F10>'],
    { size: '140x40' });
  assert.equal(rc, 0);
  // In Chinese: the action named, the detail's keys named, no raw JSON.
  const line = dumps.audit.split('\n').find((l) => l.includes('查看申请') && l.includes(`${TAG}A`));
  assert.ok(line, dumps.audit);
  assert.match(line, /yb_attending/);
  assert.match(line, new RegExp(`诊断号：${TAG}A`));
  assert.doesNotMatch(dumps.audit, /\{"/);
  assert.doesNotMatch(dumps.audit, /report_lock_broken|ai_job_retried/, 'only the chosen action');
});
