// The demo a newcomer explores (issue 18, item 9): `zhiying.sh start`
// loads demo applications in every state through the running site
// (src/tools/zhiying-demo), and prints the demo logins with what each
// finds, without the tests' own account lw_locktest.  Checked here as the
// users see it, over HTTP: each list of the right user has rows, a CT
// application has its images and the calcium reader's score, 统计 counts
// them over several days, and a second start loads nothing twice.
//
// The demo applications would change what the other test files count:
// this file runs `zhiying.sh start` (not the tests' quiet start) on a
// stack of its own, started and stopped here (tests/lib.sh) whenever a
// shared stack is up.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

// Start (or restart) the stack of state folder STATE with `zhiying.sh
// start` as a user runs it, on the given ports; returns its output.
function start(env) {
  return execFileSync('bash', ['-c', `"${ROOT}/zhiying.sh" start 2>&1`], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900000,
    env: { ...process.env, ZHIYING_SKIP_DEPS: '1', ZHIYING_SKIP_BUILD: '1', ...env },
  });
}

let own = null;
let first = '';
if (process.env.ZY_STATE) {
  const out = execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"
    s=$(mktemp -d /tmp/zhiying-test.XXXXXX); chmod 755 "$s"
    p=$(free_port); f=$(free_port); while [ "$f" = "$p" ]; do f=$(free_port); done
    echo "$s $p $f $(free_port) $(free_port)"`], { encoding: 'utf8' });
  const [state, port, fcgi, pgport, scpport] = out.trim().split(' ');
  own = {
    state, pgport,
    env: { ZHIYING_STATE: state, ZHIYING_PORT: port, ZHIYING_FCGI_PORT: fcgi, ZHIYING_PGPORT: pgport,
      ZHIYING_SCP_PORT: scpport },
  };
  Object.assign(process.env, { ZY_STATE: state, ZY_URL: `http://127.0.0.1:${port}`, ZY_PGPORT: pgport,
    ZY_SCP_PORT: scpport });
  first = start(own.env);
}
const { Client, sleep, sql, statsCountsWrong, unescapeHtml } = await import('./helpers.mjs');

