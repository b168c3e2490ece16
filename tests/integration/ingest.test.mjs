// The ingest path under attack and under faults, as the security review
// found it: deflate bombs, images whose pixel data cannot hold what their
// header declares, an upload whose worker dies midway (spool files, links
// to the application, nginx's error page) and a SOP Instance UID reused
// under another study.  Through the upload page (multipart over nginx, as
// a browser sends it) and the receiver (DCMTK's storescu, as a PACS).
//
// These tests kill workers and count every file of the store, so this file
// runs on a test stack of its own, started and stopped here (tests/lib.sh)
// whenever a shared stack is up.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createDeflateRaw, constants as Z } from 'node:zlib';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const DATA = process.env.ZY_DATA || `${ROOT}/../shared/data`;
const LIDC = `${DATA}/ct/LIDC-IDRI-0002`;
const run = promisify(execFile);

let own = null;
if (process.env.ZY_STATE) {
  const out = execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; stack_start >&2 &&
    echo "$ZY_STATE $ZY_URL $ZY_PGPORT $ZY_SCP_PORT"`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [state, url, pgport, scpport] = out.trim().split('\n').pop().split(' ');
  own = { state, pgport };
  Object.assign(process.env, { ZY_STATE: state, ZY_URL: url, ZY_PGPORT: pgport, ZY_SCP_PORT: scpport });
}
const { Client, dcmDir, sql } = await import('./helpers.mjs');

after(() => {
  if (!own) return;
  execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; ZY_STATE=${own.state}
    ZY_PGPORT=${own.pgport}; stack_stop`], { stdio: 'ignore' });
});

const skip = own ? false : 'no test stack (run through tests/run.sh)';
const skipDicom = skip || (!existsSync(LIDC) ? `${LIDC} not found: skipping the ingest tests` : false);
const STATE = () => process.env.ZY_STATE;

// Wait for a condition, polling; wide timeouts (a busy 2-core machine).
async function until(what, cond, { timeout = 120000, every = 20 } = {}) {
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
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

// patientNo: the patient of the images it will get; a study whose patient
// differs is held, not linked (identity.test.mjs).
async function application(patientNo) {
  const c = await applicant();
  const r = await c.post('/apply', {
    csrf: c.token, patient_name: '赵六', patient_sex: 'M', patient_age: '61岁', patient_birth: '',
    patient_no: patientNo, patient_phone: '13800000001', chief_complaint: '体检发现结节',
    present_illness: '无', history: '无', clinical_diagnosis: '肺结节', exam_type: 'CT',
    body_part: '胸部', urgency: 'routine', accession: '', exam_date: '', mode: 'self',
    alliance: '', target: '',
  });
  assert.equal(r.status, 303, r.text.slice(0, 300));
  return Number(r.location.match(/id=(\d+)/)[1]);
}

async function upload(id, files) {
  const c = await applicant();
  const fd = new FormData();
  for (const [name, bytes] of files) fd.append('files', new Blob([bytes], { type: 'application/dicom' }), name);
  return c.request('POST', `/upload/dicom?id=${id}&csrf=${encodeURIComponent(c.token)}`, {
    body: fd, headers: { accept: 'application/json' },
  });
}

const QX = () => sql(`SELECT id FROM institutions WHERE code = 'QX-PH'`)[0][0];
const count = (q) => Number(sql(q)[0][0]);

// Every file of the institution's part of the store, temporary ones too.
function storeFiles(inst) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const f of readdirSync(d)) {
      const p = `${d}/${f}`;
      if (statSync(p).isDirectory()) walk(p); else out.push(p);
    }
  };
  walk(`${STATE()}/store/${inst}`);
  return out;
}

const uploadSpool = () => readdirSync(`${STATE()}/spool`).filter((f) => f.startsWith('upload-'));

function lidcSlices() {
  const dir = dcmDir(LIDC);
  return readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => [f, readFileSync(`${dir}/${f}`)]);
}

