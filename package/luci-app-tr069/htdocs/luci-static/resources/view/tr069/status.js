'use strict';
'require view';
'require form';
'require rpc';
'require ui';
'require poll';

// The tr069 object through uhttpd + rpcd's /ubus (ACL: luci-app-tr069.json).
var callStatus = rpc.declare({
	object: 'tr069',
	method: 'status',
	expect: { }
});

var callInform = rpc.declare({
	object: 'tr069',
	method: 'inform',
	params: [ 'event', 'GetRPCMethods' ],
	expect: { }
});

var callCommand = rpc.declare({
	object: 'tr069',
	method: 'command',
	params: [ 'command' ],
	expect: { }
});

// the daemon's state view (ubus tr069.bridge state), as `tr069-bridge state` shows it
var callState = rpc.declare({
	object: 'tr069.bridge',
	method: 'state',
	expect: { }
});

function bytes(n) {
	if (n === null || n === undefined) return '?';
	return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB';
}

// one row per line of the state view: [field, label, function(view) -> text]
var STATE_FIELDS = [
	[ 'os3p.link', _('OS3P link'), function(v) {
		var o = v.os3p || {};
		if (!o.enabled) return _('off (os3p.enabled is 0)');
		return o.link + (o.connected ? ', connected' : ', not connected') + (o.registration ? ', ' + o.registration : '');
	} ],
	[ 'os3p.outbox', _('Outbox'), function(v) {
		var box = (v.os3p || {}).outbox;
		return !box ? '-' : box.depth + ' queued' + (box.oldest ? ', oldest ' + box.oldest.action + ' (' + box.oldest.age + ' s)' : '');
	} ],
	[ 'transfers', _('Transfers'), function(v) {
		return (v.transfers || []).map(function(t) {
			return t.name + ': ' + t.state + (t.percent !== null ? ' ' + t.percent + ' %' : '') + ', ' + bytes(t.bytes_done) +
				' of ' + bytes(t.bytes_total) + ', ' + t.retries_left + ' retries left' + (t.error ? ', ' + t.error : '');
		}).join('; ') || _('none');
	} ],
	[ 'errors', _('Last warnings and errors'), function(v) {
		return (v.errors || []).slice(-3).map(function(e) { return e.time + ' ' + e.level + ': ' + e.message; }).join('; ') || _('none');
	} ],
	[ 'reach.state', _('Reachability'), function(v) {
		var r = v.reach, m;
		if (!r) return _('off (reach.enabled is 0)');
		m = r.modem || {};
		return r.state + ' ' + _('since') + ' ' + r.since + (r.settling ? ' (' + _('settling') + ': ' + r.settling + ')' : '') +
			'; ' + _('modem') + ' ' + ([ m.registration, m.operator, m.technology, m.rsrp != null ? 'RSRP ' + m.rsrp + ' dBm' : null ]
				.filter(function(x) { return x; }).join(', ') || _('none')) +
			(r.weak_signal ? ', WeakSignal' : '') + '; ' + r.subscriptions + ' ' + _('subscription(s)');
	} ],
	[ 'sensors.indicators', _('MV fault indicators'), function(v) {
		var g = ((v.sensors || {}).indicators || {}).groups || {};
		return Object.keys(g).map(function(k) { return k + ': ' + (g[k].faults.join(', ') || _('no fault')); }).join('; ') || _('none');
	} ],
	[ 'sensors.last', _('Last readings'), function(v) {
		var last = (v.sensors || {}).last;
		return !last ? _('none') : last.readings.map(function(r) {
			return r[0] + (r[1] ? ' (' + r[1] + ')' : '') + ' ' + r[3] + (r[2] ? ' ' + r[2] : '');
		}).join(', ');
	} ],
	[ 'sensors.chart', _('Last 24 h'), function(v) {
		return sparkline((v.sensors || {}).chart);
	} ],
	[ 'streetlights.contactors', _('Streetlights'), function(v) {
		var s = v.streetlights;
		if (!s) return _('none');
		var rows = (s.contactors || []).map(function(c) {
			return c.id + ': ' + (c.light || '?') + ' (' + c.mode + (c.override ? ' ' + c.override : '') + ')';
		});
		return (rows.join(', ') || _('no contactor configured')) +
			(s.local_switch ? ', ' + _('local switch on') + ' (' + s.local_action + ')' : '') +
			(s.simulated ? ', ' + _('simulated') : '');
	} ],
	[ 'streetlights.next', _('Next switch'), function(v) {
		var s = v.streetlights;
		if (!s) return '-';
		return (s.next_change || _('none scheduled')) + (s.sunset ?
			', ' + _('sunset') + ' ' + s.sunset + ', ' + _('sunrise') + ' ' + s.sunrise :
			', ' + _('no Geolocation: Sunset/Sunrise periods stay off'));
	} ]
];

