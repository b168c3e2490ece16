// zhiying-scp driven by DCMTK's own storescu, as a hospital PACS would:
// the real LIDC-IDRI-0002 chest CT (261 instances) from ../shared/data;
// then by a raw DICOM client of our own, as a broken or hostile sender
// would: garbage, half requests, stalls, the wrong source address.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { ROOT_DIR, STATE, imagesFlagWrong, sql, sleep, dcmDir } from './helpers.mjs';

const run = promisify(execFile);
const DATA = process.env.ZY_DATA || `${ROOT_DIR}/../shared/data`;
const LIDC = `${DATA}/ct/LIDC-IDRI-0002`;
const SCP_PORT = process.env.ZY_SCP_PORT;
const skip = !STATE ? 'no test stack (run through tests/run.sh)'
  : !existsSync(LIDC) ? `${LIDC} not found: skipping the DICOM receiver tests` : false;

// storescu with Nagle off on the sending side too.
function storescu(aet, dir, extra = []) {
  return run('storescu', ['-aet', aet, '-aec', 'ZHIYING', '--max-pdu', '131072', ...extra,
    '+sd', '+r', '+sp', '*.dcm', '127.0.0.1', SCP_PORT, dir], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 1 << 24 });
}

// What 清溪县人民医院 (QX_PACS) has in the index: other tests may share the
// database, so every count here is scoped to the institutions it uses.
const QX = `(SELECT id FROM institutions WHERE code = 'QX-PH')`;
const counts = () => sql(`SELECT (SELECT count(*) FROM studies WHERE institution_id = ${QX}),
  (SELECT count(*) FROM series s JOIN studies st ON st.id = s.study_id WHERE st.institution_id = ${QX}),
  (SELECT count(*) FROM instances WHERE institution_id = ${QX}),
  (SELECT coalesce(sum(s.instance_count), 0) FROM series s JOIN studies st ON st.id = s.study_id
    WHERE st.institution_id = ${QX})`)[0].map(Number);

test('storescu sends LIDC-IDRI-0002: indexed with the right attributes', { skip }, async () => {
  const dir = dcmDir(LIDC);
  const files = readdirSync(dir).filter((f) => f.endsWith('.dcm'));
  assert.equal(files.length, 261);
  const t0 = Date.now();
  await storescu('QX_PACS', dir);
  const seconds = (Date.now() - t0) / 1000;
  console.log(`# sent ${files.length} instances in ${seconds.toFixed(2)} s`);
  assert.deepEqual(counts(), [1, 1, 261, 261]);
  const [s] = sql(`SELECT se.modality, se.slice_thickness, se.kvp, se.kernel, se.rows, se.cols,
      round(se.pixel_spacing[1]::numeric, 3), se.manufacturer, i.code, st.study_uid, p.patient_id
    FROM series se JOIN studies st ON st.id = se.study_id JOIN patients p ON p.id = st.patient_ref
    JOIN institutions i ON i.id = st.institution_id`);
  assert.equal(s[0], 'CT');
  assert.equal(Number(s[1]), 1.25);
  assert.equal(Number(s[2]), 120);
  assert.equal(s[3], 'STANDARD');
  assert.deepEqual([s[4], s[5]], ['512', '512']);
  assert.equal(s[6], '0.682');
  assert.match(s[7], /GE/);
  assert.equal(s[8], 'QX-PH');	// the institution of the calling AE
  assert.equal(s[9], '1.3.6.1.4.1.14519.5.2.1.6279.6001.490157381160200744295382098329');
  assert.equal(s[10], 'LIDC-IDRI-0002');
  // Every instance has its file in the store, byte for byte.
  const rows = sql(`SELECT storage_key, size_bytes FROM instances WHERE institution_id = ${QX}`);
  for (const [key, size] of rows) {
    assert.equal(statSync(`${STATE}/store/${key}`).size, Number(size));
  }
  const [[withIpp]] = sql(`SELECT count(*) FROM instances WHERE institution_id = ${QX}
    AND ipp IS NOT NULL AND array_length(ipp, 1) = 3`);
  assert.equal(withIpp, '261');
  const [[audited]] = sql(`SELECT count(*) FROM audit_log WHERE action = 'dicom_stored' AND channel = 'scp'
    AND institution_id = ${QX}`);
  assert.equal(audited, '261');
  const log = readFileSync(`${STATE}/log/scp.log`, 'utf8');
  assert.match(log, /association from QX_PACS \(127\.0\.0\.1\) released: 261 stored, 0 duplicate/);
});

