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
		return callStatus().catch(function() { return null; });
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

	render: function(status) {
		var m, s, o;

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
			var box = E('div', { 'class': 'cbi-section' }, [
				E('h3', _('Status')),
				table,
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

			mapEl.insertBefore(box, mapEl.firstChild.nextSibling);
			return mapEl;
		}, this));
	}
});
