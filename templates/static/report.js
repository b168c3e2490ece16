// report.js - the report pages' behaviour: autosave of the 写报告 editor
// (every 10 seconds when changed, and when a text box loses focus), the
// AI row of 写报告 kept up to date while jobs are queued or running, and
// the 打印 button of the print view.  Without it the forms still work.
(function () {
	'use strict';

	var AUTOSAVE_MS = 10000;

	function pad(n) {
		return (n < 10 ? '0' : '') + n;
	}

	function clock() {
		var d = new Date();
		return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' +
		    pad(d.getSeconds());
	}

	function editor(form) {
		var findings = form.elements.findings;
		var conclusion = form.elements.conclusion;
		var version = form.elements.version;
		var status = document.getElementById('autosave-status');
		var saveButton = document.getElementById('btn-save');
		var unlockForm = document.getElementById('unlock-form');
		var inflight = null;	// the save under way, a Promise
		var stopped = false;	// refused as stale: leave the text alone
		var leaving = false;	// submitting: no more autosaves

		function text() {
			return findings.value + '\u0000' + conclusion.value;
		}
		var saved = text();

		function show(msg, bad) {
			status.textContent = msg;
			if (bad)
				status.classList.add('bad');
			else
				status.classList.remove('bad');
		}

		// Store the editor's text as a new version.  Resolves to true
		// when the text on the server is the text in the editor.
		function save(label) {
			if (inflight !== null)
				return inflight.then(function () { return save(label); });
			if (stopped)
				return Promise.resolve(false);
			var snapshot = text();
			if (snapshot === saved) {
				if (label !== '已自动保存')
					show(label + ' ' + clock(), false);
				return Promise.resolve(true);
			}
			var body = new URLSearchParams(new FormData(form));
			inflight = fetch('/report/save', {
				method: 'POST',
				headers: { 'Accept': 'application/json' },
				credentials: 'same-origin',
				body: body
			}).then(function (res) {
				return res.json().catch(function () { return null; })
				    .then(function (j) {
					if (res.ok && j !== null && j.ok) {
						version.value = String(j.version);
						saved = snapshot;
						show(label + ' ' + clock(), false);
						return true;
					}
					if (res.status === 409)
						stopped = true;
					show(j !== null && j.message ? j.message :
					    '保存失败，请检查网络连接或重新登录', true);
					return false;
				});
			}).catch(function () {
				show('保存失败，请检查网络连接', true);
				return false;
			}).then(function (ok) {
				inflight = null;
				return ok;
			});
			return inflight;
		}

		function autosave() {
			if (!leaving && !stopped && text() !== saved)
				save('已自动保存');
		}

		window.setInterval(autosave, AUTOSAVE_MS);
		findings.addEventListener('blur', autosave);
		conclusion.addEventListener('blur', autosave);
		saveButton.addEventListener('click', function (ev) {
			ev.preventDefault();
			save('已保存');
		});
		// Submit with the version the last save produced.
		form.addEventListener('submit', function (ev) {
			if (inflight === null) {
				leaving = true;
				return;
			}
			ev.preventDefault();
			var submitter = ev.submitter || null;
			inflight.then(function () {
				leaving = true;
				if (typeof form.requestSubmit === 'function')
					form.requestSubmit(submitter);
				else
					form.submit();
			});
		});
		// The AI result page keeps what was typed too: its
		// 上传影像结论 adds to the saved draft.
		var aiRow = document.getElementById('ai-row');
		if (aiRow !== null)
			aiRow.addEventListener('click', function (ev) {
				var a = ev.target.closest('a.ai-open');
				if (a === null || stopped || text() === saved ||
				    ev.ctrlKey || ev.metaKey || ev.shiftKey)
					return;
				ev.preventDefault();
				save('已保存').then(function (ok) {
					if (ok)
						window.location.href = a.href;
				});
			});
		// 解除锁定 keeps what was typed: save first.
		if (unlockForm !== null)
			unlockForm.addEventListener('submit', function (ev) {
				if (stopped || text() === saved)
					return;
				ev.preventDefault();
				save('已保存').then(function (ok) {
					// Refused: the message is shown and a
					// second click unlocks all the same.
					if (!ok)
						return;
					leaving = true;
					unlockForm.submit();
				});
			});
	}

	// The AI row: while a card is queued or running, ask /ai/jobs every
	// few seconds and redraw the row when it has changed; stop when
	// nothing is pending, on an error, or after a while (each poll keeps
	// the session alive).
	function aiPoll(row) {
		var POLL_MS = 5000, POLL_MAX = 120;
		var polls = 0, last = null;

		function pending() {
			return row.querySelector('.ai-card.queued, .ai-card.running') !== null;
		}

		function el(tag, cls, text) {
			var e = document.createElement(tag);
			if (cls)
				e.className = cls;
			if (text !== undefined)
				e.textContent = text;
			return e;
		}

		function draw(cards) {
			var items = cards.map(function (c) {
				var li = el('li', 'ai-card ' + c.cls);
				li.dataset.job = c.job;
				li.appendChild(el('div', 'reader', c.reader));
				li.appendChild(el('div', 'series-of', c.series));
				li.appendChild(el('div', 'job-state', c.state));
				if (c.note)
					li.appendChild(el('div', 'note', c.note));
				if (c.href) {
					var a = el('a', 'ai-open', '查看AI阅片结果');
					a.href = c.href;
					li.appendChild(a);
				}
				return li;
			});
			if (items.length === 0)
				items.push(el('li', 'empty', '暂无AI辅助阅片任务'));
			row.replaceChildren.apply(row, items);
		}

		function tick() {
			if (!pending() || ++polls > POLL_MAX)
				return;
			fetch('/ai/jobs?id=' + encodeURIComponent(row.dataset.app), {
				headers: { 'Accept': 'application/json' },
				credentials: 'same-origin'
			}).then(function (res) {
				if (!res.ok)
					throw new Error(String(res.status));
				return res.text();
			}).then(function (body) {
				if (body !== last) {
					draw(JSON.parse(body).cards);
					last = body;
				}
				window.setTimeout(tick, POLL_MS);
			}).catch(function () {
				// Logged out or unavailable: the row stays as
				// it is; a reload brings it up to date.
			});
		}

		window.setTimeout(tick, POLL_MS);
	}

	var form = document.getElementById('report-form');
	if (form !== null)
		editor(form);
	var row = document.getElementById('ai-row');
	if (row !== null && row.dataset.app)
		aiPoll(row);
	var print = document.getElementById('btn-print');
	if (print !== null)
		print.addEventListener('click', function () {
			window.print();
		});
})();