test('sending the same study again adds nothing', { skip }, async () => {
  await storescu('QX_PACS', dcmDir(LIDC));
  assert.deepEqual(counts(), [1, 1, 261, 261]);
  const [[audited]] = sql(`SELECT count(*) FROM audit_log WHERE action = 'dicom_stored'
    AND institution_id = ${QX}`);
  assert.equal(audited, '261');
  assert.match(readFileSync(`${STATE}/log/scp.log`, 'utf8'), /0 stored, 261 duplicate/);
});

test('the same study from another hospital stays that hospital\'s', { skip }, async () => {
  const dir = dcmDir(LIDC);
  const one = readdirSync(dir).filter((f) => f.endsWith('.dcm')).slice(0, 3).map((f) => `${dir}/${f}`);
  await run('storescu', ['-aet', 'SL_COLLECTOR', '-aec', 'ZHIYING', '127.0.0.1', SCP_PORT, ...one],
    { env: { ...process.env, TCP_NODELAY: '1' } });
  const rows = sql(`SELECT i.code, count(*) FROM instances n JOIN institutions i ON i.id = n.institution_id
    WHERE i.code IN ('QX-PH', 'SL-THC') GROUP BY i.code ORDER BY i.code`);
  assert.deepEqual(rows, [['QX-PH', '261'], ['SL-THC', '3']]);
  assert.equal(sql(`SELECT count(*) FROM studies st JOIN institutions i ON i.id = st.institution_id
    WHERE i.code IN ('QX-PH', 'SL-THC')`)[0][0], '2');
});

test('an unknown calling AE title is refused at association', { skip }, async () => {
  const before = counts();
  await assert.rejects(storescu('NOT_REGISTERED', dcmDir(LIDC)), (e) => {
    assert.match(String(e.stderr) + String(e.stdout), /Association Rejected|rejected/i);
    return true;
  });
  await assert.rejects(storescu('QX_PACS', dcmDir(LIDC), ['-aec', 'SOMEONE_ELSE']));
  assert.deepEqual(counts(), before);
  const [[n]] = sql(`SELECT count(*) FROM audit_log WHERE action = 'dicom_association_refused'
    AND object_id = 'NOT_REGISTERED'`);
  assert.equal(n, '1');
  assert.match(readFileSync(`${STATE}/log/scp.log`, 'utf8'),
    /refused association from NOT_REGISTERED \(127\.0\.0\.1\): calling AE title not registered/);
});