// a chart as text: one block character a point (no chart library for a few dozen values)
var BLOCKS = '\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588';
function sparkline(c) {
	var pts = (c && c.points) || [];
	if (pts.length < 2) return _('no history yet');
	var lo = Math.min.apply(null, pts.map(function(p) { return p[1]; })),
	    hi = Math.max.apply(null, pts.map(function(p) { return p[1]; }));
	return c.measurand + ' ' + pts.map(function(p) {
		return BLOCKS.charAt(hi === lo ? 3 : Math.round((p[1] - lo) / (hi - lo) * 7));
	}).join('') + ' ' + lo + '-' + hi + (c.unit ? ' ' + c.unit : '');
}

function renderState(view) {
	return E('table', { 'class': 'table', 'id': 'tr069-state' }, STATE_FIELDS.map(function(f) {
		return E('tr', { 'class': 'tr' }, [
			E('td', { 'class': 'td left', 'width': '33%' }, f[1]),
			E('td', { 'class': 'td left', 'data-field': 'state.' + f[0] }, view ? f[2](view) : '-')
		]);
	}));
}

// one row per shown value: [section, key, label]
var FIELDS = [
	[ 'cwmp', 'status', _('Connection') ],
	[ 'cwmp', 'acs_url', _('ACS URL') ],
	[ 'cwmp', 'start_time', _('Started') ],
	[ 'last_session', 'status', _('Last session') ],
	[ 'last_session', 'start_time', _('Last session start') ],
	[ 'last_session', 'end_time', _('Last session end') ],
	[ 'next_session', 'status', _('Next session') ],
	[ 'next_session', 'start_time', _('Next session start') ],
	[ 'statistics', 'success_sessions', _('Successful sessions') ],
	[ 'statistics', 'failure_sessions', _('Failed sessions') ],
	[ 'statistics', 'total_sessions', _('Total sessions') ]
];

function value(status, f) {
	var v = (status && status[f[0]]) ? status[f[0]][f[1]] : null;
	return (v === null || v === undefined || v === '') ? '-' : String(v);
}

function renderTable(status) {
	return E('table', { 'class': 'table', 'id': 'tr069-status' }, FIELDS.map(function(f) {
		return E('tr', { 'class': 'tr' }, [
			E('td', { 'class': 'td left', 'width': '33%' }, f[2]),
			E('td', { 'class': 'td left', 'data-field': f[0] + '.' + f[1] }, value(status, f))
		]);
	}));
}

function notifyReply(reply, fallback) {
	var failed = reply && typeof reply.status === 'number' && reply.status < 0;
	ui.addNotification(null, E('p', (reply && reply.info) || fallback), failed ? 'danger' : 'info');
}

