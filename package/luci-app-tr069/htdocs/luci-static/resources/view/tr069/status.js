'use strict';
'require view';
'require form';
'require rpc';
'require ui';
'require poll';

// The tr069 object through uhttpd + rpcd's /ubus (ACL: luci-app-tr069.json). `reject: true`: a call that
// fails (no such object: the daemon is not running; access denied: the ACL) rejects, and the page says so.
var callStatus = rpc.declare({
	object: 'tr069',
	method: 'status',
	reject: true
});

var callInform = rpc.declare({
	object: 'tr069',
	method: 'inform',
	params: [ 'event', 'GetRPCMethods' ],
	reject: true
});

var callCommand = rpc.declare({
	object: 'tr069',
	method: 'command',
	params: [ 'command' ],
	reject: true
});

// the daemon's state view (ubus tr069.bridge state), as `tr069-bridge state` shows it
var callState = rpc.declare({
	object: 'tr069.bridge',
	method: 'state',
	reject: true
});

// A failed call in words, where it happens: what failed and what to do (LuCI's rpc errors carry the JSON-RPC
// error or the ubus status code in their message)
function explain(e, object, method) {
	var msg = (e && e.message) ? e.message : String(e),
	    m = /failed with (?:error (-?\d+)|ubus code (\d+))/.exec(msg),
	    code = m ? +(m[1] || m[2]) : null;
	if (code === -32000 || code === 4)
		return _('The tr069-bridge daemon does not answer: ubus has no object %s. Is the service running? Start it in System > Startup or with /etc/init.d/tr069-bridge start; logread -e tr069-bridge says why it stopped.').format(object);
	if (code === -32002 || code === 6)
		return _('Access denied: this login may not call %s %s. The rpcd ACL group luci-app-tr069 grants it (read: the status; write: the buttons and the form).').format(object, method);
	if (code === 7)
		return _('tr069-bridge did not answer %s %s in time.').format(object, method);
	return _('%s %s failed: %s').format(object, method, msg);
}