test('a receiver killed mid-send: the resend completes a consistent study', { skip }, async () => {
  // A fresh copy of the study under another institution's AE, so that the
  // count starts from zero.
  const dir = dcmDir(LIDC);
  const pidFile = `${STATE}/run/scp.pid`;
  const sender = spawn('storescu', ['-aet', 'BS_COLLECTOR', '-aec', 'ZHIYING', '+sd', '+r', '+sp', '*.dcm', '127.0.0.1', SCP_PORT, dir],
    { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
  const done = new Promise((resolve) => sender.on('exit', resolve));
  const bs = () => Number(sql(`SELECT count(*) FROM instances n JOIN institutions i ON i.id = n.institution_id
    WHERE i.code = 'BS-THC'`)[0][0]);
  for (let i = 0; i < 200 && bs() < 40; i++) await sleep(25);
  const parent = Number(readFileSync(pidFile, 'utf8'));
  execFileSync('pkill', ['-KILL', '-P', String(parent)]);
  process.kill(parent, 'SIGKILL');
  await done;
  const partial = bs();
  assert.ok(partial > 0 && partial < 261, `killed after ${partial} instances`);
  // No instance is half-indexed: every row has its file.
  for (const [key, size] of sql(`SELECT n.storage_key, n.size_bytes FROM instances n
    JOIN institutions i ON i.id = n.institution_id WHERE i.code = 'BS-THC'`)) {
    assert.equal(statSync(`${STATE}/store/${key}`).size, Number(size));
  }
  // The start script's watchdog starts the receiver again (its pid file
  // is written once it listens); then resend.
  for (let i = 0; i < 1200; i++) {
    try {
      const p = Number(readFileSync(pidFile, 'utf8'));
      if (p !== parent && process.kill(p, 0)) break;
    } catch { /* not yet */ }
    await sleep(50);
  }
  await storescu('BS_COLLECTOR', dir);
  assert.equal(bs(), 261);
  const [[n, total]] = sql(`SELECT count(DISTINCT sop_instance_uid), sum(instance_count) FROM instances n
    JOIN institutions i ON i.id = n.institution_id JOIN series s ON s.id = n.series_id WHERE i.code = 'BS-THC'`);
  assert.equal(n, '261');
  const [[count]] = sql(`SELECT s.instance_count FROM series s JOIN studies st ON st.id = s.study_id
    JOIN institutions i ON i.id = st.institution_id WHERE i.code = 'BS-THC'`);
  assert.equal(count, '261');
  assert.ok(total);
});

test('the matcher queues a job for every reader the series fits', { skip }, async () => {
  const rows = sql(`SELECT m.reader, m.fits, m.reason FROM series_matches m JOIN series s ON s.id = m.series_id
    JOIN studies st ON st.id = s.study_id JOIN institutions i ON i.id = st.institution_id
    WHERE i.code = 'QX-PH' ORDER BY m.reader`);
  const fit = Object.fromEntries(rows.map(([r, f, why]) => [r, { fits: f === 't', why }]));
  for (const r of ['ct_lung_nodule', 'ct_pneumonia', 'ct_rib_fracture', 'ct_bone_density', 'ct_coronary_calcium']) {
    assert.equal(fit[r].fits, true, r);
  }
  assert.equal(fit.dr_tuberculosis.fits, false);
  assert.match(fit.dr_tuberculosis.why, /CT/);
  assert.equal(fit.dr_limb_fracture.fits, false);
  const jobs = sql(`SELECT j.reader, j.state, j.slices FROM ai_jobs j JOIN series s ON s.id = j.series_id
    JOIN studies st ON st.id = s.study_id JOIN institutions i ON i.id = st.institution_id
    WHERE i.code = 'QX-PH' ORDER BY j.reader`);
  assert.deepEqual(jobs.map((j) => j[0]), ['ct_bone_density', 'ct_coronary_calcium', 'ct_lung_nodule',
    'ct_pneumonia', 'ct_rib_fracture']);
  // The stack's zhiying-inferd may have taken them already: each of these
  // five readers is in the build and reads the series (done).
  assert.ok(jobs.every((j) => ['queued', 'running', 'done'].includes(j[1]) && j[2] === '261'),
    JSON.stringify(jobs));
  const [[summary]] = sql(`SELECT s.match_summary FROM series s JOIN studies st ON st.id = s.study_id
    JOIN institutions i ON i.id = st.institution_id WHERE i.code = 'QX-PH'`);
  assert.equal(summary, '');
});

test('radiographs: chest PA fits tuberculosis, a limb fits fracture, an unlabelled one says why', { skip }, async () => {
  // Sent as they are: JPEG-LS near-lossless and JPEG lossless.
  const chest = `${DATA}/xray/chest/wg04_RG1_chest-PA_CR_JPEG-LS-near-lossless.dcm`;
  const limb = `${DATA}/xray/extremity/wg04_RG3_tibia-ankle-AP_CR_JPEG-lossless.dcm`;
  const bare = `${DATA}/xray/chest/nih-cxr14_DX_1024x1024_8bit_via-nhsx-nccid.dcm`;	// no body part, no view
  // Each sent in its own transfer syntax: JPEG-LS near-lossless, JPEG
  // lossless, uncompressed.
  for (const [file, ts] of [[chest, '-xu'], [limb, '-xs'], [bare, '-x=']]) {
    await run('storescu', [ts, '-aet', 'LW_COLLECTOR', '-aec', 'ZHIYING', '127.0.0.1', SCP_PORT, file],
      { env: { ...process.env, TCP_NODELAY: '1' } });
  }
  const syntaxes = sql(`SELECT n.transfer_syntax FROM instances n JOIN institutions i ON i.id = n.institution_id
    WHERE i.code = 'LW-THC' ORDER BY 1`).flat();
  assert.deepEqual(syntaxes, ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.81']);
  const rows = sql(`SELECT s.body_part, s.match_summary,
      coalesce((SELECT string_agg(m.reader, ',' ORDER BY m.reader) FROM series_matches m
        WHERE m.series_id = s.id AND m.fits), '')
    FROM series s JOIN studies st ON st.id = s.study_id JOIN institutions i ON i.id = st.institution_id
    WHERE i.code = 'LW-THC' ORDER BY s.body_part`);
  assert.deepEqual(rows.map((r) => [r[0], r[2]]), [['', ''], ['CHEST', 'dr_tuberculosis'],
    ['EXTREMITY', 'dr_limb_fracture']]);
  assert.equal(rows[1][1], '');
  assert.match(rows[0][1], /^该序列（DX，部位未知）不符合任何AI应用的要求：.*无法确定检查部位/);
  const jobs = sql(`SELECT j.reader FROM ai_jobs j JOIN series s ON s.id = j.series_id JOIN studies st
    ON st.id = s.study_id JOIN institutions i ON i.id = st.institution_id WHERE i.code = 'LW-THC' ORDER BY 1`);
  assert.deepEqual(jobs.flat(), ['dr_limb_fracture', 'dr_tuberculosis']);
});

test('a received study is linked to the application waiting for it', { skip }, async () => {
  // Two applications of 粤北市中心医院 wait for patient LIDC-IDRI-0002:
  // one names the accession number, one the patient number and exam date;
  // a third is unrelated.  (A study whose patient differs is held, not
  // linked: identity.test.mjs.)
  const insert = (extra, cols, params) => sql(`INSERT INTO applications (diag_no, mode, applicant_id,
      applicant_institution_id, patient_name, patient_sex, patient_no, exam_type${cols})
    SELECT :'p1', 'self', u.id, u.institution_id, '测试患者', 'M', :'p2', 'CT'${extra}
    FROM users u WHERE u.login = 'yb_admin' RETURNING id`, { params });
  const [[byAcc]] = insert(`, '2819497684894126'`, ', accession', ['ZYLINK000001', 'LIDC-IDRI-0002']);
  const [[byDate]] = insert(`, DATE '2000-01-01'`, ', exam_date', ['ZYLINK000002', 'LIDC-IDRI-0002']);
  const [[none]] = insert(`, DATE '2001-01-01'`, ', exam_date', ['ZYLINK000003', 'LIDC-IDRI-0002']);
  await storescu('YB_PACS', dcmDir(LIDC));
  const links = sql(`SELECT a.diag_no, l.linked_by FROM application_studies l
    JOIN applications a ON a.id = l.application_id WHERE a.id IN (${Number(byAcc)}, ${Number(byDate)}, ${Number(none)})
    ORDER BY a.diag_no`);
  assert.deepEqual(links, [['ZYLINK000001', 'accession'], ['ZYLINK000002', 'patient_date']]);
  // The receiver's links say the images have arrived (the flag 待诊断
  // orders by), though its role may not update applications itself.
  assert.deepEqual(sql(`SELECT diag_no, images_missing FROM applications
    WHERE id IN (${Number(byAcc)}, ${Number(byDate)}, ${Number(none)}) ORDER BY diag_no`),
  [['ZYLINK000001', 'f'], ['ZYLINK000002', 'f'], ['ZYLINK000003', 't']]);
  assert.deepEqual(imagesFlagWrong(), []);
  // The study linked is 粤北市中心医院's own copy.
  const [[inst]] = sql(`SELECT DISTINCT i.code FROM application_studies l JOIN studies s ON s.id = l.study_id
    JOIN institutions i ON i.id = s.institution_id WHERE l.application_id = ${Number(byAcc)}`);
  assert.equal(inst, 'YB-CH');
});

// ---------------------------------------------------------------------
// The receiver's own hardening.  These need no shared data: the client
// below speaks just enough of the DICOM upper layer (PS3.8) to open an
// association, start a C-STORE and stall, or send garbage.

const hskip = !STATE ? 'no test stack (run through tests/run.sh)' : false;
const PID_FILE = `${STATE}/run/scp.pid`;
const SPOOL = `${STATE}/spool`;
const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const TIMEOUT = 4;	// scp_timeout of the receiver these tests start
const MAX_ASSOC = 3;	// and its scp_max_assoc

// Poll cond() until it holds; fail with what after a wide deadline.
async function until(what, cond, ms = 90000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const scpPid = () => { try { return Number(readFileSync(PID_FILE, 'utf8')); } catch { return 0; } };
// Every process of the receiver: it runs in a session of its own
// (setsid), which its children share.  A zombie waiting for its parent
// (this process, for a receiver the tests started) runs no more.
const procs = (sid) => spawnSync('ps', ['-o', 'pid=,stat=', '-s', String(sid)], { encoding: 'utf8' }).stdout
  .split('\n').map((l) => l.trim().split(/\s+/)).filter(([pid, stat]) => pid && !stat.startsWith('Z'))
  .map(([pid]) => Number(pid));
const children = (pid) => spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout
  .split('\n').filter(Boolean).map(Number);
const spoolFiles = () => readdirSync(SPOOL).filter((f) => f.endsWith('.dcm'));

// Stop the receiver and start it again as the start script does, with
// extra settings in its environment.  Returns its pid.
async function restartScp(env = {}) {
  // The start script's watchdog would start its own receiver again at
  // once: it goes first (TERM: it passes it on and starts nothing more).
  // zhiying.sh start brings the supervised receiver back.
  const wd = `${STATE}/run/scp.watchdog.pid`;
  const live = (pid) => {
    const st = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
    return st !== '' && !st.startsWith('Z');
  };
  let w = 0;
  try { w = Number(readFileSync(wd, 'utf8')); } catch { /* none */ }
  if (w && live(w)) {
    process.kill(w, 'SIGTERM');
    await until('the receiver\'s watchdog to stop', () => !live(w));
  }
  const old = scpPid();
  if (old && procs(old).includes(old)) {
    process.kill(old, 'SIGTERM');
    await until('the old receiver to stop', () => procs(old).length === 0);
  }
  const logFd = openSync(`${STATE}/log/scp.log`, 'a');
  const scp = spawn(`${ROOT_DIR}/src/scp/zhiying-scp`, ['-p', PID_FILE],
    { env: { ...process.env, ZHIYING_CONF: `${STATE}/zhiying.conf`, ...env }, detached: true,
      stdio: ['ignore', logFd, logFd] });
  scp.unref();
  // The pid file is written once the port listens.
  return until('the receiver to listen', () => (scpPid() === scp.pid ? scp.pid : 0));
}

// PS3.8 9.3: PDUs and their items.
function pdu(type, body) {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}
function item(type, body) {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}
const aeField = (ae) => Buffer.from(ae.padEnd(16, ' '), 'latin1');

function associateRq(calling, called = 'ZHIYING') {
  const version = Buffer.from([0, 1, 0, 0]);
  const pc = Buffer.concat([Buffer.from([1, 0, 0, 0]), item(0x30, Buffer.from(CT_STORAGE)),
    item(0x40, Buffer.from(EXPLICIT_LE))]);
  const maxLen = Buffer.alloc(4);
  maxLen.writeUInt32BE(16384);
  const user = Buffer.concat([item(0x51, maxLen), item(0x52, Buffer.from('1.2.826.0.1.3680043.10.1074'))]);
  return pdu(1, Buffer.concat([version, aeField(called), aeField(calling), Buffer.alloc(32),
    item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')), item(0x20, pc), item(0x50, user)]));
}

// A command element, implicit VR little endian (PS3.7 6.3.1).
function cmdElement(element, value) {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0, 0);
  h.writeUInt16LE(element, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}
const us = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const ul = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const uid = (u) => Buffer.from(u.length % 2 ? `${u}\0` : u, 'latin1');

function storeRq(sopUid) {
  const body = Buffer.concat([cmdElement(0x0002, uid(CT_STORAGE)), cmdElement(0x0100, us(0x0001)),
    cmdElement(0x0110, us(1)), cmdElement(0x0700, us(0)), cmdElement(0x0800, us(0)),
    cmdElement(0x1000, uid(sopUid))]);
  return Buffer.concat([cmdElement(0x0000, ul(body.length)), body]);
}
// One P-DATA-TF PDU holding one PDV: control 0x03 a whole command, 0x00
// a data fragment that is not the last.
function pdata(control, bytes) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length + 2);
  return pdu(4, Buffer.concat([len, Buffer.from([1, control]), bytes]));
}
// The head of a data set, explicit VR little endian: (0008,0016) and
// (0008,0018).
function dataHead(sopUid) {
  const el = (e, v) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0x0008, 0);
    h.writeUInt16LE(e, 2);
    h.write('UI', 4, 'latin1');
    h.writeUInt16LE(v.length, 6);
    return Buffer.concat([h, v]);
  };
  return Buffer.concat([el(0x16, uid(CT_STORAGE)), el(0x18, uid(sopUid))]);
}

// A TCP connection to the receiver, from localAddress, that reads PDUs.
class Peer {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.wake = [];
    sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.notify(); });
    sock.on('close', () => { this.closed = true; this.notify(); });
    sock.on('error', () => {});
  }

  notify() { const w = this.wake; this.wake = []; for (const f of w) f(); }

  static dial(localAddress = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port: Number(SCP_PORT), localAddress },
        () => resolve(new Peer(sock)));
      sock.once('error', reject);
    });
  }

  send(bytes) { return new Promise((resolve) => this.sock.write(bytes, () => resolve())); }

  // The next PDU as {type, body}, or null when the receiver closed.
  async read(ms = 90000) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.buf.length >= 6 && this.buf.length >= 6 + this.buf.readUInt32BE(2)) {
        const len = this.buf.readUInt32BE(2);
        const p = { type: this.buf[0], body: this.buf.subarray(6, 6 + len) };
        this.buf = this.buf.subarray(6 + len);
        return p;
      }
      if (this.closed) return null;
      if (Date.now() > deadline) assert.fail('no PDU from the receiver');
      await new Promise((r) => { this.wake.push(r); setTimeout(r, 500); });
    }
  }

  // Wait until the receiver has closed the connection.
  gone(what) { return until(what, () => this.closed); }

  end() { this.sock.destroy(); }
}