// The offset of the value of element (g,e) in an explicit VR little endian
// file, searched before the pixel data.
function valueAt(buf, g, e) {
  const tag = Buffer.from([g & 0xff, g >> 8, e & 0xff, e >> 8]);
  const end = buf.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]), 132);
  const i = buf.indexOf(tag, 132);
  assert.ok(i > 0 && i < end, `(${g.toString(16)},${e.toString(16)}) not found`);
  return { at: i + 8, len: buf.readUInt16LE(i + 6) };
}

// A copy of a slice with a new SOP Instance UID (its last digits), and
// Rows and Columns as given.
function crafted(bytes, suffix, { rows, cols, study } = {}) {
  const b = Buffer.from(bytes);
  for (const [g, e] of [[0x0008, 0x0018], [0x0002, 0x0003]]) {
    const v = valueAt(b, g, e);
    let uid = b.toString('latin1', v.at, v.at + v.len).replace(/\0$/, '');
    uid = uid.slice(0, uid.length - suffix.length) + suffix;
    b.write(uid, v.at, 'latin1');
  }
  if (rows !== undefined) b.writeUInt16LE(rows, valueAt(b, 0x0028, 0x0010).at);
  if (cols !== undefined) b.writeUInt16LE(cols, valueAt(b, 0x0028, 0x0011).at);
  if (study !== undefined) {
    const v = valueAt(b, 0x0020, 0x000d);
    const uid = b.toString('latin1', v.at, v.at + v.len);
    b.write(uid.slice(0, uid.length - study.length) + study, v.at, 'latin1');
  }
  return b;
}

const nothingStoredFor = (sop) => count(`SELECT count(*) FROM instances WHERE sop_instance_uid LIKE '%${sop}'`) === 0;

test('an image whose pixel data cannot hold what its header declares is refused at upload', { skip: skipDicom }, async () => {
  const [[, slice]] = lidcSlices();
  const id = await application('P-PIXELS-1');
  const before = [count('SELECT count(*) FROM instances'), count('SELECT count(*) FROM ai_jobs'),
    storeFiles(QX()).length];
  const r = await upload(id, [
    ['huge.dcm', crafted(slice, '.9001', { rows: 65535, cols: 65535 })],
    ['short.dcm', crafted(slice, '.9002', { rows: 1024 })],
  ]);
  assert.equal(r.status, 200, r.text);
  const res = JSON.parse(r.text);
  assert.deepEqual(res.files.map((f) => f.ok), [false, false]);
  assert.match(res.files[0].message, /^不是有效的DICOM文件：图像尺寸超出允许的范围$/);
  assert.match(res.files[1].message, /^不是有效的DICOM文件：图像数据与文件头声明的尺寸不符，无法显示$/);
  // The parser's own reason, in English, is in the web log.
  await until('the refusal in the web log', () =>
    /huge\.dcm refused: image of 65535x65535 is larger than/.test(readFileSync(`${STATE()}/log/web.log`, 'utf8')));
  // Nothing stored, indexed, linked or queued.
  assert.deepEqual([count('SELECT count(*) FROM instances'), count('SELECT count(*) FROM ai_jobs'),
    storeFiles(QX()).length], before);
  assert.equal(count(`SELECT count(*) FROM application_studies WHERE application_id = ${id}`), 0);
  assert.ok(nothingStoredFor('.9001') && nothingStoredFor('.9002'));
});

