// tests/integration/filmresult.mjs - a film study linked to an
// application with a finished reader's result of three boxes, made with
// SQL as the schema owner as zhiying-inferd writes it (for the tests of
// what a doctor does with a result: lesiondelete.test.mjs and the
// browser's lesiondelete.test.mjs).
import { sql } from './helpers.mjs';

let seq = 0;

// The study uids made, for dropFilms().
export const made = [];

// A superior-mode application from 清溪县人民医院 to 粤北市中心医院, 待报告.
export function newApplication() {
  const name = `删框${process.pid % 1000}-${++seq}`;
  const [[id]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
      applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
      patient_age, patient_no, chief_complaint, exam_type, body_part, urgency, exam_date)
    SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
      'superior', u.id, u.institution_id, al.id, t.id, :'p1', 'M', '45岁', :'p2',
      '咳嗽咳痰两月', 'DR', '胸部', 'routine', current_date
    FROM users u, alliances al, institutions t
    WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
    RETURNING id`, { params: [name, `DEL${Date.now()}${seq}`] });
  return { id, name };
}

// A film study linked to app, with a finished result of reader: three
// boxes on its one image, each with its own sentences.
export function linkFilm(app, reader = 'dr_tuberculosis') {
  const uid = `1.2.826.0.1.3680043.10.${process.pid}.${Date.now()}.${++seq}`;
  made.push(uid);
  sql(`WITH i AS (SELECT id FROM institutions WHERE code = 'QX-PH'),
    p AS (INSERT INTO patients (institution_id, patient_id, name)
      SELECT id, :'p1', 'DEL^TEST' FROM i RETURNING id, institution_id),
    s AS (INSERT INTO studies (institution_id, patient_ref, study_uid, study_date, description)
      SELECT institution_id, id, :'p1', to_char(current_date, 'YYYYMMDD'), '胸部正位片' FROM p
      RETURNING id),
    l AS (INSERT INTO application_studies (application_id, study_id, linked_by)
      SELECT :'p2'::bigint, id, 'hand' FROM s),
    a AS (INSERT INTO series (study_id, series_uid, series_number, modality, description,
        instance_count, matched_at)
      SELECT id, :'p1' || '.1', 1, :'p4', 'Chest PA', 1, now() FROM s RETURNING id),
    j AS (INSERT INTO ai_jobs (series_id, reader, state, slices, finished_at)
      SELECT a.id, :'p3', 'done', 1, now() FROM a RETURNING id, series_id)
    INSERT INTO ai_results (job_id, series_id, reader, slice_uids, nx, ny, summary)
    SELECT j.id, j.series_id, :'p3', ARRAY[:'p1' || '.1.1'], 1000, 1000,
      '[{"name": "肺结核评分", "value": 0.81, "unit": ""}]' FROM j`,
  { params: [uid, app.id, reader, reader === 'dr_tuberculosis' ? 'DX' : 'CT'] });
  const [[job, result]] = sql(`SELECT j.id, r.id FROM ai_jobs j JOIN ai_results r ON r.job_id = j.id
    JOIN series se ON se.id = j.series_id WHERE se.series_uid = :'p1'`, { params: [`${uid}.1`] });
  const zones = ['右上肺野', '左上肺野', '右中肺野'];
  zones.forEach((zone, k) => sql(`INSERT INTO ai_lesions (result_id, idx, type, location, slice,
      x0, y0, x1, y1, confidence, findings_text, conclusion_text)
    VALUES (:'p1', :'p2', '斑片影', :'p3', 0, :'p4', 100, :'p5', 300, 0.8, :'p6', :'p7')`,
  { params: [result, k + 1, zone, 100 + 300 * k, 250 + 300 * k, `${zone}见斑片影（框${k + 1}）。`,
    `${zone}斑片影，AI肺结核评分0.81（框${k + 1}）。`] }));
  return { uid, job, result };
}

// Take the studies away again: other test files count the stack's studies.
export function dropFilms() {
  for (const uid of made.splice(0)) {
    sql(`DELETE FROM application_studies WHERE study_id IN (SELECT id FROM studies WHERE study_uid = :'p1')`,
      { params: [uid] });
    sql(`DELETE FROM studies WHERE study_uid = :'p1'`, { params: [uid] });
    sql(`DELETE FROM patients WHERE patient_id = :'p1'`, { params: [uid] });
  }
}