// Open an association; returns the peer and the answer PDU.
async function associate(calling, localAddress) {
  const p = await Peer.dial(localAddress);
  await p.send(associateRq(calling));
  return { p, answer: await p.read() };
}

test('garbage, closed, half and stalled connections: every child exits, scp_max_assoc holds', { skip: hskip }, async () => {
  const sid = await restartScp({ ZHIYING_SCP_TIMEOUT: String(TIMEOUT), ZHIYING_SCP_MAX_ASSOC: String(MAX_ASSOC) });
  await until('the receiver alone', () => procs(sid).length === 1);
  // The security review's reproduction: an unknown PDU type, 20 times.
  for (let i = 0; i < 20; i++) {
    const p = await Peer.dial();
    await p.send(Buffer.from('99000000000441424344', 'hex'));
    await p.gone('the receiver to drop a garbage PDU');
  }
  // Connect and close at once.
  for (let i = 0; i < 10; i++) {
    const p = await Peer.dial();
    p.end();
  }
  await until('every child of garbage and closed connections to exit', () => procs(sid).length === 1);

  // Half an A-ASSOCIATE-RQ, then silence, more of them than may be
  // served at once: the read timeout ends each, and no more than
  // scp_max_assoc children ever run.
  const t0 = Date.now();
  const half = [];
  for (let i = 0; i < MAX_ASSOC + 2; i++) {
    const p = await Peer.dial();
    await p.send(associateRq('QX_PACS').subarray(0, 40));
    half.push(p);
  }
  let most = 0;
  await until('the half requests to time out', () => {
    most = Math.max(most, procs(sid).length);
    return half.every((p) => p.closed) && procs(sid).length === 1;
  });
  assert.ok(most <= 1 + MAX_ASSOC, `${most - 1} children for scp_max_assoc ${MAX_ASSOC}`);
  assert.ok(most > 1, 'the half requests were never served');
  assert.ok(Date.now() - t0 >= TIMEOUT * 1000, 'ended before the timeout');

  // A sender that stalls in the middle of a PDU of an accepted
  // association (a P-DATA-TF that announces 1000 bytes and sends 10).
  const { p, answer } = await associate('QX_PACS');
  assert.equal(answer.type, 2, 'A-ASSOCIATE-AC');
  const head = Buffer.alloc(16);
  head[0] = 4;
  head.writeUInt32BE(1000, 2);
  await p.send(head);
  await p.gone('the stalled association to be ended');
  await until('its child to exit', () => procs(sid).length === 1);
  assert.match(readFileSync(`${STATE}/log/scp.log`, 'utf8'), /association from QX_PACS \(127\.0\.0\.1\) [^\n]*: 0 stored/);

  // After all that, the receiver still serves, from the one listener.
  const ok = await associate('QX_PACS');
  assert.equal(ok.answer.type, 2);
  await ok.p.send(pdu(5, Buffer.alloc(4)));
  assert.equal((await ok.p.read()).type, 6, 'A-RELEASE-RP');
  ok.p.end();
  await until('the released association\'s child to exit', () => procs(sid).length === 1);
  assert.deepEqual(spoolFiles(), []);
});

