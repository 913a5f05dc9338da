// A small stand-in for LuCI's browser runtime (view, form, rpc, ui, poll, E, _, L), enough to load a view in
// Node.js, render it, run its pollers once and ask its form options what they accept.
//
//   node luci_standin.js VIEW.js SCENARIO.json
//
// SCENARIO: {"status": {...} | {"error": "RPC call ... failed with error -32000: Object not found"},
//            "state": ... (the same), "poll": {"status": ..., "state": ...} (what the pollers get),
//            "formvalues": {"<section type>": {"backend": "ubus"}}, "samples": {"<section>.<option>": [...]}}
// Prints one JSON object: the rpc declarations, the form's options, the rendered cells, the error banner
// before and after the pollers ran, the layout of the page (its top-level elements), and for each sample
// whether the option accepts it (datatypes evaluated as LuCI's validation.js does, for the ones used).
'use strict';
const fs = require('fs');
const src = fs.readFileSync(process.argv[2], 'utf8');
const scenario = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));

function Elem(tag, attrs, children) {
  this.tag = tag;
  this.attrs = {};
  this.children = [];
  this.style = {};
  this._text = '';
  if (Array.isArray(attrs) || typeof attrs === 'string') { children = attrs; attrs = {}; }
  Object.assign(this.attrs, attrs || {});
  (Array.isArray(children) ? children : (children === undefined ? [] : [children])).forEach(k => {
    if (typeof k === 'string') this._text += k; else if (k) this.children.push(k);
  });
}
Object.defineProperty(Elem.prototype, 'textContent', {
  get() { return this._text + this.children.map(c => c.textContent).join(''); },
  set(v) { this._text = String(v); this.children = []; }
});
Elem.prototype.walk = function (fn) { fn(this); this.children.forEach(c => c.walk(fn)); };
Elem.prototype.querySelector = function (sel) {
  let hit = null;
  const field = /data-field="([^"]+)"/.exec(sel), cls = /^\.([\w-]+)$/.exec(sel);
  this.walk(e => {
    if (hit || e === this) return;
    if (field && e.attrs['data-field'] === field[1]) hit = e;
    if (cls && (e.attrs['class'] || '').split(' ').indexOf(cls[1]) >= 0) hit = e;
  });
  return hit;
};
Object.defineProperty(Elem.prototype, 'firstChild', { get() { return this.children[0] || null; } });
Object.defineProperty(Elem.prototype, 'nextSibling', {
  get() { const p = this.parent; if (!p) return null; const i = p.children.indexOf(this); return p.children[i + 1] || null; }
});
Elem.prototype.insertBefore = function (node, ref) {
  const i = ref ? this.children.indexOf(ref) : -1;
  if (i < 0) this.children.push(node); else this.children.splice(i, 0, node);
  node.parent = this;
};
function E(tag, attrs, children) {
  const el = new Elem(tag, attrs, children);
  el.children.forEach(c => { c.parent = el; });
  return el;
}
String.prototype.format = function () {
  const args = arguments;
  let i = 0;
  return this.replace(/%[sdf]/g, () => String(args[i++]));
};
const _ = s => s;

// --- rpc: what each call answers comes from the scenario -----------------------------------------
const declared = [];
let phase = 'load';
function answer(method) {
  const key = method === 'state' ? 'state' : 'status';
  const plan = phase === 'poll' && scenario.poll ? scenario.poll[key] : scenario[key];
  if (method !== 'status' && method !== 'state') return Promise.resolve({ status: 1, info: 'ok' });
  if (plan && plan.error) return Promise.reject(new Error(plan.error));
  return Promise.resolve(plan);
}
const rpc = { declare: d => { declared.push(d); return () => answer(d.method); } };

// --- form: records every section and option -------------------------------------------------------
const sections = [];
class Section {
  constructor(cls, args) {
    this.cls = cls;
    this.type = cls === 'NamedSection' ? args[1] : args[0];
    this.name = cls === 'NamedSection' ? args[0] : null;
    this.title = cls === 'NamedSection' ? args[2] : args[1];
    this.options = [];
    this.tabs = [];
    sections.push(this);
  }
  tab(name) { this.tabs.push(name); }
  option(cls, name, label, description) { return this.taboption(null, cls, name, label, description); }
  taboption(tab, cls, name, label, description) {
    const o = { cls, name, label, description, tab, values: [], deps: [], section: this };
    o.value = (k) => o.values.push(k);
    o.depends = (d) => o.deps.push(d);
    this.options.push(o);
    return o;
  }
  formvalue(sid, option) { return ((scenario.formvalues || {})[this.type] || {})[option]; }
}
const form = {
  Map: class {
    constructor(config, title, description) { this.config = config; this.title = title; this.description = description; }
    section(cls, ...args) { return new Section(cls, args); }
    render() {
      return Promise.resolve(E('div', { 'class': 'cbi-map' }, [E('h2', {}, this.title),
        E('div', { 'class': 'cbi-map-descr' }, this.description)].concat(sections.map(s =>
        E('div', { 'class': 'cbi-section', 'data-section': s.type }, s.title)))));
    }
  },
  NamedSection: 'NamedSection', TypedSection: 'TypedSection', TableSection: 'TableSection', GridSection: 'GridSection',
  Value: 'Value', Flag: 'Flag', ListValue: 'ListValue', DummyValue: 'DummyValue'
};

