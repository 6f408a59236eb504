/* strain report: draws a summary document (docs/summary-export.md) into
 * the page. Everything it needs is in the page: the summary (and a
 * baseline) as JSON script elements, and Chart.js. Any subset of the
 * document renders: a v1 summary, a quick-mode run, a live document with
 * sections missing. window.strainRender(doc, baseline) draws again; in
 * live mode (<body data-live="1">) it is called for every update, and
 * charts are updated in place rather than rebuilt. */
(function () {
	'use strict';

	var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf',
		'#7f7f7f', '#bcbd22'];
	var STRATEGY_RGB = {sequential: '33,150,243', hybrid: '255,152,0', parallel: '229,57,53', none: '120,120,120'};
	var PHASE_KEYS = ['blocked', 'connecting', 'tls_handshaking', 'tls', 'sending', 'waiting', 'receiving'];
	var PHASE_COLORS = {blocked: '#9e9e9e', connecting: '#8d6e63', tls_handshaking: '#ab47bc', tls: '#ab47bc',
		sending: '#26a69a', waiting: '#1e88e5', receiving: '#fdd835'};
	var charts = {}; /* key -> {chart, sig, state} */

	/* ---- the strain-hist/1 histogram (docs/summary-export.md) ---- */

	function b64bytes(s) {
		var bin = atob(s), a = new Uint8Array(bin.length), i;

		for (i = 0; i < bin.length; i++)
			a[i] = bin.charCodeAt(i);
		return a;
	}

	/* The histogram of text, or null when it is empty or not one. Numbers
	 * are read as doubles: a sum above 2^53 ns loses its last digits, which
	 * no chart can show. */
	function histDecode(text) {
		var b, pos = 3, h, nb, k, idx = -1;

		if (typeof text !== 'string' || !text)
			return null;
		function varint() {
			var x = 0, m = 1, c;

			do {
				if (pos >= b.length)
					throw new Error('truncated');
				c = b[pos++];
				x += (c & 127) * m;
				m *= 128;
			} while (c & 128);
			return x;
		}
		try {
			b = b64bytes(text);
			if (b.length < 3 || b[0] !== 1 || b[1] !== 7 || b[2] !== 43)
				return null;
			h = {count: varint(), min: varint(), max: varint(), sum: varint(), idx: [], cnt: []};
			nb = varint();
			for (k = 0; k < nb; k++) {
				idx = k === 0 ? varint() : idx + varint() + 1;
				h.idx.push(idx);
				h.cnt.push(varint());
			}
		} catch (e) {
			return null;
		}
		return h.count ? h : null;
	}

	/* HdrHistogram's layout as src/metrics/hist.c has it: exact below 128,
	 * then 64 linear sub-buckets per power of two. */
	function bucketLow(i) {
		var s;

		if (i < 128)
			return i;
		s = Math.floor(i / 64) - 1;
		return (i - 64 * s) * Math.pow(2, s);
	}

	function bucketValue(h, i) {
		var w = i < 128 ? 1 : Math.pow(2, Math.floor(i / 64) - 1), v = bucketLow(i) + (w - 1) / 2;

		return Math.min(Math.max(v, h.min), h.max);
	}

	function valueAtRank(h, r) {
		var lo = 0, hi, mid;

		if (r === 0)
			return h.min;
		if (r >= h.count - 1)
			return h.max;
		if (!h.cum) {
			h.cum = [];
			h.cnt.reduce(function (c, n) { h.cum.push(c + n); return c + n; }, 0);
		}
		hi = h.cum.length - 1;
		while (lo < hi) {
			mid = (lo + hi) >> 1;
			if (h.cum[mid] > r)
				hi = mid;
			else
				lo = mid + 1;
		}
		return bucketValue(h, h.idx[lo]);
	}

	/* The p-th percentile (0..100), interpolated between the two nearest
	 * ranks as met_hist_percentile does, so figures match the summary's. */
	function histPct(h, p) {
		var rank, lo, f, a;

		if (!h || !h.count)
			return null;
		if (p <= 0)
			return h.min;
		if (p >= 100)
			return h.max;
		rank = p / 100 * (h.count - 1);
		lo = Math.floor(rank);
		f = rank - lo;
		a = valueAtRank(h, lo);
		return f === 0 ? a : a + (valueAtRank(h, lo + 1) - a) * f;
	}

	function histMerge(list) {
		var m = {}, out = null;

		list.forEach(function (h) {
			if (!h)
				return;
			if (!out)
				out = {count: 0, min: h.min, max: h.max, sum: 0, idx: [], cnt: []};
			out.count += h.count;
			out.sum += h.sum;
			out.min = Math.min(out.min, h.min);
			out.max = Math.max(out.max, h.max);
			h.idx.forEach(function (i, k) { m[i] = (m[i] || 0) + h.cnt[k]; });
		});
		if (!out)
			return null;
		Object.keys(m).map(Number).sort(function (a, b) { return a - b; }).forEach(function (i) {
			out.idx.push(i);
			out.cnt.push(m[i]);
		});
		return out;
	}

	/* ---- text ---- */

	function esc(s) {
		return String(s === undefined || s === null ? '' : s).replace(/[&<>"']/g, function (c) {
			return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
		});
	}

	function isNum(v) {
		return typeof v === 'number' && isFinite(v);
	}

	function fmtMs(v) {
		if (!isNum(v))
			return '–';
		if (v >= 1000)
			return (v / 1000).toFixed(v >= 10000 ? 1 : 2) + ' s';
		if (v >= 100)
			return v.toFixed(0) + ' ms';
		if (v >= 1)
			return v.toFixed(1) + ' ms';
		return v.toFixed(3) + ' ms';
	}

	function fmtNum(v, digits) {
		if (!isNum(v))
			return '–';
		if (digits === undefined)
			digits = Math.abs(v) >= 100 || Number.isInteger(v) ? 0 : 1;
		return v.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits});
	}

	function fmtPct(v) {
		return isNum(v) ? (100 * v).toFixed(v > 0 && v < 0.001 ? 3 : 2) + ' %' : '–';
	}

	function fmtDuration(ms) {
		var s;

		if (!isNum(ms))
			return '–';
		s = ms / 1000;
		if (s < 60)
			return s.toFixed(1) + ' s';
		if (s < 3600)
			return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
		return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
	}

	/* A change from a to b: the text and whether it is worse (1), better
	 * (-1) or neither (0); higherIsWorse says which way is worse. */
	function delta(a, b, higherIsWorse, points) {
		var d, txt, worse;

		if (!isNum(a) || !isNum(b))
			return {txt: '–', dir: 0};
		if (points) {
			d = (b - a) * 100;
			txt = (d >= 0 ? '+' : '') + d.toFixed(2) + ' pp';
		} else {
			if (a === 0)
				return {txt: b === 0 ? '0 %' : 'new', dir: b === 0 ? 0 : (higherIsWorse ? 1 : -1)};
			d = (b - a) / a * 100;
			txt = (d >= 0 ? '+' : '') + d.toFixed(1) + ' %';
		}
		worse = Math.abs(d) < (points ? 0.01 : 1) ? 0 : (d > 0) === higherIsWorse ? 1 : -1;
		return {txt: txt, dir: worse};
	}

	function deltaCell(a, b, higherIsWorse, points) {
		var d = delta(a, b, higherIsWorse, points);

		return '<td class="' + (d.dir > 0 ? 'up' : d.dir < 0 ? 'down' : '') + '">' + esc(d.txt) + '</td>';
	}

	function table(headers, rows, cls) {
		var h = '<div class="scroll"><table' + (cls ? ' class="' + cls + '"' : '') + '><thead><tr>';

		headers.forEach(function (c, i) {
			h += '<th' + (i === 0 ? ' class="l"' : '') + '>' + esc(c) + '</th>';
		});
		return h + '</tr></thead><tbody>' + rows.join('') + '</tbody></table></div>';
	}

	function strategyColor(s, alpha) {
		return 'rgba(' + (STRATEGY_RGB[s] || STRATEGY_RGB.none) + ',' + alpha + ')';
	}

	/* ---- the document ---- */

	function obj(v) {
		return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
	}

	function arr(v) {
		return Array.isArray(v) ? v : [];
	}

	/* "http_req_duration{module:profile}" + "p(95)<1000" -> what a chart
	 * needs to draw it as a line. */
	function parseThreshold(t) {
		var m = /^([A-Za-z0-9_.]+)(?:\{(.*)\})?$/.exec(String(t.metric || '')), tags = {}, e;

		if (m && m[2])
			m[2].split(',').forEach(function (kv) {
				var i = kv.indexOf(':');

				if (i > 0)
					tags[kv.slice(0, i).trim()] = kv.slice(i + 1).trim().replace(/^["']|["']$/g, '');
			});
		e = /^\s*([A-Za-z_]+(?:\(\s*[\d.]+\s*\))?)\s*(<=|>=|<|>|===|==|!=)\s*(-?[\d.]+(?:e[-+]?\d+)?)\s*$/i.exec(
			String(t.expression || ''));
		return {
			src: t, name: m ? m[1] : String(t.metric || ''), tags: tags,
			agg: e ? e[1].replace(/\s+/g, '') : null, op: e ? e[2] : null, limit: e ? parseFloat(e[3]) : null,
			ok: t.ok !== false
		};
	}

	/* The lines a threshold set puts on one module's chart of one kind. A
	 * threshold without a module tag applies to every module's samples
	 * where the figure is a fraction or a latency; counts and gauges are
	 * the whole run's, drawn only on their own module's chart. */
	function thresholdLines(ths, module, kind) {
		var out = [];

		ths.forEach(function (t) {
			var mine = t.tags.module === module, global = t.tags.module === undefined, y = null;

			if (t.limit === null || !(mine || global))
				return;
			if (kind === 'latency' && t.name === 'http_req_duration' && /^(p\([\d.]+\)|avg|med|min|max)$/.test(t.agg))
				y = t.limit;
			else if (kind === 'errors' && t.name === 'http_req_failed' && t.agg === 'rate')
				y = t.limit * 100;
			else if (kind === 'rps' && mine && t.name === 'http_reqs' && t.agg === 'rate')
				y = t.limit;
			else if (kind === 'vus' && mine && (t.name === 'vus' || t.name === 'vus_max') && t.agg === 'value')
				y = t.limit;
			if (y !== null)
				out.push({y: y, ok: t.ok, label: String(t.src.expression) + (global ? ' (all modules)' : '') +
					(t.tags.strategy ? ' (' + t.tags.strategy + ')' : '')});
		});
		return out;
	}

	function seriesList(doc) {
		return arr(obj(doc.timeseries).series).filter(function (s) {
			return s && Array.isArray(s.t_ms);
		});
	}

	/* Modules in a stable order: the comparison's, then the time series',
	 * then the request table's. "" is quick mode's only series. */
	function modulesOf(doc) {
		var seen = {}, out = [], strategies = obj(obj(doc.comparison).strategies), ser = seriesList(doc);
		var named = ser.some(function (s) { return s.module; });

		function add(m) {
			if (typeof m === 'string' && !seen.hasOwnProperty(m)) {
				seen[m] = 1;
				out.push(m);
			}
		}
		Object.keys(strategies).forEach(function (s) { Object.keys(obj(strategies[s])).forEach(add); });
		ser.forEach(function (s) {
			if (s.module || !named)
				add(s.module || '');
		});
		arr(doc.requests).forEach(function (r) {
			if (r && r.module)
				add(r.module);
		});
		return out;
	}

	function at(a, i) {
		return Array.isArray(a) && isNum(a[i]) ? a[i] : null;
	}

	/* The module's slots over all its series (one per strategy): counts
	 * added, percentiles from the series' own figures, or from the merged
	 * histograms where two series share a slot. */
	function moduleSlots(doc, module, shift) {
		var ts = obj(doc.timeseries), interval = isNum(ts.interval_ms) && ts.interval_ms > 0 ? ts.interval_ms : 1000;
		var dur = isNum(doc.duration_ms) ? doc.duration_ms : null, bySlot = {}, codes = {};

		seriesList(doc).forEach(function (s) {
			var off = shift ? shift(s.strategy) : 0;

			if ((s.module || '') !== module || off === null)
				return;
			s.t_ms.forEach(function (t, i) {
				var k, e;

				if (!isNum(t))
					return;
				k = bySlot[t] || (bySlot[t] = {t: t + off, raw: t, req: 0, fail: 0, errors: {}, vus: null, n: 0,
					p: {p50: null, p95: null, p99: null, max: null}, hists: []});
				k.n++;
				k.req += at(s.requests, i) || 0;
				k.fail += at(s.failures, i) || 0;
				Object.keys(obj(s.errors)).forEach(function (c) {
					var v = at(s.errors[c], i);

					if (v !== null) {
						k.errors[c] = (k.errors[c] || 0) + v;
						codes[c] = 1;
					}
				});
				if (at(s.vus, i) !== null)
					k.vus = (k.vus || 0) + s.vus[i];
				['p50', 'p95', 'p99', 'max'].forEach(function (p) {
					if (at(s[p], i) !== null)
						k.p[p] = s[p][i];
				});
				e = Array.isArray(s.hist) ? s.hist[i] : null;
				k.hists.push(e);
			});
		});
		return {
			interval: interval, codes: Object.keys(codes).sort(),
			slots: Object.keys(bySlot).map(Number).sort(function (a, b) { return a - b; }).map(function (t) {
				var k = bySlot[t], len = interval, h;

				if (dur !== null && k.raw < dur)
					len = Math.min(interval, dur - k.raw);
				k.secs = len > 0 ? len / 1000 : interval / 1000;
				if (k.n > 1) {
					h = histMerge(k.hists.map(histDecode));
					if (h) {
						['p50', 'p95', 'p99'].forEach(function (p) {
							k.p[p] = histPct(h, +p.slice(1)) / 1e6;
						});
						k.p.max = h.max / 1e6;
					}
				}
				return k;
			})
		};
	}

	/* Per strategy, how far the baseline's time must move to put its phase
	 * of that strategy where this run's begins; null: this run has none. */
	function baselineShift(doc, base) {
		function starts(d) {
			var m = {};

			arr(d.phases).forEach(function (p) {
				if (p && isNum(p.start_ms) && !m.hasOwnProperty(p.strategy))
					m[p.strategy] = p.start_ms;
			});
			return m;
		}
		var a = starts(doc), b = starts(base), any = Object.keys(a).length && Object.keys(b).length;

		return function (strategy) {
			if (!any)
				return 0;
			if (!a.hasOwnProperty(strategy) || !b.hasOwnProperty(strategy))
				return null;
			return a[strategy] - b[strategy];
		};
	}

	/* ---- charts ---- */

	/* A chart's own plugin: the phases as bands behind the data, and the
	 * thresholds as dashed lines over it. Its state object is updated in
	 * place on a live update. */
	function overlayPlugin(state) {
		return {
			id: 'strainOverlay',
			beforeDatasetsDraw: function (chart) {
				var xs = chart.scales.x, a = chart.chartArea, ctx = chart.ctx;

				if (!state.phases || !xs || !a)
					return;
				ctx.save();
				state.phases.forEach(function (p) {
					var x0 = Math.max(xs.getPixelForValue(p.start_ms / 1000), a.left);
					var x1 = Math.min(xs.getPixelForValue(p.end_ms / 1000), a.right);

					if (!(x1 > x0))
						return;
					ctx.fillStyle = strategyColor(p.strategy, p.mine ? 0.14 : 0.05);
					ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top);
					if (state.labels && x1 - x0 > 40) {
						ctx.fillStyle = strategyColor(p.strategy, 0.9);
						ctx.font = '10px sans-serif';
						ctx.fillText(p.strategy, x0 + 3, a.top + 10);
					}
				});
				ctx.restore();
			},
			afterDatasetsDraw: function (chart) {
				var ys = chart.scales.y, a = chart.chartArea, ctx = chart.ctx, drawn = 0;

				(state.lines || []).forEach(function (l) {
					var y = ys.getPixelForValue(l.y);

					if (!isFinite(y) || y < a.top - 1 || y > a.bottom + 1)
						return;
					ctx.save();
					ctx.strokeStyle = l.ok ? '#1a7f45' : '#c62828';
					ctx.lineWidth = 1.5;
					ctx.setLineDash([6, 4]);
					ctx.beginPath();
					ctx.moveTo(a.left, y);
					ctx.lineTo(a.right, y);
					ctx.stroke();
					ctx.fillStyle = ctx.strokeStyle;
					ctx.font = '10px sans-serif';
					ctx.textAlign = 'right';
					ctx.fillText(l.label, a.right - 2, y - 3);
					ctx.restore();
					drawn++;
				});
				if (chart.canvas.parentNode)
					chart.canvas.parentNode.setAttribute('data-threshold-lines-drawn', String(drawn));
			}
		};
	}

	/* Creates or updates the chart in box. The same structure (type and
	 * dataset labels) is updated in place, without animation: no flicker
	 * on live updates. */
	function upsertChart(box, key, config, state) {
		var sig = config.type + '|' + config.data.datasets.map(function (d) { return d.label; }).join('|') +
			'|' + (config.data.labels || []).join('|');
		var c = charts[key], canvas;

		if (c && c.sig === sig && c.chart.canvas && c.chart.canvas.parentNode === box) {
			config.data.datasets.forEach(function (d, i) {
				c.chart.data.datasets[i].data = d.data;
			});
			if (config.data.labels)
				c.chart.data.labels = config.data.labels;
			Object.keys(state).forEach(function (k) { c.state[k] = state[k]; });
			c.chart.options.scales = config.options.scales;
			c.chart.update('none');
			return c.chart;
		}
		if (c)
			c.chart.destroy();
		box.textContent = '';
		canvas = document.createElement('canvas');
		box.appendChild(canvas);
		config.plugins = [overlayPlugin(state)];
		config.options.animation = false;
		config.options.responsive = true;
		config.options.maintainAspectRatio = false;
		charts[key] = {chart: new Chart(canvas, config), sig: sig, state: state};
		return charts[key].chart;
	}

	function baseOptions(title, xmax, ytitle) {
		return {
			parsing: false,
			normalized: true,
			interaction: {mode: 'nearest', axis: 'x', intersect: false},
			plugins: {
				title: {display: true, text: title, align: 'start', font: {size: 12}},
				legend: {position: 'bottom', labels: {boxWidth: 10, font: {size: 10}}},
				tooltip: {callbacks: {title: function (items) { return items.length ? items[0].parsed.x.toFixed(0) + ' s' : ''; }}}
			},
			scales: {
				x: {type: 'linear', min: 0, max: xmax, title: {display: true, text: 'seconds since start', font: {size: 10}},
					ticks: {font: {size: 10}}},
				y: {beginAtZero: true, title: {display: !!ytitle, text: ytitle, font: {size: 10}}, ticks: {font: {size: 10}}}
			}
		};
	}

	function lineSet(label, data, color, extra) {
		var d = {label: label, data: data, borderColor: color, backgroundColor: color, borderWidth: 1.5,
			pointRadius: data.length > 120 ? 0 : 1.5, pointHoverRadius: 3, spanGaps: false, tension: 0};
		Object.keys(extra || {}).forEach(function (k) { d[k] = extra[k]; });
		return d;
	}

	/* Lines are not drawn across slots where the module had no samples (a
	 * module runs in some phases only). */
	function gapSegments(intervalS) {
		return {borderColor: function (c) {
			return c.p1.parsed.x - c.p0.parsed.x > intervalS * 1.5 ? 'rgba(0,0,0,0)' : undefined;
		}};
	}

	function ensureBox(parent, key, attrs, cls) {
		var box = parent.querySelector('[data-key="' + key + '"]');

		if (!box) {
			box = document.createElement('div');
			box.className = cls || 'chart';
			box.setAttribute('data-key', key);
			parent.appendChild(box);
		}
		Object.keys(attrs).forEach(function (k) { box.setAttribute(k, String(attrs[k])); });
		return box;
	}

	function ensureSection(id, title) {
		var app = document.getElementById('app'), s = document.getElementById(id);

		if (!s) {
			s = document.createElement('section');
			s.id = id;
			app.appendChild(s);
		}
		if (title !== undefined && s.getAttribute('data-title') !== title) {
			s.setAttribute('data-title', title);
			s.innerHTML = '<h2>' + esc(title) + '</h2><div class="body"></div>';
		}
		return s.querySelector('.body') || s;
	}

	/* Placeholders for the sections, in page order, so one that appears
	 * later (a live document gaining a part) takes its place. */
	function ensureOrder(ids) {
		var app = document.getElementById('app');

		ids.forEach(function (id) {
			var s = document.getElementById(id);

			if (!s) {
				s = document.createElement('section');
				s.id = id;
				app.appendChild(s);
			}
		});
	}

	function dropSection(id) {
		var s = document.getElementById(id);

		if (s) {
			Array.prototype.forEach.call(s.querySelectorAll('[data-key]'), function (b) {
				var k = b.getAttribute('data-key');

				if (charts[k]) {
					charts[k].chart.destroy();
					delete charts[k];
				}
			});
			/* Emptied, not removed: it keeps its place for a later update. */
			s.removeAttribute('data-title');
			s.textContent = '';
		}
	}

	/* ---- sections ---- */

	function renderHeader(doc, base, live) {
		var ths = arr(doc.thresholds), failed = ths.filter(function (t) { return t && t.ok === false; }).length;
		var facts = [], h = document.getElementById('head'), v = arr(obj(doc.comparison).verdict), badge;

		function fact(k, val) {
			if (val !== undefined && val !== null && val !== '')
				facts.push('<dt>' + esc(k) + '</dt><dd>' + esc(val) + '</dd>');
		}
		fact('plan', doc.plan);
		fact('target', doc.target);
		fact('strategy', doc.strategy);
		fact('run', doc.description);
		fact('start', doc.start);
		fact('duration', isNum(doc.duration_ms) ? fmtDuration(doc.duration_ms) : null);
		fact('requests', isNum(obj(obj(doc.metrics).http_reqs).count) ?
			fmtNum(doc.metrics.http_reqs.count) + ' (' + fmtNum(doc.metrics.http_reqs.rate, 1) + '/s)' : null);
		fact('failed', isNum(obj(obj(doc.metrics).http_req_failed).rate) ? fmtPct(doc.metrics.http_req_failed.rate) : null);
		if (base)
			fact('baseline', (base.description || base.plan || '') + (base.start ? ' (' + base.start + ')' : ''));
		fact('format', doc.version);
		badge = !ths.length ? '<span class="badge">no thresholds</span>' : failed ?
			'<span class="badge bad" id="thresholds-badge">thresholds: ' + failed + ' of ' + ths.length + ' failed</span>' :
			'<span class="badge ok" id="thresholds-badge">thresholds: all ' + ths.length + ' passed</span>';
		h.innerHTML = '<h1>strain report' + (doc.plan ? ': ' + esc(doc.plan) : '') + '</h1>' +
			'<p>' + badge + (doc.interrupted ? ' <span class="badge bad">interrupted</span>' : '') +
			(live ? ' <span class="badge live" id="live-badge">' + (doc.live ? 'live' : 'final') + '</span>' : '') + '</p>' +
			'<dl class="facts">' + facts.join('') + '</dl>' +
			'<div id="verdict">' + (v.length ? v.map(function (x) {
				return '<p class="' + (x.held ? 'held' : 'broke') + '">' + esc(x.text) + '</p>';
			}).join('') : '<p class="muted">No verdict: ' + (obj(doc.comparison).strategies ?
				'the run has no sequential baseline to compare with.' :
				'the run did not compare strategies.') + '</p>') + '</div>';
	}

	function renderThresholds(doc, base) {
		var ths = arr(doc.thresholds), checks = obj(doc.checks), names = Object.keys(checks), b, rows, html = '';
		var bth = base ? arr(base.thresholds) : [];

		if (!ths.length)
			dropSection('s-thresholds');
		else
			b = ensureSection('s-thresholds', 'Thresholds');
		if (ths.length) {
			rows = ths.map(function (t) {
				var p = parseThreshold(t), prev = bth.filter(function (x) {
					return x.metric === t.metric && x.expression === t.expression;
				})[0];

				return '<tr class="' + (t.ok === false ? 'fail' : '') + '"><td class="l">' + esc(t.metric) + '</td><td class="l">' +
					esc(t.expression) + '</td><td>' + (isNum(t.observed) ? fmtNum(t.observed, 3) : 'no samples') + '</td><td>' +
					(p.limit === null ? '–' : esc(p.op + ' ' + p.limit)) + '</td>' +
					(base ? '<td>' + (prev && isNum(prev.observed) ? fmtNum(prev.observed, 3) : '–') + '</td>' : '') +
					'<td class="' + (t.ok === false ? 'fail">FAIL' : 'pass">pass') + '</td><td>' +
					(t.abort_on_fail ? 'abort on fail' : '') + '</td></tr>';
			});
			b.innerHTML = table(['metric', 'expression', 'observed', 'limit'].concat(base ? ['baseline observed'] : [])
				.concat(['result', '']), rows, 'thresholds');
		}
		if (!names.length)
			return dropSection('s-checks');
		{
			rows = names.map(function (n) {
				var c = obj(checks[n]), all = (c.passes || 0) + (c.fails || 0);

				return '<tr class="' + (c.fails ? 'fail' : '') + '"><td class="l">' + esc(n) + '</td><td>' + fmtNum(c.passes) +
					'</td><td>' + fmtNum(c.fails) + '</td><td>' + (all ? fmtPct(c.passes / all) : '–') + '</td></tr>';
			});
			html += table(['check', 'passes', 'fails', 'passed'], rows, 'checks');
		}
		ensureSection('s-checks', 'Checks').innerHTML = html;
	}

	/* Latency spikes (the summary's "spikes"): when, how high against the
	 * module's median, what else ran, the failures, and whether strain
	 * itself had fallen behind. */
	function renderSpikes(doc) {
		var sp = arr(doc.spikes), rows;

		if (!sp.length)
			return dropSection('s-spikes');
		rows = sp.map(function (w) {
			var errs = obj(w.errors), codes = Object.keys(errs).map(function (c) { return esc(c) + ' ×' + fmtNum(errs[c]); });

			return '<tr class="' + (w.generator_late ? '' : 'fail') + '"><td class="l">' + esc(w.module || 'the run') +
				'</td><td class="l">' + esc(w.strategy || '') + '</td><td>+' + fmtDuration(w.start_ms) + '</td><td>' +
				fmtDuration(w.length_ms) + '</td><td>+' + fmtDuration(w.began_ms) + '</td><td>' + fmtMs(w.peak_p95_ms) +
				'</td><td>' + fmtMs(w.baseline_p95_ms) + '</td><td>×' + fmtNum(w.ratio, 1) + '</td><td>' + fmtMs(w.max_ms) +
				'</td><td class="l">' + esc(arr(w.concurrent).join(', ')) + '</td><td class="l">' + codes.join(', ') +
				'</td><td class="l">' + (w.generator_late ? 'strain itself was late (start delay up to ' +
				fmtMs(w.start_delay_max_ms) + ')' : '') + '</td></tr>';
		});
		ensureSection('s-spikes', 'Latency spikes').innerHTML =
			'<p class="note">Windows where a module\'s interval p95 rose at least 3× above its median and above 50 ms. ' +
			'Samples are taken as responses end: "began" dates when the slow requests started.</p>' +
			table(['module', 'strategy', 'at', 'for', 'began', 'peak p95', 'median p95', 'ratio', 'slowest', 'also running',
				'failures', ''], rows, 'spikes');
	}

	/* strain capacity's results (the document's "capacity"): per module
	 * what it sustains, where and why it failed, and its curve of latency
	 * against the throughput achieved, step by step. */
	function renderCapacity(doc) {
		var cap = obj(doc.capacity), mods = arr(cap.modules), body, rows;

		if (!mods.length)
			return dropSection('s-capacity');
		body = ensureSection('s-capacity', 'Capacity: latency versus throughput');
		rows = mods.map(function (m) {
			var f = obj(m.failed_objective), why = m.limited_by === 'generator' ?
				'the generator, not the target, was the limit' : m.failed_objective ?
				esc(f.metric + ' ' + f.expression) + ' (observed ' + fmtNum(f.observed, 4) + ')' : esc(m.limited_by);

			return '<tr class="' + (m.limited_by === 'generator' ? 'fail' : '') + '"><td class="l">' + esc(m.module) +
				'</td><td>' + fmtNum(m.sustainable_rate, 1) + '/s</td><td>' +
				(isNum(m.first_failing_rate) ? fmtNum(m.first_failing_rate, 1) + '/s' : '–') + '</td><td>' +
				(isNum(m.knee_rate) ? fmtNum(m.knee_rate, 1) + '/s' : '–') + '</td><td class="l">' + esc(m.grew || '') +
				'</td><td class="l">' + why + '</td></tr>';
		});
		if (!body.querySelector('.grid'))
			body.innerHTML = '<p class="muted">' + esc((cap.mode === 'under-load' ? 'Each module under the others\' plan load' :
				'Each module alone') + '; arrival-rate steps of ' + fmtDuration(cap.step_ms) + ', the first ' +
				fmtDuration(cap.warmup_ms) + ' left out. Rates are iterations per second.') + '</p><div class="tbl"></div>' +
				'<div class="grid wide"></div>';
		body.querySelector('.tbl').innerHTML = table(['module', 'sustains', 'fails at', 'knee', 'grew', 'why'], rows, 'capacity');
		mods.forEach(function (m) {
			var steps = arr(m.steps).filter(function (st) { return !st.untrusted && isNum(st.rps); }).sort(function (a, b) {
				return a.rate - b.rate;
			}), key = 'capacity-' + m.module, box, opt, lines = [], f = obj(m.failed_objective), th;
			var ds = [['p50', '#2e7d32'], ['p95', '#ef6c00'], ['p99', '#c62828']].map(function (pc) {
				return lineSet(pc[0], steps.filter(function (st) { return isNum(st[pc[0]]) && st[pc[0]] > 0; }).map(function (st) {
					return {x: st.rps, y: st[pc[0]]};
				}), pc[1]);
			});

			if (m.failed_objective) {
				th = parseThreshold({metric: f.metric, expression: f.expression, ok: false});
				if (th.name === 'http_req_duration' && isNum(th.limit))
					lines.push({y: th.limit, label: f.expression, ok: false});
			}
			box = ensureBox(body.querySelector('.grid'), key, {'data-module': m.module, 'data-kind': 'capacity',
				'data-points': ds[1].data.length, 'data-threshold-lines': lines.length}, 'chart tall');
			opt = baseOptions(m.module + ': latency against requests/s', undefined, 'ms (log)');
			opt.scales.x = {type: 'linear', min: 0, title: {display: true, text: 'requests/s achieved', font: {size: 10}},
				ticks: {font: {size: 10}}};
			opt.scales.y = {type: 'logarithmic', title: {display: true, text: 'ms (log)', font: {size: 10}},
				ticks: {font: {size: 10}}};
			opt.plugins.tooltip.callbacks.title = function (items) {
				return items.length ? fmtNum(items[0].parsed.x, 1) + ' req/s' : '';
			};
			upsertChart(box, key, {type: 'line', data: {datasets: ds}, options: opt}, {phases: null, lines: lines});
		});
	}

	function strategiesOf(cmp) {
		var order = ['sequential', 'hybrid', 'parallel'];

		return Object.keys(cmp).sort(function (a, b) {
			var i = order.indexOf(a), j = order.indexOf(b);

			return (i < 0 ? 9 : i) - (j < 0 ? 9 : j) || (a < b ? -1 : a > b ? 1 : 0);
		});
	}

	function renderTables(doc, base) {
		var cmp = obj(obj(doc.comparison).strategies), bcmp = base ? obj(obj(base.comparison).strategies) : {};
		var reqs = arr(doc.requests), breqs = base ? arr(base.requests) : [], html = '', rows = [], errs = obj(doc.errors);
		var strategies = strategiesOf(cmp), mods = modulesOf(doc), b;

		strategies.forEach(function (s) {
			mods.forEach(function (m) {
				var c = obj(cmp[s])[m], o;

				if (!c)
					return;
				o = obj(obj(bcmp[s])[m]);
				rows.push('<tr class="' + (c.failed_threshold ? 'fail' : '') + '"><td class="l">' + esc(m) + '</td><td class="l">' +
					esc(s) + '</td><td>' + fmtNum(c.requests) + '</td><td>' + fmtNum(c.rps, 1) + '</td><td>' + fmtMs(c.p50) +
					'</td><td>' + fmtMs(c.p95) + '</td><td>' + fmtMs(c.p99) + '</td><td>' + fmtMs(c.max) + '</td><td>' +
					fmtPct(c.error_rate) + '</td>' + (base ? '<td>' + fmtMs(o.p95) + '</td>' + deltaCell(o.p95, c.p95, true) +
					'<td>' + fmtNum(o.rps, 1) + '</td>' + deltaCell(o.rps, c.rps, false) +
					deltaCell(o.error_rate, c.error_rate, true, true) : '') +
					'<td class="l">' + esc(c.failed_threshold || '') + '</td></tr>');
			});
		});
		if (rows.length)
			html += '<h3>Modules × strategies</h3>' + table(['module', 'strategy', 'requests', 'req/s', 'p50', 'p95', 'p99',
				'max', 'errors'].concat(base ? ['p95 before', 'Δ p95', 'req/s before', 'Δ req/s', 'Δ errors'] : [])
				.concat(['failed threshold']), rows, 'strategies');
		if (reqs.length) {
			rows = reqs.map(function (r) {
				var o = obj(breqs.filter(function (x) { return x && x.name === r.name && x.module === r.module; })[0]);

				return '<tr class="' + (r.failures ? 'fail' : '') + '"><td class="l">' + esc(r.name) + '</td><td class="l">' +
					esc(r.module) + '</td><td>' + fmtNum(r.count) + '</td><td>' + fmtNum(r.rate, 1) + '</td><td>' +
					fmtMs(r.p50) + '</td><td>' + fmtMs(r.p95) + '</td><td>' + fmtMs(r.p99) + '</td><td>' + fmtMs(r.max) +
					'</td><td>' + fmtNum(r.failures) + '</td><td>' + fmtPct(r.error_rate) + '</td>' +
					(base ? '<td>' + fmtMs(o.p95) + '</td>' + deltaCell(o.p95, r.p95, true) +
					deltaCell(o.error_rate, r.error_rate, true, true) : '') + '</tr>';
			});
			html += '<h3>Requests by name</h3>' + table(['name', 'module', 'count', 'req/s', 'p50', 'p95', 'p99', 'max',
				'failures', 'errors'].concat(base ? ['p95 before', 'Δ p95', 'Δ errors'] : []), rows, 'requests');
		}
		if (Object.keys(errs).length)
			html += '<h3>Errors by code</h3>' + table(['code', 'count', 'description'], Object.keys(errs).map(function (c) {
				return '<tr class="fail"><td class="l">' + esc(c) + '</td><td>' + fmtNum(obj(errs[c]).count) +
					'</td><td class="l">' + esc(obj(errs[c]).description) + '</td></tr>';
			}), 'errors');
		if (base)
			html += overallDeltas(doc, base);
		if (!html)
			return dropSection('s-tables');
		b = ensureSection('s-tables', 'Results');
		b.innerHTML = html;
	}

	function overallDeltas(doc, base) {
		var m = obj(doc.metrics), o = obj(base.metrics), d = obj(m.http_req_duration), od = obj(o.http_req_duration);
		var rows = [
			['requests/s', obj(o.http_reqs).rate, obj(m.http_reqs).rate, false, false, function (v) { return fmtNum(v, 1); }],
			['p50', od.med, d.med, true, false, fmtMs], ['p95', od['p(95)'], d['p(95)'], true, false, fmtMs],
			['p99', od['p(99)'], d['p(99)'], true, false, fmtMs], ['max', od.max, d.max, true, false, fmtMs],
			['failed', obj(o.http_req_failed).rate, obj(m.http_req_failed).rate, true, true, fmtPct]
		];

		return '<h3>Before and after (whole run)</h3>' + table(['figure', 'baseline', 'this run', 'change'], rows.map(function (r) {
			return '<tr><td class="l">' + r[0] + '</td><td>' + r[5](r[1]) + '</td><td>' + r[5](r[2]) + '</td>' +
				deltaCell(r[1], r[2], r[3], r[4]) + '</tr>';
		}), 'baseline');
	}

	function phaseBands(doc, module) {
		return arr(doc.phases).filter(function (p) {
			return p && isNum(p.start_ms) && isNum(p.end_ms);
		}).map(function (p) {
			return {start_ms: p.start_ms, end_ms: p.end_ms, strategy: p.strategy || 'none',
				mine: module === null || arr(p.modules).indexOf(module) >= 0};
		});
	}

	function runSeconds(doc) {
		var end = isNum(doc.duration_ms) ? doc.duration_ms : 0;

		arr(doc.phases).forEach(function (p) {
			if (p && isNum(p.end_ms))
				end = Math.max(end, p.end_ms);
		});
		seriesList(doc).forEach(function (s) {
			s.t_ms.forEach(function (t) {
				if (isNum(t))
					end = Math.max(end, t + (obj(doc.timeseries).interval_ms || 1000));
			});
		});
		return Math.max(1, Math.ceil(end / 1000));
	}

	/* The run-wide series (module ""), when modules have their own: the
	 * gauges every module shares, VUs among them. */
	function runWideVus(doc) {
		var ser = seriesList(doc), named = ser.some(function (s) { return s.module; }), out = [];

		if (!named)
			return out;
		ser.forEach(function (s) {
			if (s.module)
				return;
			s.t_ms.forEach(function (t, i) {
				if (isNum(t) && at(s.vus, i) !== null)
					out.push({x: t / 1000, y: s.vus[i]});
			});
		});
		return out.sort(function (a, b) { return a.x - b.x; });
	}

	function yMax(lines) {
		var m;

		if (!lines.length)
			return undefined;
		m = Math.max.apply(null, lines.map(function (l) { return l.y; }));
		return m > 0 ? m * 1.08 : undefined;
	}

	function renderTimeline(doc, base) {
		var mods = modulesOf(doc).filter(function (m) {
			return seriesList(doc).some(function (s) { return (s.module || '') === m; });
		});
		var ths = arr(doc.thresholds).map(parseThreshold), xmax = runSeconds(doc), body, shift, wide = runWideVus(doc);
		var overview = [];

		if (!mods.length && doc.capacity)
			return dropSection('s-timeline'); /* a capacity search's results: steps, not a run over time */
		if (!mods.length) {
			body = ensureSection('s-timeline', 'Over time');
			if (!body.querySelector('.note'))
				body.innerHTML = '<p class="note">This summary has no time series (' + esc(doc.version || 'no version') +
					'): the charts over time need a strain-summary/2 file.</p>';
			return;
		}
		body = ensureSection('s-timeline', 'Over time, per module');
		if (body.querySelector('.note'))
			body.textContent = '';
		shift = base ? baselineShift(doc, base) : null;
		mods.forEach(function (m, mi) {
			var ms = moduleSlots(doc, m), bs = base ? moduleSlots(base, m, shift) : null, intervalS = ms.interval / 1000;
			var wrap = ensureBox(body, 'mod-' + m, {'data-module-block': m}, 'module'), grid, title, kinds, color = PALETTE[mi % PALETTE.length];
			var label = m || 'all requests';

			if (!wrap.querySelector('.grid'))
				wrap.innerHTML = '<h3>' + esc(label) + '</h3><div class="grid"></div>';
			grid = wrap.querySelector('.grid');
			title = function (k) { return label + ': ' + k; };
			kinds = {
				rps: function () {
					var ds = [lineSet('req/s', ms.slots.map(function (k) { return {x: k.t / 1000, y: k.req / k.secs}; }), color,
						{segment: gapSegments(intervalS)})];

					if (bs)
						ds.push(lineSet('req/s (baseline)', bs.slots.map(function (k) { return {x: k.t / 1000, y: k.req / k.secs}; }),
							'#888', {borderDash: [4, 3], segment: gapSegments(intervalS)}));
					return {ds: ds, title: title('requests/s'), y: 'req/s'};
				},
				errors: function () {
					var ds = [lineSet('failed (all codes)', ms.slots.map(function (k) {
						return {x: k.t / 1000, y: k.req ? 100 * k.fail / k.req : 0};
					}), '#c62828', {segment: gapSegments(intervalS)})];

					ms.codes.forEach(function (c, i) {
						ds.push(lineSet(c + (obj(obj(doc.errors)[c]).description ? ' ' + doc.errors[c].description : ''),
							ms.slots.map(function (k) { return {x: k.t / 1000, y: k.req ? 100 * (k.errors[c] || 0) / k.req : 0}; }),
							PALETTE[(i + 3) % PALETTE.length], {segment: gapSegments(intervalS), borderWidth: 1}));
					});
					return {ds: ds, title: title('error rate by code (% of requests)'), y: '%'};
				},
				latency: function () {
					var ds = [['p50', '#43a047'], ['p95', '#fb8c00'], ['p99', '#c62828']].map(function (p) {
						return lineSet(p[0], ms.slots.map(function (k) { return {x: k.t / 1000, y: k.p[p[0]]}; }), p[1],
							{segment: gapSegments(intervalS)});
					});

					if (bs)
						ds.push(lineSet('p95 (baseline)', bs.slots.map(function (k) { return {x: k.t / 1000, y: k.p.p95}; }),
							'#888', {borderDash: [4, 3], segment: gapSegments(intervalS)}));
					return {ds: ds, title: title('latency (ms)'), y: 'ms'};
				},
				vus: function () {
					/* A plan run's VUs gauge is the run's (series ""): at this
					 * module's slots it counts every module running then. */
					var own = ms.slots.some(function (k) { return k.vus > 0; }), at = {}, ds;

					wide.forEach(function (p) { at[p.x] = p.y; });
					ds = [lineSet(own || !wide.length ? 'VUs' : 'VUs of the run, while ' + label + ' ran',
						ms.slots.map(function (k) {
							return {x: k.t / 1000, y: own || !wide.length ? k.vus : (at.hasOwnProperty(k.t / 1000) ? at[k.t / 1000] : null)};
						}), color, {segment: gapSegments(intervalS)})];
					if (wide.length)
						ds.push(lineSet('VUs, all modules', wide, '#aaa', {borderWidth: 1, borderDash: [3, 3], pointRadius: 0}));
					return {ds: ds, title: title('VUs'), y: 'VUs'};
				}
			};
			['rps', 'errors', 'latency', 'vus'].forEach(function (kind) {
				var spec = kinds[kind](), lines = thresholdLines(ths, m, kind), key = 'ts-' + kind + '-' + m;
				var box = ensureBox(grid, key, {'data-module': m, 'data-kind': kind, 'data-points': spec.ds[0].data.length,
					'data-threshold-lines': lines.length});
				var opt = baseOptions(spec.title, xmax, spec.y);

				opt.scales.y.suggestedMax = yMax(lines);
				/* Latency spans orders of magnitude (and a limit may sit far
				 * above it): a log axis shows both. */
				if (kind === 'latency') {
					opt.scales.y.type = 'logarithmic';
					opt.scales.y.beginAtZero = false;
					opt.scales.y.title.text = 'ms (log)';
					if (lines.length)
						opt.scales.y.suggestedMin = Math.min.apply(null, lines.map(function (l) { return l.y; })) / 1.1;
				}
				upsertChart(box, key, {type: 'line', data: {datasets: spec.ds}, options: opt},
					{phases: phaseBands(doc, m), lines: lines, labels: true});
			});
			overview.push(lineSet(label + ' p95', ms.slots.map(function (k) { return {x: k.t / 1000, y: k.p.p95}; }), color,
				{segment: gapSegments(intervalS)}));
		});
		if (mods.length > 1) {
			(function () {
				var grid = ensureBox(body, 'overview-wrap', {}, 'overview'), box, opt;

				if (!grid.querySelector('h3'))
					grid.innerHTML = '<h3>All modules: p95 latency</h3><div class="one"></div>';
				if (grid !== body.firstChild)
					body.insertBefore(grid, body.firstChild);
				box = ensureBox(grid.querySelector('.one'), 'overview', {'data-kind': 'overview', 'data-series': overview.length},
					'chart tall');
				opt = baseOptions('p95 latency per module (ms)', xmax, 'ms');
				upsertChart(box, 'overview', {type: 'line', data: {datasets: overview}, options: opt},
					{phases: phaseBands(doc, null), lines: [], labels: true});
			})();
		}
	}

	/* Nines on a log axis: x = 1 / (1 - q), so 90 %, 99 %, 99.9 % are
	 * evenly spaced. */
	function spectrumPoints(h) {
		var pts = [], k, x, lastX;

		lastX = Math.min(1e5, Math.max(1, h.count));
		for (k = 0; ; k++) {
			x = Math.pow(10, k / 10);
			if (x > lastX)
				break;
			pts.push({x: x, y: histPct(h, 100 * (1 - 1 / x)) / 1e6});
		}
		pts.push({x: Math.max(x, 10), y: h.max / 1e6});
		return pts;
	}

	/* Without histograms (a v1 summary): the percentiles the summary has. */
	function figurePoints(c) {
		var pts = [];

		[[1, c.min], [2, isNum(c.p50) ? c.p50 : c.med], [10, c.p90 === undefined ? c['p(90)'] : c.p90],
			[20, isNum(c.p95) ? c.p95 : c['p(95)']], [100, isNum(c.p99) ? c.p99 : c['p(99)']], [1000, c.max]].forEach(function (p) {
			if (isNum(p[1]) && p[1] > 0)
				pts.push({x: p[0], y: p[1]});
		});
		return pts;
	}

	function nineLabel(v) {
		var l = Math.log10(v);

		if (Math.abs(l - Math.round(l)) > 1e-9)
			return '';
		return l === 0 ? '0 %' : (100 * (1 - 1 / v)).toFixed(Math.max(0, Math.round(l) - 2)) + ' %';
	}

	function spectrumSets(doc, module, dashed) {
		var groups = arr(obj(obj(obj(doc.histograms).http_req_duration)).groups), cmp = obj(obj(doc.comparison).strategies);
		var out = [], done = {};

		groups.forEach(function (g) {
			var h;

			if (!g || (g.module || '') !== module)
				return;
			h = histDecode(g.hist);
			if (h) {
				out.push({strategy: g.strategy || 'none', pts: spectrumPoints(h)});
				done[g.strategy || 'none'] = 1;
			}
		});
		strategiesOf(cmp).forEach(function (s) {
			var c = obj(cmp[s])[module];

			if (c && !done[s])
				out.push({strategy: s, pts: figurePoints(c)});
		});
		if (!out.length && module === '' && obj(doc.histograms).http_req_duration) {
			var h = histDecode(doc.histograms.http_req_duration.total);

			if (h)
				out.push({strategy: 'none', pts: spectrumPoints(h)});
		}
		if (!out.length && module === '' && obj(doc.metrics).http_req_duration)
			out.push({strategy: 'none', pts: figurePoints(doc.metrics.http_req_duration)});
		return out.map(function (s) {
			return lineSet(s.strategy === 'none' ? (dashed ? 'baseline' : 'all') : s.strategy + (dashed ? ' (baseline)' : ''),
				s.pts, strategyColor(s.strategy, dashed ? 0.55 : 1), dashed ? {borderDash: [5, 3], pointRadius: 0} : {pointRadius: 1});
		});
	}

	function renderSpectrum(doc, base) {
		var mods = modulesOf(doc), body = null;

		if (!mods.length)
			mods = [''];
		mods.forEach(function (m) {
			var ds = spectrumSets(doc, m, false), box, opt, key = 'spectrum-' + m;

			if (base)
				ds = ds.concat(spectrumSets(base, m, true));
			if (!ds.length)
				return;
			if (!body)
				body = ensureSection('s-spectrum', 'Latency distribution (percentile spectrum)');
			if (!body.querySelector('.grid'))
				body.innerHTML = '<p class="muted">Latency at each percentile, per module and strategy; the x axis is logarithmic ' +
					'in nines (90 %, 99 %, 99.9 %…), from the run’s histograms.</p><div class="grid wide"></div>';
			box = ensureBox(body.querySelector('.grid'), key, {'data-module': m, 'data-kind': 'spectrum',
				'data-points': ds[0].data.length, 'data-threshold-lines': 0}, 'chart tall');
			opt = baseOptions((m || 'all requests') + ': latency by percentile', undefined, 'ms');
			opt.scales.x = {type: 'logarithmic', min: 1, title: {display: true, text: 'percentile', font: {size: 10}},
				ticks: {font: {size: 10}, autoSkip: false, callback: function (v) { return nineLabel(v); }}};
			opt.scales.y = {type: 'logarithmic', title: {display: true, text: 'ms (log)', font: {size: 10}},
				ticks: {font: {size: 10}}};
			opt.plugins.tooltip.callbacks.title = function (items) {
				return items.length ? 'p' + (100 * (1 - 1 / items[0].parsed.x)).toFixed(3) : '';
			};
			upsertChart(box, key, {type: 'line', data: {datasets: ds}, options: opt}, {phases: null, lines: []});
		});
		if (!body)
			dropSection('s-spectrum');
	}

	function renderPhases(doc, base) {
		var cmp = obj(obj(doc.comparison).strategies), bcmp = base ? obj(obj(base.comparison).strategies) : {};
		var labels = [], rows = {}, keys = [], body, box, opt, ds, trs = [];

		function collect(c, tag) {
			strategiesOf(c).forEach(function (s) {
				modulesOf(tag ? base : doc).forEach(function (m) {
					var ph = obj(obj(obj(c[s])[m]).phases_avg_ms);

					if (!Object.keys(ph).length)
						return;
					labels.push(m + ' · ' + s + tag);
					Object.keys(ph).forEach(function (k) {
						if (keys.indexOf(k) < 0)
							keys.push(k);
					});
					rows[labels[labels.length - 1]] = ph;
				});
			});
		}
		collect(cmp, '');
		if (base)
			collect(bcmp, ' (baseline)');
		if (!labels.length)
			return dropSection('s-phases');
		keys.sort(function (a, b) {
			var i = PHASE_KEYS.indexOf(a), j = PHASE_KEYS.indexOf(b);

			return (i < 0 ? 99 : i) - (j < 0 ? 99 : j);
		});
		body = ensureSection('s-phases', 'Where the time went (mean of each request phase)');
		if (!body.querySelector('.chart'))
			body.innerHTML = '<div class="chart-slot"></div><div class="tbl"></div>';
		ds = keys.map(function (k) {
			return {label: k, data: labels.map(function (l) { return isNum(rows[l][k]) ? rows[l][k] : 0; }),
				backgroundColor: PHASE_COLORS[k] || '#607d8b'};
		});
		box = ensureBox(body.querySelector('.chart-slot') || body, 'phases', {'data-kind': 'phases', 'data-points': labels.length},
			'chart tall');
		box.style.height = Math.max(160, 40 + 22 * labels.length) + 'px';
		opt = {
			indexAxis: 'y',
			plugins: {title: {display: true, text: 'mean ms per request, by phase', align: 'start', font: {size: 12}},
				legend: {position: 'bottom', labels: {boxWidth: 10, font: {size: 10}}}},
			scales: {x: {stacked: true, title: {display: true, text: 'ms', font: {size: 10}}}, y: {stacked: true, ticks: {font: {size: 10}}}}
		};
		upsertChart(box, 'phases', {type: 'bar', data: {labels: labels, datasets: ds}, options: opt}, {phases: null, lines: []});
		labels.forEach(function (l) {
			trs.push('<tr><td class="l">' + esc(l) + '</td>' + keys.map(function (k) {
				return '<td>' + fmtMs(rows[l][k]) + '</td>';
			}).join('') + '</tr>');
		});
		body.querySelector('.tbl').innerHTML = table(['module · strategy'].concat(keys), trs, 'phase-table');
	}

	function render(doc, base) {
		var t0 = performance.now(), live = document.body.getAttribute('data-live') === '1', st = document.getElementById('status');

		if (!doc || typeof doc !== 'object') {
			if (st)
				st.textContent = live ? 'waiting for the run…' : 'No summary in this page.';
			return;
		}
		base = base && typeof base === 'object' ? base : null;
		/* Sections appear in the order first drawn: the story first (what
		 * happened over time), then the distributions, then the figures. */
		renderHeader(doc, base, live);
		ensureOrder(['s-thresholds', 's-spikes', 's-capacity', 's-timeline', 's-spectrum', 's-phases', 's-tables', 's-checks']);
		renderThresholds(doc, base);
		renderSpikes(doc);
		renderCapacity(doc);
		renderTables(doc, base);
		renderTimeline(doc, base);
		renderSpectrum(doc, base);
		renderPhases(doc, base);
		document.body.setAttribute('data-rendered', String((document.body.getAttribute('data-rendered') | 0) + 1));
		document.body.setAttribute('data-render-ms', (performance.now() - t0).toFixed(1));
		document.body.setAttribute('data-ready-ms', performance.now().toFixed(1));
		document.getElementById('render-ms').textContent = 'Drawn in ' + (performance.now() - t0).toFixed(0) + ' ms.';
	}

	function readJson(id) {
		var e = document.getElementById(id);

		if (!e)
			return null;
		try {
			return JSON.parse(e.textContent);
		} catch (x) {
			console.error('strain report: the ' + id + ' element is not JSON: ' + x.message);
			return null;
		}
	}

	/* Live: the server's summary.json, then one full document per event;
	 * the event named "final" is the last. */
	function live(doc, base) {
		var es, events = 0, done = false;

		render(doc, base);
		/* summary.json may answer after the first event: it is drawn only
		 * if no event was, so an older document never replaces a newer. */
		if (typeof fetch === 'function')
			fetch('summary.json', {cache: 'no-store'}).then(function (r) {
				return r.ok ? r.json() : null;
			}).then(function (d) {
				if (d && !events && !done)
					render(d, base);
			}).catch(function () {});
		if (typeof EventSource !== 'function')
			return;
		es = new EventSource('events');
		es.onmessage = function (e) {
			if (done)
				return;
			events++;
			try {
				render(JSON.parse(e.data), base);
			} catch (x) {
				console.warn('strain report: a live update was not a summary: ' + x.message);
			}
		};
		es.addEventListener('final', function (e) {
			done = true;
			es.close();
			try {
				render(JSON.parse(e.data), base);
			} catch (x) {
				console.warn('strain report: the final update was not a summary: ' + x.message);
			}
		});
	}

	window.strainRender = render;
	window.strainHist = {decode: histDecode, percentile: histPct, merge: histMerge};
	(function start() {
		var doc = readJson('strain-summary'), base = readJson('strain-baseline');

		if (typeof Chart !== 'function') {
			console.error('strain report: Chart.js is missing from the page');
			return;
		}
		Chart.defaults.font.family = 'system-ui, sans-serif';
		if (document.body.getAttribute('data-live') === '1')
			live(doc, base);
		else
			render(doc, base);
	})();
})();
