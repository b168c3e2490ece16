// zhiying-scp driven by DCMTK's own storescu, as a hospital PACS would:
// the real LIDC-IDRI-0002 chest CT (261 instances) from ../shared/data.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { ROOT_DIR, STATE, sql, sleep, dcmDir } from './helpers.mjs';

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
  // The stack's zhiying-inferd may have taken them already: the coronary
  // calcium reader scores the series (done); a reader not in this build
  // ends its job as dead at once.
  assert.ok(jobs.every((j) => (j[0] === 'ct_coronary_calcium' ? ['queued', 'running', 'done']
    : ['queued', 'running', 'dead']).includes(j[1]) && j[2] === '261'), JSON.stringify(jobs));
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
  // Two applications of 粤北市中心医院 wait: one names the accession
  // number, one the patient number and exam date; a third is unrelated.
  const insert = (extra, cols, params) => sql(`INSERT INTO applications (diag_no, mode, applicant_id,
      applicant_institution_id, patient_name, patient_sex, patient_no, exam_type${cols})
    SELECT :'p1', 'self', u.id, u.institution_id, '测试患者', 'M', :'p2', 'CT'${extra}
    FROM users u WHERE u.login = 'yb_admin' RETURNING id`, { params });
  const [[byAcc]] = insert(`, '2819497684894126'`, ', accession', ['ZYLINK000001', 'OTHER-1']);
  const [[byDate]] = insert(`, DATE '2000-01-01'`, ', exam_date', ['ZYLINK000002', 'LIDC-IDRI-0002']);
  const [[none]] = insert(`, DATE '2001-01-01'`, ', exam_date', ['ZYLINK000003', 'LIDC-IDRI-0002']);
  await storescu('YB_PACS', dcmDir(LIDC));
  const links = sql(`SELECT a.diag_no, l.linked_by FROM application_studies l
    JOIN applications a ON a.id = l.application_id WHERE a.id IN (${Number(byAcc)}, ${Number(byDate)}, ${Number(none)})
    ORDER BY a.diag_no`);
  assert.deepEqual(links, [['ZYLINK000001', 'accession'], ['ZYLINK000002', 'patient_date']]);
  // The study linked is 粤北市中心医院's own copy.
  const [[inst]] = sql(`SELECT DISTINCT i.code FROM application_studies l JOIN studies s ON s.id = l.study_id
    JOIN institutions i ON i.id = s.institution_id WHERE l.application_id = ${Number(byAcc)}`);
  assert.equal(inst, 'YB-CH');
});