// LuCI's datatypes used by the view, as luci-base's validation.js evaluates them
const DATATYPES = {
  integer: v => /^-?\d+$/.test(v),
  uinteger: v => /^-?\d+$/.test(v) && +v >= 0,
  float: v => /^-?\d+(\.\d+)?$/.test(v) || /^-?\d*\.\d+$/.test(v),
  ufloat: v => DATATYPES.float(v) && +v >= 0,
  range: (v, lo, hi) => !isNaN(parseFloat(v)) && +v >= +lo && +v <= +hi,
  maxlength: (v, n) => Buffer.byteLength(v) <= +n
};
function datatype(expr, v) {
  const m = /^(\w+)(?:\((.*)\))?$/.exec(expr);
  if (m[1] === 'and') return splitArgs(m[2]).every(e => datatype(e, v));
  if (m[1] === 'or') return splitArgs(m[2]).some(e => datatype(e, v));
  if (!DATATYPES[m[1]]) throw new Error('datatype not in the stand-in: ' + m[1]);
  return DATATYPES[m[1]].apply(null, [v].concat(m[2] ? splitArgs(m[2]) : []));
}
function splitArgs(s) {
  const out = [];
  let depth = 0, cur = '';
  for (const c of s) {
    if (c === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    if (c === '(') depth++;
    if (c === ')') depth--;
    cur += c;
  }
  out.push(cur);
  return out;
}
function accepts(o, v) {
  if (o.cls === 'ListValue') return o.values.indexOf(v) >= 0;
  if (o.validate) return o.validate.call(o, 'cfg01', v) === true;
  if (o.datatype) return datatype(o.datatype, v);
  return true;
}

const notifications = [];
const ui = { createHandlerFn: (ctx, name) => ctx[name].bind(ctx), addNotification: (t, el, cls) => notifications.push([el.textContent, cls]) };
const polls = [];
const poll = { add: (fn, n) => polls.push([fn, n]) };
const view = { extend: o => o };
const L = { bind: (fn, ctx) => fn.bind(ctx) };

const v = new Function('view', 'form', 'rpc', 'ui', 'poll', 'E', '_', 'L', src)(view, form, rpc, ui, poll, E, _, L);
(async () => {
  const loaded = await v.load();
  const el = await v.render(loaded);
  const cells = () => { const o = {}; el.walk(e => { if (e.attrs['data-field']) o[e.attrs['data-field']] = e.textContent; }); return o; };
  const banner = () => { let b = null; el.walk(e => { if (e.attrs.id === 'tr069-error') b = e; });
    return b && { text: b.textContent, shown: b.style.display !== 'none' }; };
  const before = { cells: cells(), banner: banner() };
  phase = 'poll';
  for (const p of polls) await p[0]();
  const after = { cells: cells(), banner: banner() };
  const handlers = [];
  el.walk(e => { if (e.attrs.click) handlers.push(e.attrs.click); });
  for (const h of handlers) await h({});
  const options = [];
  sections.forEach(s => s.options.forEach(o => options.push({
    section: s.type, named: s.name, sectionClass: s.cls, name: o.name, cls: o.cls, tab: o.tab,
    datatype: o.datatype || null, values: o.values, default: o.default === undefined ? null : o.default,
    placeholder: o.placeholder === undefined ? null : o.placeholder, password: !!o.password, depends: o.deps,
    validate: !!o.validate, rmempty: o.rmempty, description: o.description || ''
  })));
  const accepted = {};
  Object.keys(scenario.samples || {}).forEach(key => {
    const [sec, name] = key.split('.');
    const o = sections.filter(s => s.type === sec).map(s => s.options.find(x => x.name === name)).find(x => x);
    accepted[key] = o ? scenario.samples[key].map(v => accepts(o, v)) : null;
  });
  console.log(JSON.stringify({
    declared: declared.map(d => ({ object: d.object, method: d.method, reject: !!d.reject })),
    layout: el.children.map(c => c.attrs.id || c.attrs['class'] || c.tag),
    before, after, polls: polls.map(p => p[1]), buttons: handlers.length, notifications, options, accepted,
    sections: sections.map(s => ({ cls: s.cls, type: s.type, name: s.name, tabs: s.tabs }))
  }));
})().catch(e => { console.error(e && e.stack || e); process.exit(1); });
