// tests/browser/print.test.mjs - the printed report is the reading
// hospital's report, checked as the PDF Debian's chromium (headless,
// driven by playwright-core) makes of the print view:
//
//   1. 龙湾镇卫生院 applies for 上级诊断 at 江南县人民医院 (made with SQL, as
//      the integration tests do); its collector sends a synthetic chest CT
//      (zhiying-phantom) to the stack's SCP, which links it by patient
//      number and exam date; the stack's daemon scores it with the
//      coronary calcium reader, whose result names key slices.
//   2. The doctor (jn_attending, 主治医师) writes a long report on 写报告 and
//      chooses key images: the series' preview; on the AI result page,
//      the slice he turned to in the bone window, with 设为关键图像; and
//      a slice by number which he removes again; what he typed is kept
//      across each of these (saved before the page reloads).  He submits
//      it to review.
//   3. The chief (jn_chief, 主任医师) sees the key images on 审核, opens one,
//      and approves it.
//   4. The applicant opens 查看报告 (the key images shown), then 打印, and
//      the page is printed to a
//      PDF (page.pdf, A4).  pdftotext finds the hospital as the title, 远程
//      影像诊断报告, both doctors with their titles and 签名 lines, the report
//      and review times, the 诊断号 whole, the patient, the key images'
//      captions, and on each page 第 n 页 / 共 N 页 with N >= 2; pdfimages
//      finds the two key images embedded.
//
//   ZY_URL=... ZY_STATE=... ZY_SCP_PORT=... ZY_OUT=tests/out \
//       node --test --test-reporter=spec tests/browser/print.test.mjs
//
// The stack comes from tests/lib.sh stack_start; without it the test is
// skipped.  Needs poppler-utils (pdftotext, pdfimages, pdfinfo).  The PDF
// and screenshots go to $ZY_OUT/browser/print-*.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromiumForFile, go, openReport, userSession } from './chromium.mjs';
import { preset, waitSlice, wheel } from './aiview.mjs';
import { sql } from '../integration/helpers.mjs';

const run = promisify(execFile);
const BASE = process.env.ZY_URL ? process.env.ZY_URL.replace(/\/+$/, '') : '';
const OUT = path.join(process.env.ZY_OUT || 'tests/out', 'browser');
const PASSWORD = 'Zhiying2026';
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const PHANTOM = `${ROOT}/src/tools/zhiying-phantom`;
const STATE = process.env.ZY_STATE;
const SCP_PORT = process.env.ZY_SCP_PORT;

const skip = BASE === '' || !STATE || !SCP_PORT ?
    'ZY_URL, ZY_STATE or ZY_SCP_PORT is not set: start a stack first (tests/lib.sh stack_start)' : false;

const chrome = chromiumForFile(skip, OUT);

async function until(what, cond, ms = 120000, step = 200) {
	const t0 = Date.now();
	for (;;) {
		const v = cond();
		if (v)
			return v;
		if (Date.now() - t0 > ms)
			assert.fail(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, step));
	}
}

// Whether every image of the page's selection has loaded with pixels.
async function imagesLoaded(page, selector) {
	const loc = page.locator(selector);
	const n = await loc.count();
	for (let i = 0; i < n; i++) {
		const img = loc.nth(i);
		for (let t = 0; ; t++) {
			const st = await img.evaluate((e) => ({ ok: e.complete, w: e.naturalWidth }));
			if (st.ok) {
				assert.ok(st.w > 0, `${selector} #${i} has no pixels`);
				break;
			}
			assert.ok(t < 600, `${selector} #${i} did not load`);
			await page.waitForTimeout(50);
		}
	}
	return n;
}

// The editor's key images: their captions, in order.
async function chosen(page) {
	return (await page.locator('#key-chosen li.key-item .key-caption').allTextContents()).map((t) => t.trim());
}

// 查看报告 and 审核: the key images shown, captioned as on 写报告, each
// picture loaded and a link to itself.
async function keysShown(page, captions) {
	const items = page.locator('#key-shown li.key-item');
	assert.deepEqual((await items.locator('.key-caption').allTextContents()).map((t) => t.trim()), captions);
	assert.equal((await page.textContent('#key-count')).trim(), `共 ${captions.length} 幅`);
	assert.equal(await imagesLoaded(page, '#key-shown img'), captions.length);
	for (let i = 0; i < captions.length; i++) {
		const a = items.nth(i).locator('a.key-open');
		assert.equal(await a.getAttribute('href'), await a.locator('img').getAttribute('src'));
	}
}

