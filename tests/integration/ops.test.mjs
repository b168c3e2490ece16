// Operations: the watchdog of zhiying.sh's local stack, and a server
// installation made by "make install" and started from the installed tree.
//
// The watchdog tests start a stack of their own (tests/lib.sh, the same
// script a user runs, with short limits: a 5 s job lease, log rotation at
// 16 KiB checked every second), kill its daemons with SIGKILL as a crash
// would, and stop it at the end to see that nothing of it is left.  The
// installation test installs into a DESTDIR, migrates a database of its
// own in the test stack's cluster with the installed zhiying-db and sql
// folder, and serves the login page through nginx with the installed
// zhiying-web, templates and nginx files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync,
  rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { ROOT_DIR, STATE, sleep } from './helpers.mjs';

const run = promisify(execFile);
const skip = !STATE ? 'no test stack (run through tests/run.sh)' : false;
const PHANTOM = `${ROOT_DIR}/src/tools/zhiying-phantom`;
const CAC = 'ct_coronary_calcium';

// Poll cond() until it returns something truthy; fail after ms.
async function until(what, cond, ms = 60000, step = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(step);
  }
}

const alive = (pid) => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

// The processes whose command line or environment names folder: those a
// stack started (the daemons get ZHIYING_CONF, ZHIYING_STATE or a pid file
// under it; PostgreSQL its data folder and the start script's environment).
function processesOf(folder) {
  const found = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    let cmd, env;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch { continue; }
    if (cmd === '') continue;		// a zombie, or a kernel thread
    if (cmd.includes(folder) || env.includes(folder)) found.push(`${pid} ${cmd.replace(/\0/g, ' ')}`);
  }
  return found;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// --- the watchdog of the local stack ---------------------------------------