function failed(e) { return { failed: e }; }

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
	[ 'os3p.firmware', _('Firmware update'), function(v) {
		var f = (v.os3p || {}).firmware;
		if (!f) return _('none requested');
		return f.status + (f.since ? ' since ' + f.since : '') + (f.to ? ': ' + (f.from || '?') + ' -> ' + f.to : '') +
			(f.error ? ': ' + f.error : '');
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

// a chart as text: one block character a sample (no chart library for a few dozen values)
var BLOCKS = '\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588';
function sparkline(c) {
	var pts = (c && c.points) || [];
	if (!pts.length) return _('no samples yet');
	var lo = Math.min.apply(null, pts.map(function(p) { return p[1]; })),
	    hi = Math.max.apply(null, pts.map(function(p) { return p[1]; }));
	return c.measurand + ' ' + pts.map(function(p) {
		return BLOCKS.charAt(hi === lo ? 3 : Math.round((p[1] - lo) / (hi - lo) * 7));
	}).join('') + ' ' + (lo === hi ? lo : lo + '-' + hi) + (c.unit ? ' ' + c.unit : '');
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

// --- the configuration: every section of /etc/config/tr069 the daemon reads -------------------------

// Checks the form makes where a LuCI datatype cannot say it; each mirrors the daemon's own validator
// (bridge/config.py KEYS), and a test sends the same values through both.
var CHECKS = {
	// OS3P latlng, as config.parse_latlng reads it: "[<latitude>, <longitude>]", |lat| <= 90, |lon| <= 180
	latlng: function(sid, v) {
		if (v === undefined || v === null || v === '') return true;
		var m = /^ *\[ *(-?[0-9]{1,3}(?:\.[0-9]{1,12})?) *, *(-?[0-9]{1,3}(?:\.[0-9]{1,12})?) *\] *$/.exec(v);
		if (m && Math.abs(+m[1]) <= 90 && Math.abs(+m[2]) <= 180) return true;
		return _('Expecting "[latitude, longitude]" in degrees, latitude -90 to 90, longitude -180 to 180, e.g. [52.37, 4.90]');
	},
	devpath: function(sid, v) {
		return !v || (v.length <= 64 && /^\/dev\/[A-Za-z0-9._\/-]+$/.test(v) && v.indexOf('..') < 0) ||
			_('Expecting a /dev path, e.g. /dev/cdc-wdm0');
	},
	modem_name: function(sid, v) {
		return !v || (v.length <= 32 && /^[A-Za-z0-9_-]+$/.test(v)) || _('Expecting letters, digits, _ and - (at most 32)');
	},
	interfaces: function(sid, v) {
		return !v || (v.length <= 128 && v.split(/\s+/).filter(function(w) { return w; }).every(function(w) {
			return /^[A-Za-z0-9_.-]{1,15}$/.test(w); })) || _('Expecting netifd interface names separated by spaces');
	},
	msisdn: function(sid, v) {
		return !v || /^\+[1-9][0-9]{4,14}$/.test(v) || _('Expecting an E.164 number with a leading +, e.g. +31612345678');
	},
	api_token: function(sid, v) {
		return !v || /^[!-~]{32,256}$/.test(v) || _('Expecting 32 to 256 printable characters without spaces');
	},
	networks: function(sid, v) {
		return !v || (v.length <= 255 && v.split(/\s+/).filter(function(w) { return w; }).every(function(w) {
			return /^(none|loopback|private)$/.test(w) ||
				/^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(\/([0-9]|[12][0-9]|3[0-2]))?$/.test(w) &&
				w.split('/')[0].split('.').every(function(o) { return +o <= 255 && (o === '0' || o[0] !== '0'); }) ||
				/^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(\/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))?$/.test(w);
		})) || _('Expecting loopback, private, none or networks like 192.168.1.0/24, separated by spaces');
	},
	// the station sections (bridge/station): what `tr069-bridge check` refuses
	required: function(sid, v) { return (v !== undefined && v !== null && v !== '') || _('Required'); },
	// GPIO lines are checked for the gpio backend only: another backend names its lines its own way
	gpioline: function(sid, v) {
		var backend = (this && this.section && this.section.formvalue) ? this.section.formvalue(sid, 'backend') : null;
		return !v || (backend && backend !== 'gpio') || /^([0-9]+|gpiochip[0-9]+:[0-9]+)$/.test(v) ||
			_('Expecting a GPIO line: a sysfs number like 17, or gpiochip0:5');
	},
	register_address: function(sid, v) {
		return !v || (/^(0[xX][0-9A-Fa-f]+|[0-9]+)$/.test(v) && Number(v) <= 65535) ||
			_('Expecting a register address 0-65535 (or 0x...)');
	}
};

// [section, option, label, help, check, default, flags]: one row per key of the daemon's table (bridge/config.py
// KEYS; a test reads it and checks every row: the option, the default, the range or length or choices).
// check: 'bool', a LuCI datatype, a list of choices, or the name of one of CHECKS; flags: 'restart' (takes
// effect after a restart of the service), 'secret', 'advanced' (on the section's second tab)
var KEY_FIELDS = [
	[ 'acs', 'url', _('URL'), _('ws:// or wss:// address of the OS3P central system'), 'maxlength(512)', 'ws://127.0.0.1:9000/OS3P', '' ],
	[ 'acs', 'identity', _('Identity'), _('the station\'s name at the central system (the last part of the URL it connects to)'), 'maxlength(64)', 'SUBS001', '' ],
	[ 'acs', 'username', _('Username'), _('HTTP Basic authentication, when the central system asks for it'), 'maxlength(128)', '', '' ],
	[ 'acs', 'password', _('Password'), null, 'maxlength(256)', '', 'secret' ],
	[ 'acs', 'periodic_inform_enable', _('Heartbeat'), _('OS3P Heartbeat / periodic inform'), 'bool', '1', '' ],
	[ 'acs', 'periodic_inform_interval', _('Heartbeat interval (s)'), null, 'and(uinteger,range(1,604800))', '300', '' ],
	[ 'acs', 'ca_file', _('CA bundle'), _('wss://: the CAs to trust (a path; TLS verification is always on)'), 'maxlength(255)', '', 'advanced' ],
	[ 'acs', 'client_cert', _('Client certificate'), _('wss://: a path'), 'maxlength(255)', '', 'advanced' ],
	[ 'acs', 'client_key', _('Client key'), _('wss://: a path'), 'maxlength(255)', '', 'advanced' ],
	[ 'os3p', 'enabled', _('Enabled'), _('the OS3P client'), 'bool', '0', 'restart' ],
	[ 'os3p', 'geolocation', _('Geolocation'), _('where the station is, for sunrise and sunset: [latitude, longitude] in degrees, e.g. [52.37, 4.90]; without it Sunset and Sunrise periods stay off'), 'latlng', '', '' ],
	[ 'os3p', 'station_number', _('Station number'), _('sent in BootNotification'), 'maxlength(10)', '', '' ],
	[ 'os3p', 'send_board_temperature', _('Send the board temperature'), _('with the meter values'), 'bool', '0', '' ],
	[ 'os3p', 'ping_interval', _('WebSocket ping interval (s)'), _('0: none'), 'and(uinteger,range(0,86400))', '60', 'advanced' ],
	[ 'os3p', 'call_timeout', _('Call timeout (s)'), null, 'and(uinteger,range(1,3600))', '30', 'advanced' ],
	[ 'os3p', 'connect_timeout', _('Connect timeout (s)'), null, 'and(uinteger,range(1,3600))', '10', 'advanced' ],
	[ 'os3p', 'reconnect_min', _('Shortest reconnect delay (s)'), null, 'and(uinteger,range(1,3600))', '2', 'advanced' ],
	[ 'os3p', 'reconnect_max', _('Longest reconnect delay (s)'), null, 'and(uinteger,range(1,86400))', '300', 'advanced' ],
	[ 'os3p', 'stable_after', _('Connection stable after (s)'), null, 'and(uinteger,range(0,86400))', '60', 'advanced' ],
	[ 'os3p', 'queue_limit', _('Queued messages at most'), _('kept while the central system is away'), 'and(uinteger,range(1,10000))', '1000', 'advanced' ],
	[ 'os3p', 'max_message', _('Largest message (bytes)'), null, 'and(uinteger,range(1024,16777216))', '262144', 'advanced' ],
	[ 'os3p', 'download_dir', _('Download directory'), _('where firmware images go before they are flashed'), 'maxlength(255)', '/tmp', 'advanced' ],
	[ 'os3p', 'iccid', _('ICCID'), _('sent in BootNotification; empty: the modem\'s'), 'maxlength(20)', '', 'advanced' ],
	[ 'os3p', 'imsi', _('IMSI'), _('sent in BootNotification; empty: the modem\'s'), 'maxlength(20)', '', 'advanced' ],
	[ 'os3p', 'upload_retries', _('Upload attempts'), _('GetFile'), 'and(uinteger,range(1,10))', '3', 'advanced' ],
	[ 'os3p', 'upload_retry_interval', _('Between upload attempts (s)'), null, 'and(uinteger,range(0,3600))', '10', 'advanced' ],
	[ 'os3p', 'allow_insecure_auth', _('Credentials over ws://'), _('send the password over a plain connection (not recommended)'), 'bool', '0', 'advanced' ],
	[ 'station', 'sample_interval', _('Sample interval (s)'), _('how often the meter is read (OS3P MeterValueSampleInterval); 0: never'), 'and(uinteger,range(0,86400))', '900', '' ],
	[ 'station', 'history_samples', _('Samples kept'), _('the meter history (35 days of quarter-hours by default)'), 'and(uinteger,range(1,35040))', '3360', 'restart' ],
	[ 'station', 'test_timeout_ms', _('Indicator test timeout (ms)'), null, 'and(uinteger,range(1,600000))', '10000', 'advanced' ],
	[ 'station', 'pulse_ms', _('Test and reset pulse (ms)'), null, 'and(uinteger,range(1,60000))', '1000', 'advanced' ],
	[ 'station', 'settle_ms', _('Inputs settle (ms)'), null, 'and(uinteger,range(0,600000))', '2000', 'advanced' ],
	[ 'station', 'poll_ms', _('Input poll (ms)'), null, 'and(uinteger,range(1,60000))', '200', 'advanced' ],
	[ 'streetlights', 'local_action', _('Local switch action'), _('what the local override switch does'), [ 'on', 'off', 'hold' ], 'on', '' ],
	[ 'streetlights', 'local_switch', _('Local switch line'), _('an input line; empty: none'), 'maxlength(64)', '', 'restart' ],
	[ 'streetlights', 'local_switch_backend', _('Local switch backend'), null, [ 'gpio', 'ubus', 'host' ], 'gpio', 'restart' ],
	[ 'streetlights', 'local_switch_active_low', _('Local switch active low'), null, 'bool', '0', 'restart' ],
	[ 'streetlights', 'local_switch_object', _('Local switch ubus object'), _('ubus backend'), 'maxlength(64)', '', 'restart' ],
	[ 'streetlights', 'max_stack_level', _('Highest profile stack level'), null, 'and(uinteger,range(0,64))', '16', 'advanced' ],
	[ 'streetlights', 'feedback_timeout_ms', _('Feedback timeout (ms)'), _('how long a contactor may take to confirm'), 'and(uinteger,range(0,600000))', '2000', 'advanced' ],
	[ 'cpe', 'log_level', _('Log level'), null, [ 'error', 'warning', 'info', 'debug' ], 'info', '' ],
	[ 'reach', 'enabled', _('Enabled'), _('the modem and uplink watch'), 'bool', '1', 'restart' ],
	[ 'reach', 'backend', _('Modem backend'), null, [ 'auto', 'none', 'modemmanager', 'uqmi', 'uqmid', 'umbim', 'host' ], 'auto', 'restart' ],
	[ 'reach', 'device', _('Modem device'), null, 'devpath', '/dev/cdc-wdm0', 'restart' ],
	[ 'reach', 'interfaces', _('Uplink interfaces'), _('netifd names, separated by spaces; empty: every one'), 'interfaces', 'wwan', 'restart' ],
	[ 'reach', 'refresh_interval', _('Refresh (s)'), null, 'and(uinteger,range(5,86400))', '60', '' ],
	[ 'reach', 'modem_name', _('uqmid modem name'), null, 'modem_name', 'modem1', 'restart advanced' ],
	[ 'reach', 'debounce', _('Debounce (s)'), null, 'and(uinteger,range(0,600))', '3', 'restart advanced' ],
	[ 'reach', 'weak_signal_rsrp', _('Weak signal below RSRP (dBm)'), _('0: not judged'), 'and(integer,range(-156,0))', '-110', 'restart advanced' ],
	[ 'reach', 'weak_signal_rssi', _('Weak signal below RSSI (dBm)'), _('0: not judged'), 'and(integer,range(-120,0))', '-95', 'restart advanced' ],
	[ 'reach', 'weak_signal_hysteresis', _('Weak signal hysteresis (dB)'), null, 'and(uinteger,range(0,30))', '5', 'restart advanced' ],
	[ 'reach', 'msisdn', _('MSISDN'), _('the SIM\'s number, when the modem does not know it'), 'msisdn', '', 'advanced' ],
	[ 'reach', 'api_enabled', _('Subscription API'), _('CAMARA reachability subscriptions, on a server of the daemon\'s own'), 'bool', '1', 'restart' ],
	[ 'reach', 'api_listen', _('API listen address'), _('the LAN address for a SCADA gateway; keep it off the WAN'), 'maxlength(64)', '127.0.0.1', 'restart' ],
	[ 'reach', 'api_port', _('API port'), null, 'and(uinteger,range(0,65535))', '8070', 'restart' ],
	[ 'reach', 'api_token', _('API token'), _('for the CAMARA subscription API'), 'api_token', '', 'secret advanced' ],
	[ 'reach', 'plain_http_sinks', _('Plain HTTP sinks'), _('where notifications may go without TLS'), 'networks', 'loopback private', 'advanced' ],
	[ 'reach', 'max_subscriptions', _('Subscriptions at most'), null, 'and(uinteger,range(1,256))', '32', 'advanced' ],
	[ 'reach', 'sink_queue', _('Queued notifications at most'), null, 'and(uinteger,range(1,1024))', '64', 'restart advanced' ],
	[ 'reach', 'sink_timeout', _('Sink timeout (s)'), null, 'and(uinteger,range(1,60))', '10', 'restart advanced' ],
	[ 'reach', 'ca_file', _('Sink CA bundle'), null, 'maxlength(255)', '', 'restart advanced' ],
	[ 'model', 'enabled', _('Enabled'), _('the TR-181 parameter model'), 'bool', '1', 'restart' ],
	[ 'model', 'poll_interval', _('Poll interval (s)'), _('for watched parameters whose source cannot tell of a change; 0: only on events'), 'and(uinteger,range(0,86400))', '60', '' ],
	[ 'jsonrpc', 'enabled', _('Enabled'), _('uhttpd\'s /ubus served by the daemon itself: off on a device, where uhttpd and rpcd serve it'), 'bool', '1', 'restart' ],
	[ 'jsonrpc', 'listen', _('Listen address'), null, 'maxlength(64)', '127.0.0.1', 'restart' ],
	[ 'jsonrpc', 'port', _('Port'), null, 'and(uinteger,range(0,65535))', '8069', 'restart' ],
	[ 'jsonrpc', 'session_timeout', _('Session timeout (s)'), null, 'and(uinteger,range(1,86400))', '300', 'advanced' ],
	[ 'jsonrpc', 'call_timeout', _('Call timeout (s)'), null, 'and(uinteger,range(1,3600))', '60', 'advanced' ],
	[ 'jsonrpc', 'login_attempts', _('Login attempts'), null, 'and(uinteger,range(1,1000))', '5', 'advanced' ],
	[ 'jsonrpc', 'acl_dir', _('ACL directory'), null, 'maxlength(255)', '/usr/share/rpcd/acl.d', 'advanced' ],
	[ 'jsonrpc', 'rpcd_config', _('rpcd config'), _('users; empty: the backend\'s'), 'maxlength(255)', '', 'advanced' ],
	[ 'jsonrpc', 'shadow', _('Shadow file'), null, 'maxlength(255)', '/etc/shadow', 'advanced' ],
	[ 'ubus', 'socket', _('ubusd socket'), null, 'maxlength(255)', '/var/run/ubus/ubus.sock', 'advanced' ]
];

// the sections of KEY_FIELDS, in the order shown: [name, title, description]
var SECTIONS = [
	[ 'acs', _('Central system'), _('The OS3P central system the station registers with.') ],
	[ 'os3p', _('OS3P client'), null ],
	[ 'station', _('Station sensors'), _('The MV fault indicators and the meter are the sections further down.') ],
	[ 'streetlights', _('Streetlights'), _('Station-wide; each contactor is a section further down.') ],
	[ 'cpe', _('Logging'), null ],
	[ 'reach', _('Reachability'), _('The modem and the uplinks.') ],
	[ 'model', _('TR-181 parameter model'), null ],
	[ 'jsonrpc', _('JSON-RPC shim'), _('Off on a device, where uhttpd and rpcd serve /ubus.') ],
	[ 'ubus', _('ubus'), null ]
];

// the station's own sections (bridge/station; `tr069-bridge check` checks them): [type, title, description,
// named (the section name is the group's name), [option, label, check, default, depends]]
var STATION_SECTIONS = [
	[ 'contactor', _('Contactors'), _('One per streetlight contactor (1-4); without any, a host simulates four.'), false, [
		[ 'id', _('Contactor'), [ '1', '2', '3', '4' ], null ],
		[ 'backend', _('Backend'), [ 'gpio', 'ubus', 'host' ], 'gpio' ],
		[ 'output', _('Output line'), 'required', null ],
		[ 'feedback', _('Feedback line'), null, null ],
		[ 'active_low', _('Output active low'), 'bool', '0' ],
		[ 'feedback_active_low', _('Feedback active low'), 'bool', '0' ],
		[ 'object', _('ubus object'), null, null, { backend: 'ubus' } ]
	] ],
	[ 'indicator', _('MV fault indicators'), _('One per indicator group; its name is what StatusNotification reports.'), true, [
		[ 'backend', _('Backend'), [ 'gpio', 'ubus' ], 'gpio' ],
		[ 'overcurrent', _('Overcurrent input'), 'gpioline required', null ],
		[ 'ground', _('Ground fault input'), 'gpioline', null ],
		[ 'selffault', _('Self-fault input'), 'gpioline', null ],
		[ 'test', _('Test output'), 'gpioline', null ],
		[ 'reset', _('Reset output'), 'gpioline', null ],
		[ 'active_low', _('Active low'), 'bool', '0' ],
		[ 'object', _('ubus object'), null, null, { backend: 'ubus' } ]
	] ],
	[ 'meter', _('Meter'), _('A Modbus meter (TCP, or RTU on a serial port); its values are the register sections below.'), true, [
		[ 'enabled', _('Enabled'), 'bool', '1' ],
		[ 'protocol', _('Protocol'), [ 'tcp', 'rtu' ], 'tcp' ],
		[ 'host', _('Host'), null, '127.0.0.1', { protocol: 'tcp' } ],
		[ 'port', _('Port'), 'uinteger', '502', { protocol: 'tcp' } ],
		[ 'device', _('Serial port'), 'required', null, { protocol: 'rtu' } ],
		[ 'baud', _('Baud'), 'uinteger', '9600', { protocol: 'rtu' } ],
		[ 'parity', _('Parity'), [ 'N', 'E', 'O' ], 'N', { protocol: 'rtu' } ],
		[ 'stopbits', _('Stop bits'), [ '1', '2' ], '1', { protocol: 'rtu' } ],
		[ 'unit', _('Unit id'), 'integer', '1' ],
		[ 'timeout', _('Timeout (s)'), 'float', '2' ]
	] ],
	[ 'register', _('Meter registers'), _('One per value read from the meter.'), false, [
		[ 'address', _('Address'), 'register_address required', null ],
		[ 'function', _('Function'), [ '3', '4' ], '3' ],
		[ 'type', _('Type'), [ 'int16', 'uint16', 'int32', 'uint32', 'float32' ], 'uint16' ],
		[ 'word_order', _('Word order'), [ 'big', 'little' ], 'big' ],
		[ 'scale', _('Scale'), 'float', '1' ],
		[ 'measurand', _('Measurand'), 'required', null ],
		[ 'location', _('Location'), [ '', 'In', 'Out', 'Body', 'P1Meter' ], '' ],
		[ 'unit', _('Unit'), [ '', 'Wh', 'kWh', 'varh', 'kvarh', 'W', 'kW', 'VA', 'VAh', 'kVA', 'var', 'kvar', 'A', 'V', 'K', 'Hz', 'C', '%', 'Celsius', 'Amp', '-' ], '' ]
	] ],
	[ 'threshold', _('Alarm thresholds'), _('Limits over the defaults; an empty one removes that limit.'), false, [
		[ 'measurand', _('Measurand'), 'required', null ],
		[ 'low', _('Low'), 'float', null ],
		[ 'high', _('High'), 'float', null ]
	] ]
];

// an option with its check: a Flag, a list of choices, a LuCI datatype, or functions of CHECKS
function field(s, tab, name, label, help, check, dflt, flags) {
	var cls = check === 'bool' ? form.Flag : Array.isArray(check) ? form.ListValue : form.Value,
	    notes = [];
	if (help) notes.push(help);
	if (dflt !== null && dflt !== undefined && check !== 'bool')
		notes.push(_('default: %s').format(dflt === '' ? _('empty') : dflt));
	if (/restart/.test(flags || '')) notes.push(_('takes effect after a restart of the service'));
	var o = tab ? s.taboption(tab, cls, name, label, notes.join('; ')) : s.option(cls, name, label, notes.join('; '));
	if (check === 'bool') {
		o.enabled = '1';
		o.disabled = '0';
		o.default = dflt;
	}
	else if (Array.isArray(check)) {
		check.forEach(function(c) { o.value(c, c === '' ? _('(none)') : c); });
		if (dflt !== null) o.default = dflt;
	}
	else if (check) {
		var fns = check.split(' ').filter(function(c) { return CHECKS[c]; });
		if (fns.length)
			o.validate = function(sid, v) {
				for (var i = 0; i < fns.length; i++) {
					var r = CHECKS[fns[i]].call(this, sid, v);
					if (r !== true) return r;
				}
				return true;
			};
		else
			o.datatype = check;
		if (dflt !== null && dflt !== '') o.placeholder = dflt;
	}
	if (/secret/.test(flags || '')) o.password = true;
	o.rmempty = true;
	return o;
}

return view.extend({
	load: function() {
		return Promise.all([ callStatus().catch(failed), callState().catch(failed) ]);
	},

	handleInform: function(ev) {
		return callInform('6 CONNECTION REQUEST', false).then(function(reply) {
			notifyReply(reply, _('Inform requested'));
		}).catch(function(e) {
			ui.addNotification(null, E('p', explain(e, 'tr069', 'inform')), 'danger');
		});
	},

	handleReload: function(ev) {
		return callCommand('reload').then(function(reply) {
			notifyReply(reply, _('Reload requested'));
		}).catch(function(e) {
			ui.addNotification(null, E('p', explain(e, 'tr069', 'command')), 'danger');
		});
	},

	render: function(loaded) {
		var m, s, status = loaded[0], state = loaded[1];

		m = new form.Map('tr069', _('TR-069 bridge'),
			_('Status of the management session and the station, and the daemon\'s configuration (UCI config <code>tr069</code>). Every option\'s default and what it does: <code>/usr/share/tr069-bridge/tr069.defaults</code> (Save & Apply rewrites <code>/etc/config/tr069</code> without its comments).'));

		SECTIONS.forEach(function(sec) {
			var rows = KEY_FIELDS.filter(function(k) { return k[0] === sec[0]; }),
			    advanced = rows.some(function(k) { return /advanced/.test(k[6]); });
			s = m.section(form.NamedSection, sec[0], sec[0], sec[1], sec[2]);
			s.addremove = [ 'acs', 'os3p', 'cpe', 'station', 'streetlights' ].indexOf(sec[0]) < 0;
			if (advanced) {
				s.tab('general', _('General'));
				s.tab('advanced', _('Advanced'));
			}
			rows.forEach(function(k) {
				field(s, advanced ? (/advanced/.test(k[6]) ? 'advanced' : 'general') : null,
				      k[1], k[2], k[3], k[4], k[5], k[6]);
			});
		});

		STATION_SECTIONS.forEach(function(sec) {
			if (sec[0] === 'meter') {
				s = m.section(form.NamedSection, 'meter', 'meter', sec[1], sec[2]);
				s.addremove = true;
			}
			else {
				s = m.section(form.GridSection, sec[0], sec[1], sec[2]);
				s.anonymous = !sec[3];
				s.addremove = true;
			}
			sec[4].forEach(function(opt) {
				var o = field(s, null, opt[0], opt[1], null, opt[2], opt[3], '');
				if (opt[4]) o.depends(opt[4]);
				if (/required/.test(opt[2] || '')) o.rmempty = false;
			});
		});

		return m.render().then(L.bind(function(mapEl) {
			var table = renderTable(status.failed ? null : status);
			var now = renderState(state.failed ? null : state);
			var banner = E('div', { 'class': 'alert-message warning', 'id': 'tr069-error' });
			var problems = {};

			// the banner says what failed, where it happens; it goes when the call succeeds again
			function problem(key, e) {
				if (e) problems[key] = explain(e, key.split(' ')[0], key.split(' ')[1]);
				else delete problems[key];
				var texts = Object.keys(problems).map(function(k) { return problems[k]; })
					.filter(function(t, i, all) { return all.indexOf(t) === i; });
				banner.textContent = texts.join(' ');
				banner.style.display = texts.length ? '' : 'none';
			}
			problem('tr069 status', status.failed);
			problem('tr069.bridge state', state.failed);

			var box = E('div', { 'class': 'cbi-section', 'id': 'tr069-status-block' }, [
				E('h3', _('Status')),
				banner,
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
					problem('tr069 status', null);
					FIELDS.forEach(function(f) {
						var cell = table.querySelector('[data-field="' + f[0] + '.' + f[1] + '"]');
						if (cell) cell.textContent = value(st, f);
					});
				}).catch(function(e) { problem('tr069 status', e); });
			}, 5);
			poll.add(function() {
				return callState().then(function(v) {
					problem('tr069.bridge state', null);
					STATE_FIELDS.forEach(function(f) {
						var cell = now.querySelector('[data-field="state.' + f[0] + '"]');
						if (cell) cell.textContent = f[2](v);
					});
				}).catch(function(e) { problem('tr069.bridge state', e); });
			}, 5);

			// below the page's title and description, above the form
			var descr = mapEl.querySelector('.cbi-map-descr');
			mapEl.insertBefore(box, descr ? descr.nextSibling : mapEl.firstChild);
			return mapEl;
		}, this));
	}
});
