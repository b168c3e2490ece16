// Helpers of the integration tests: an HTTP client with a cookie jar, and
// SQL against the test stack's PostgreSQL (the same cluster the site uses),
// and finding the slices of a DICOM series in the shared data.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';

export const URL_BASE = process.env.ZY_URL;
export const STATE = process.env.ZY_STATE;
export const ROOT_DIR = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const PASSWORD = 'Zhiying2026';

// Decode the entities the template engine writes in attributes.
export function unescapeHtml(s) {
  return s.replace(/&#x([0-9a-fA-F]+);/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function hiddenCsrf(html) {
  const m = html.match(/name="csrf" value="([^"]*)"/);
  return m ? unescapeHtml(m[1]) : null;
}

export class Client {
  constructor() { this.jar = new Map(); this.cookieAttrs = new Map(); }

  cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  take(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
      this.cookieAttrs.set(name, attrs.map((a) => a.trim()));
      if (/max-age=0/i.test(line)) this.jar.delete(name); else this.jar.set(name, value);
    }
  }

  async request(method, path, { form, body, headers = {} } = {}) {
    const h = { ...headers };
    if (this.jar.size) h.cookie = this.cookieHeader();
    let payload = body;
    if (form) {
      payload = new URLSearchParams(form).toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(URL_BASE + path, { method, headers: h, body: payload, redirect: 'manual' });
    this.take(res);
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, location: res.headers.get('location') };
  }

  get(path, opts) { return this.request('GET', path, opts); }
  post(path, form, opts = {}) { return this.request('POST', path, { ...opts, form }); }

  // Log in through the form, as a browser does.  Returns the POST's answer.
  async login(login, password = PASSWORD, extra = {}) {
    const page = await this.get('/login');
    const csrf = hiddenCsrf(page.text);
    return this.post('/login', { csrf, login, password, next: '', ...extra });
  }

  // 写报告 as its button does: POST for the lock, then GET the editor the
  // answer redirects to.  Returns the last answer.
  async write(id) {
    const csrf = this.token || await this.csrf();
    const r = await this.post('/report', { csrf, id: String(id) });
    return r.status === 303 ? this.get(r.location) : r;
  }

  // The CSRF token of the logged-in session, read from a page.
  async csrf() {
    const page = await this.get('/');
    return hiddenCsrf(page.text);
  }
}

function pgSocket() {
  const dir = realpathSync(`${STATE}/pg`);
  return `${dir}/run`;
}

// Run SQL as the given role; returns rows as arrays of strings.
export function sql(query, { user = 'zhiying', params = [] } = {}) {
  const args = ['-X', '-q', '-A', '-t', '-F', '\t', '-h', pgSocket(), '-p', process.env.ZY_PGPORT,
    '-U', user, '-d', 'zhiying', '-v', 'ON_ERROR_STOP=1'];
  params.forEach((p, i) => args.push('-v', `p${i + 1}=${p}`));
  // Through standard input, so that :'p1' style variables are substituted.
  const out = execFileSync('psql', args, { encoding: 'utf8', input: query, stdio: ['pipe', 'pipe', 'pipe'] });
  // One line per row; a row of one empty value is an empty line.
  const lines = out.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.split('\t'));
}

// As sql(), but return the error text instead of throwing.
export function sqlError(query, opts) {
  try { sql(query, opts); return null; } catch (e) { return String(e.stderr || e.message); }
}

// Applications whose images_missing flag (kept by a trigger on their
// links, sql/031) disagrees with application_studies: [id, flag] rows.
export function imagesFlagWrong() {
  return sql(`SELECT a.id, a.images_missing FROM applications a
    WHERE a.images_missing = EXISTS (SELECT 1 FROM application_studies l WHERE l.application_id = a.id)`);
}