test('the receiver refuses the same image with its reason, stores nothing', { skip: skipDicom }, async () => {
  const [[, slice]] = lidcSlices();
  const file = `${STATE()}/huge-received.dcm`;
  writeFileSync(file, crafted(slice, '.9003', { rows: 65535, cols: 65535 }));
  const before = [count('SELECT count(*) FROM instances'), count('SELECT count(*) FROM ai_jobs'),
    storeFiles(QX()).length];
  // storescu is answered C000 (cannot understand); its exit status is
  // not what is tested, the receiver's log and the index are.
  await run('storescu', ['-aet', 'QX_PACS', '-aec', 'ZHIYING', '127.0.0.1', process.env.ZY_SCP_PORT, file],
    { env: { ...process.env, TCP_NODELAY: '1' } }).catch((e) => e);
  const log = await until('the refusal in the receiver log', () => {
    const t = readFileSync(`${STATE()}/log/scp.log`, 'utf8');
    return /association from QX_PACS .* released/.test(t) && t;
  });
  assert.match(log, /refused an object from QX_PACS: image of 65535x65535 is larger than 268435456 pixels/);
  assert.match(log, /0 stored, 0 duplicate, 1 refused/);
  assert.deepEqual([count('SELECT count(*) FROM instances'), count('SELECT count(*) FROM ai_jobs'),
    storeFiles(QX()).length], before);
  assert.ok(nothingStoredFor('.9003'));
});

// A Deflated Explicit VR Little Endian CT whose dataset inflates to size
// bytes of which nearly all are the zeros of its pixel data: about a
// thousandth of that once deflated, built as a stream.
async function deflateBomb(size) {
  const el = (g, e, vr, v) => {
    const long = ['OB', 'OW', 'SQ', 'UN'].includes(vr);
    const len = typeof v === 'number' ? v : v.length;
    const h = Buffer.alloc(long ? 12 : 8);
    h.writeUInt16LE(g, 0); h.writeUInt16LE(e, 2); h.write(vr, 4, 'latin1');
    if (long) h.writeUInt32LE(len, 8); else h.writeUInt16LE(len, 6);
    return typeof v === 'number' ? h : Buffer.concat([h, v]);
  };
  const s = (t) => Buffer.from(t.length % 2 ? `${t}\0` : t, 'latin1');
  const us = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
  const sop = `1.2.826.0.1.3680043.10.1.${Date.now()}`;
  const metaBody = Buffer.concat([el(2, 1, 'OB', Buffer.from([0, 1])), el(2, 2, 'UI', s('1.2.840.10008.5.1.4.1.1.2')),
    el(2, 3, 'UI', s(sop)), el(2, 0x10, 'UI', s('1.2.840.10008.1.2.1.99'))]);
  const gl = Buffer.alloc(4); gl.writeUInt32LE(metaBody.length);
  const head = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), el(2, 0, 'UL', gl), metaBody]);
  const pixels = size - 1024;
  const data = Buffer.concat([el(8, 0x16, 'UI', s('1.2.840.10008.5.1.4.1.1.2')), el(8, 0x18, 'UI', s(sop)),
    el(8, 0x60, 'CS', s('CT')), el(0x10, 0x20, 'LO', s('BOMB')), el(0x20, 0xd, 'UI', s(`${sop}.1`)),
    el(0x20, 0xe, 'UI', s(`${sop}.2`)), el(0x28, 2, 'US', us(1)), el(0x28, 4, 'CS', s('MONOCHROME2')),
    el(0x28, 0x10, 'US', us(16384)), el(0x28, 0x11, 'US', us(Math.floor(pixels / 2 / 16384))),
    el(0x28, 0x100, 'US', us(16)), el(0x28, 0x101, 'US', us(12)), el(0x28, 0x102, 'US', us(11)),
    el(0x28, 0x103, 'US', us(0)), el(0x7fe0, 0x10, 'OW', pixels)]);
  const z = createDeflateRaw({ level: 9, strategy: Z.Z_RLE });
  const parts = [];
  z.on('data', (d) => parts.push(d));
  const done = new Promise((res, rej) => { z.on('end', res); z.on('error', rej); });
  z.write(data);
  const zero = Buffer.alloc(1 << 20);
  for (let left = pixels; left > 0; left -= zero.length) {
    if (!z.write(left >= zero.length ? zero : zero.subarray(0, left))) {
      await new Promise((r) => z.once('drain', r));
    }
  }
  z.end();
  await done;
  return { bytes: Buffer.concat([head, ...parts]), sop };
}

