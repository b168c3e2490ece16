// 查看影像图片: the image viewer.  The server renders every image at the
// window asked for (JPEG while paging, lossless PNG once the doctor stays
// on a slice); this script shows them on canvases, prefetches the slices
// ahead, and draws the overlay, the orientation labels, the cross-hair of
// MPR, the ruler and the CT value probe.  三维重建 (T) shows the CT as
// the server renders it (/viewer/render): a small image while the doctor
// drags or turns, the full one when the turning stops.  A page may give
// the viewer what to draw over the axial images (data-annot: an AI
// result's boxes and labels) and move it (root.zv); see "Annotations".
// Written for Chrome 80: no CSS or syntax newer than it.
(function () {
	'use strict';

	var root = document.getElementById('zv');
	if (!root)
		return;
	var info = JSON.parse(root.getAttribute('data-info'));
	// Beside the report (写报告) the keys are the viewer's only while
	// the focus is in it: elsewhere they are the page's.
	var embedded = !!root.closest('.report-viewer');

	// CT windows (centre/width, HU).  Lung, mediastinum and bone as the
	// AI pages' presets (preview.c); soft tissue W350/L50, the usual
	// abdominal soft-tissue window (Hofer, CT Teaching Manual, 2007).
	var PRESETS = {
		lung: { c: -600, w: 1500, zh: '肺窗' },
		mediastinum: { c: 40, w: 400, zh: '纵隔窗' },
		bone: { c: 400, w: 1800, zh: '骨窗' },
		soft: { c: 50, w: 350, zh: '软组织' }
	};
	var PLANES = ['axial', 'coronal', 'sagittal'];
	var PLANE_ZH = { axial: '横断面', coronal: '冠状面', sagittal: '矢状面' };
	var MAX_INFLIGHT = 4;		// requests at once (six per host at most)
	var AHEAD = 12, BEHIND = 3;	// prefetched slices
	var CACHE_MAX = 600;		// decoded images kept
	var SETTLE_MS = 500;		// then the lossless image
	var CINE_FPS = 15;

	var S = null;			// the series shown
	var st = {
		wc: 0, ww: 1, preset: 'auto', invert: false, mpr: false,
		tool: 'window', active: 'axial', dir: 1,
		p: [0, 0, 0],		// the point: voxel i, j, k
		cine: null
	};
	var views = {};
	var cache = new Map();		// url -> loaded Image
	var inflight = new Map();	// url -> Image
	var shownCount = 0, firstShown = false;

	// ------------------------------------------------------------------
	// Geometry

	function dims(plane) {
		if (plane === 'axial')
			return { w: S.nx, h: S.ny, n: S.nz, sx: S.dx, sy: S.dy };
		if (plane === 'coronal')
			return { w: S.nx, h: S.nz, n: S.ny, sx: S.dx, sy: S.dz };
		return { w: S.ny, h: S.nz, n: S.nx, sx: S.dy, sy: S.dz };
	}
	function rowOfK(k) { return S.flip ? S.nz - 1 - k : k; }
	function index(plane) {
		return plane === 'axial' ? st.p[2] : plane === 'coronal' ? st.p[1] : st.p[0];
	}
	function setIndex(plane, v) {
		var d = dims(plane);
		v = Math.max(0, Math.min(d.n - 1, v));
		if (plane === 'axial') st.p[2] = v;
		else if (plane === 'coronal') st.p[1] = v;
		else st.p[0] = v;
	}
	// The point in a plane's image (pixel centre coordinates).
	function pointIn(plane) {
		if (plane === 'axial') return [st.p[0] + 0.5, st.p[1] + 0.5];
		if (plane === 'coronal') return [st.p[0] + 0.5, rowOfK(st.p[2]) + 0.5];
		return [st.p[1] + 0.5, rowOfK(st.p[2]) + 0.5];
	}
	function setPointFrom(plane, x, y) {
		var xi = Math.floor(x), yi = Math.floor(y);
		if (plane === 'axial') { setIndex('sagittal', xi); setIndex('coronal', yi); }
		else if (plane === 'coronal') { setIndex('sagittal', xi); setIndex('axial', rowOfK(yi)); }
		else { setIndex('coronal', xi); setIndex('axial', rowOfK(yi)); }
	}
	function vec(a, b, c) { return [a, b, c]; }
	function cross(a, b) {
		return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
	}
	// The patient direction of a vector, LPS: the letter of its largest part.
	function letter(v) {
		var ax = Math.abs(v[0]), ay = Math.abs(v[1]), az = Math.abs(v[2]);
		if (ax >= ay && ax >= az) return v[0] > 0 ? 'L' : 'R';
		if (ay >= az) return v[1] > 0 ? 'P' : 'A';
		return v[2] > 0 ? 'H' : 'F';
	}
	function neg(v) { return [-v[0], -v[1], -v[2]]; }
	// The right and down directions of a plane's image.
	function axes(plane) {
		var row = vec(S.iop[0], S.iop[1], S.iop[2]), col = vec(S.iop[3], S.iop[4], S.iop[5]);
		var nrm = cross(row, col), zdown = S.flip ? neg(nrm) : nrm;
		if (plane === 'axial') return [row, col];
		if (plane === 'coronal') return [row, zdown];
		return [col, zdown];
	}

	// ------------------------------------------------------------------
	// Images

	function windowNow() {
		return { c: Math.round(st.wc), w: Math.max(1, Math.round(st.ww)) };
	}
	function url(plane, z, png) {
		var w = windowNow();
		return '/viewer/image?series=' + S.id + '&plane=' + plane + '&z=' + z +
		    '&wc=' + w.c + '&ww=' + w.w + '&invert=' + (st.invert ? 1 : 0) +
		    // 自动: the file's own VOI LUT or window function, if any.
		    (st.preset === 'auto' ? '&voi=1' : '') +
		    (png ? '&fmt=png' : '') + masksParam();
	}
	function remember(u, img) {
		cache.set(u, img);
		if (cache.size > CACHE_MAX)
			cache.delete(cache.keys().next().value);
	}
	function load(u, onload) {
		if (cache.has(u) || inflight.has(u))
			return;
		var img = new Image();
		inflight.set(u, img);
		img.onload = function () {
			inflight.delete(u);
			remember(u, img);
			if (onload) onload();
			arrived(u);
			pump();
		};
		img.onerror = function () {
			inflight.delete(u);
			pump();
		};
		img.src = u;
	}
	// What should be loading, most wanted first.
	function wanted() {
		var list = [], v, i, z, d;
		visiblePlanes().forEach(function (p) { list.push(url(p, index(p))); });
		v = st.active;
		d = dims(v);
		z = index(v);
		for (i = 1; i <= AHEAD; i++)
			if (z + st.dir * i >= 0 && z + st.dir * i < d.n)
				list.push(url(v, z + st.dir * i));
		for (i = 1; i <= BEHIND; i++)
			if (z - st.dir * i >= 0 && z - st.dir * i < d.n)
				list.push(url(v, z - st.dir * i));
		return list;
	}
	function pump() {
		var list = wanted(), i;
		for (i = 0; i < list.length && inflight.size < MAX_INFLIGHT; i++)
			load(list[i]);
	}
	function arrived(u) {
		visiblePlanes().forEach(function (p) {
			var v = views[p];
			if (v.want === u || v.wantPng === u)
				show(p);
		});
		if (st.cine && st.cine.waiting === u)
			cineStep();
	}
	function visiblePlanes() {
		return st.mpr ? PLANES : ['axial'];
	}

	// Ask for the current image of every visible view.
	var settleTimer = null;
	function refresh() {
		visiblePlanes().forEach(function (p) {
			var v = views[p];
			v.want = url(p, index(p));
			v.wantPng = null;
			if (cache.has(v.want))
				show(p);
			else
				draw(p);	// the old image, a preview of the new
		});
		pump();
		updateBar();
		clearTimeout(settleTimer);
		settleTimer = setTimeout(settle, SETTLE_MS);
	}
	// The doctor stays: the lossless images.
	function settle() {
		if (st.cine)
			return;
		visiblePlanes().forEach(function (p) {
			var v = views[p], u = url(p, index(p), true);
			v.wantPng = u;
			if (cache.has(u))
				show(p);
			else
				load(u);
		});
	}
	function show(p) {
		var v = views[p], img = null, lossless = false;
		if (v.wantPng && cache.has(v.wantPng)) {
			img = cache.get(v.wantPng);
			lossless = true;
		} else if (cache.has(v.want))
			img = cache.get(v.want);
		if (!img)
			return;
		var changed = v.img !== img;
		v.img = img;
		v.imgWindow = windowNow();
		v.imgInvert = st.invert;
		v.shown = index(p);
		v.lossless = lossless;
		v.el.setAttribute('data-shown', String(v.shown));
		v.el.setAttribute('data-window', v.imgWindow.c + '/' + v.imgWindow.w);
		v.el.setAttribute('data-lossless', lossless ? '1' : '0');
		v.el.setAttribute('data-src', img.src.slice(img.src.indexOf('/viewer/')));
		if (changed && !lossless) {
			shownCount++;
			root.setAttribute('data-shown-count', String(shownCount));
		}
		if (!firstShown) {
			firstShown = true;
			root.setAttribute('data-first-image-ms', String(Math.round(performance.now())));
		}
		draw(p);
	}

	// ------------------------------------------------------------------
	// Drawing

	function layout(v) {
		var d = dims(v.plane), cw = v.canvas.width, ch = v.canvas.height;
		var base = Math.min(cw / (d.w * d.sx), ch / (d.h * d.sy));
		var kx = base * d.sx * v.zoom, ky = base * d.sy * v.zoom;
		return {
			kx: kx, ky: ky,
			ox: (cw - d.w * kx) / 2 + v.panX, oy: (ch - d.h * ky) / 2 + v.panY,
			d: d
		};
	}
	function toImage(v, ev) {
		var r = v.canvas.getBoundingClientRect(), L = layout(v);
		var sx = (ev.clientX - r.left) * v.canvas.width / r.width;
		var sy = (ev.clientY - r.top) * v.canvas.height / r.height;
		return [(sx - L.ox) / L.kx, (sy - L.oy) / L.ky];
	}
	function toScreen(L, x, y) { return [L.ox + x * L.kx, L.oy + y * L.ky]; }

	function draw(p) {
		var v = views[p], ctx = v.ctx, L, w, a, m, c, f;
		ctx.setTransform(1, 0, 0, 1, 0, 0);
		ctx.filter = 'none';
		ctx.fillStyle = '#000';
		ctx.fillRect(0, 0, v.canvas.width, v.canvas.height);
		if (!S)
			return;
		L = layout(v);
		if (v.img) {
			// An image of another window stands in, remapped, until
			// the new one comes: g' = a g + b, as brightness(m)
			// contrast(c) (c = a / m, m = 2b + a).
			w = windowNow();
			if (v.imgInvert === st.invert && (v.imgWindow.c !== w.c || v.imgWindow.w !== w.w)) {
				a = v.imgWindow.w / w.w;
				var b = ((v.imgWindow.c - v.imgWindow.w / 2) - (w.c - w.w / 2)) / w.w;
				if (st.invert) b = 1 - a - b;
				m = 2 * b + a;
				if (m > 0) {
					c = a / m;
					ctx.filter = 'brightness(' + m + ') contrast(' + c + ')';
				}
			}
			ctx.imageSmoothingEnabled = v.zoom < 4;
			ctx.drawImage(v.img, L.ox, L.oy, L.d.w * L.kx, L.d.h * L.ky);
			ctx.filter = 'none';
		}
		// Where the image is, in CSS pixels of the view.
		f = v.px || 1;
		v.el.setAttribute('data-rect', [L.ox / f, L.oy / f, L.d.w * L.kx / f, L.d.h * L.ky / f]
		    .map(function (x) { return x.toFixed(1); }).join(','));
		if (st.mpr)
			drawCross(v, L);
		drawMeasures(v, L);
		if (p === 'axial')
			drawAnnot(v, L);
		overlay(v);
	}
	function drawCross(v, L) {
		var q = pointIn(v.plane), s = toScreen(L, q[0], q[1]), ctx = v.ctx;
		ctx.strokeStyle = 'rgba(80, 220, 120, 0.85)';
		ctx.lineWidth = 1;
		ctx.beginPath();
		ctx.moveTo(0, s[1]); ctx.lineTo(v.canvas.width, s[1]);
		ctx.moveTo(s[0], 0); ctx.lineTo(s[0], v.canvas.height);
		ctx.stroke();
	}
	function drawMeasures(v, L) {
		var ctx = v.ctx, a, b, r;
		if (v.ruler && v.ruler.z === index(v.plane)) {
			a = toScreen(L, v.ruler.a[0], v.ruler.a[1]);
			b = toScreen(L, v.ruler.b[0], v.ruler.b[1]);
			ctx.strokeStyle = '#7cf';
			ctx.lineWidth = 1.5;
			ctx.beginPath();
			ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
			ctx.stroke();
			[a, b].forEach(function (q) {
				ctx.beginPath(); ctx.arc(q[0], q[1], 3, 0, 2 * Math.PI); ctx.stroke();
			});
		}
		if (v.probe && v.probe.z === index(v.plane)) {
			a = toScreen(L, v.probe.x, v.probe.y);
			ctx.strokeStyle = '#ffd36a';
			ctx.lineWidth = 1.5;
			ctx.beginPath();
			r = v.probe.r > 0 ? v.probe.r / L.d.sx * L.kx : 4;
			ctx.arc(a[0], a[1], r, 0, 2 * Math.PI);
			ctx.stroke();
		}
	}
	// 默认窗 of a film: its VOI LUT, or its window through its VOI LUT
	// Function when that is not LINEAR (the server's voi=1).
	function windowLabel() {
		var w = windowNow(), name = PRESETS[st.preset] ? PRESETS[st.preset].zh + ' ' : '';
		if (st.preset === 'auto' && S.voi === 'LUT')
			return 'VOI LUT';
		return name + 'W ' + w.w + ' L ' + w.c +
		    (st.preset === 'auto' && S.voi ? ' ' + S.voi : '');
	}
	function overlay(v) {
		var d = dims(v.plane), ax = axes(v.plane), el = v.ov, txt = [];
		var pat = info.patient;
		function set(cls, s) {
			var e = el.querySelector('.' + cls.replace(/ /g, '.'));
			if (!e) {
				e = document.createElement('div');
				e.className = cls;
				el.appendChild(e);
			}
			e.textContent = s;
		}
		set('tl', pat.name + '  ' + pat.sex + '  ' + pat.age + '\n诊断号 ' + info.diag_no +
		    (info.exam_date ? '\n' + info.exam_date : ''));
		set('tr', '序列 ' + S.number + (S.description ? ' ' + S.description : '') + '\n' +
		    S.modality + ' · ' + PLANE_ZH[v.plane] + (v.lossless ? ' · 无损' : ''));
		set('bl', '第 ' + (index(v.plane) + 1) + ' / ' + d.n + ' 幅\n' + windowLabel() +
		    (st.invert ? ' 反相' : ''));
		txt.push('缩放 ' + Math.round(v.zoom * 100) + '%');
		if (S.spacing_known)
			txt.push('像素 ' + d.sx.toFixed(2) + '×' + d.sy.toFixed(2) + ' mm');
		else
			txt.push('无像素间距：测距以像素计');
		set('br', txt.join('\n'));
		if (S.has_iop) {
			set('o r', letter(ax[0]));
			set('o l', letter(neg(ax[0])));
			set('o b', letter(ax[1]));
			set('o t', letter(neg(ax[1])));
		}
		set('meas', measText(v));
		var m = el.querySelector('.meas');
		if (v.measAt) {
			m.style.left = Math.round(v.measAt[0]) + 'px';
			m.style.top = Math.round(v.measAt[1]) + 'px';
		}
	}
	function rulerLength(v) {
		var d = dims(v.plane), dx = (v.ruler.b[0] - v.ruler.a[0]), dy = (v.ruler.b[1] - v.ruler.a[1]);
		if (!S.spacing_known)
			return Math.hypot(dx, dy).toFixed(1) + ' 像素';
		return Math.hypot(dx * d.sx, dy * d.sy).toFixed(1) + ' mm';
	}
	function measText(v) {
		var s = [], p = v.probe, unit;
		if (v.ruler && v.ruler.z === index(v.plane))
			s.push('距离 ' + rulerLength(v));
		if (p && p.z === index(v.plane) && p.res) {
			unit = p.res.unit ? ' ' + p.res.unit : '';
			if (p.res.value !== null)
				s.push((S.ct ? 'CT值 ' : '值 ') + p.res.value + unit);
			if (p.res.roi)
				s.push('均值 ' + p.res.roi.mean + unit + ' ± ' + p.res.roi.sd + '  面积 ' +
				    (S.spacing_known ? (p.res.roi.area_mm2 / 100).toFixed(2) + ' cm²' :
				    p.res.roi.n + ' 像素'));
		}
		return s.join('\n');
	}

	function updateBar() {
		var v = views[st.active], d = dims(st.active);
		if (V3.on) {
			document.getElementById('zv-readout').textContent = '三维重建 · ' + RENDER_ZH[V3.mode] +
			    ' · 方位 ' + V3.az + '° 仰角 ' + V3.el + '° · 缩放 ' + Math.round(V3.zoom * 100) + '%';
			return;
		}
		var slider = document.getElementById('zv-slider');
		slider.max = String(d.n);
		slider.value = String(index(st.active) + 1);
		document.getElementById('zv-readout').textContent = PLANE_ZH[st.active] + ' 第 ' +
		    (index(st.active) + 1) + ' / ' + d.n + ' 幅 · ' + windowLabel() +
		    (v && v.zoom !== 1 ? ' · 缩放 ' + Math.round(v.zoom * 100) + '%' : '');
		root.setAttribute('data-index', String(index(st.active)));
		annotChanged();
	}

	// ------------------------------------------------------------------
	// Actions

	function scroll(n) {
		if (!S) return;
		st.dir = n >= 0 ? 1 : -1;
		setIndex(st.active, index(st.active) + n);
		refresh();
		if (st.mpr) PLANES.forEach(function (p) { if (p !== st.active) draw(p); });
	}
	function preset(name) {
		var btns = document.querySelectorAll('#zv-presets button');
		// The CT windows are in HU: a film has only its own.
		if (PRESETS[name] && !S.ct)
			name = 'auto';
		if (PRESETS[name]) {
			st.wc = PRESETS[name].c;
			st.ww = PRESETS[name].w;
		} else {
			name = 'auto';
			autoWindow();
		}
		st.preset = name;
		Array.prototype.forEach.call(btns, function (b) {
			b.classList.toggle('on', b.getAttribute('data-preset') === name);
		});
		refresh();
	}
	function autoWindow() {
		if (S.voi === 'LUT' && S.voi_wc != null && S.voi_ww >= 1) {
			// A drag starts from the window equivalent to the LUT.
			st.wc = S.voi_wc; st.ww = S.voi_ww;
		} else if (S.wc !== null && S.ww !== null && S.ww >= 1) {
			st.wc = S.wc; st.ww = S.ww;
		} else if (S.ct) {
			st.wc = 40; st.ww = 400;
		} else {
			// 8-bit films and the like: the full range.
			st.wc = 127.5; st.ww = 256;
		}
	}
	function tool(name) {
		st.tool = name;
		Array.prototype.forEach.call(document.querySelectorAll('#zv-toolset button'), function (b) {
			b.classList.toggle('on', b.getAttribute('data-tool') === name);
		});
		root.setAttribute('data-tool', name);
	}
	function zoomBy(f) {
		var v = views[st.active];
		v.zoom = Math.max(0.25, Math.min(16, v.zoom * f));
		draw(st.active);
		updateBar();
	}
	function panBy(dx, dy) {
		var v = views[st.active];
		v.panX += dx; v.panY += dy;
		draw(st.active);
	}
	function fit() {
		PLANES.forEach(function (p) { views[p].zoom = 1; views[p].panX = views[p].panY = 0; draw(p); });
		updateBar();
	}
	function invert() {
		st.invert = !st.invert;
		document.getElementById('zv-invert').setAttribute('aria-pressed', String(st.invert));
		refresh();
	}
	function mpr(on) {
		if (on && !S.mpr) return;
		st.mpr = on;
		document.getElementById('zv-mpr').setAttribute('aria-pressed', String(on));
		document.getElementById('zv-views').classList.toggle('mpr', on);
		views.coronal.el.hidden = views.sagittal.el.hidden = !on;
		if (!on) activate('axial');
		if (on) tool('cross');
		else if (st.tool === 'cross') tool('window');
		root.setAttribute('data-mpr', on ? '1' : '0');
		resize();
		refresh();
	}
	function activate(p) {
		st.active = p;
		PLANES.forEach(function (q) { views[q].el.classList.toggle('active', q === p && st.mpr); });
		updateBar();
	}
	function cine(on) {
		if (!on) {
			if (st.cine) {
				var c = st.cine, secs = (performance.now() - c.t0) / 1000;
				if (c.frames > 0 && secs > 0)
					root.setAttribute('data-cine-fps', (c.frames / secs).toFixed(1));
				clearTimeout(c.timer);
			}
			st.cine = null;
			document.getElementById('zv-cine').setAttribute('aria-pressed', 'false');
			refresh();
			return;
		}
		st.dir = 1;
		st.cine = { t0: performance.now(), frames: 0, last: 0, timer: null, waiting: null };
		root.removeAttribute('data-cine-fps');
		document.getElementById('zv-cine').setAttribute('aria-pressed', 'true');
		cineStep();
	}
	// Next slice when it has come and a frame's time has passed; from the
	// last slice back to the first.
	function cineStep() {
		var c = st.cine, d, next, u, wait;
		if (!c) return;
		clearTimeout(c.timer);
		d = dims(st.active);
		next = index(st.active) + 1 >= d.n ? 0 : index(st.active) + 1;
		u = url(st.active, next);
		if (!cache.has(u)) {
			c.waiting = u;
			st.dir = 1;
			pump();
			load(u);
			return;
		}
		c.waiting = null;
		wait = c.last + 1000 / CINE_FPS - performance.now();
		if (wait > 0) {
			c.timer = setTimeout(cineStep, wait);
			return;
		}
		c.last = performance.now();
		setIndex(st.active, next);
		c.frames++;
		refresh();
		c.timer = setTimeout(cineStep, 1000 / CINE_FPS);
	}
	function fullscreen() {
		if (document.fullscreenElement)
			document.exitFullscreen();
		else if (root.requestFullscreen)
			root.requestFullscreen();
	}
	// Series k, at its middle or at axial image at.k in preset at.preset.
	function chooseSeries(k, at) {
		if (k < 0 || k >= info.series.length) return;
		if (st.cine) cine(false);
		S = info.series[k];
		st.p = [Math.floor(S.nx / 2), Math.floor(S.ny / 2), Math.floor(S.nz / 2)];
		if (at && at.k >= 0 && at.k < S.nz)
			st.p[2] = at.k;
		PLANES.forEach(function (p) {
			var v = views[p];
			v.img = null; v.ruler = null; v.probe = null; v.measAt = null;
			v.zoom = 1; v.panX = v.panY = 0;
		});
		Array.prototype.forEach.call(document.querySelectorAll('.zv-thumb'), function (b) {
			b.classList.toggle('on', Number(b.getAttribute('data-k')) === k);
			b.setAttribute('aria-pressed', String(Number(b.getAttribute('data-k')) === k));
		});
		root.setAttribute('data-series', String(S.id));
		root.setAttribute('data-k', String(k));
		document.getElementById('zv-mpr').disabled = !S.mpr;
		st.invert = false;
		document.getElementById('zv-invert').setAttribute('aria-pressed', 'false');
		document.getElementById('zv-3d').disabled = !(S.ct && S.mpr);
		Array.prototype.forEach.call(document.querySelectorAll('#zv-presets button'), function (b) {
			var ct = !!PRESETS[b.getAttribute('data-preset')];
			b.disabled = ct && !S.ct;
			if (ct)
				b.title = S.ct ? b.getAttribute('data-title') : 'CT窗（HU），不适用于' + (S.modality || '该') + '图像';
		});
		if (st.mpr && !S.mpr) mpr(false);
		masksSeries();
		activate('axial');
		preset(at && at.preset ? at.preset : S.ct ? (S.nz > 1 ? 'lung' : 'auto') : 'auto');
		if (V3.on) {
			V3.img = null;
			V3.full = false;
			if (S.ct && S.mpr) {
				reset3();
				turned3(true);
			} else
				view3(false);
		}
	}

	// A probe: the value under the point, and the circle's when r > 0.
	function probe(v, x, y, r) {
		var z = index(v.plane), q = { x: x, y: y, r: r, z: z, res: null };
		v.probe = q;
		var u = '/viewer/probe?series=' + S.id + '&plane=' + v.plane + '&z=' + z +
		    '&px=' + x.toFixed(2) + '&py=' + y.toFixed(2) + (r > 0 ? '&rmm=' + r.toFixed(2) : '');
		fetch(u, { credentials: 'same-origin' }).then(function (resp) {
			if (!resp.ok) throw new Error(String(resp.status));
			return resp.json();
		}).then(function (res) {
			if (v.probe !== q) return;
			q.res = res;
			v.el.setAttribute('data-probe', JSON.stringify(res));
			draw(v.plane);
		}).catch(function () {
			if (v.probe === q) { q.res = null; v.el.setAttribute('data-probe', 'error'); }
		});
		draw(v.plane);
	}

	// ------------------------------------------------------------------
	// 三维重建: images rendered by the server from the whole series.

	var RENDER_ZH = { bone: '骨骼', lung: '肺', mip: 'MIP' };
	var LOW3 = 160;			// side of the images while turning
	var STEP3 = 15;			// degrees a key turns
	var V3 = {
		on: false, mode: 'bone', az: 0, el: 0, zoom: 1,
		img: null, shown: '', full: false,
		lowBusy: false, lowAgain: false, fullUrl: null, timer: null
	};
	var v3el = document.getElementById('zv-v3d');
	var v3c = v3el.querySelector('canvas'), v3ctx = v3c.getContext('2d');
	var v3ov = v3el.querySelector('.zv-ov');

	function url3(size) {
		return '/viewer/render?series=' + S.id + '&render=' + V3.mode + '&az=' + V3.az +
		    '&el=' + V3.el + '&zoom=' + V3.zoom.toFixed(2) + '&size=' + size + masksParam();
	}
	// The full image's side: the view's shorter side in device pixels,
	// in steps of 64, within what the server renders (128..768).
	function full3Size() {
		var r = v3el.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
		var s = Math.ceil(Math.min(r.width, r.height) * dpr / 64) * 64;
		return Math.max(128, Math.min(768, s));
	}
	function show3(img, u, full) {
		V3.img = img;
		V3.shown = u;
		V3.full = full;
		v3el.setAttribute('data-shown', u);
		v3el.setAttribute('data-natural', img.naturalWidth + 'x' + img.naturalHeight);
		v3el.setAttribute('data-full', full ? '1' : '0');
		draw3();
	}
	// A small image of the present view: one at a time, the latest
	// asked for when it comes.
	function low3() {
		if (V3.lowBusy) {
			V3.lowAgain = true;
			return;
		}
		var u = url3(LOW3), img = new Image();
		V3.lowBusy = true;
		V3.lowAgain = false;
		img.onload = img.onerror = function (ev) {
			V3.lowBusy = false;
			// Never over the full image of the present view.
			if (ev.type === 'load' && V3.on && !(V3.full && V3.shown === V3.fullUrl))
				show3(img, u, false);
			if (V3.lowAgain && V3.on)
				low3();
		};
		img.src = u;
	}
	function full3() {
		clearTimeout(V3.timer);
		var u = url3(full3Size()), img = new Image(), t0 = performance.now();
		if (V3.fullUrl === u && V3.full && V3.shown === u)
			return;
		V3.fullUrl = u;
		v3el.setAttribute('data-want', u);
		img.onload = function () {
			if (V3.fullUrl !== u || !V3.on)
				return;
			v3el.setAttribute('data-render-ms', String(Math.round(performance.now() - t0)));
			show3(img, u, true);
		};
		img.onerror = function () {
			if (V3.fullUrl === u) {
				v3el.setAttribute('data-error', u);
				draw3();
			}
		};
		img.src = u;
	}
	// The view changed: the small image now, the full one once it stays
	// (at once for a key, after the drag or the wheel stops).
	function turned3(settled) {
		v3el.setAttribute('data-az', String(V3.az));
		v3el.setAttribute('data-el', String(V3.el));
		v3el.setAttribute('data-zoom', V3.zoom.toFixed(2));
		v3el.setAttribute('data-render', V3.mode);
		low3();
		clearTimeout(V3.timer);
		if (settled)
			full3();
		else
			V3.timer = setTimeout(full3, 300);
		draw3();
		updateBar();
	}
	function turn3(daz, del) {
		V3.az = ((Math.round(V3.az + daz) % 360) + 360) % 360;
		V3.el = Math.max(-90, Math.min(90, Math.round(V3.el + del)));
	}
	function zoom3(f) {
		V3.zoom = Math.max(0.5, Math.min(8, Math.round(V3.zoom * f * 100) / 100));
	}
	function mode3(m) {
		V3.mode = m;
		Array.prototype.forEach.call(document.querySelectorAll('#zv-3dpresets button'), function (b) {
			b.classList.toggle('on', b.getAttribute('data-render') === m);
			b.setAttribute('aria-pressed', String(b.getAttribute('data-render') === m));
		});
	}
	function reset3() {
		V3.az = V3.el = 0;
		V3.zoom = 1;
	}
	// The patient direction of a camera vector (x, y as the index, z to
	// the head): the volume's row, column and head directions.
	function dir3(c) {
		var row = [S.iop[0], S.iop[1], S.iop[2]], col = [S.iop[3], S.iop[4], S.iop[5]];
		var nrm = cross(row, col), head = S.flip ? nrm : neg(nrm), v = [0, 0, 0], i;
		for (i = 0; i < 3; i++)
			v[i] = c[0] * row[i] + c[1] * col[i] + c[2] * head[i];
		return v;
	}
	function draw3() {
		var cw = v3c.width, ch = v3c.height, s, a, e, r, u, pat = info.patient;
		v3ctx.setTransform(1, 0, 0, 1, 0, 0);
		v3ctx.fillStyle = '#000';
		v3ctx.fillRect(0, 0, cw, ch);
		if (V3.img) {
			s = Math.min(cw, ch);
			v3ctx.imageSmoothingEnabled = true;
			v3ctx.drawImage(V3.img, (cw - s) / 2, (ch - s) / 2, s, s);
		}
		function set(cls, txt) {
			var el = v3ov.querySelector('.' + cls.replace(/ /g, '.'));
			if (!el) {
				el = document.createElement('div');
				el.className = cls;
				v3ov.appendChild(el);
			}
			el.textContent = txt;
		}
		if (!S)
			return;
		set('tl', pat.name + '  ' + pat.sex + '  ' + pat.age + '\n诊断号 ' + info.diag_no);
		set('tr', '序列 ' + S.number + (S.description ? ' ' + S.description : '') + '\n' +
		    S.modality + ' · 三维重建 · ' + RENDER_ZH[V3.mode]);
		set('bl', '方位 ' + V3.az + '°  仰角 ' + V3.el + '°' +
		    (v3el.getAttribute('data-error') === V3.fullUrl ? '\n无法显示该影像' : ''));
		set('br', '缩放 ' + Math.round(V3.zoom * 100) + '%' + (V3.img && !V3.full ? '\n预览' : ''));
		labels3();
		if (S.has_iop) {
			a = V3.az * Math.PI / 180;
			e = V3.el * Math.PI / 180;
			r = dir3([Math.cos(a), -Math.sin(a), 0]);
			u = dir3([Math.sin(a) * Math.sin(e), Math.cos(a) * Math.sin(e), Math.cos(e)]);
			set('o r', letter(r));
			set('o l', letter(neg(r)));
			set('o t', letter(u));
			set('o b', letter(neg(u)));
		}
	}
	// 显示AI标注 in 三维: each region's name at the centre of its voxels
	// (the legend's "at", index space), projected as view_render()
	// projects (orthographic, view.c): p and q the point's distances
	// along the camera's right and up vectors from the volume's centre,
	// half the volume's diagonal to half the picture at zoom 1.  The
	// camera is that of the picture shown, which may lag the keys.
	// Lobes are left unnamed: the legend says their colours.
	function labels3() {
		var box = v3ov.querySelector('.zv-l3s'), m = masksNow(), sh, q, a, e, zoom, ext, diag;
		var zs, r, u, rect, side, ox, oy;
		if (!box) {
			box = document.createElement('div');
			box.className = 'zv-l3s';
			v3ov.appendChild(box);
		}
		box.textContent = '';
		if (!m || !V3.img || !V3.shown || !S)
			return;
		sh = new URLSearchParams(V3.shown.split('?')[1]);
		a = Number(sh.get('az')) * Math.PI / 180;
		e = Number(sh.get('el')) * Math.PI / 180;
		zoom = Number(sh.get('zoom')) || 1;
		ext = [(S.nx - 1) * S.dx, (S.ny - 1) * S.dy, (S.nz - 1) * S.dz];
		diag = Math.sqrt(ext[0] * ext[0] + ext[1] * ext[1] + ext[2] * ext[2]) || 1;
		zs = S.flip ? 1 : -1;
		r = [Math.cos(a), -Math.sin(a), 0];
		u = [Math.sin(a) * Math.sin(e), Math.cos(a) * Math.sin(e), Math.cos(e)];
		rect = v3el.getBoundingClientRect();
		side = Math.min(rect.width, rect.height);
		ox = (rect.width - side) / 2;
		oy = (rect.height - side) / 2;
		(m.legend || []).forEach(function (en) {
			if (!en.at || en.at.length !== 3 || en.kind === 'lobe')
				return;
			q = [en.at[0] * S.dx - ext[0] / 2, en.at[1] * S.dy - ext[1] / 2,
			    zs * (en.at[2] * S.dz - ext[2] / 2)];
			var fx = 0.5 + (q[0] * r[0] + q[1] * r[1] + q[2] * r[2]) * zoom / diag;
			var fy = 0.5 - (q[0] * u[0] + q[1] * u[1] + q[2] * u[2]) * zoom / diag;
			if (fx < 0 || fx > 1 || fy < 0 || fy > 1)
				return;
			var el = document.createElement('span');
			el.className = 'zv-l3';
			el.textContent = en.name;
			el.style.left = (ox + fx * side) + 'px';
			el.style.top = (oy + fy * side) + 'px';
			el.style.borderBottom = '2px solid ' + (en.colour || '#fff');
			el.setAttribute('data-label', String(en.label));
			box.appendChild(el);
		});
	}
	function resize3() {
		var r = v3el.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
		v3c.width = Math.max(1, Math.round(r.width * dpr));
		v3c.height = Math.max(1, Math.round(r.height * dpr));
		draw3();
		if (V3.on && V3.fullUrl !== url3(full3Size()))
			V3.timer = setTimeout(full3, 300);
	}
	function view3(on) {
		if (on && !(S && S.ct && S.mpr))
			return;
		if (on && st.cine)
			cine(false);
		V3.on = on;
		document.getElementById('zv-3d').setAttribute('aria-pressed', String(on));
		document.getElementById('zv-3dpresets').hidden = !on;
		document.getElementById('zv-presets').hidden = on;
		document.getElementById('zv-toolset').hidden = on;
		['zv-invert', 'zv-mpr', 'zv-cine', 'zv-slider'].forEach(function (id) {
			document.getElementById(id).disabled = on || (id === 'zv-mpr' && !S.mpr);
		});
		root.setAttribute('data-3d', on ? '1' : '0');
		// MPR comes back with the slices; in 三维 it is not pressed.
		document.getElementById('zv-mpr').setAttribute('aria-pressed', String(!on && st.mpr));
		if (on) {
			document.getElementById('zv-views').classList.remove('mpr');
			PLANES.forEach(function (p) { views[p].el.hidden = true; });
			v3el.hidden = false;
			mode3(V3.mode);
			resize3();
			v3el.focus();
			turned3(true);
		} else {
			clearTimeout(V3.timer);
			V3.fullUrl = null;
			v3el.hidden = true;
			views.axial.el.hidden = false;
			mpr(st.mpr && S.mpr);
			views.axial.el.focus();
		}
		updateBar();
	}
	function key3(k) {
		if (k === 'ArrowLeft') turn3(STEP3, 0);
		else if (k === 'ArrowRight') turn3(-STEP3, 0);
		else if (k === 'ArrowUp') turn3(0, -STEP3);
		else if (k === 'ArrowDown') turn3(0, STEP3);
		else if (k === '+' || k === '=') zoom3(1.25);
		else if (k === '-' || k === '_') zoom3(0.8);
		else if (k === '1') mode3('bone');
		else if (k === '2') mode3('lung');
		else if (k === '3') mode3('mip');
		else if (k === 'r' || k === 'R') reset3();
		else if (k === 't' || k === 'T' || k === 'Escape') { view3(false); return true; }
		else if (k === 'f' || k === 'F') { fullscreen(); return true; }
		else return false;
		turned3(true);
		return true;
	}
	v3el.addEventListener('mousedown', function (ev) {
		if (ev.button !== 0) return;
		var x0 = ev.clientX, y0 = ev.clientY, az0 = V3.az, el0 = V3.el;
		ev.preventDefault();
		v3el.focus();
		function move(e) {
			V3.az = az0;
			V3.el = el0;
			// Half a degree a pixel: the front follows the mouse.
			turn3(-(e.clientX - x0) / 2, (e.clientY - y0) / 2);
			turned3(false);
		}
		function up(e) {
			window.removeEventListener('mousemove', move);
			window.removeEventListener('mouseup', up);
			V3.az = az0;
			V3.el = el0;
			turn3(-(e.clientX - x0) / 2, (e.clientY - y0) / 2);
			turned3(true);
		}
		window.addEventListener('mousemove', move);
		window.addEventListener('mouseup', up);
	});
	v3el.addEventListener('wheel', function (ev) {
		ev.preventDefault();
		zoom3(ev.deltaY < 0 ? 1.1 : 1 / 1.1);
		turned3(false);
	}, { passive: false });
	Array.prototype.forEach.call(document.querySelectorAll('#zv-3dpresets button'), function (b) {
		b.addEventListener('click', function () {
			mode3(b.getAttribute('data-render'));
			turned3(true);
		});
	});
	document.getElementById('zv-3d').addEventListener('click', function () { view3(!V3.on); });

	// ------------------------------------------------------------------
	// Annotations: what the page gives to draw over the axial images of
	// one series (data-annot, JSON; the AI result page): boxes [idx, z,
	// x0, y0, x1, y1], numbered, and labels [z, x, y, text, class], in
	// the voxels of a volume of nx by ny whose slice z is the viewer's
	// axial image zk[z] (-1: none).  They are drawn in image coordinates,
	// so that they follow zoom and pan.  The page moves the viewer with
	// root.zv.show(z, idx), turns the labels on or off with
	// root.zv.labels(on), and hears of every change by the event
	// zv-change ({ z, k, series, wc, ww, preset }, z -1 when the image
	// shown is not one of the volume's).

	var AN = root.hasAttribute('data-annot') ? JSON.parse(root.getAttribute('data-annot')) : null;
	var annot = { boxes: {}, labels: {}, zOf: {}, showLabels: true, pick: null, layer: null, els: {}, last: '' };
	if (AN) {
		AN.zk.forEach(function (k, z) {
			if (k >= 0 && annot.zOf[k] === undefined) annot.zOf[k] = z;
		});
		AN.boxes.forEach(function (b) {
			var k = AN.zk[b[1]];
			if (k === undefined || k < 0) return;
			(annot.boxes[k] = annot.boxes[k] || []).push(b);
		});
		AN.labels.forEach(function (t) {
			var k = AN.zk[t[0]];
			if (k === undefined || k < 0) return;
			(annot.labels[k] = annot.labels[k] || []).push(t);
		});
	}
	function annotHere() {
		return AN && S && S.id === AN.series;
	}
	// The elements of what is drawn are kept while they stay (an image
	// that arrives redraws them in place) and made or dropped as the
	// slice changes.
	function annotEl(used, key, tag, cls) {
		var e = annot.els[key];
		if (!e) {
			e = annot.els[key] = document.createElement(tag);
			annot.layer.appendChild(e);
		}
		if (e.className !== cls) e.className = cls;
		used[key] = true;
		return e;
	}
	function place(e, x, y, w, h) {
		e.style.left = x.toFixed(1) + 'px';
		e.style.top = y.toFixed(1) + 'px';
		if (w !== undefined) {
			e.style.width = Math.max(1, w).toFixed(1) + 'px';
			e.style.height = Math.max(1, h).toFixed(1) + 'px';
		}
	}
	function drawAnnot(v, L) {
		var used = {}, k, f, sx, sy, key;
		if (!annot.layer) return;
		if (annotHere()) {
			k = index('axial');
			// Canvas pixels to CSS pixels; the result's voxels to the
			// image's.
			f = v.px || 1;
			sx = S.nx / (AN.nx > 0 ? AN.nx : S.nx);
			sy = S.ny / (AN.ny > 0 ? AN.ny : S.ny);
			var at = function (x, y) {
				var q = toScreen(L, x * sx, y * sy);
				return [q[0] / f, q[1] / f];
			};
			(annot.boxes[k] || []).forEach(function (b) {
				var a = at(Math.max(0, b[2]), Math.max(0, b[3]));
				var c = at(Math.min(AN.nx || S.nx, b[4] + 1), Math.min(AN.ny || S.ny, b[5] + 1));
				var e = annotEl(used, 'b' + b[0], 'div', 'zv-box' + (annot.pick === b[0] ? ' pick' : ''));
				if (!e.firstChild) {
					e.appendChild(document.createElement('span')).textContent = String(b[0]);
					e.setAttribute('data-idx', String(b[0]));
					e.setAttribute('data-slice', String(b[1]));
				}
				place(e, a[0], a[1], c[0] - a[0], c[1] - a[1]);
			});
			if (annot.showLabels)
				(annot.labels[k] || []).forEach(function (t, i) {
					var a = at(t[1], t[2]), e = annotEl(used, 'l' + k + ':' + i, 'span', 'zv-lab ' + t[4]);
					if (!e.firstChild) {
						e.textContent = t[3];
						e.setAttribute('data-slice', String(t[0]));
					}
					place(e, a[0], a[1]);
				});
		}
		for (key in annot.els)
			if (!used[key]) {
				annot.layer.removeChild(annot.els[key]);
				delete annot.els[key];
			}
	}
	// The page hears of the slice and window shown, once per change.
	function annotChanged() {
		if (!S) return;
		var k = index('axial'), w = windowNow();
		var z = annotHere() && annot.zOf[k] !== undefined ? annot.zOf[k] : -1;
		var d = { z: z, k: k, series: S.id, wc: w.c, ww: w.w, preset: st.preset, ct: S.ct };
		var key = JSON.stringify(d);
		if (key === annot.last) return;
		annot.last = key;
		root.setAttribute('data-z', String(z));
		var ev = document.createEvent('CustomEvent');
		ev.initCustomEvent('zv-change', false, false, d);
		root.dispatchEvent(ev);
	}
	function annotShow(z, idx) {
		var k = AN ? AN.zk[z] : undefined, i;
		if (k === undefined || k < 0) return;
		if (V3.on) view3(false);
		if (!annotHere())
			for (i = 0; i < info.series.length; i++)
				if (info.series[i].id === AN.series) chooseSeries(i, { k: k });
		annot.pick = idx === undefined ? null : idx;
		st.dir = k >= index('axial') ? 1 : -1;
		setIndex('axial', k);
		activate('axial');
		refresh();
		if (st.mpr) PLANES.forEach(draw);
		else draw('axial');
	}
	root.zv = {
		show: annotShow,
		labels: function (on) {
			annot.showLabels = !!on;
			root.setAttribute('data-labels', on ? '1' : '0');
			draw('axial');
		}
	};

	// ------------------------------------------------------------------
	// Mouse

	function pointerDown(v, ev) {
		if (ev.button !== 0) return;
		var start = toImage(v, ev), x0 = ev.clientX, y0 = ev.clientY;
		var wc0 = st.wc, ww0 = st.ww, zoom0 = v.zoom, px0 = v.panX, py0 = v.panY;
		var scale = v.canvas.width / v.canvas.getBoundingClientRect().width;
		activate(v.plane);
		v.el.focus();
		ev.preventDefault();
		if (st.tool === 'ruler') {
			v.ruler = { a: start, b: start, z: index(v.plane) };
			v.el.setAttribute('data-ruler', '');
		}
		if (st.tool === 'cross') {
			setPointFrom(v.plane, start[0], start[1]);
			refresh();
			PLANES.forEach(draw);
		}
		function move(e) {
			var dx = e.clientX - x0, dy = e.clientY - y0, here = toImage(v, e);
			if (st.tool === 'window') {
				st.ww = Math.max(1, ww0 + dx * 4);
				st.wc = wc0 - dy * 2;
				st.preset = '';
				Array.prototype.forEach.call(document.querySelectorAll('#zv-presets button'), function (b) { b.classList.remove('on'); });
				PLANES.forEach(function (p) { if (!views[p].el.hidden) draw(p); });
				updateBar();
			} else if (st.tool === 'pan') {
				v.panX = px0 + dx * scale; v.panY = py0 + dy * scale;
				draw(v.plane);
			} else if (st.tool === 'zoom') {
				v.zoom = Math.max(0.25, Math.min(16, zoom0 * Math.pow(1.01, -dy)));
				draw(v.plane);
				updateBar();
			} else if (st.tool === 'ruler') {
				v.ruler.b = here;
				v.measAt = [e.clientX - v.canvas.getBoundingClientRect().left + 8, e.clientY - v.canvas.getBoundingClientRect().top + 8];
				draw(v.plane);
			} else if (st.tool === 'cross') {
				setPointFrom(v.plane, here[0], here[1]);
				PLANES.forEach(draw);
			}
		}
		function up(e) {
			window.removeEventListener('mousemove', move);
			window.removeEventListener('mouseup', up);
			var here = toImage(v, e), d = dims(v.plane), r;
			if (st.tool === 'window')
				refresh();
			else if (st.tool === 'ruler') {
				v.ruler.b = here;
				v.el.setAttribute('data-ruler', rulerLength(v));
				draw(v.plane);
			} else if (st.tool === 'probe') {
				r = Math.hypot((here[0] - start[0]) * d.sx, (here[1] - start[1]) * d.sy);
				v.measAt = [e.clientX - v.canvas.getBoundingClientRect().left + 8, e.clientY - v.canvas.getBoundingClientRect().top + 8];
				probe(v, start[0], start[1], r < 0.5 ? 0 : r);
			} else if (st.tool === 'cross') {
				setPointFrom(v.plane, here[0], here[1]);
				refresh();
			}
		}
		window.addEventListener('mousemove', move);
		window.addEventListener('mouseup', up);
	}

	// ------------------------------------------------------------------
	// Keyboard

	function key(ev) {
		var t = ev.target;
		if (embedded && !root.contains(document.activeElement))
			return;
		if (!S || ev.ctrlKey || ev.altKey || ev.metaKey ||
		    (t && (t.tagName === 'INPUT' && t.type !== 'range' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')))
			return;
		var k = ev.key, done = true;
		if ((k === 'a' || k === 'A') && S.masks && S.masks.length) {
			masksOn(!MK.on);
			ev.preventDefault();
			return;
		}
		if (V3.on) {
			if (key3(k))
				ev.preventDefault();
			return;
		}
		if (k === 't' || k === 'T') {
			view3(true);
			ev.preventDefault();
			return;
		}
		if (ev.shiftKey && /^Arrow/.test(k)) {
			panBy(k === 'ArrowLeft' ? -20 : k === 'ArrowRight' ? 20 : 0,
			    k === 'ArrowUp' ? -20 : k === 'ArrowDown' ? 20 : 0);
		} else if (k === 'ArrowDown' || k === 'ArrowRight') scroll(1);
		else if (k === 'ArrowUp' || k === 'ArrowLeft') scroll(-1);
		else if (k === 'PageDown') scroll(10);
		else if (k === 'PageUp') scroll(-10);
		else if (k === 'Home') scroll(-dims(st.active).n);
		else if (k === 'End') scroll(dims(st.active).n);
		else if (k === '1') preset('lung');
		else if (k === '2') preset('mediastinum');
		else if (k === '3') preset('bone');
		else if (k === '4') preset('soft');
		else if (k === '0') preset('auto');
		else if (k === '+' || k === '=') zoomBy(1.25);
		else if (k === '-' || k === '_') zoomBy(0.8);
		else if (k === 'i' || k === 'I') invert();
		else if (k === 'm' || k === 'M') mpr(!st.mpr);
		else if (k === 'c' || k === 'C') cine(!st.cine);
		else if (k === 'r' || k === 'R') fit();
		else if (k === 'f' || k === 'F') fullscreen();
		else if (k === '[') chooseSeries(Number(root.getAttribute('data-k')) - 1);
		else if (k === ']') chooseSeries(Number(root.getAttribute('data-k')) + 1);
		else if (k === 'Tab' && st.mpr && t && t.classList && t.classList.contains('zv-view')) {
			done = false;
			setTimeout(function () {
				var f = document.activeElement;
				if (f && f.classList.contains('zv-view')) activate(f.getAttribute('data-plane'));
			}, 0);
		} else if (k === 'Escape') {
			PLANES.forEach(function (p) { views[p].ruler = null; views[p].probe = null; draw(p); });
		} else {
			var tools = { w: 'window', p: 'pan', z: 'zoom', d: 'ruler', v: 'probe', x: 'cross' };
			if (tools[k.toLowerCase()] && (k.toLowerCase() !== 'x' || st.mpr)) tool(tools[k.toLowerCase()]);
			else done = false;
		}
		if (done) ev.preventDefault();
	}

	// ------------------------------------------------------------------
	// 显示AI标注: the regions of an AI result of the series (its lobes,
	// nodules, lesions...) drawn by the server over the slices (tinted,
	// outlined) and in 三维 (coloured surfaces), with a legend.

	var MK = { on: false, k: 0 };
	function masksNow() {
		return MK.on && S && S.masks && S.masks.length ? S.masks[MK.k] || null : null;
	}
	function masksParam() {
		var m = masksNow();
		return m ? '&masks=' + m.result : '';
	}
	function masksLegend() {
		var ul = document.getElementById('zv-legend'), m = masksNow();
		ul.textContent = '';
		ul.hidden = !m;
		if (!m) return;
		(m.legend || []).forEach(function (e) {
			var li = document.createElement('li'), sw = document.createElement('span');
			sw.className = 'zv-swatch';
			sw.style.background = e.colour;
			li.appendChild(sw);
			li.appendChild(document.createTextNode(e.name));
			li.setAttribute('data-label', String(e.label));
			li.setAttribute('data-colour', e.colour);
			ul.appendChild(li);
		});
	}
	function masksShow() {
		var m = masksNow();
		root.setAttribute('data-masks', m ? String(m.result) : '');
		document.getElementById('zv-masks-on').setAttribute('aria-pressed', String(MK.on));
		masksLegend();
		if (V3.on)
			turned3(true);
		else
			refresh();
	}
	function masksOn(on) {
		MK.on = on && !!(S && S.masks && S.masks.length);
		masksShow();
	}
	// A new series: its results with regions, the control hidden when
	// there are none.
	function masksSeries() {
		var g = document.getElementById('zv-masks'), sel = document.getElementById('zv-masks-result');
		var list = (S && S.masks) || [];
		g.hidden = list.length === 0;
		sel.textContent = '';
		list.forEach(function (m, i) {
			var o = document.createElement('option');
			o.value = String(i);
			o.textContent = m.reader;
			sel.appendChild(o);
		});
		sel.hidden = list.length < 2;
		MK.k = 0;
		if (!list.length) MK.on = false;
		root.setAttribute('data-masks', masksNow() ? String(masksNow().result) : '');
		document.getElementById('zv-masks-on').setAttribute('aria-pressed', String(MK.on));
		masksLegend();
	}
	document.getElementById('zv-masks-on').addEventListener('click', function () { masksOn(!MK.on); });
	document.getElementById('zv-masks-result').addEventListener('change', function (ev) {
		MK.k = Number(ev.target.value) || 0;
		masksShow();
	});

	// ------------------------------------------------------------------
	// Set up

	function resize() {
		if (V3.on)
			resize3();
		PLANES.forEach(function (p) {
			var v = views[p], r = v.el.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
			if (v.el.hidden) return;
			v.canvas.width = Math.max(1, Math.round(r.width * dpr));
			v.canvas.height = Math.max(1, Math.round(r.height * dpr));
			v.px = v.canvas.width / Math.max(1, r.width);
			draw(p);
		});
	}

	PLANES.forEach(function (p) {
		var el = root.querySelector('.zv-view[data-plane="' + p + '"]');
		var v = {
			plane: p, el: el, canvas: el.querySelector('canvas'), ov: el.querySelector('.zv-ov'),
			img: null, want: null, wantPng: null, zoom: 1, panX: 0, panY: 0,
			ruler: null, probe: null, measAt: null, shown: -1, lossless: false
		};
		v.ctx = v.canvas.getContext('2d');
		views[p] = v;
		el.addEventListener('mousedown', function (ev) { pointerDown(v, ev); });
		el.addEventListener('wheel', function (ev) {
			ev.preventDefault();
			activate(p);
			scroll(ev.deltaY > 0 ? 1 : -1);
		}, { passive: false });
		el.addEventListener('focus', function () { activate(p); });
	});
	Array.prototype.forEach.call(document.querySelectorAll('#zv-presets button'), function (b) {
		b.addEventListener('click', function () { preset(b.getAttribute('data-preset')); });
	});
	Array.prototype.forEach.call(document.querySelectorAll('#zv-toolset button'), function (b) {
		b.addEventListener('click', function () {
			var t = b.getAttribute('data-tool');
			if (t === 'cross' && !st.mpr) mpr(true);
			tool(t);
		});
	});
	Array.prototype.forEach.call(document.querySelectorAll('.zv-thumb'), function (b) {
		b.addEventListener('click', function () { chooseSeries(Number(b.getAttribute('data-k'))); });
	});
	document.getElementById('zv-invert').addEventListener('click', invert);
	document.getElementById('zv-mpr').addEventListener('click', function () { mpr(!st.mpr); });
	document.getElementById('zv-cine').addEventListener('click', function () { cine(!st.cine); });
	document.getElementById('zv-fit').addEventListener('click', fit);
	document.getElementById('zv-full').addEventListener('click', fullscreen);
	document.getElementById('zv-slider').addEventListener('input', function (ev) {
		var z = Number(ev.target.value) - 1;
		st.dir = z >= index(st.active) ? 1 : -1;
		setIndex(st.active, z);
		refresh();
	});
	document.addEventListener('keydown', key);
	if (window.ResizeObserver)
		new ResizeObserver(resize).observe(document.getElementById('zv-views'));
	window.addEventListener('resize', resize);
	document.addEventListener('fullscreenchange', resize);

	if (AN) {
		annot.layer = document.createElement('div');
		annot.layer.className = 'zv-an';
		views.axial.el.insertBefore(annot.layer, views.axial.ov);
	}
	root.classList.add('zv-live');
	tool('window');
	resize();
	chooseSeries(info.start || 0, AN ? { k: AN.z, preset: AN.preset } : null);
}());
