// report.js - the report pages' behaviour: autosave of the 写报告 editor
// (every 10 seconds when changed, and when a text box loses focus), the
// AI row of 写报告 kept up to date while jobs are queued or running, and
// the 打印 button of the print view.  Without it the forms still work.
(function () {
	'use strict';

	var AUTOSAVE_MS = 10000;
	// Text typed and not yet stored on the server is kept in this
	// browser (localStorage, one entry per user and application) so that
	// a lapsed session, a closed tab or a lost network loses none of it;
	// the editor offers it back when it opens again.  Entries older than
	// a week go.
	var DRAFT_PREFIX = 'zhiying.draft.';
	var DRAFT_KEEP_MS = 7 * 24 * 3600 * 1000;

	function storage() {
		try {
			return window.localStorage;
		} catch (e) {
			return null;	// disabled: no local copy
		}
	}

	function draftSweep(ls) {
		var now = Date.now(), old = [], i, k, d;
		for (i = 0; i < ls.length; i++) {
			k = ls.key(i);
			if (k === null || k.indexOf(DRAFT_PREFIX) !== 0)
				continue;
			try {
				d = JSON.parse(ls.getItem(k));
			} catch (e) {
				d = null;
			}
			if (d === null || typeof d.t !== 'number' ||
			    now - d.t > DRAFT_KEEP_MS)
				old.push(k);
		}
		old.forEach(function (x) { ls.removeItem(x); });
	}

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

		// The local copy of unsaved text (see DRAFT_PREFIX).
		var ls = storage();
		var draftKey = DRAFT_PREFIX + (form.dataset.user || '') + '.' +
		    form.elements.id.value;
		var offering = false;	// a local copy waits for 恢复 or 放弃

		function draftRead() {
			var d = null;
			if (ls === null)
				return null;
			try {
				d = JSON.parse(ls.getItem(draftKey));
			} catch (e) {
				d = null;
			}
			if (d === null || typeof d.findings !== 'string' ||
			    typeof d.conclusion !== 'string')
				return null;
			return d;
		}

		function draftDrop() {
			if (ls !== null)
				ls.removeItem(draftKey);
		}

		// Keep the editor's text when it differs from the server's.
		function draftKeep() {
			if (ls === null || offering)
				return;
			if (text() === saved) {
				draftDrop();
				return;
			}
			try {
				ls.setItem(draftKey, JSON.stringify({
					findings: findings.value,
					conclusion: conclusion.value,
					version: version.value,
					t: Date.now()
				}));
			} catch (e) {
				// Full or refused: the server's autosave remains.
			}
		}

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
						if (text() === saved)
							draftDrop();
						show(label + ' ' + clock(), false);
						return true;
					}
					if (res.status === 409)
						stopped = true;
					if (res.status === 403 && j === null) {
						relogin();
						return false;
					}
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

		// Refused without a session (it lapsed, or the user logged
		// out elsewhere): say so, with a way back to this report after
		// logging in; what was typed stays in this browser.
		function relogin() {
			var back = window.location.pathname + window.location.search;
			var a = document.createElement('a');
			draftKeep();
			status.textContent = '登录已超时，内容未保存到服务器（已暂存在本机）。';
			a.href = '/login?expired=1&next=' + encodeURIComponent(back);
			a.id = 'autosave-relogin';
			a.textContent = '重新登录后继续';
			status.appendChild(a);
			status.classList.add('bad');
		}

		function autosave() {
			if (!leaving && !stopped && text() !== saved)
				save('已自动保存');
		}

		// A local copy from before: offer it unless the server already
		// has that text.
		if (ls !== null) {
			draftSweep(ls);
			var had = draftRead();
			if (had !== null && had.findings + '\u0000' +
			    had.conclusion === saved)
				draftDrop();
			else if (had !== null)
				offer(had);
		}

		function offer(d) {
			var box = document.getElementById('draft-offer');
			var when = new Date(d.t);
			if (box === null)
				return;
			offering = true;
			document.getElementById('draft-time').textContent =
			    ' ' + (when.getMonth() + 1) + '月' + when.getDate() +
			    '日 ' + pad(when.getHours()) + ':' +
			    pad(when.getMinutes()) + ' ';
			box.hidden = false;
			document.getElementById('btn-draft-restore')
			    .addEventListener('click', function () {
				findings.value = d.findings;
				conclusion.value = d.conclusion;
				offering = false;
				box.hidden = true;
				draftKeep();
				save('已恢复并保存');
			});
			document.getElementById('btn-draft-discard')
			    .addEventListener('click', function () {
				offering = false;
				box.hidden = true;
				draftDrop();
				draftKeep();
			});
		}

		findings.addEventListener('input', draftKeep);
		conclusion.addEventListener('input', draftKeep);

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
		// The key image forms (添加, 移除) reload the page: what was
		// typed is saved first, as for 解除锁定.
		Array.prototype.forEach.call(document.querySelectorAll('form.key-form'),
		    function (kf) {
			kf.addEventListener('submit', function (ev) {
				if (stopped || text() === saved)
					return;
				ev.preventDefault();
				save('已保存').then(function (ok) {
					if (!ok)
						return;
					leaving = true;
					kf.submit();
				});
			});
		});
		// 安全退出 clears what the site keeps in this browser (the
		// local copy too): what was typed is saved to the server
		// first; refused, the message is shown and the local copy
		// kept, and a second click logs out all the same.
		var logoutForm = document.querySelector('form.logout');
		var logoutAsked = false;
		if (logoutForm !== null)
			logoutForm.addEventListener('submit', function (ev) {
				if (logoutAsked || stopped || text() === saved)
					return;
				ev.preventDefault();
				logoutAsked = true;
				save('已保存').then(function (ok) {
					if (!ok)
						return;
					leaving = true;
					logoutForm.submit();
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
	// few seconds and redraw the row when it has changed.  A failed
	// request (the network, a busy or restarting server) is tried again
	// after a second, then waiting twice as long each time; polling stops when nothing is
	// pending, after a while (each poll keeps the session alive), or when
	// the session has ended or the application is no longer ours: the row
	// then says so instead of standing still.
	function aiPoll(row) {
		var POLL_MS = 5000, POLL_MAX = 120, RETRY_MS = 1000, RETRY_MAX_MS = 60000;
		var polls = 0, failures = 0, last = null;

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

		// Polling has stopped for good: say why, once.
		function stopped(why) {
			if (row.querySelector('.ai-stopped') === null)
				row.appendChild(el('li', 'ai-stopped', why));
		}

		function later(ms) {
			window.setTimeout(tick, ms);
		}

		function tick() {
			if (!pending())
				return;
			if (++polls > POLL_MAX) {
				stopped('AI阅片状态已较长时间未刷新，请刷新本页查看最新状态');
				return;
			}
			fetch('/ai/jobs?id=' + encodeURIComponent(row.dataset.app), {
				headers: { 'Accept': 'application/json' },
				credentials: 'same-origin'
			}).then(function (res) {
				var type = res.headers.get('Content-Type') || '';
				// The login page instead of JSON: the session ended.
				if (res.redirected || (res.ok && type.indexOf('application/json') !== 0)) {
					stopped('登录已失效，请重新登录后刷新本页查看AI阅片状态');
					return null;
				}
				if (res.status === 403 || res.status === 404) {
					stopped('无法获取AI阅片状态，请刷新本页');
					return null;
				}
				if (!res.ok)
					throw new Error(String(res.status));
				return res.text();
			}).then(function (body) {
				if (body === null)
					return;
				if (body !== last) {
					draw(JSON.parse(body).cards);
					last = body;
				}
				failures = 0;
				later(POLL_MS);
			}).catch(function () {
				failures++;
				later(Math.min(RETRY_MS * Math.pow(2, failures - 1), RETRY_MAX_MS));
			});
		}

		later(POLL_MS);
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