test('the printed report: the reading hospital, the doctors with titles and signature lines, key images, page numbers',
    { skip, timeout: 300000 }, async () => {
	const pid = `PRN-${process.pid}-${Date.now()}`;
	const name = `钟秀英${process.pid % 1000}`;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhiying-print-'));
	const sessions = [];
	try {
		// 1. The application and its study.
		const [[id, diag]] = sql(`INSERT INTO applications (diag_no, mode, applicant_id,
		    applicant_institution_id, alliance_id, target_institution_id, patient_name, patient_sex,
		    patient_age, patient_no, chief_complaint, present_illness, history, clinical_diagnosis,
		    exam_type, body_part, urgency, exam_date)
		  SELECT 'ZY' || to_char(now(), 'YYYYMMDD') || lpad(nextval('diag_no_seq')::text, 6, '0'),
		    'superior', u.id, u.institution_id, al.id, t.id, :'p1', 'F', '66岁', :'p2',
		    '活动后胸闷两月', '两月来上楼时胸闷，休息后缓解', '高血压病史12年', '冠心病待查',
		    'CT', '胸部', 'routine', current_date
		  FROM users u, alliances al, institutions t
		  WHERE u.login = 'lw_apply' AND al.code = 'JN-YGT' AND t.code = 'JN-PH'
		  RETURNING id, diag_no`, { params: [name, pid] });
		assert.equal(diag.length, 16);
		await run(PHANTOM, ['-t', '1.25', '-k', '120', '-P', pid, '-N', 'ZHONG^XIUYING', '-o', dir]);
		await run('storescu', ['-aet', 'LW_COLLECTOR', '-aec', 'ZHIYING', '+sd', '+r', '+sp', '*.dcm',
		    '127.0.0.1', SCP_PORT, dir], { env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 1 << 24 });
		const [[series, job]] = await until('the study to be linked and its calcium scored', () => {
			const r = sql(`SELECT se.id, j.id FROM application_studies x
			    JOIN series se ON se.study_id = x.study_id
			    JOIN ai_jobs j ON j.series_id = se.id AND j.reader = 'ct_coronary_calcium'
			    WHERE x.application_id = :'p1' AND j.state = 'done'`, { params: [id] });
			return r.length ? r : null;
		});
		const [[keySlices]] = sql(`SELECT jsonb_array_length(key_images) FROM ai_results WHERE job_id = :'p1'`,
		    { params: [job] });
		assert.ok(Number(keySlices) >= 1, 'the reader named key slices');

		// 2. 写报告: a long report and its key images.
		const doc = await userSession(chrome.browser, BASE, 'jn_attending', PASSWORD);
		sessions.push(doc);
		let page = doc.page;
		assert.equal((await openReport(page, BASE, id)).status(), 200);
		assert.equal((await page.textContent('#key-count')).trim(), '已选 0 / 4 幅');
		const findings = Array.from({ length: 36 }, (_, i) =>
		    `${i + 1}. 第${i + 1}组层面：冠状动脉走行区可见斑点状高密度影，主动脉壁未见明显增厚，心包未见积液，纵隔内未见明显肿大淋巴结。`)
		    .join('\n');
		const conclusion = '冠状动脉钙化，请结合临床进一步检查。';
		await page.fill('#findings', findings);
		await page.fill('#conclusion', conclusion);
		// The series' preview: what was typed is saved before the page
		// reloads, and is there after it.
		await go(page, '/report', () => page.locator('#key-from-series li.key-choice button.key-add').first().click());
		assert.equal((await page.textContent('#report-notice')).trim(), '已添加关键图像');
		assert.equal(await page.inputValue('#findings'), findings);
		assert.equal(await page.inputValue('#conclusion'), conclusion);
		// A slice of the AI result, chosen on its page: from its card
		// to the result, one slice on from the one it opens at (the
		// reader's key slice) and in the bone window, without a reload;
		// 设为关键图像 takes the slice and window shown and comes back to
		// them with the notice.
		await go(page, '/ai/result', () => page.locator(`.ai-card[data-job="${job}"] a.ai-open`).click());
		assert.equal((await page.textContent('#key-total')).trim(), '报告已选关键图像 1/4 幅');
		assert.equal((await page.textContent('#key-slices')).trim(), '本结果尚无层面设为关键图像。');
		assert.equal(await page.locator('#btn-key-set').isEnabled(), true);
		const n = Number(await page.getAttribute('#viewer', 'data-n'));
		const z0 = Number(await page.getAttribute('#viewer', 'data-z'));
		const z = z0 + 1 < n ? z0 + 1 : z0 - 1;
		// The wheel over the viewer, the way of the viewer's images.
		const { zk } = JSON.parse(await page.getAttribute('#zv', 'data-annot'));
		const step = zk[z] > zk[z0] ? 120 : -120;
		await waitSlice(page, z0);
		await wheel(page, step);
		await preset(page, 'bone');
		await waitSlice(page, z, 'bone');
		assert.equal((await page.textContent('#slice-no')).trim(), `第 ${z + 1} / ${n} 层`);
		assert.equal(await page.inputValue('#key-z'), String(z));
		assert.equal(await page.inputValue('#key-window'), 'bone');
		await go(page, '/ai/result', () => page.click('#btn-key-set'));
		const back = new URL(page.url());
		assert.equal(back.searchParams.get('z'), String(z));
		assert.equal(back.searchParams.get('window'), 'bone');
		assert.equal((await page.textContent('#ai-notice')).trim(), `已设为关键图像（第 ${z + 1} 层），共 2/4 幅`);
		assert.equal((await page.textContent('#slice-no')).trim(), `第 ${z + 1} / ${n} 层`);
		assert.deepEqual((await page.locator('#key-slices a.key-slice.on').allTextContents()).map((t) => t.trim()),
		    [`第 ${z + 1} 层`]);
		assert.equal(await page.locator('#key-here').isVisible(), true);
		// Another slice shown: the mark of the chosen one goes.
		await waitSlice(page, z, 'bone');
		await wheel(page, step);
		await page.locator('#key-here').waitFor({ state: 'hidden' });
		assert.equal(await page.locator('#key-slices a.key-slice.on').count(), 0);
		// Its link moves the viewer back to it, without a reload.
		const here = page.url();
		await page.locator('#key-slices a.key-slice').click();
		await waitSlice(page, z);
		assert.equal(await page.locator('#key-here').isVisible(), true);
		assert.equal(page.url(), here.replace(/z=\d+/, `z=${z}`));
		await shot(page, 'ai-key');
		assert.deepEqual(sql(`SELECT kind, job_id, slice, window_name FROM report_key_images
		    WHERE application_id = :'p1' ORDER BY position`, { params: [id] }).slice(1),
		[['ai', String(job), String(z), 'bone']]);
		// Back on 写报告 it is the second key image, and the text is kept.
		await go(page, '/report', () => page.click('#back-report'));
		let caps = await chosen(page);
		assert.equal(caps.length, 2);
		assert.match(caps[0], /^1\. 序列 \S+/);
		assert.match(caps[1], new RegExp(`^2\\. 冠脉钙化积分 第 ${z + 1} 层`));
		assert.equal(await page.inputValue('#findings'), findings);
		assert.equal(await page.inputValue('#conclusion'), conclusion);
		// A slice by its number, then removed again.
		const byNumber = z + 1 === 60 ? 61 : 60;
		const slice = page.locator(`#key-images form.key-slice-form[data-job="${job}"]`);
		await slice.locator('input[name="slice"]').fill(String(byNumber));
		await go(page, '/report', () => slice.locator('button.key-add').click());
		caps = await chosen(page);
		assert.deepEqual(caps.slice(2), [`3. 冠脉钙化积分 第 ${byNumber} 层`]);
		assert.equal(await imagesLoaded(page, '#key-chosen img'), 3);
		await shot(page, 'report-keys');
		await go(page, '/report', () => page.locator('#key-chosen li.key-item').nth(2).locator('button.key-remove').click());
		assert.equal((await page.textContent('#report-notice')).trim(), '已移除关键图像');
		assert.equal((await chosen(page)).length, 2);
		assert.equal(await page.inputValue('#findings'), findings);
		await go(page, '/worklist', () => page.click('#btn-review'));

		// 3. 审核 by the chief, who sees the key images that will be
		// printed; a click opens one at full size.
		const chief = await userSession(chrome.browser, BASE, 'jn_chief', PASSWORD);
		sessions.push(chief);
		assert.equal((await chief.page.goto(`${BASE}/review/decide?id=${id}`)).status(), 200);
		await keysShown(chief.page, caps.slice(0, 2));
		assert.match(await chief.page.textContent('#key-images .hint'), /将随报告打印/);
		const [big] = await Promise.all([chief.context.waitForEvent('page'),
			chief.page.locator('#key-shown li.key-item a.key-open').nth(1).click()]);
		await big.waitForLoadState('load');
		assert.equal(new URL(big.url()).pathname, '/report/key-image');
		const size = await big.evaluate(() => {
			const img = document.querySelector('img');
			return img === null ? 0 : img.naturalWidth;
		});
		assert.ok(size > 160, `the image opened at full size (${size} px)`);
		await big.close();
		await chief.page.check('#approve-yes');
		await go(chief.page, '/review', () => chief.page.click('#btn-decide'));
		const [[state, reportedAt, reviewedAt]] = sql(`SELECT state, to_char(reported_at, 'YYYY-MM-DD HH24:MI'),
		    to_char(reviewed_at, 'YYYY-MM-DD HH24:MI') FROM applications WHERE id = :'p1'`, { params: [id] });
		assert.equal(state, 'reviewed');

		// 4. 打印 by the applicant, to a PDF.
		const apl = await userSession(chrome.browser, BASE, 'lw_apply', PASSWORD);
		sessions.push(apl);
		page = apl.page;
		assert.equal((await page.goto(`${BASE}/report/view?id=${id}`)).status(), 200);
		await keysShown(page, caps.slice(0, 2));
		await shot(page, 'view');
		await go(page, '/report/print', () => page.click('#btn-print-view'));
		assert.equal((await page.textContent('#print-hospital')).trim(), '江南县人民医院');
		assert.equal(await imagesLoaded(page, '#print-keys img'), 2);
		const figcaps = (await page.locator('#print-keys figcaption').allTextContents()).map((t) => t.trim());
		assert.deepEqual(figcaps, caps.slice(0, 2));
		await shot(page, 'sheet');
		const pdf = path.join(OUT, 'print-report.pdf');
		await page.pdf({ path: pdf, format: 'A4' });

		const pages = Number(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }).match(/^Pages:\s+(\d+)/m)[1]);
		assert.ok(pages >= 2, `a long report runs past one page (${pages})`);
		const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
		const byPage = text.split('\f').filter((t) => t.trim() !== '');
		assert.equal(byPage.length, pages);
		const flat = (s) => s.replace(/\s+/g, '');
		// The hospital is the title: the first line of the first page.
		const first = byPage[0].split('\n').map((l) => l.trim()).filter((l) => l !== '');
		assert.equal(first[0], '江南县人民医院');
		assert.equal(flat(first[1]), '远程影像诊断报告');
		const all = flat(text);
		for (const want of [diag, name, '何俊峰（主治医师）', '梁志明（主任医师）', `报告时间${reportedAt.replace(' ', '')}`,
		    `审核时间${reviewedAt.replace(' ', '')}`, '报告医生', '审核医生', '关键图像', conclusion])
			assert.ok(all.includes(flat(want)), `${want} in the PDF`);
		// 诊断号 on one line, unbroken.
		assert.ok(text.split('\n').some((l) => l.includes(diag)), '诊断号 whole on one line');
		assert.equal((all.match(/签名：?_{4,}/g) || []).length, 2, 'a signature line for each doctor');
		for (const c of figcaps)
			assert.ok(all.includes(flat(c)), `caption ${c} in the PDF`);
		for (let i = 0; i < pages; i++)
			assert.ok(flat(byPage[i]).includes(`第${i + 1}页/共${pages}页`), `page number on page ${i + 1}`);
		// The key images are in the PDF as images.
		const images = execFileSync('pdfimages', ['-list', pdf], { encoding: 'utf8' }).split('\n')
		    .slice(2).filter((l) => /\bimage\b/.test(l));
		assert.equal(images.length, 2, images.join('\n'));

		// A 病历号 at its 64-character limit wraps inside the sheet.
		const longNo = 'MRN-' + '0123456789'.repeat(6);
		assert.equal(longNo.length, 64);
		sql(`UPDATE applications SET patient_no = :'p1' WHERE id = :'p2'`, { params: [longNo, id] });
		// As printed: A4 less the page margins, 178 mm (673 CSS px).
		await page.emulateMedia({ media: 'print' });
		await page.setViewportSize({ width: 673, height: 1000 });
		await page.reload();
		assert.equal((await page.textContent('#print-patient-no')).trim(), longNo);
		const fit = await page.evaluate(() => {
			const sheet = document.getElementById('sheet').getBoundingClientRect();
			const no = document.getElementById('print-patient-no').getBoundingClientRect();
			const facts = document.querySelector('table.facts').getBoundingClientRect();
			return { sheet: sheet.right, no: no.right, facts: facts.right,
				over: document.documentElement.scrollWidth > document.documentElement.clientWidth };
		});
		assert.ok(fit.no <= fit.sheet + 0.5 && fit.facts <= fit.sheet + 0.5 && !fit.over,
		    `the long 病历号 stays on the sheet: ${JSON.stringify(fit)}`);
		await shot(page, 'long-no');
		await page.emulateMedia({ media: null });

		for (const s of sessions)
			assert.deepEqual(s.errors, [], 'no script errors or CSP violations');
	} finally {
		for (const s of sessions)
			await s.context.close();
		fs.rmSync(dir, { recursive: true, force: true });
	}
});

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, `print-${name}.png`), fullPage: true });
}