// The totals kept for the lists (list_counts, sql/041) that disagree with
// the applications, counted here from the rows with each list's own
// scope (lists.c SQL_READER, SQL_OWN_SELF, SQL_OWN, the applicant): one
// statement, so one snapshot, whatever other tests write meanwhile.
// [kind, owner, institution, state, 诊断尾号, kept, counted] rows.
export function listCountsWrong() {
  return sql(`WITH kept AS (SELECT kind::text, owner, inst, state, tail, n FROM list_counts WHERE n <> 0),
    counted AS (
      SELECT 'u' AS kind, a.applicant_id AS owner, a.applicant_institution_id AS inst, a.state,
        right(a.diag_no, 1) AS tail, count(*) AS n FROM applications a GROUP BY 2, 3, 4, 5
      UNION ALL SELECT 'i', a.applicant_institution_id, a.applicant_institution_id, a.state,
        right(a.diag_no, 1), count(*) FROM applications a GROUP BY 2, 3, 4, 5
      UNION ALL SELECT 's', a.applicant_institution_id, a.applicant_institution_id, a.state,
        right(a.diag_no, 1), count(*) FROM applications a WHERE a.mode = 'self' GROUP BY 2, 3, 4, 5
      UNION ALL SELECT 'r', i.id, i.id, a.state, right(a.diag_no, 1), count(*)
        FROM institutions i JOIN applications a
        ON (a.mode = 'self' AND a.applicant_institution_id = i.id)
        OR (a.mode = 'superior' AND a.target_institution_id = i.id)
        OR (a.assist AND a.assist_institution_id = i.id) GROUP BY 2, 3, 4, 5)
    SELECT coalesce(k.kind, c.kind), coalesce(k.owner, c.owner), coalesce(k.inst, c.inst),
      coalesce(k.state, c.state), coalesce(k.tail, c.tail), coalesce(k.n, 0), coalesce(c.n, 0)
    FROM kept k FULL JOIN counted c ON c.kind = k.kind AND c.owner = k.owner
      AND c.inst = k.inst AND c.state = k.state AND c.tail = k.tail
    WHERE k.n IS DISTINCT FROM c.n ORDER BY 1, 2, 3, 4, 5`);
}

