// The web workers' prepared statements (src/lib/db.c) when a worker has
// seen more distinct statements than it keeps (db_statements): each
// combination of 高级筛选 is a statement of its own, and a worker that has
// run more of them than it keeps gives up the oldest, one at a time, by
// name.  The same cache holds the upload's statements (ingest.c), which
// must still run after it, and a list must answer the same whichever of
// its statements were given up in between.
//
// tests/run.sh starts the stack with ZHIYING_DB_STATEMENTS=16, so that
// every worker of the suite's stack gives statements up; this file needs
// a limit small enough that its filters overflow some worker's cache.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Client, PASSWORD, ROOT_DIR, STATE, URL_BASE, dcmDir, dropStudies, sql } from './helpers.mjs';

const DATA = process.env.ZY_DATA || `${ROOT_DIR}/../shared/data`;
const CT = `${DATA}/ct/lung-pet-ct-dx/Lung_Dx-A0001/5mm-L`;
const skip = URL_BASE ? false : 'no test stack (run through tests/run.sh)';
const skipDicom = skip || (!existsSync(CT) ? `${CT} not found` : false);

const LIMIT = Number(process.env.ZHIYING_DB_STATEMENTS || 256);
const WORKERS = Number(process.env.ZHIYING_WORKERS || 4);
const TAG = `ZS${String(Date.now() % 1e8).padStart(8, '0')}`;

// Every combination of the filters whose presence changes the statement's
// text: status, the time (a preset or the dates), 诊断号尾号, hospital and
// the three kinds of keyword search.
function combos(hospital) {
  const out = [];
  const times = [{}, { time: 'today' }, { time: '2days' }, { time: 'week' },
    { from: '2026-01-01' }, { to: '2030-12-31' }, { from: '2026-01-01', to: '2030-12-31' }];
  const keys = [{}, { q: TAG, match: 'exact' }, { q: '明华' }, { q: TAG }];
  for (const status of [null, 'pending'])
    for (const t of times)
      for (const tail of [null, '7'])
        for (const hosp of [null, hospital])
          for (const k of keys) {
            const p = new URLSearchParams();
            if (status) p.set('status', status);
            for (const [a, b] of Object.entries(t)) p.set(a, b);
            if (tail) p.set('tail', tail);
            if (hosp) p.set('hospital', hosp);
            for (const [a, b] of Object.entries(k)) p.set(a, b);
            out.push(p.toString());
          }
  return out;
}

// The applications a list shows, in its order.
const ids = (html) => [...new Set([...html.matchAll(/href="\/application\?id=(\d+)"/g)].map((m) => m[1]))];

// The first is the patient of the CT its upload sends, and links it.
function newApplication(no, patient = { no, name: '欧阳明华', age: '61岁' }) {
  return sql(`INSERT INTO applications (diag_no, mode, applicant_id,
      applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
      patient_age, patient_no, chief_complaint, exam_type, body_part, urgency, exam_date)
    SELECT :'p1', 'superior', u.id, u.institution_id, al.id, t.id, :'p2', 'M', :'p3', :'p4',
      '胸闷一周', 'CT', '胸部', 'routine', current_date
    FROM users u, alliances al, institutions t
    WHERE u.login = 'sl_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
    RETURNING id`, { params: [no, patient.name, patient.age, patient.no] })[0][0];
}

test('a worker that keeps fewer statements than it runs gives up the oldest, and lists and uploads still answer right',
  { skip: skipDicom }, async () => {
    const doctor = new Client();
    assert.equal((await doctor.login('yb_resident', PASSWORD)).status, 303);
    const applicant = new Client();
    assert.equal((await applicant.login('sl_apply', PASSWORD)).status, 303);
    applicant.token = await applicant.csrf();
    const hospital = sql(`SELECT institution_id FROM users WHERE login = 'sl_apply'`)[0][0];
    const all = combos(hospital);
    // Some worker serves at least all/WORKERS of them.
    assert.ok(Math.floor(all.length / WORKERS) > LIMIT + 4,
      `${all.length} filters over ${WORKERS} workers cannot overflow ${LIMIT} statements: ` +
      'run with ZHIYING_DB_STATEMENTS=16 (as tests/run.sh does)');
    const mine = [newApplication(`${TAG}01`, { no: 'Lung_Dx-A0001', name: '林国华', age: '58岁' }), newApplication(`${TAG}02`), newApplication(`${TAG}17`)];

    const dir = dcmDir(CT);
    const files = readdirSync(dir).filter((x) => x.endsWith('.dcm')).sort();
    const upload = async (app, f) => {
      const fd = new FormData();
      fd.append('files', new Blob([readFileSync(`${dir}/${f}`)], { type: 'application/dicom' }), f);
      const r = await applicant.request('POST', `/upload/dicom?id=${app}`,
        { body: fd, headers: { accept: 'application/json', 'x-csrf-token': applicant.token } });
      assert.equal(r.status, 200, r.text);
    };

    const pass = async () => {
      const seen = new Map();
      for (const [i, qs] of all.entries()) {
        // The upload's statements go through the same cache.
        if (i % 75 === 0) await upload(mine[0], files[i / 75]);
        const r = await doctor.get(`/worklist?${qs}`);
        assert.equal(r.status, 200, `/worklist?${qs}`);
        seen.set(qs, ids(r.text));
      }
      return seen;
    };
    const first = await pass();
    const second = await pass();
    for (const qs of all) assert.deepEqual(second.get(qs), first.get(qs), `/worklist?${qs}`);

    // What the lists say is right: the keyword alone finds this file's
    // three applications; with the 尾号 7, the one that ends in 7.
    const sorted = (a) => [...a].sort();
    assert.deepEqual(sorted(first.get(new URLSearchParams({ q: TAG }).toString())), sorted(mine));
    assert.deepEqual(first.get(new URLSearchParams({ tail: '7', q: TAG }).toString()), [mine[2]]);
    assert.deepEqual(first.get(new URLSearchParams({ q: TAG, match: 'exact' }).toString()), []);
    // Each upload was stored once, in one series.
    const [[n, series]] = sql(`SELECT count(*), count(DISTINCT i.series_id) FROM instances i
      JOIN series se ON se.id = i.series_id JOIN application_studies l ON l.study_id = se.study_id
      WHERE l.application_id = :'p1'`, { params: [mine[0]] });
    assert.equal(n, String(Math.ceil(all.length / 75)));
    assert.equal(series, '1');

    // The workers did give statements up, and no statement ran by a name
    // the server did not know or was prepared twice.
    // The study goes again: later files upload the same CT.
    dropStudies(mine[0]);

    const log = readFileSync(`${STATE}/log/web.log`, 'utf8');
    assert.match(log, /statements prepared on the connection: giving up the oldest in turn/);
    assert.doesNotMatch(log, /\[26000\]|\[42P05\]/);
  });