// Peak resident size (VmHWM, kB) of each worker of the pool.
function workerPeaks() {
  const sup = readFileSync(`${STATE()}/run/web.pid`, 'utf8').trim();
  const pids = execFileSync('ps', ['-o', 'pid=', '--ppid', sup], { encoding: 'utf8' }).split('\n')
    .map((s) => s.trim()).filter(Boolean);
  return pids.map((p) => {
    const m = readFileSync(`/proc/${p}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return Number(m[1]);
  });
}

test('a deflate bomb (1 MB inflating to 1 GiB) is refused at once, its output never held', { skip }, async () => {
  const { bytes, sop } = await deflateBomb(1 << 30);
  console.log(`# bomb: ${bytes.length} bytes inflating to ${1 << 30}`);
  assert.ok(bytes.length < (2 << 20));
  const id = await application('P-BOMB-1');
  const t0 = Date.now();
  // Four at once: one took 34 s and 1 GB, four blocked every page.
  const rs = await Promise.all([1, 2, 3, 4].map((i) => upload(id, [[`bomb${i}.dcm`, bytes]])));
  const secs = (Date.now() - t0) / 1000;
  const peaks = workerPeaks();
  console.log(`# four bombs refused in ${secs.toFixed(2)} s; workers' peak RSS ${peaks.join(', ')} kB`);
  for (const r of rs) {
    assert.equal(r.status, 200, r.text);
    const [f] = JSON.parse(r.text).files;
    assert.equal(f.ok, false);
    assert.match(f.message, /^不是有效的DICOM文件：压缩的数据解压后超过允许的大小（可能是恶意构造的文件）$/);
  }
  assert.ok(secs < 60, `${secs} s`);
  // Every worker stayed far below the 1 GiB the bomb inflates to.
  for (const kb of peaks) assert.ok(kb < 256 * 1024, `a worker peaked at ${kb} kB`);
  assert.ok(nothingStoredFor(sop.slice(-12)));
  // Pages are served meanwhile and after.
  assert.equal((await (await applicant()).get('/')).status, 200);
  // A real deflated file still goes in.
  const dfl = `${DATA}/edge/pydicom/image_dfl.dcm`;
  if (existsSync(dfl)) {
    const ok = JSON.parse((await upload(id, [['image_dfl.dcm', readFileSync(dfl)]])).text).files[0];
    assert.ok(ok.ok || /不是系统接受的影像类型/.test(ok.message), ok.message);
  }
});

test('an upload whose worker is killed: spool swept, stored instances linked, a Chinese 502 page; a retry completes it once', { skip: skipDicom }, async () => {
  const slices = lidcSlices().slice(0, 200).map(([f, b]) => [f, crafted(b, '.77', { study: '.77' })]);
  const id = await application('LIDC-IDRI-0002');
  const inst = QX();
  // A file left by a worker that is long gone (a dead pid), for the sweep
  // every starting worker makes.
  let dead = 32000;
  for (;; dead--) { try { process.kill(dead, 0); } catch (e) { if (e.code === 'ESRCH') break; } }
  const stale = `${STATE()}/spool/upload-${dead}-stale1`;
  writeFileSync(stale, 'left over');
  const storedNow = () => storeFiles(inst).filter((p) => p.includes('.77/')).length;
  const base = storedNow();
  assert.equal(base, 0);
  const pending = upload(id, slices);
  // The worker's pid is in its spool file's name; kill it once a few
  // instances are in (a file in the store: the one before it is indexed).
  const victim = await until('a worker mid-upload', () => {
    const mine = uploadSpool().map((f) => f.match(/^upload-(\d+)-/)).filter((m) => m && Number(m[1]) !== dead);
    return mine.length > 0 && storedNow() >= 3 ? Number(mine[0][1]) : null;
  }, { every: 2 });
  process.kill(victim, 'SIGKILL');
  const r = await pending;
  assert.equal(r.status, 502);
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.match(r.text, /上传未完成：服务器在处理上传的文件时中断/);
  assert.match(r.text, /已经保存的影像不会丢失：患者信息与申请单一致的已关联到申请单，不一致的在申请单页面待核对/);
  // The supervisor sweeps the dead worker's files (spool, and a partial
  // write to the store if it was in one), the new worker the stale one.
  await until('a clean spool', () => uploadSpool().length === 0 &&
    readdirSync(`${STATE()}/store/.tmp`).length === 0);
  const web = readFileSync(`${STATE()}/log/web.log`, 'utf8');
  assert.match(web, new RegExp(`worker ${victim} killed by signal 9`));
  // What was stored before the kill is linked to the application.
  const stored = count(`SELECT count(*) FROM instances WHERE institution_id = ${inst} AND sop_instance_uid LIKE '%.77'`);
  console.log(`# killed worker ${victim} after ${stored} of ${slices.length} instances`);
  // (The third file was in the store: the two before it were indexed.)
  assert.ok(stored >= 2 && stored < slices.length, `${stored}`);
  assert.equal(count(`SELECT count(*) FROM application_studies a JOIN studies s ON s.id = a.study_id
    WHERE a.application_id = ${id} AND s.study_uid LIKE '%.77'`), 1);
  assert.equal(count(`SELECT count(*) FROM audit_log WHERE action = 'study_linked' AND object_id = '${id}'`), 1);
  // The retry: every file once.
  const again = await upload(id, slices);
  assert.equal(again.status, 200, again.text.slice(0, 300));
  const res = JSON.parse(again.text);
  assert.equal(res.stored + res.duplicate, slices.length);
  assert.equal(res.duplicate, stored);
  assert.equal(count(`SELECT count(*) FROM instances WHERE institution_id = ${inst} AND sop_instance_uid LIKE '%.77'`), slices.length);
  const page = await (await applicant()).get(`/application?id=${id}`);
  assert.equal((page.text.match(/<div class="study"/g) || []).length, 1);
  const rows = [...page.text.matchAll(/<tr class="series"[^>]*>\s*<td>.*?<\/td>\s*<td>CT<\/td><td>[^<]*<\/td><td>[^<]*<\/td><td>(\d+)<\/td>/gs)];
  assert.deepEqual(rows.map((m) => Number(m[1])), [slices.length]);
  assert.equal(storedNow(), slices.length);
  assert.deepEqual(uploadSpool(), []);
});

test('a SOP Instance UID sent again under another study is refused; no store file without its row', { skip: skipDicom }, async () => {
  const [[name, slice]] = lidcSlices().slice(5, 6);
  const id = await application('LIDC-IDRI-0002');
  const inst = QX();
  const first = JSON.parse((await upload(id, [[name, crafted(slice, '.88')]])).text);
  assert.equal(first.stored, 1);
  const r = await upload(id, [[`again-${name}`, crafted(slice, '.88', { study: '.88' })]]);
  assert.equal(r.status, 200);
  const [f] = JSON.parse(r.text).files;
  assert.equal(f.ok, false);
  assert.match(f.message, /^不是有效的DICOM文件：该SOP实例UID已属于另一个检查或序列，不能重复使用$/);
  assert.equal(count(`SELECT count(*) FROM instances WHERE sop_instance_uid LIKE '%.88'`), 1);
  assert.equal(count(`SELECT count(*) FROM studies WHERE study_uid LIKE '%.88'`), 0);
  // Every file of the store has its row, and every row its file.
  const files = storeFiles(inst).map((p) => p.slice(`${STATE()}/store/`.length)).sort();
  const keys = sql(`SELECT storage_key FROM instances WHERE institution_id = ${inst} ORDER BY 1`).map((x) => x[0]);
  assert.deepEqual(files, keys.sort());
});
