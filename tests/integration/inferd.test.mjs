// zhiying-inferd, the AI job queue's workers, run for real against the test
// stack's PostgreSQL.  The daemons of these tests work on a database of
// their own (zhiying_inferd_test, migrated here), so that the stack's own
// daemon and the other test files neither take nor see their jobs; their
// store is a folder of links to ../shared/data.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, statSync,
  symlinkSync } from 'node:fs';
import { ROOT_DIR, STATE, sleep } from './helpers.mjs';

const DATA = process.env.ZY_DATA || `${ROOT_DIR}/../shared/data`;
const SMALL = `${DATA}/edge/pydicom/CT_small.dcm`;
const LIDC = `${DATA}/ct/LIDC-IDRI-0002`;
const DB = 'zhiying_inferd_test';
const BIN = `${ROOT_DIR}/src/infer/zhiying-inferd`;
const skip = !STATE ? 'no test stack (run through tests/run.sh)'
  : !existsSync(SMALL) || !existsSync(LIDC) ? `${DATA} not found: skipping the inference daemon tests` : false;

const sock = () => `${realpathSync(`${STATE}/pg`)}/run`;
const conninfo = (user) => `host=${sock()} port=${process.env.ZY_PGPORT} dbname=${DB} user=${user}`;

// SQL on the tests' own database; rows as arrays of strings.
function q(query, { user = 'zhiying', db = DB } = {}) {
  const out = execFileSync('psql', ['-X', '-q', '-A', '-t', '-F', '\t', '-h', sock(), '-p',
    process.env.ZY_PGPORT, '-U', user, '-d', db, '-v', 'ON_ERROR_STOP=1'],
  { encoding: 'utf8', input: query, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = out.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.split('\t'));
}

let STORE, LIDC_KEYS, inst, serial = 0;

function lidcDir() {
  let dir = LIDC;
  while (!readdirSync(dir).some((f) => f.endsWith('.dcm'))) {
    dir = `${dir}/${readdirSync(dir).find((f) => statSync(`${dir}/${f}`).isDirectory())}`;
  }
  return dir;
}

// A patient, study and series with one instance row per store key.
function newSeries(keys) {
  const n = ++serial;
  const [[sid]] = q(`WITH p AS (INSERT INTO patients (institution_id, patient_id)
      VALUES (${inst}, 'INFERD-${n}') RETURNING id),
    st AS (INSERT INTO studies (institution_id, patient_ref, study_uid)
      SELECT ${inst}, p.id, '1.2.826.0.1.99.${n}' FROM p RETURNING id)
    INSERT INTO series (study_id, series_uid, modality, instance_count)
      SELECT st.id, '1.2.826.0.1.99.${n}.1', 'CT', ${keys.length} FROM st RETURNING id`);
  if (keys.length) {
    q(`INSERT INTO instances (series_id, institution_id, sop_instance_uid, sop_class_uid,
        instance_number, storage_key, size_bytes, source)
      SELECT ${sid}, ${inst}, '1.2.826.0.1.99.${n}.1.' || k.i, '1.2.840.10008.5.1.4.1.1.2',
        k.i, k.key, 0, 'scp'
      FROM unnest(ARRAY[${keys.map((k) => `'${k}'`).join(',')}]) WITH ORDINALITY AS k(key, i)`);
  }
  return Number(sid);
}

// Queue jobs (with NOTIFY, as the matcher does); returns their ids.
function queue(series, { reader = 'ct_lung_nodule', maxAttempts = 3 } = {}) {
  const rows = q(`BEGIN;
    INSERT INTO ai_jobs (series_id, reader, slices, max_attempts)
      SELECT s, '${reader}', 1, ${maxAttempts} FROM unnest(ARRAY[${series.join(',')}]::bigint[]) s
      RETURNING id;
    SELECT pg_notify('ai_jobs', 'test');
    COMMIT;`);
  return rows.filter((r) => /^\d+$/.test(r[0])).map((r) => Number(r[0]));
}

// Start a daemon on the tests' database; short limits unless told.
function daemon(name, env = {}) {
  const log = `${STATE}/log/inferd-test-${name}.log`;
  const fd = openSync(log, 'a');
  const p = spawn(BIN, [], {
    env: {
      ...process.env, ZHIYING_CONF: `${STATE}/zhiying.conf`, ZHIYING_DB: conninfo('zhiying_app'),
      ZHIYING_STORE: STORE, ZHIYING_INFER_BACKEND: 'cpu', ZHIYING_INFER_POLL: '1',
      ZHIYING_INFER_LEASE: '2', ZHIYING_INFER_BACKOFF: '1', ZHIYING_INFER_GRACE: '0', ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  p.log = log;
  p.exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  return p;
}

async function until(what, cond, ms = 30000, step = 20) {
  const t0 = Date.now();
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await sleep(step);
  }
}

const job = (id) => {
  const [[state, attempts, leased, error]] = q(`SELECT state, attempts, coalesce(leased_by, ''), error
    FROM ai_jobs WHERE id = ${id}`);
  return { state, attempts: Number(attempts), leased, error };
};
const audits = (id) => q(`SELECT action, actor_login FROM audit_log WHERE object_type = 'ai_job'
  AND object_id = '${id}' ORDER BY id`).map(([action, who]) => ({ action, who }));
// Park what a test leaves so that later daemons find nothing to do.
const park = (ids) => q(`UPDATE ai_jobs SET state = 'failed', leased_by = NULL
  WHERE id IN (${ids.join(',')})`);

test.before(() => {
  if (skip) return;
  const su = (sqlText, db = 'postgres') => q(sqlText, { user: 'postgres', db });
  su(`DROP DATABASE IF EXISTS ${DB}`);
  su(`CREATE DATABASE ${DB} OWNER zhiying ENCODING 'UTF8'`);
  su('CREATE EXTENSION IF NOT EXISTS pg_trgm', DB);
  execFileSync(`${ROOT_DIR}/src/tools/zhiying-db`, ['migrate'], {
    env: { ...process.env, ZHIYING_CONF: `${STATE}/zhiying.conf`, ZHIYING_DB_OWNER: conninfo('zhiying'),
      ZHIYING_DB: conninfo('zhiying_app') }, stdio: 'pipe' });
  [[inst]] = q(`INSERT INTO institutions (code, name, level) VALUES ('INFERD', '推理测试医院', 'county')
    RETURNING id`);
  STORE = `${STATE}/inferd-store`;
  mkdirSync(`${STORE}/t`, { recursive: true });
  mkdirSync(`${STORE}/lidc`, { recursive: true });
  symlinkSync(SMALL, `${STORE}/t/small.dcm`);
  const dir = lidcDir();
  LIDC_KEYS = readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f, i) => {
    symlinkSync(`${dir}/${f}`, `${STORE}/lidc/${i}.dcm`);
    return `lidc/${i}.dcm`;
  });
});

test('the start script runs the daemon with the stack', { skip }, () => {
  const pid = Number(readFileSync(`${STATE}/run/inferd.pid`, 'utf8'));
  process.kill(pid, 0);
  assert.match(readFileSync(`${STATE}/log/inferd.log`, 'utf8'), /compute backend (cpu|cuda) \(asked for auto\)/);
});

test('two daemons, 40 jobs of a reader not in this build: each ends dead once, tried once', { skip }, async () => {
  const a = daemon('a'), b = daemon('b');
  await sleep(300);
  const ids = queue(Array.from({ length: 40 }, () => newSeries(['t/small.dcm'])));
  assert.equal(ids.length, 40);
  await until('40 dead jobs', () => Number(q(`SELECT count(*) FROM ai_jobs WHERE id IN (${ids.join(',')})
    AND state = 'dead'`)[0][0]) === 40);
  for (const id of ids) {
    const j = job(id);
    assert.deepEqual(j, { state: 'dead', attempts: 1, leased: '', error: 'reader not available in this build' });
    const acts = audits(id);
    assert.deepEqual(acts.map((x) => x.action), ['ai_job_claimed', 'ai_job_dead'], `job ${id}`);
    assert.equal(acts[0].who, acts[1].who);
  }
  const byWorker = q(`SELECT actor_login, count(*) FROM audit_log WHERE action = 'ai_job_claimed'
    AND object_id IN (${ids.map((i) => `'${i}'`).join(',')}) GROUP BY 1 ORDER BY 1`);
  console.log(`# claims per worker: ${byWorker.map((r) => r.join(' ')).join(', ')}`);
  assert.ok(byWorker.every(([who]) => who.endsWith(`:${a.pid}`) || who.endsWith(`:${b.pid}`)));
  a.kill('SIGTERM');
  b.kill('SIGTERM');
  assert.deepEqual(await a.exited, { code: 0, signal: null });
  assert.deepEqual(await b.exited, { code: 0, signal: null });
  // Each job was claimed once by the log too.
  const logs = readFileSync(a.log, 'utf8') + readFileSync(b.log, 'utf8');
  for (const id of ids) {
    assert.equal(logs.match(new RegExp(`job ${id} claimed`, 'g')).length, 1);
  }
});

test('a series missing from the store: retried with backoff, dead after max_attempts with the load error', { skip }, async () => {
  const d = daemon('retry');
  const [id] = queue([newSeries(['t/missing.dcm'])], { maxAttempts: 3 });
  await until('a dead job', () => job(id).state === 'dead', 20000);
  const j = job(id);
  assert.equal(j.attempts, 3);
  assert.match(j.error, /t\/missing\.dcm: not in the store/);
  assert.deepEqual(audits(id).map((x) => x.action), ['ai_job_claimed', 'ai_job_retry', 'ai_job_claimed',
    'ai_job_retry', 'ai_job_claimed', 'ai_job_dead']);
  // Backoff of 1 s, then 2 s, between the claims.
  const t = q(`SELECT extract(epoch FROM at) FROM audit_log WHERE action = 'ai_job_claimed'
    AND object_id = '${id}' ORDER BY id`).map((r) => Number(r[0]));
  assert.ok(t[1] - t[0] >= 0.95 && t[1] - t[0] < 3, `first backoff ${t[1] - t[0]}`);
  assert.ok(t[2] - t[1] >= 1.95 && t[2] - t[1] < 4, `second backoff ${t[2] - t[1]}`);
  d.kill('SIGTERM');
  assert.equal((await d.exited).code, 0);
});

// A job that takes a while: the real LIDC-IDRI-0002 series, listed three
// times (the loader reads every file, keeps one copy of each).
const slowSeries = () => newSeries([...LIDC_KEYS, ...LIDC_KEYS, ...LIDC_KEYS]);

test('a daemon frozen mid-job: its lease runs out, another rescues and ends the job once', { skip }, async () => {
  const a = daemon('frozen');
  const [id] = queue([slowSeries()]);
  await until('daemon A to claim', () => job(id).leased.endsWith(`:${a.pid}`), 10000, 5);
  process.kill(a.pid, 'SIGSTOP');
  const b = daemon('rescuer');
  await until('the job to end', () => job(id).state === 'dead', 60000);
  const j = job(id);
  assert.equal(j.attempts, 2);
  assert.equal(j.error, 'reader not available in this build');
  const acts = audits(id);
  assert.deepEqual(acts.map((x) => x.action), ['ai_job_claimed', 'ai_job_rescued', 'ai_job_claimed', 'ai_job_dead']);
  assert.ok(acts[0].who.endsWith(`:${a.pid}`));
  assert.ok(acts[1].who.endsWith(`:${b.pid}`));
  assert.ok(acts[2].who.endsWith(`:${b.pid}`) && acts[3].who.endsWith(`:${b.pid}`));
  const [[lost]] = q(`SELECT detail->>'lost_worker' FROM audit_log WHERE action = 'ai_job_rescued'
    AND object_id = '${id}'`);
  assert.ok(lost.endsWith(`:${a.pid}`));
  process.kill(a.pid, 'SIGKILL');
  assert.equal((await a.exited).signal, 'SIGKILL');
  await sleep(500);
  assert.equal(audits(id).length, 4);
  b.kill('SIGTERM');
  assert.equal((await b.exited).code, 0);
  assert.match(readFileSync(b.log, 'utf8'), new RegExp(`job ${id}: lease of \\S+:${a.pid} ran out after attempt 1; now queued`));
});

test('SIGTERM while a job runs: the daemon gives it back and exits 0', { skip }, async () => {
  const d = daemon('term', { ZHIYING_INFER_GRACE: '0' });
  const [id] = queue([slowSeries()]);
  await until('the daemon to claim', () => job(id).state === 'running', 10000, 5);
  d.kill('SIGTERM');
  assert.deepEqual(await d.exited, { code: 0, signal: null });
  assert.deepEqual(job(id), { state: 'queued', attempts: 0, leased: '', error: '' });
  assert.deepEqual(audits(id).map((x) => x.action), ['ai_job_claimed', 'ai_job_released']);
  assert.match(readFileSync(d.log, 'utf8'), new RegExp(`job ${id} given back to the queue`));
  park([id]);
});

test('NOTIFY wakes an idle daemon long before its poll', { skip }, async () => {
  const d = daemon('listen', { ZHIYING_INFER_POLL: '30' });
  await until('the daemon to start', () => /worker \S+: lease/.test(readFileSync(d.log, 'utf8')), 5000);
  await sleep(1000);
  const [id] = queue([newSeries(['t/small.dcm'])]);
  await until('the claim', () => job(id).state === 'dead', 10000, 10);
  const [[delay]] = q(`SELECT extract(epoch FROM a.at - j.created_at) FROM audit_log a
    JOIN ai_jobs j ON a.object_id = j.id::text WHERE a.action = 'ai_job_claimed' AND j.id = ${id}`);
  console.log(`# claimed ${Number(delay).toFixed(3)} s after it was queued`);
  assert.ok(Number(delay) < 2, `claimed after ${delay} s`);
  d.kill('SIGTERM');
  assert.equal((await d.exited).code, 0);
});