return view.extend({
	load: function() {
		return Promise.all([
			callStatus().catch(function() { return null; }),
			callState().catch(function() { return null; })
		]);
	},

	handleInform: function(ev) {
		return callInform('6 CONNECTION REQUEST', false).then(function(reply) {
			notifyReply(reply, _('Inform requested'));
		}).catch(function(e) {
			ui.addNotification(null, E('p', _('Inform failed: %s').format(e.message)), 'danger');
		});
	},

	handleReload: function(ev) {
		return callCommand('reload').then(function(reply) {
			notifyReply(reply, _('Reload requested'));
		}).catch(function(e) {
			ui.addNotification(null, E('p', _('Reload failed: %s').format(e.message)), 'danger');
		});
	},

	render: function(loaded) {
		var m, s, o, status = loaded[0], state = loaded[1];

		m = new form.Map('tr069', _('TR-069 bridge'),
			_('Status of the management session and the OS3P connection settings (UCI config <code>tr069</code>).'));

		s = m.section(form.NamedSection, 'acs', 'acs', _('Central system'));
		s.addremove = false;

		o = s.option(form.Value, 'url', _('URL'), _('ws:// or wss:// address of the OS3P central system'));
		o.rmempty = false;
		o.validate = function(section_id, v) {
			return /^wss?:\/\/[^\s]+$/.test(v) ? true : _('Expecting a ws:// or wss:// URL');
		};
		s.option(form.Value, 'identity', _('Identity'));
		s.option(form.Value, 'username', _('Username'));
		o = s.option(form.Value, 'password', _('Password'));
		o.password = true;
		s.option(form.Value, 'ca_file', _('CA bundle'));
		s.option(form.Value, 'client_cert', _('Client certificate'));
		s.option(form.Value, 'client_key', _('Client key'));
		o = s.option(form.Flag, 'periodic_inform_enable', _('Periodic inform'));
		o.default = '1';
		o.rmempty = false;
		o = s.option(form.Value, 'periodic_inform_interval', _('Periodic inform interval (s)'));
		o.datatype = 'uinteger';
		o.default = '300';
		o.depends('periodic_inform_enable', '1');

		s = m.section(form.NamedSection, 'os3p', 'os3p', _('OS3P client'));
		s.addremove = false;
		o = s.option(form.Flag, 'enabled', _('Enabled'), _('Takes effect after a restart of the service'));
		o.default = '0';
		o = s.option(form.Value, 'ping_interval', _('WebSocket ping interval (s)'));
		o.datatype = 'uinteger';
		o = s.option(form.Value, 'call_timeout', _('Call timeout (s)'));
		o.datatype = 'uinteger';
		o = s.option(form.Value, 'reconnect_max', _('Longest reconnect delay (s)'));
		o.datatype = 'uinteger';

		s = m.section(form.NamedSection, 'cpe', 'cpe', _('Logging'));
		o = s.option(form.ListValue, 'log_level', _('Log level'));
		[ 'error', 'warning', 'info', 'debug' ].forEach(function(l) { o.value(l); });
		o.default = 'info';

		return m.render().then(L.bind(function(mapEl) {
			var table = renderTable(status);
			var now = renderState(state);
			var box = E('div', { 'class': 'cbi-section' }, [
				E('h3', _('Status')),
				table,
				E('h3', _('Now')),
				now,
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'cbi-button cbi-button-action', 'click': ui.createHandlerFn(this, 'handleInform') },
						_('Inform now')),
					' ',
					E('button', { 'class': 'cbi-button cbi-button-neutral', 'click': ui.createHandlerFn(this, 'handleReload') },
						_('Reload configuration'))
				])
			]);

			poll.add(function() {
				return callStatus().then(function(st) {
					FIELDS.forEach(function(f) {
						var cell = table.querySelector('[data-field="' + f[0] + '.' + f[1] + '"]');
						if (cell) cell.textContent = value(st, f);
					});
				}).catch(function() {});
			}, 5);
			poll.add(function() {
				return callState().then(function(v) {
					STATE_FIELDS.forEach(function(f) {
						var cell = now.querySelector('[data-field="state.' + f[0] + '"]');
						if (cell) cell.textContent = f[2](v);
					});
				}).catch(function() {});
			}, 5);

			mapEl.insertBefore(box, mapEl.firstChild.nextSibling);
			return mapEl;
		}, this));
	}
});
