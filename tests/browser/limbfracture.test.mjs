// tests/browser/limbfracture.test.mjs - the limb fracture reader's result
// as a doctor sees it in Chromium: the forearm phantom (zhiying-phantom -F
// limb: a right forearm whose radius is broken obliquely in its distal
// third) sent by storescu, read by the stack's daemon; on the result page
// the numbered box is drawn over the fracture on the film, its row names
// 斜形骨折 and 右前臂（图像左起第1骨）远端1/3, and ticking it and
// 上传影像结论 puts its sentences into the report's 影像表现 and 影像结论.
// The rules are the integration test's (limbfracture.test.mjs).  The
// receiver's tests count what 清溪县人民医院 has, so this file runs on a
// stack of its own (tests/lib.sh), as identity.test.mjs does.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { imageRect, shownBoxes, waitSlice } from './aiview.mjs';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
let own = null;
if (process.env.ZY_URL && process.env.ZY_STATE) {
	const out = execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; stack_start >&2 &&
	    echo "$ZY_STATE $ZY_URL $ZY_PGPORT $ZY_SCP_PORT"`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
	const [state, url, pgport, scpport] = out.trim().split('\n').pop().split(' ');
	own = { state, pgport };
	Object.assign(process.env, { ZY_STATE: state, ZY_URL: url, ZY_PGPORT: pgport, ZY_SCP_PORT: scpport });
}
after(() => {
	if (!own)
		return;
	execFileSync('bash', ['-c', `. "${ROOT}/tests/lib.sh"; ZY_STATE=${own.state}
	    ZY_PGPORT=${own.pgport}; stack_stop`], { stdio: 'ignore' });
});
const { sql } = await import('../integration/helpers.mjs');

const run = promisify(execFile);
const BASE = own ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const skip = own ? false : 'ZY_URL is not set: start a stack first (tests/lib.sh stack_start)';
const chrome = chromiumForFile(skip, OUT);
const tag = `${process.pid}${Date.now() % 100000}`;
const PID = `LIMBB${tag}`;
let dir = null;

after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

async function until(what, cond, ms = 180000) {
	const t0 = Date.now();
	for (;;) {
		const v = cond();
		if (v)
			return v;
		if (Date.now() - t0 > ms)
			assert.fail(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

test('the fracture boxed over the film where the phantom is broken, named in its row, and uploaded into the report', { skip }, async () => {
	dir = mkdtempSync(`${tmpdir()}/zy-limbb-`);
	await run(`${ROOT}/src/tools/zhiying-phantom`, ['-F', 'limb', '-P', PID, '-N', 'LIMB^BROWSER', '-o', dir]);
	const [file] = readdirSync(dir).filter((f) => f.endsWith('.dcm'));
	await run('storescu', ['-aet', 'QX_PACS', '-aec', 'ZHIYING', '127.0.0.1', process.env.ZY_SCP_PORT,
	    `${dir}/${file}`], { maxBuffer: 1 << 24 });
	const job = await until('the limb fracture job to end', () => {
		const rows = sql(`SELECT j.id, j.state, coalesce(j.error, '') FROM ai_jobs j
		    JOIN series se ON se.id = j.series_id JOIN studies s ON s.id = se.study_id
		    JOIN patients p ON p.id = s.patient_ref
		    WHERE p.patient_id = :'p1' AND j.reader = 'dr_limb_fracture'`, { params: [PID] });
		return rows.length === 1 && !['queued', 'running'].includes(rows[0][1]) ? rows[0] : null;
	});
	assert.equal(job[1], 'done', job[2]);
	const [[app]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
	    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
	    patient_age, patient_no, chief_complaint, exam_type, body_part, urgency, exam_date)
	  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
	    'superior', u.id, u.institution_id, al.id, t.id, :'p1', 'M', '35岁', :'p2',
	    '跌倒后右腕痛', 'DR', '右前臂', 'routine', current_date
	  FROM users u, alliances al, institutions t
	  WHERE u.login = 'qx_apply' AND al.code = 'YB-YLT' AND t.code = 'YB-CH'
	  RETURNING id`, { params: [`骨折浏览${tag}`, PID] });
	sql(`INSERT INTO application_studies (application_id, study_id, linked_by)
	  SELECT :'p1'::bigint, s.id, 'hand' FROM studies s JOIN patients p ON p.id = s.patient_ref
	  WHERE p.patient_id = :'p2'`, { params: [app, PID] });

	const s = await userSession(chrome.browser, BASE, 'yb_attending', PASSWORD);
	try {
		const { page } = s;
		assert.equal((await openReport(page, BASE, app)).status(), 200);
		await page.goto(`${BASE}/ai/result?id=${app}&job=${job[0]}`);
		assert.deepEqual(await page.locator('#lesion-table tbody tr.lesion').evaluateAll(
		    (trs) => trs.map((tr) => Number(tr.dataset.idx))), [1]);
		await waitSlice(page, 0);
		assert.deepEqual(await shownBoxes(page), [1]);
		const row = await page.textContent('#lesion-table tbody tr.lesion');
		assert.match(row, /斜形骨折/);
		assert.match(row, /右前臂（图像左起第1骨）远端1\/3/);
		// The box as drawn: over the fracture (the radius's centre 13 mm
		// left of the middle, 80 mm down, of a 700 x 1000 film of
		// 0.35 mm pixels), as the doctor sees it on the film.
		const img = await imageRect(page);
		const box = await page.locator('#zv .zv-box[data-idx="1"]').boundingBox();
		assert.ok(img && box && box.width > 0 && box.height > 0);
		const fx = img.x + img.width * (-13 / 0.35 + 349.5) / 700;
		const fy = img.y + img.height * (80 / 0.35 + 499.5) / 1000;
		assert.ok(box.x <= fx && fx <= box.x + box.width && box.y <= fy && fy <= box.y + box.height,
		    `box ${JSON.stringify(box)} over ${fx},${fy}`);
		assert.match(await page.textContent('body'), /结果仅供参考/);
		await page.screenshot({ path: path.join(OUT, 'limb-fracture.png'), fullPage: true });
		// Ticked and uploaded: the report's draft takes its sentences.
		await page.check('#lesion-1');
		await go(page, '/report', () => page.click('#btn-upload'));
		assert.match(await page.inputValue('#findings'), /右前臂（图像左起第1骨）远端1\/3见透亮骨折线/);
		assert.match(await page.inputValue('#conclusion'), /右前臂（图像左起第1骨）远端1\/3斜形骨折可能/);
		// 删除病灶序号框 from the film in the viewer: asked first, then the
		// box leaves the film and the table.
		await page.goto(`${BASE}/ai/result?id=${app}&job=${job[0]}`);
		await waitSlice(page, 0);
		assert.deepEqual(await shownBoxes(page), [1]);
		page.once('dialog', (d) => d.accept());
		await go(page, '/ai/result', () => page.click('#delete-1'));
		assert.equal((await page.textContent('#ai-notice')).trim(), '已删除病灶序号框 1');
		await waitSlice(page, 0);
		assert.deepEqual(await shownBoxes(page), []);
		assert.equal(await page.locator('#lesion-table').count(), 0);
		assert.deepEqual(s.errors, []);
	} finally {
		await s.context.close();
	}
});
