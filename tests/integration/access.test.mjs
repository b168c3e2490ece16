// Access control on every object, not only on pages: users of every role
// at several institutions try every object URL and every action on
// applications of other institutions.  A user whose institution has no
// part in an application must never see its patient, and no action of
// theirs may change it.
import test, { before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Client, URL_BASE, sql, sqlError } from './helpers.mjs';

const skip = URL_BASE ? false : 'no test stack (run through tests/run.sh)';
const TAG = `AC${process.pid % 100000}`;

// Everybody of the demo network but the account the lockout test locks.
const LOGINS = ['admin', 'gd_chief', 'gd_stats', 'yb_resident', 'yb_attending', 'yb_assoc', 'yb_admin',
  'yb_stats', 'qx_apply', 'qx_doctor', 'sl_apply', 'jn_attending', 'jn_chief', 'jn_admin', 'bs_apply', 'lw_apply'];

const users = {};
const apps = [];

// An application moved along allowed transitions only (the trigger
// refuses anything else).
function makeApp(key, applicant, mode, target, alliance, path, assist) {
  const name = `${TAG}${key}患者`;
  const [[id, inst]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
      applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
      patient_age, patient_no, chief_complaint, present_illness, clinical_diagnosis, exam_type,
      body_part)
    SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
      :'p2', u.id, u.institution_id, (SELECT id FROM alliances WHERE code = :'p4'),
      (SELECT id FROM institutions WHERE code = :'p3'), :'p1', 'M', '60岁', :'p5',
      '胸痛', '胸痛三天', '待查', 'CT', '胸部'
    FROM users u WHERE u.login = :'p6' RETURNING id, applicant_institution_id`,
  { params: [name, mode, target || '', alliance || '', `${TAG}-${key}`, applicant] });
  const reader = mode === 'superior' ? target : null;
  for (const state of path) {
    if (state === 'reporting') {
      sql(`UPDATE applications SET state = 'reporting', locked_by = u.id, locked_at = now(),
        lock_seen_at = now() FROM users u WHERE applications.id = ${Number(id)} AND u.login = :'p1'`,
      { params: [reader === 'YB-CH' ? 'yb_resident' : reader === 'JN-PH' ? 'jn_attending' : 'qx_doctor'] });
    } else if (state === 'reported') {
      sql(`INSERT INTO report_versions (application_id, version, author_id, findings, conclusion, kind)
        SELECT ${Number(id)}, 1, locked_by, '${TAG} 影像表现', '${TAG} 影像结论', 'final'
        FROM applications WHERE id = ${Number(id)}`);
      sql(`UPDATE applications SET state = 'reported', report_author_id = locked_by,
        reported_at = now(), locked_by = NULL, locked_at = NULL, lock_seen_at = NULL
        WHERE id = ${Number(id)}`);
    } else {
      sql(`UPDATE applications SET state = :'p1' WHERE id = ${Number(id)}`, { params: [state] });
    }
  }
  if (assist) {
    sql(`UPDATE applications SET assist = true, assist_institution_id = i.id
      FROM institutions i WHERE applications.id = ${Number(id)} AND i.code = :'p1'`, { params: [assist] });
  }
  const readers = [mode === 'self' ? null : target, assist].filter(Boolean);
  apps.push({ key, id: Number(id), name, inst: Number(inst), mode, readers });
}

// Which institutions take part: the applicant's, the upper hospital of
// superior mode, the assistance target.
function visible(app, user) {
  return user.inst === app.inst || app.readers.includes(user.code);
}

before(async () => {
  if (skip) return;
  makeApp('A', 'qx_apply', 'self', null, null, []);
  makeApp('B', 'qx_apply', 'superior', 'YB-CH', 'YB-YLT', []);
  makeApp('C', 'sl_apply', 'superior', 'YB-CH', 'YB-YLT', ['reporting', 'reported']);
  makeApp('D', 'bs_apply', 'superior', 'JN-PH', 'JN-YGT', []);
  makeApp('E', 'lw_apply', 'superior', 'JN-PH', 'JN-YGT', ['reporting', 'reported']);
  makeApp('F', 'qx_apply', 'self', null, null, [], 'YB-CH');
  makeApp('G', 'qx_apply', 'superior', 'YB-CH', 'YB-YLT', ['returned']);
  const rows = sql(`SELECT u.login, u.institution_id, i.code, u.roles FROM users u
    JOIN institutions i ON i.id = u.institution_id`);
  const facts = Object.fromEntries(rows.map(([l, inst, code, roles]) => [l, { inst: Number(inst), code, roles }]));
  for (const login of LOGINS) {
    const c = new Client();
    const r = await c.login(login);
    assert.equal(r.status, 303, `login ${login}`);
    c.token = await c.csrf();
    users[login] = { client: c, ...facts[login], login };
  }
});

// A stack may end idle sessions early (ZHIYING_SESSION_IDLE), and a user
// waits while the others make their hundreds of requests: log in again
// when needed.
async function fresh(user) {
  if ((await user.client.get('/')).status === 200) return;
  assert.equal((await user.client.login(user.login)).status, 303, `login ${user.login}`);
  user.client.token = await user.client.csrf();
}

beforeEach(async () => {
  for (const user of Object.values(users)) await fresh(user);
});

const GETS = ['/application?id=', '/application/edit?id=', '/report?id=', '/report/view?id=',
  '/report/print?id=', '/review/decide?id=', '/application/assist?id='];

test('no object URL shows another institution\'s application', { skip }, async () => {
  let checked = 0;
  for (const user of Object.values(users)) {
    await fresh(user);
    for (const app of apps) {
      for (const url of GETS) {
        const r = await user.client.get(url + app.id);
        assert.ok(r.status < 500, `${user.login} ${url}${app.id}: ${r.status}`);
        if (!visible(app, user)) {
          assert.ok(r.status === 404 || r.status === 403,
            `${user.login} got ${r.status} for ${url}${app.id} (${app.key})`);
          assert.ok(!r.text.includes(app.name), `${user.login} saw ${app.name} at ${url}`);
        }
        checked++;
      }
    }
  }
  assert.ok(checked >= LOGINS.length * apps.length * GETS.length);
});

test('no list shows another institution\'s application', { skip }, async () => {
  for (const user of Object.values(users)) {
    for (const list of ['/applications?mine=0', '/worklist', '/review', '/reported', '/diagnosed', '/print']) {
      const r = await user.client.get(list);
      if (r.status !== 200) continue;
      for (const app of apps) {
        if (!visible(app, user)) {
          assert.ok(!r.text.includes(app.name), `${user.login} saw ${app.name} in ${list}`);
        }
      }
    }
  }
});

// Every state-changing action, with what it needs in its form.
const ACTIONS = [
  ['/application/cancel', {}],
  ['/application/return', { reason: '资料不全' }],
  ['/application/assist', { alliance: '1', target: '1', chief_complaint: 'x', present_illness: 'y' }],
  ['/application/link', { study: '1' }],
  ['/report/unlock', {}],
  ['/report/save', { version: '0', findings: 'x', conclusion: 'y' }],
  ['/report/submit', { version: '1', findings: 'x', conclusion: 'y', final: '1' }],
  ['/review/decide', { approve: '1', comment: 'ok' }],
];

function snapshot(id) {
  return sql(`SELECT state, coalesce(locked_by, 0), assist, return_reason,
      (SELECT count(*) FROM application_history h WHERE h.application_id = a.id),
      (SELECT count(*) FROM report_versions v WHERE v.application_id = a.id),
      (SELECT count(*) FROM application_studies s WHERE s.application_id = a.id)
    FROM applications a WHERE id = ${id}`)[0].join('|');
}

test('no action of an outsider changes an application', { skip }, async () => {
  for (const user of Object.values(users)) {
    for (const app of apps) {
      if (visible(app, user)) continue;
      const before_ = snapshot(app.id);
      for (const [url, form] of ACTIONS) {
        const r = await user.client.post(url, { csrf: user.client.token, id: String(app.id), ...form });
        assert.ok([403, 404].includes(r.status), `${user.login} ${url} on ${app.key}: ${r.status}`);
        assert.ok(!r.text.includes(app.name));
      }
      const up = await user.client.request('POST', `/upload/dicom?id=${app.id}&csrf=${user.client.token}`,
        { body: '--x--\r\n', headers: { 'content-type': 'multipart/form-data; boundary=x' } });
      assert.ok([403, 404].includes(up.status), `${user.login} upload on ${app.key}: ${up.status}`);
      assert.equal(snapshot(app.id), before_, `${user.login} changed ${app.key}`);
    }
  }
});

test('insiders get only the transitions their role allows', { skip }, async () => {
  const b = apps.find((a) => a.key === 'B');
  const before_ = snapshot(b.id);
  // The applicant may not return, take the lock, or write a report.
  const qx = users.qx_apply.client;
  for (const [url, form] of [['/application/return', { reason: 'x' }], ['/report', {}],
    ['/report/save', { version: '0', findings: 'x', conclusion: 'y' }]]) {
    const r = await qx.post(url, { csrf: qx.token, id: String(b.id), ...form });
    assert.equal(r.status, 403, url);
  }
  assert.equal((await qx.get(`/report?id=${b.id}`)).status, 403);
  // The reading doctor may not cancel the applicant's application.
  const yb = users.yb_resident.client;
  assert.equal((await yb.post('/application/cancel', { csrf: yb.token, id: String(b.id) })).status, 403);
  // A doctor of the applicant's own institution may not return a
  // superior-mode application it does not read.
  const qd = users.qx_doctor.client;
  const r = await qd.post('/application/return', { csrf: qd.token, id: String(b.id), reason: 'x' });
  assert.ok([403, 404].includes(r.status));
  // A resident may not finalise; nobody may review a report not in review.
  const c = apps.find((a) => a.key === 'C');
  const rev = await users.yb_attending.client.post('/review/decide',
    { csrf: users.yb_attending.client.token, id: String(c.id), approve: '1', comment: '' });
  assert.ok([403, 409].includes(rev.status), `review of a finished report: ${rev.status}`);
  assert.equal(snapshot(b.id), before_);
  // A transition the state machine does not have is refused by the
  // database itself, whoever asks.
  for (const user of ['zhiying', 'zhiying_app']) {
    assert.match(sqlError(`UPDATE applications SET state = 'reviewed' WHERE id = ${b.id}`, { user }),
      /may not go from (pending|reporting) to reviewed/);
    assert.match(sqlError(`UPDATE applications SET state = 'pending' WHERE id = ${c.id}`, { user }),
      /may not go from reported to pending/);
  }
});