after(() => {
  if (!own) return;
  execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; ZY_STATE=${own.state}
    ZY_PGPORT=${own.pgport}; stack_stop`], { stdio: 'ignore' });
});

const skip = own ? false : 'no test stack (run through tests/run.sh)';

const sessions = {};
async function as(login) {
  if (!sessions[login]) {
    const c = new Client();
    const r = await c.login(login);
    assert.equal(r.status, 303, `login ${login}`);
    c.token = await c.csrf();
    sessions[login] = c;
  }
  return sessions[login];
}

// The rows of a list page: [{id, diag, state, text}].
function rows(html) {
  return [...html.matchAll(/<tr id="app-(\d+)" data-id="\d+" data-diag="([^"]*)" data-state="([^"]*)">([\s\S]*?)<\/tr>/g)]
    .map(([, id, diag, state, body]) => ({
      id: Number(id), diag: unescapeHtml(diag), state: unescapeHtml(state),
      text: unescapeHtml(body.replace(/<[^>]*>/g, ' ')),
    }));
}

async function list(login, path) {
  const r = await (await as(login)).get(path);
  assert.equal(r.status, 200, `${login} ${path}`);
  return rows(r.text);
}

// The printed login line of a user.
const loginLine = (out, login) => out.split('\n').find((l) => l.trim().startsWith(`${login} `));

test('zhiying.sh start prints the demo logins with what each finds, not the lock-test account', { skip }, () => {
  assert.match(first, /demo logins \(every demo password is Zhiying2026\):/);
  assert.match(first, /\[zhiying\] demo applications ready/);
  assert.doesNotMatch(first, /lw_locktest/);
  // The account is there for the tests that lock it out.
  assert.deepEqual(sql(`SELECT login FROM users WHERE login = 'lw_locktest'`), [['lw_locktest']]);
  const att = loginLine(first, 'yb_attending');
  assert.ok(att, first);
  assert.match(att, /黄文静\s+粤北市中心医院\s+受邀方人员·主治医师 — 待诊断 [1-9]\d*，待审核 [1-9]\d*，已报告 [1-9]/);
  assert.match(loginLine(first, 'qx_apply'), /申请列表 [1-9]\d*，退回 [1-9]/);
  assert.match(loginLine(first, 'gd_stats'), /统计 [1-9]\d* 份申请/);
  assert.match(loginLine(first, 'gd_chief'), /待诊断 [1-9]/);
});

test('every list of the right user shows demo applications', { skip }, async () => {
  // 待诊断 of the upper hospital: 待报告 and 报告中 (a resident's draft),
  // urgent ones among them, one whose images have not arrived.
  const work = await list('yb_attending', '/worklist');
  assert.ok(work.length >= 4, JSON.stringify(work));
  assert.ok(work.some((r) => r.state === 'pending') && work.some((r) => r.state === 'reporting'));
  assert.ok(work.some((r) => /加急|急诊/.test(r.text)), 'urgent ones');
  // 请求协助: the province hospital reads one too.
  assert.ok((await list('gd_chief', '/worklist')).length >= 1);
  // 待审核 of a doctor who may sign off.
  const review = await list('yb_assoc', '/review');
  assert.ok(review.length >= 1 && review.every((r) => r.state === 'in_review'), JSON.stringify(review));
  assert.ok((await list('jn_chief', '/review')).length >= 1);
  // 申请列表 of an applicant; 退回 with its reason on the application.
  const mine = await list('qx_apply', '/applications');
  assert.ok(mine.length >= 4, JSON.stringify(mine));
  const returned = await list('qx_apply', '/applications?status=returned&mine=0');
  assert.ok(returned.length >= 1 && returned.every((r) => r.state === 'returned'));
  const page = unescapeHtml((await (await as('qx_apply')).get(`/application?id=${returned[0].id}`)).text);
  assert.match(page, /缺少既往史/);
  // 已取消 ones among the applicant's.
  assert.ok((await list('sl_apply', '/applications')).some((r) => r.state === 'cancelled'));
  // Published: 打印报告 of the applicant, 已报告 of the doctors.
  const print = await list('qx_apply', '/print');
  assert.ok(print.length >= 1 && print.every((r) => ['reported', 'reviewed'].includes(r.state)));
  assert.ok((await list('sl_apply', '/print')).length >= 1);
  const done = await list('yb_attending', '/reported');
  assert.ok(done.some((r) => r.state === 'reviewed') && done.some((r) => r.state === 'reported'));
  assert.ok((await list('jn_attending', '/reported')).length >= 1);
  // A self-diagnosing hospital's doctor.
  assert.ok((await list('qx_doctor', '/worklist')).length >= 1);
});

test('a CT application has its images and the calcium reader\'s score; its report pulled it in', { skip }, async () => {
  const ct = (await list('yb_attending', '/reported')).filter((r) => /CT 胸部/.test(r.text));
  assert.ok(ct.length >= 1, 'a reported chest CT');
  const att = await as('yb_attending');
  // The images: the phantom's CT series, linked by the receiver, and the
  // readers that fit it.
  const app = unescapeHtml((await att.get(`/application?id=${ct[0].id}`)).text);
  assert.match(app, /患者号与检查日期自动关联/);
  assert.match(app, /<td>CT<\/td><td>Phantom chest 1\.25 mm 120 kV<\/td>/);
  assert.match(app, /适用：[^<]*冠脉钙化积分/);
  // The reader's result, as the doctor opens it from 写报告 (the job
  // looked up here: the editor of a finished report is closed).
  const [[job]] = sql(`SELECT j.id FROM ai_jobs j JOIN series se ON se.id = j.series_id
    JOIN application_studies l ON l.study_id = se.study_id
    WHERE l.application_id = ${ct[0].id} AND j.reader = 'ct_coronary_calcium' AND j.state = 'done'`);
  const ai = unescapeHtml((await att.get(`/ai/result?id=${ct[0].id}&job=${job}`)).text);
  const score = ai.match(/<td>总Agatston积分<\/td><td class="num">([0-9.]+)<\/td>/);
  assert.ok(score, 'the total Agatston score on the AI page');
  assert.ok(Number(score[1]) > 0, `score ${score[1]}`);
  // The report as the applicant reads it carries the AI's text.
  const view = unescapeHtml((await (await as('qx_apply')).get(`/report/view?id=${ct[0].id}`)).text);
  assert.match(view, /总Agatston积分/);
});

test('统计 counts the demo applications over several days', { skip }, async () => {
  const c = await as('gd_stats');
  const r = await c.get('/stats');
  assert.equal(r.status, 200);
  const total = Number(r.text.match(/id="stats-total">(\d+)</)[1]);
  assert.ok(total >= 15, `total ${total}`);
  const yb = Number((await (await as('yb_stats')).get('/stats')).text.match(/id="stats-total">(\d+)</)[1]);
  assert.ok(yb > 0 && yb < total, `yb_stats sees its alliance only: ${yb} of ${total}`);
  // Submitted over the past weeks, as the applicant's list shows.
  const days = new Set((await list('qx_apply', '/applications?mine=0'))
    .map((x) => x.text.match(/\d{4}-\d{2}-\d{2}/)?.[0]).filter(Boolean));
  assert.ok(days.size >= 4, `dates ${[...days]}`);
  // The daily counts 统计 reads (sql/040) followed the demo's workflow and
  // its back-dating.
  assert.deepEqual(statsCountsWrong(), []);
});

test('a second start loads nothing twice', { skip }, async () => {
  const count = () => Number(sql(`SELECT count(*) FROM applications`)[0][0]);
  const before = count();
  const out = start(own.env);
  assert.match(out, /demo applications present \(\d+\): nothing loaded/);
  assert.equal(count(), before);
  assert.doesNotMatch(out, /lw_locktest/);
  // The site answers again after the restart, with the same lists.  The
  // connections kept open to the nginx that was stopped fail once each:
  // ask until the new one answers.
  for (const k of Object.keys(sessions)) delete sessions[k];
  const t0 = Date.now();
  for (;;) {
    try {
      if ((await fetch(`${process.env.ZY_URL}/healthz`)).ok) break;
    } catch (e) {
      if (Date.now() - t0 > 60000) throw e;
    }
    await sleep(100);
  }
  assert.ok((await list('yb_attending', '/worklist')).length >= 4);
});