// A stack of the tests' own, started as tests/run.sh starts the shared one.
async function stackStart(env) {
  const { stdout } = await run('bash', ['-c', '. tests/lib.sh && { stack_start >&2 || { stack_stop; exit 1; }; } && '
    + 'printf "%s %s %s %s" "$ZY_STATE" "$ZY_PORT" "$ZY_PGPORT" "$ZY_SCP_PORT"'],
  { cwd: ROOT_DIR, env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const [state, port, pgport, scpPort] = stdout.trim().split(' ');
  return { state, port, pgport, scpPort, url: `http://127.0.0.1:${port}` };
}

async function stackStop(s) {
  await run(`${ROOT_DIR}/zhiying.sh`, ['stop'],
    { env: { ...process.env, ZHIYING_STATE: s.state, ZHIYING_PGPORT: s.pgport } });
}

function stackRemove(s) {
  try {
    const pg = `${s.state}/pg`;
    if (existsSync(pg) && realpathSync(pg) !== pg) rmSync(realpathSync(pg), { recursive: true, force: true });
  } catch { /* gone */ }
  rmSync(s.state, { recursive: true, force: true });
}

const pidOf = (s, name) => {
  try { return Number(readFileSync(`${s.state}/run/${name}.pid`, 'utf8').trim()) || 0; } catch { return 0; }
};

// The daemon NAME runs under a pid other than old.
const restarted = (s, name, old) => until(`zhiying-${name} started again`, () => {
  const p = pidOf(s, name);
  return p && p !== old && alive(p) ? p : 0;
}, 120000);

function stackSql(s, query) {
  const sock = `${realpathSync(`${s.state}/pg`)}/run`;
  return execFileSync('psql', ['-X', '-q', '-A', '-t', '-F', '\t', '-h', sock, '-p', s.pgport, '-U', 'zhiying',
    '-d', 'zhiying', '-v', 'ON_ERROR_STOP=1'], { encoding: 'utf8', input: query }).trim();
}

// The coronary calcium job of the series of patient pid: "state attempts".
const jobOf = (s, patient) => stackSql(s, `SELECT j.state, j.attempts FROM ai_jobs j
  JOIN series se ON se.id = j.series_id JOIN studies st ON st.id = se.study_id
  JOIN patients p ON p.id = st.patient_ref
  WHERE p.patient_id = '${patient}' AND j.reader = '${CAC}'`).split('\t');

function storescu(s, dir) {
  return run('storescu', ['-aet', 'QX_PACS', '-aec', 'ZHIYING', '+sd', '+r', '+sp', '*.dcm', '127.0.0.1',
    s.scpPort, dir], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 1 << 24 });
}

const watchdogLog = (s) => {
  try { return readFileSync(`${s.state}/log/watchdog.log`, 'utf8'); } catch { return ''; }
};

test('the watchdog of zhiying.sh restarts the daemons that die, rotates the logs, and stop leaves nothing',
  { skip, timeout: 900000 }, async (t) => {
    const s = await stackStart({
      ZHIYING_INFER_LEASE: '5', ZHIYING_INFER_BACKEND: 'cpu', ZHIYING_LOG_MAX: '16384',
      ZHIYING_WATCHDOG_TICK: '1',
    });
    try {
      await t.test('zhiying-inferd killed with SIGKILL while it runs a job: started again, the job completes',
        async () => {
          // A chest CT of thin slices, so that its job runs for seconds.
          const dir = `${s.state}/ops-ct-running`;
          await run(PHANTOM, ['-t', '0.625', '-P', 'OPS-RUN-0001', '-N', 'OPS^RUNNING', '-o', dir]);
          const old = pidOf(s, 'inferd');
          assert.ok(old && alive(old), 'zhiying-inferd runs');
          await storescu(s, dir);
          const [state] = await until('the job running or ended', () => {
            const j = jobOf(s, 'OPS-RUN-0001');
            return ['running', 'done', 'failed', 'dead'].includes(j[0]) ? j : null;
          }, 120000, 10);
          assert.equal(state, 'running', 'the job ended before the test could kill its daemon');
          process.kill(old, 'SIGKILL');
          const pid = await restarted(s, 'inferd', old);
          assert.match(watchdogLog(s), new RegExp(`inferd \\(pid ${old}\\) killed by signal 9 after \\d+s; restart`));
          // The new daemon takes the job back once the dead one's lease
          // (5 s) has lapsed, and completes it.
          const [end, attempts] = await until('the job done', () => {
            const j = jobOf(s, 'OPS-RUN-0001');
            return ['done', 'failed', 'dead'].includes(j[0]) ? j : null;
          }, 300000, 200);
          assert.equal(end, 'done');
          assert.ok(Number(attempts) >= 2, `attempts ${attempts}`);
          assert.ok(alive(pid));
        });

      await t.test('zhiying-inferd killed while a job waits in the queue: started again, the job completes',
        async () => {
          const dir = `${s.state}/ops-ct-queued`;
          await run(PHANTOM, ['-t', '1.25', '-P', 'OPS-QUEUE-0001', '-N', 'OPS^QUEUED', '-o', dir]);
          const old = pidOf(s, 'inferd');
          // Frozen, it claims nothing: the job stays queued until it dies.
          process.kill(old, 'SIGSTOP');
          try {
            await storescu(s, dir);
            // The receiver queues the jobs once the association ends.
            const [state] = await until('the job queued', () => {
              const j = jobOf(s, 'OPS-QUEUE-0001');
              return j[0] !== '' ? j : null;
            }, 60000);
            assert.equal(state, 'queued');
          } finally {
            process.kill(old, 'SIGKILL');
          }
          await restarted(s, 'inferd', old);
          const [end] = await until('the job done', () => {
            const j = jobOf(s, 'OPS-QUEUE-0001');
            return ['done', 'failed', 'dead'].includes(j[0]) ? j : null;
          }, 300000, 200);
          assert.equal(end, 'done');
        });

      await t.test('zhiying-scp killed with SIGKILL: started again, a new association succeeds', async () => {
        const old = pidOf(s, 'scp');
        assert.ok(old && alive(old));
        process.kill(old, 'SIGKILL');
        await restarted(s, 'scp', old);
        assert.match(watchdogLog(s), new RegExp(`scp \\(pid ${old}\\) killed by signal 9 after \\d+s; restart`));
        // The new receiver may take a moment to listen after its pid file.
        await until('C-ECHO answered', async () => {
          try {
            await run('echoscu', ['-aet', 'QX_PACS', '-aec', 'ZHIYING', '127.0.0.1', s.scpPort]);
            return true;
          } catch { return false; }
        }, 60000, 200);
      });

      await t.test('the logs are rotated past ZHIYING_LOG_MAX and written on after', async () => {
        const log = `${s.state}/log/nginx-access.log`;
        assert.ok(!existsSync(`${log}.1`));
        // About 100 bytes a line: 300 requests are well past 16 KiB.
        for (let i = 0; i < 300; i++) await (await fetch(`${s.url}/healthz`)).text();
        await until('nginx-access.log.1', () => existsSync(`${log}.1`), 60000, 100);
        const mark = `/ops-rotation-${process.pid}-${Date.now()}`;
        await (await fetch(s.url + mark)).text();
        await until('a line after the rotation', () => readFileSync(log, 'utf8').includes(mark), 30000);
        assert.ok(statSync(`${log}.1`).size > 16384);
        assert.ok(statSync(log).size < 16384 + 300 * 200);
      });

      await t.test('zhiying.sh stop stops the watchdogs and the daemons: no process of the stack is left',
        async () => {
          assert.ok(processesOf(s.state).length >= 5, 'the stack runs');
          await stackStop(s);
          assert.deepEqual(processesOf(s.state), []);
          for (const n of ['web', 'scp', 'inferd', 'nginx']) {
            assert.ok(!existsSync(`${s.state}/run/${n}.pid`), `${n}.pid removed`);
            assert.ok(!existsSync(`${s.state}/run/${n}.watchdog.pid`), `${n}.watchdog.pid removed`);
          }
        });
    } finally {
      await stackStop(s).catch(() => {});
      stackRemove(s);
    }
  });

test('a daemon that dies at once is started again after 1, 2, 4 s, and TERM stops its watchdog at once',
  { skip, timeout: 120000 }, async () => {
    const state = mkdtempSync('/tmp/zhiying-ops-');
    mkdirSync(`${state}/run`);
    mkdirSync(`${state}/log`);
    const wd = spawn(`${ROOT_DIR}/zhiying.sh`, ['supervise', 'crasher', 'sh', '-c', 'exit 3'],
      { env: { ...process.env, ZHIYING_STATE: state }, stdio: 'ignore' });
    const exited = new Promise((resolve) => wd.on('exit', resolve));
    try {
      const log = () => readFileSync(`${state}/log/watchdog.log`, 'utf8');
      await until('three restarts', () => existsSync(`${state}/log/watchdog.log`)
        && (log().match(/restart \d+ in/g) || []).length >= 3, 60000, 100);
      const delays = [...log().matchAll(/crasher \(pid \d+\) exited with status 3 after \d+s; restart (\d+) in (\d+)s/g)]
        .map((m) => [Number(m[1]), Number(m[2])]);
      assert.deepEqual(delays.slice(0, 3), [[1, 1], [2, 2], [3, 4]]);
      // TERM during the 4 s wait: the watchdog ends without a fourth start.
      const n = delays.length;
      wd.kill('SIGTERM');
      const t0 = Date.now();
      await exited;
      console.log(`# the watchdog ended ${Date.now() - t0} ms after TERM`);
      assert.equal((log().match(/restart \d+ in/g) || []).length, n);
      assert.ok(!existsSync(`${state}/run/crasher.watchdog.pid`));
      assert.deepEqual(processesOf(state), []);
    } finally {
      if (wd.exitCode === null && wd.signalCode === null) wd.kill('SIGKILL');
      rmSync(state, { recursive: true, force: true });
    }
  });

// --- make install -----------------------------------------------------------

const PREFIX = '/usr/local';
const UNITS = ['zhiying-db.service', 'zhiying-web.service', 'zhiying-scp.service', 'zhiying-inferd.service'];
const DAEMONS = ['zhiying-web', 'zhiying-scp', 'zhiying-inferd'];

const confValue = (text, key) => (text.match(new RegExp(`^${key}\\s*=\\s*(.*)$`, 'm')) || [])[1];

test('make install into a DESTDIR: everything in place, migrations applied and the login page served '
  + 'from the installed tree', { skip, timeout: 300000 }, async () => {
  const dest = mkdtempSync('/tmp/zhiying-install-');
  const db = `zhiying_install_${process.pid}`;
  const sock = `${realpathSync(`${STATE}/pg`)}/run`;
  const pgport = process.env.ZY_PGPORT;
  const psql = (user, dbname, query) => execFileSync('psql', ['-X', '-q', '-A', '-t', '-h', sock, '-p', pgport,
    '-U', user, '-d', dbname, '-v', 'ON_ERROR_STOP=1'], { encoding: 'utf8', input: query }).trim();
  const children = [];
  try {
    const t0 = Date.now();
    await run('make', ['-s', 'install', `DESTDIR=${dest}`, `prefix=${PREFIX}`, 'sysconfdir=/etc',
      'localstatedir=/var'], { cwd: ROOT_DIR, maxBuffer: 1 << 24 });
    console.log(`# make install: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Every program, every migration, template and static file of the tree.
    for (const p of ['zhiying-web', 'zhiying-db', 'zhiying-scp', 'zhiying-inferd', 'zhiying-admin',
      'zhiying-stats']) {
      assert.ok(statSync(`${dest}${PREFIX}/bin/${p}`).mode & 0o111, `${p} installed`);
    }
    const share = `${dest}${PREFIX}/share/zhiying`;
    const tree = (dir, re) => readdirSync(`${ROOT_DIR}/${dir}`).filter((f) => re.test(f)).sort();
    const installed = (dir, re) => readdirSync(`${share}/${dir}`).filter((f) => re.test(f)).sort();
    const sqlFiles = installed('sql', /^\d{3}_.*\.sql$/);
    assert.deepEqual(sqlFiles, tree('sql', /\.sql$/));
    assert.deepEqual(installed('templates', /\.html$/), tree('templates', /\.html$/));
    assert.deepEqual(installed('templates/static', /./), tree('templates/static', /./));
    assert.deepEqual(installed('nginx', /./), tree('nginx', /./));

    // The configuration under /etc/zhiying, with the installed paths.
    const confPath = `${dest}/etc/zhiying/zhiying.conf`;
    const conf = readFileSync(confPath, 'utf8');
    assert.equal(confValue(conf, 'templates'), `${PREFIX}/share/zhiying/templates`);
    assert.equal(confValue(conf, 'sql'), `${PREFIX}/share/zhiying/sql`);
    assert.equal(confValue(conf, 'store'), '/var/lib/zhiying/store');
    assert.equal(confValue(conf, 'scp_spool'), '/var/lib/zhiying/spool');
    assert.match(readFileSync(`${dest}/etc/zhiying/nginx-locations.conf`, 'utf8'),
      new RegExp(`alias ${PREFIX}/share/zhiying/templates/static/;`));

    // The units: restarted on failure, as zhiying, hardened, journal.
    const unitDir = `${dest}${PREFIX}/lib/systemd/system`;
    for (const u of UNITS) {
      const text = readFileSync(`${unitDir}/${u}`, 'utf8');
      const name = u.replace('.service', '');
      assert.match(text, new RegExp(`^ExecStart=${PREFIX}/bin/${name} -c /etc/zhiying/zhiying.conf( migrate)?$`, 'm'));
      for (const line of ['User=zhiying', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes',
        'PrivateTmp=yes', 'CapabilityBoundingSet=', 'StandardError=journal']) {
        assert.ok(text.split('\n').includes(line), `${u}: ${line}`);
      }
      assert.doesNotMatch(text, /@[A-Za-z_]+@/, `${u}: every placeholder filled in`);
      if (DAEMONS.includes(name)) {
        assert.ok(text.split('\n').includes('Restart=on-failure'), `${u}: Restart=on-failure`);
        assert.ok(text.split('\n').includes('ReadWritePaths=/var/lib/zhiying'), `${u}: ReadWritePaths`);
      }
    }
    assert.match(readFileSync(`${dest}${PREFIX}/lib/sysusers.d/zhiying.conf`, 'utf8'), /^u zhiying /m);
    assert.match(readFileSync(`${dest}${PREFIX}/lib/tmpfiles.d/zhiying.conf`, 'utf8'),
      /^d \/var\/lib\/zhiying\/store\s/m);
    let analyze = null;
    try { analyze = execFileSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).trim(); } catch { /* none */ }
    if (analyze) {
      // systemd-analyze checks that ExecStart's program exists: the copies
      // it reads name the programs in the DESTDIR.
      mkdirSync(`${dest}/verify`);
      for (const u of UNITS) {
        writeFileSync(`${dest}/verify/${u}`, readFileSync(`${unitDir}/${u}`, 'utf8')
          .replace(/^ExecStart=\//m, `ExecStart=${dest}/`));
      }
      const r = await run(analyze, ['verify', ...UNITS.map((u) => `${dest}/verify/${u}`)])
        .catch((e) => e);
      const out = `${r.stdout || ''}${r.stderr || ''}`;
      assert.equal(r.code ?? 0, 0, out);
      assert.doesNotMatch(out, /zhiying/, out);
    } else {
      console.log('# systemd-analyze not found: the units are not verified');
    }

    // Installing again keeps an administrator's configuration.
    appendFileSync(confPath, '# edited by the administrator\n');
    await run('make', ['-s', 'install', `DESTDIR=${dest}`, `prefix=${PREFIX}`, 'sysconfdir=/etc',
      'localstatedir=/var'], { cwd: ROOT_DIR, maxBuffer: 1 << 24 });
    assert.match(readFileSync(confPath, 'utf8'), /# edited by the administrator\n$/);
    assert.equal(readFileSync(`${confPath}.sample`, 'utf8'), conf);

    // The installed programs, with the installed configuration: only the
    // database (a new one in the test cluster) and the port are the
    // test's; the folders are those of the configuration under DESTDIR.
    psql('postgres', 'postgres', `CREATE DATABASE ${db} OWNER zhiying ENCODING 'UTF8'`);
    psql('postgres', db, 'CREATE EXTENSION pg_trgm');
    const fcgi = await freePort();
    const env = {
      ...process.env,
      ZHIYING_CONF: '',
      ZHIYING_DB: `host=${sock} port=${pgport} dbname=${db} user=zhiying_app`,
      ZHIYING_DB_OWNER: `host=${sock} port=${pgport} dbname=${db} user=zhiying`,
      ZHIYING_SQL: dest + confValue(conf, 'sql'),
      ZHIYING_TEMPLATES: dest + confValue(conf, 'templates'),
      ZHIYING_LISTEN: `127.0.0.1:${fcgi}`,
      ZHIYING_WORKERS: '1',
    };
    const { stdout } = await run(`${dest}${PREFIX}/bin/zhiying-db`, ['-c', confPath, 'migrate'], { env });
    assert.match(stdout, new RegExp(`${sqlFiles.length} migration\\(s\\) applied`));
    assert.equal(psql('zhiying', db, 'SELECT count(*) FROM schema_migrations'), String(sqlFiles.length));
    assert.equal(psql('zhiying', db, 'SELECT max(version) FROM schema_migrations'),
      String(Number(sqlFiles[sqlFiles.length - 1].slice(0, 3))));

    const web = spawn(`${dest}${PREFIX}/bin/zhiying-web`, ['-c', confPath], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let webErr = '';
    web.stderr.on('data', (d) => { webErr += d; });
    children.push(web);

    // nginx from the installed nginx files, as zhiying.sh writes them.
    const ng = `${dest}/nginx-run`;
    for (const d of ['run', 'log', 'nginx/client_body', 'nginx/fastcgi', 'nginx/proxy', 'nginx/uwsgi',
      'nginx/scgi']) mkdirSync(`${ng}/${d}`, { recursive: true });
    const port = await freePort();
    writeFileSync(`${ng}/nginx/locations.conf`, readFileSync(`${share}/nginx/locations.conf.in`, 'utf8')
      .replaceAll('@STATIC@', `${share}/templates/static`).replaceAll('@FCGI@', 'zhiying_web')
      .replaceAll('@FASTCGI_PARAMS@', '/etc/nginx/fastcgi_params'));
    writeFileSync(`${ng}/nginx/nginx.conf`, readFileSync(`${share}/nginx/local.conf.in`, 'utf8')
      .replace('@USER@', process.getuid() === 0 ? 'user root;' : '').replaceAll('@STATE@', ng)
      .replace('@LISTEN@', `127.0.0.1:${port}`).replace('@MIME_TYPES@', '/etc/nginx/mime.types')
      .replaceAll('@FCGI@', `127.0.0.1:${fcgi}`));
    const nginx = spawn('nginx', ['-p', `${ng}/nginx`, '-c', `${ng}/nginx/nginx.conf`, '-g', 'daemon off;'],
      { stdio: 'ignore' });
    children.push(nginx);

    const login = await until('the login page', async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/login`);
        const text = await r.text();
        return r.status === 200 ? text : null;
      } catch { return null; }
    }, 60000, 100).catch((e) => assert.fail(`${e.message}\n${webErr}`));
    assert.match(login, /<form[^>]*method="post"/i);
    assert.match(login, /name="login"/);
    assert.match(login, /name="password"/);
    assert.match(login, /登录/);
    const css = await fetch(`http://127.0.0.1:${port}/static/zhiying.css`);
    assert.equal(css.status, 200);
    assert.equal(await css.text(), readFileSync(`${ROOT_DIR}/templates/static/zhiying.css`, 'utf8'));

    // make uninstall takes everything back but the configuration the
    // administrator edited.
    await run('make', ['-s', 'uninstall', `DESTDIR=${dest}`, `prefix=${PREFIX}`, 'sysconfdir=/etc',
      'localstatedir=/var'], { cwd: ROOT_DIR, maxBuffer: 1 << 24 });
    const left = execFileSync('find', [dest, '-path', `${dest}/nginx-run`, '-prune', '-o', '-path',
      `${dest}/verify`, '-prune', '-o', '-type', 'f', '-print'], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(left, [confPath]);
  } finally {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((resolve) => c.on('exit', resolve));
        c.kill('SIGTERM');
        await gone;
      }
    }
    try { psql('postgres', 'postgres', `DROP DATABASE IF EXISTS ${db}`); } catch { /* left for the stack's end */ }
    rmSync(dest, { recursive: true, force: true });
  }
});