test('a child killed mid-C-STORE: its spool file is removed, nothing half-stored is indexed', { skip: hskip }, async () => {
  // The default timeout: the association must outlive the test's steps.
  const sid = await restartScp();
  const qx = () => sql(`SELECT count(*) FROM instances n JOIN institutions i ON i.id = n.institution_id
    WHERE i.code = 'QX-PH'`)[0][0];
  const before = qx();
  const sop = '1.2.826.0.1.3680043.10.1074.99.1';
  const { p, answer } = await associate('QX_PACS');
  assert.equal(answer.type, 2);
  await p.send(pdata(0x03, storeRq(sop)));
  await p.send(pdata(0x00, dataHead(sop)));
  const [child] = await until('the child of the association', () => {
    const c = children(sid);
    return c.length === 1 ? c : null;
  });
  await until('its spool file', () => spoolFiles().some((f) => f.startsWith(`${child}-`)));
  process.kill(child, 'SIGKILL');
  await p.gone('the killed association to close');
  await until('the spool file of the killed child to be removed', () => spoolFiles().length === 0);
  await until('the child to be reaped', () => procs(sid).length === 1);
  assert.equal(qx(), before);
  assert.equal(sql(`SELECT count(*) FROM instances WHERE sop_instance_uid = '${sop}'`)[0][0], '0');
  assert.match(readFileSync(`${STATE}/log/scp.log`, 'utf8'),
    new RegExp(`association process ${child} killed by signal 9[^]*removed 1 spool file`));

  // A spool file a run before this one left (its process is gone) is
  // removed at start; anything else in the folder stays.
  const dead = spawnSync('true').pid;
  writeFileSync(`${SPOOL}/${dead}-3.dcm`, 'partial');
  writeFileSync(`${SPOOL}/notes.txt`, 'kept');
  await restartScp();
  assert.deepEqual(spoolFiles(), []);
  assert.ok(existsSync(`${SPOOL}/notes.txt`));
});