// Take the studies of an application away again (series, instances and
// AI jobs go with them): the receiver's tests read every series there is,
// and later files upload the same CTs.
export function dropStudies(appId) {
  const rows = sql(`SELECT st.id, st.patient_ref FROM application_studies l
    JOIN studies st ON st.id = l.study_id WHERE l.application_id = :'p1'`, { params: [appId] });
  sql(`DELETE FROM application_studies WHERE application_id = :'p1'`, { params: [appId] });
  for (const [study, patient] of rows) {
    sql(`DELETE FROM studies WHERE id = :'p1'`, { params: [study] });
    sql(`DELETE FROM patients p WHERE id = :'p1'
      AND NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_ref = p.id)`, { params: [patient] });
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The first folder at or under root that holds .dcm files (the shared
// data keeps a series some folders down).
export function dcmDir(root) {
  let dir = root;
  while (!readdirSync(dir).some((f) => f.endsWith('.dcm'))) {
    dir = `${dir}/${readdirSync(dir).find((f) => statSync(`${dir}/${f}`).isDirectory())}`;
  }
  return dir;
}

// The z of ImagePositionPatient (0020,0032) from the head of a DICOM
// file, explicit or implicit VR little endian; NaN when absent.
export function sliceZ(file) {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(16384);
  const n = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const buf = head.subarray(0, n);
  const tag = Buffer.from([0x20, 0x00, 0x32, 0x00]);
  for (let i = buf.indexOf(tag, 132); i !== -1; i = buf.indexOf(tag, i + 1)) {
    const vr = buf.toString('latin1', i + 4, i + 6);
    const [len, at] = vr === 'DS' ? [buf.readUInt16LE(i + 6), i + 8] : [buf.readUInt32LE(i + 4), i + 8];
    if (len > 0 && len < 128 && at + len <= buf.length) {
      const parts = buf.toString('latin1', at, at + len).trim().split('\\').map(Number);
      if (parts.length === 3 && parts.every(Number.isFinite)) return parts[2];
    }
  }
  return NaN;
}

// The files of the series under root that have a position, as
// [{file, z}] in slice order (file names are not in slice order).
export function slicesByZ(root) {
  const dir = dcmDir(root);
  return readdirSync(dir).filter((f) => f.endsWith('.dcm'))
    .map((f) => ({ file: `${dir}/${f}`, z: sliceZ(`${dir}/${f}`) }))
    .filter((x) => Number.isFinite(x.z))
    .sort((a, b) => a.z - b.z);
}

// Rows of 统计's daily counts (sql/040) that disagree with the counts taken
// from the applications, their history and report versions right now:
// [side, day, institution, exam, mode, state, assist, returned, AI text,
// author, reviewer, n] where side is 'rows' (missing from the counts) or
// 'kept' (in the counts, not in the rows); then those of its turnaround
// hours (stats_turn): [side, month, institution, exam, mode, state, kind,
// hour, n].
export function statsCountsWrong() {
  return statsDaysWrong().concat(statsHoursWrong());
}

function statsHoursWrong() {
  return sql(`WITH r AS (SELECT date_trunc('month', a.submitted_at AT TIME ZONE stats_zone())::date AS month,
        a.applicant_institution_id AS inst, a.exam_type, a.mode, a.state,
        CASE WHEN a.reported_at IS NOT NULL THEN least(a.reported_at,
          (SELECT min(x.at) FROM application_history x WHERE x.application_id = a.id
            AND x.to_state IN ('in_review', 'reported'))) END - a.submitted_at AS f,
        CASE a.state WHEN 'reported' THEN a.reported_at WHEN 'reviewed' THEN a.reviewed_at END
          - a.submitted_at AS l
      FROM applications a),
    rows AS (SELECT r.month, r.inst, r.exam_type, r.mode, r.state, k.kind,
        floor(date_part('epoch', k.t) / 3600)::int AS bucket, count(*) AS n
      FROM r CROSS JOIN LATERAL (VALUES ('f', r.f), ('l', r.l)) k(kind, t)
      WHERE k.t IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7),
    kept AS (SELECT month, inst, exam_type, mode, state, kind, bucket, n FROM stats_turn WHERE n <> 0)
    (SELECT 'rows', * FROM (SELECT * FROM rows EXCEPT ALL SELECT * FROM kept) x)
    UNION ALL (SELECT 'kept', * FROM (SELECT * FROM kept EXCEPT ALL SELECT * FROM rows) y)`);
}

function statsDaysWrong() {
  return sql(`WITH r AS (SELECT (a.submitted_at AT TIME ZONE stats_zone())::date AS day,
        a.applicant_institution_id AS inst, a.exam_type, a.mode, a.state, a.assist,
        a.state = 'returned' OR EXISTS (SELECT 1 FROM application_history x
          WHERE x.application_id = a.id AND x.to_state = 'returned') AS ret,
        EXISTS (SELECT 1 FROM report_versions v WHERE v.application_id = a.id
          AND v.ai_used AND v.kind <> 'draft') AS aiu,
        a.report_author_id AS author, a.reviewer_id AS reviewer
      FROM applications a),
    rows AS (SELECT day, inst, exam_type, mode, state, assist, ret, aiu, author, reviewer,
        count(*) AS n FROM r GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    kept AS (SELECT day, inst, exam_type, mode, state, assist, ret, aiu, author, reviewer, n
      FROM stats_counts WHERE n <> 0)
    (SELECT 'rows', * FROM (SELECT * FROM rows EXCEPT ALL SELECT * FROM kept) x)
    UNION ALL (SELECT 'kept', * FROM (SELECT * FROM kept EXCEPT ALL SELECT * FROM rows) y)`);
}