test('zhiying-demo after a load that stopped part of the way: says the demo is incomplete and how to load it whole, makes nothing',
    { skip }, async () => {
  const { sql } = await import('./helpers.mjs');
  const count = () => Number(sql(`SELECT count(*) FROM applications`)[0][0]);
  // What a load leaves when it is killed before its back-dating: demo
  // applications, and no demo_backdated audit row.
  assert.equal(sql(`SELECT count(*) FROM audit_log WHERE action = 'demo_backdated'`)[0][0], '0');
  const [[id]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id, applicant_institution_id,
      alliance_id, target_institution_id, patient_name, patient_sex, patient_age, patient_no,
      chief_complaint, exam_type, body_part, exam_date)
    SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
      'superior', u.id, u.institution_id, al.id, t.id, '演示患者', 'M', '60岁', 'ZYDEMO-OPS-1',
      '胸闷', 'CT', '胸部', current_date
    FROM users u, alliances al, institutions t
    WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
    RETURNING id`);
  const work = mkdtempSync('/tmp/zhiying-demo-');
  try {
    const before = count();
    const env = { ...process.env, ZHIYING_CONF: `${STATE}/zhiying.conf` };
    const r = await run(`${ROOT_DIR}/src/tools/zhiying-demo`, ['-w', work], { env });
    assert.match(r.stderr, /an earlier demo load stopped before it finished \(1 demo applications, not back-dated\)/);
    assert.match(r.stderr, /\.\/zhiying\.sh stop; remove the state folder \(.+\); \.\/zhiying\.sh start/);
    assert.doesNotMatch(r.stderr, /submitting/);
    assert.equal(count(), before);
  } finally {
    sql(`DELETE FROM applications WHERE id = :'p1'`, { params: [id] });
    rmSync(work, { recursive: true, force: true });
  }
});