test('the receiver listens on scp_listen only (127.0.0.1 here)', { skip: hskip }, async () => {
  const dial = (host) => new Promise((resolve, reject) => {
    const s = net.connect({ host, port: Number(SCP_PORT) }, () => { s.destroy(); resolve(); });
    s.once('error', reject);
  });
  await dial('127.0.0.1');
  await assert.rejects(dial('127.0.0.2'), /ECONNREFUSED/);
  assert.match(readFileSync(`${STATE}/log/scp.log`, 'utf8'), /listening as ZHIYING on 127\.0\.0\.1 port/);
});

test('a registered AE title from outside its network is refused and audited', { skip: hskip }, async () => {
  // QX_PACS is registered for 127.0.0.1/32: from 127.0.0.2 it is a
  // title nobody knows (A-ASSOCIATE-RJ: permanent, service user, calling
  // AE title not recognised).
  const far = await associate('QX_PACS', '127.0.0.2');
  assert.equal(far.answer.type, 3, 'A-ASSOCIATE-RJ');
  assert.deepEqual([...far.answer.body.subarray(1, 4)], [1, 1, 3]);
  far.p.end();
  const rows = sql(`SELECT a.object_id, host(a.ip), a.channel, a.detail->>'reason', a.detail->>'network', i.code
    FROM audit_log a JOIN institutions i ON i.id = a.institution_id
    WHERE a.action = 'dicom_association_refused' AND host(a.ip) = '127.0.0.2'`);
  assert.deepEqual(rows, [['QX_PACS', '127.0.0.2', 'scp', "address outside the peer's network", '127.0.0.1/32',
    'QX-PH']]);
  assert.match(readFileSync(`${STATE}/log/scp.log`, 'utf8'),
    /refused association from QX_PACS \(127\.0\.0\.2\): address outside the peer's network 127\.0\.0\.1\/32/);
  const near = await associate('QX_PACS', '127.0.0.1');
  assert.equal(near.answer.type, 2, 'A-ASSOCIATE-AC');
  await near.p.send(pdu(5, Buffer.alloc(4)));
  assert.equal((await near.p.read()).type, 6);
  near.p.end();

  // The operator registers a peer with its network; a bad one is refused
  // in Chinese and nothing is stored.
  const admin = (args) => spawnSync(`${ROOT_DIR}/admin/zhiying-admin`, ['-c', `${STATE}/zhiying.conf`, ...args],
    { encoding: 'utf8', timeout: 60000 });
  const add = (network) => admin(['peer', 'add', '--ae', 'JN_GATEWAY', '--institution', 'JN-PH',
    '--network', network, '--description', '江南县人民医院 前置机']);
  for (const [bad, why] of [['127.0.0.2/24', /主机位须为0/], ['127.0.0.300', /网络地址无效/],
    ['127.0.0.0/33', /网络地址无效/], ['pacs.example', /网络地址无效/], ['0.0.0.0/0', /不能向所有地址开放/]]) {
    const r = add(bad);
    assert.equal(r.status, 1, bad);
    assert.match(r.stderr, why, bad);
  }
  assert.equal(sql(`SELECT count(*) FROM dicom_peers WHERE ae_title = 'JN_GATEWAY'`)[0][0], '0');
  const ok = add('127.0.0.2');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(add('127.0.0.2').status, 1);
  assert.match(admin(['peer', 'list']).stdout, /JN_GATEWAY\s+JN-PH\s+pacs\s+127\.0\.0\.2\/32\s+active/);
  assert.equal(sql(`SELECT count(*) FROM audit_log WHERE action = 'dicom_peer_created' AND channel = 'cli'
    AND detail->>'network' = '127.0.0.2/32'`)[0][0], '1');

  const right = await associate('JN_GATEWAY', '127.0.0.2');
  assert.equal(right.answer.type, 2);
  right.p.end();
  const wrong = await associate('JN_GATEWAY', '127.0.0.1');
  assert.equal(wrong.answer.type, 3);
  wrong.p.end();
  // Moved to a network that holds both.
  assert.equal(admin(['peer', 'set', 'JN_GATEWAY', '--network', '10.0.0.1/8']).status, 1);
  const set = admin(['peer', 'set', 'JN_GATEWAY', '--network', '127.0.0.0/8']);
  assert.equal(set.status, 0, set.stderr);
  const now = await associate('JN_GATEWAY', '127.0.0.1');
  assert.equal(now.answer.type, 2);
  now.p.end();
  assert.equal(sql(`SELECT count(*) FROM audit_log WHERE action = 'dicom_peer_updated'
    AND detail->>'network' = '127.0.0.0/8'`)[0][0], '1');
});

test('zhiying.sh stop leaves no zhiying-scp process, and the next start listens', { skip: hskip }, async () => {
  const sid = await restartScp();
  // Associations in every state: a half request, an accepted one that
  // idles, one in the middle of a C-STORE.
  const half = await Peer.dial();
  await half.send(associateRq('QX_PACS').subarray(0, 40));
  const idle = await associate('QX_PACS');
  assert.equal(idle.answer.type, 2);
  const busy = await associate('QX_PACS');
  await busy.p.send(pdata(0x03, storeRq('1.2.826.0.1.3680043.10.1074.99.2')));
  await busy.p.send(pdata(0x00, dataHead('1.2.826.0.1.3680043.10.1074.99.2')));
  await until('three associations', () => procs(sid).length === 4);
  await until('the spool file of the busy one', () => spoolFiles().length === 1);
  const env = { ...process.env, ZHIYING_STATE: STATE, ZHIYING_PORT: process.env.ZY_PORT,
    ZHIYING_FCGI_PORT: process.env.ZY_FCGI_PORT, ZHIYING_SCP_PORT: SCP_PORT,
    ZHIYING_PGPORT: process.env.ZY_PGPORT, ZHIYING_SKIP_DEPS: '1', ZHIYING_SKIP_BUILD: '1' };
  execFileSync(`${ROOT_DIR}/zhiying.sh`, ['stop'], { env, stdio: 'ignore' });
  assert.deepEqual(procs(sid), [], 'zhiying-scp processes left after stop');
  assert.deepEqual(spoolFiles(), []);
  // The receiver ended its associations itself, within its grace; the
  // script's last resort was not needed.
  const log = readFileSync(`${STATE}/log/scp.log`, 'utf8');
  const at = log.lastIndexOf(`zhiying-scp[${sid}] info: stopping; ending 3 association(s)`);
  assert.notEqual(at, -1, 'the receiver did not log its stop');
  const stopped = log.slice(at);
  assert.equal(stopped.match(/association process \d+ killed by signal 15/g).length, 3);
  assert.doesNotMatch(stopped, /did not end/);
  for (const p of [half, idle.p, busy.p]) await p.gone('the connection to close');
  // The port is free: the stack starts again as it was.
  execFileSync(`${ROOT_DIR}/zhiying.sh`, ['start', 'quiet'], { env, stdio: 'ignore' });
  const again = await associate('QX_PACS');
  assert.equal(again.answer.type, 2);
  again.p.end();
});
