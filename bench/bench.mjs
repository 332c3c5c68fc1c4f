#!/usr/bin/env node
// Load generator for switchboard over the linsta Socket.IO dialect.
//
//   node bench.mjs chat        [--pairs 100 --messages 20000 --rate 10 ...]
//   node bench.mjs fanout      [--members 1000 --messages 50 --rate 5 ...]
//   node bench.mjs connections [--clients 2000 --concurrency 50 ...]
//
// Every option may also be given as an environment variable BENCH_<OPTION> (upper case,
// dashes as underscores), e.g. BENCH_PAIRS=50. `--pid <server pid>` makes the bench read the
// server's CPU time (/proc/<pid>/stat utime+stime) and memory (/proc/<pid>/status VmRSS)
// around each measured phase; without it those figures are null. The result is one JSON
// object on stdout (and in --out FILE when given); progress goes to stderr.
//
// The clients run in --workers forked Node processes (default 1); the parent only sets up
// (tokens, conversations via the provisioning API), coordinates and aggregates.
//
// Nothing is hidden: every message is tagged, and the summary counts lost, duplicated and
// unacknowledged messages, ack errors, `error` events and unexpected disconnects.

import { fork } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`[bench${process.env.BENCH_WORKER_ID ? ' w' + process.env.BENCH_WORKER_ID : ''}] ${a.join(' ')}\n`);

// ---------------------------------------------------------------------------------------
// Options

const DEFAULTS = {
  // common
  rest: 'http://127.0.0.1:3000',
  url: 'http://127.0.0.1:3001',
  secret: process.env.JWT_SECRET || 'bench-secret',
  serviceKey: 'bench-key',
  pid: '',
  workers: 1,
  label: '',
  out: '',
  textBytes: 64,
  drainTimeout: 30, // seconds without progress before giving up on the missing ones
  connectConcurrency: 50, // simultaneous connection attempts (setup of chat/fanout)
  // chat
  pairs: 100,
  messages: 0, // 0: scenario default (chat 20000, fanout 50)
  rate: 0, // 0: scenario default (chat 10 msg/s per sender, fanout 5 msg/s)
  // fanout
  members: 1000,
  joinSettle: 2, // seconds the user_joined flood must be quiet before measuring
  // connections
  clients: 2000,
  concurrency: 50,
  settle: 3,
  idle: 10,
  rounds: 1, // connect, idle, close; repeated to see whether memory comes back
};

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    const env = process.env['BENCH_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()];
    if (env !== undefined && env !== '') opts[key] = env;
  }
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { positional.push(a); continue; }
    let [k, v] = a.slice(2).split(/=(.*)/s, 2);
    if (v === undefined) v = argv[++i];
    const key = k.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in DEFAULTS)) throw new Error(`unknown option --${k}`);
    opts[key] = v;
  }
  for (const [k, d] of Object.entries(DEFAULTS)) {
    if (typeof d === 'number') {
      opts[k] = Number(opts[k]);
      if (!Number.isFinite(opts[k])) throw new Error(`--${k} must be a number`);
    }
  }
  opts.scenario = positional[0] || process.env.BENCH_SCENARIO;
  if (!['chat', 'fanout', 'connections'].includes(opts.scenario)) {
    throw new Error('usage: node bench.mjs chat|fanout|connections [--option value ...]');
  }
  if (opts.scenario === 'chat') {
    opts.messages ||= 20000;
    opts.rate ||= 10;
  } else if (opts.scenario === 'fanout') {
    opts.messages ||= 50;
    opts.rate ||= 5;
  }
  opts.pid = opts.pid ? Number(opts.pid) : null;
  return opts;
}

// ---------------------------------------------------------------------------------------
// Auth: HS256 JWTs signed with node:crypto

const b64url = (buf) => Buffer.from(buf).toString('base64url');
function jwt(sub, secret) {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const iat = Math.floor(Date.now() / 1000);
  const payload = b64url(JSON.stringify({ sub, iat, exp: iat + 86400 }));
  const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

// 24-hex ids like Mongo ObjectIds, unique per run so runs against one database never meet.
const RUN = randomBytes(4).toString('hex');
const userId = (i) => RUN + i.toString(16).padStart(16, '0');

async function createConversation(opts, participantIds) {
  const res = await fetch(`${opts.rest}/api/v1/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': opts.serviceKey },
    body: JSON.stringify({ participantIds }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`POST /api/v1/conversations -> ${res.status} ${body}`);
  return JSON.parse(body).id;
}

// ---------------------------------------------------------------------------------------
// Server and machine probes

const CLK_TCK = 100; // getconf CLK_TCK on Linux x86_64

function serverSample(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after "(comm)": index 0 is field 3 (state); utime = field 14, stime = field 15
    const utime = Number(f[11]), stime = Number(f[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number((status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm')) || [])[1] || NaN);
    return {
      t: nowMs(),
      cpuS: (utime + stime) / CLK_TCK,
      userS: utime / CLK_TCK,
      sysS: stime / CLK_TCK,
      rssKb: kb('VmRSS'),
      rssAnonKb: kb('RssAnon'),
      hwmKb: kb('VmHWM'),
      threads: kb('Threads'),
    };
  } catch (e) {
    return { error: String(e) };
  }
}

function machineSample() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + line[4]; // idle + iowait
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0); // without guest (already in user)
  return { total: total / CLK_TCK, idle: idle / CLK_TCK };
}

function machineInfo() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m);
    if (m) model = m[1];
  } catch {}
  return { host: hostname(), nproc: cpus().length, cpuModel: model, node: process.version };
}

/** A measured window: server CPU/RSS, load-generator CPU, whole-machine CPU. */
class Window {
  constructor(pid) {
    this.pid = pid;
    this.s0 = serverSample(pid);
    this.m0 = machineSample();
    this.c0 = process.cpuUsage();
    this.t0 = nowMs();
  }
  close(workerCpuS = 0) {
    const s1 = serverSample(this.pid), m1 = machineSample(), c1 = process.cpuUsage(this.c0);
    const wallS = (nowMs() - this.t0) / 1000;
    const server = this.s0 && s1 && !this.s0.error && !s1.error ? {
      cpuS: round(s1.cpuS - this.s0.cpuS, 3),
      userS: round(s1.userS - this.s0.userS, 3),
      sysS: round(s1.sysS - this.s0.sysS, 3),
      rssKbBefore: this.s0.rssKb,
      rssKbAfter: s1.rssKb,
      rssAnonKbBefore: this.s0.rssAnonKb,
      rssAnonKbAfter: s1.rssAnonKb,
      threads: s1.threads,
    } : null;
    const busy = (m1.total - this.m0.total) - (m1.idle - this.m0.idle);
    const loadgenS = (c1.user + c1.system) / 1e6 + workerCpuS;
    return {
      wallS: round(wallS, 3),
      server,
      loadgenCpuS: round(loadgenS, 3),
      machineBusyCpuS: round(busy, 3),
      machineBusyCores: round(busy / wallS, 2),
      otherCpuS: server ? round(busy - server.cpuS - loadgenS, 3) : null,
    };
  }
}

const round = (x, d = 1) => (x == null || !Number.isFinite(x) ? x : Math.round(x * 10 ** d) / 10 ** d);

function percentiles(values) {
  const a = Float64Array.from(values).sort();
  if (a.length === 0) return { n: 0 };
  const p = (q) => a[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))];
  let sum = 0;
  for (const v of a) sum += v;
  return {
    n: a.length,
    mean: round(sum / a.length, 2),
    p50: round(p(0.5), 2),
    p95: round(p(0.95), 2),
    p99: round(p(0.99), 2),
    max: round(a[a.length - 1], 2),
  };
}

// ---------------------------------------------------------------------------------------
// Workers (forked processes holding the Socket.IO clients)

class WorkerPool {
  constructor(n) {
    this.workers = [];
    for (let i = 0; i < n; i++) {
      const w = fork(SELF, ['--worker'], { env: { ...process.env, BENCH_WORKER_ID: String(i) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const entry = { proc: w, waiters: new Map(), seq: 0, exited: false };
      w.on('message', (m) => {
        const cb = entry.waiters.get(m.reqId);
        if (cb) { entry.waiters.delete(m.reqId); cb(m); }
      });
      w.on('exit', (code) => {
        entry.exited = true;
        for (const cb of entry.waiters.values()) cb({ error: `worker ${i} exited with ${code}` });
        entry.waiters.clear();
      });
      this.workers.push(entry);
    }
  }
  call(i, msg) {
    const e = this.workers[i];
    if (e.exited) return Promise.resolve({ error: `worker ${i} has exited` });
    const reqId = ++e.seq;
    return new Promise((resolve) => {
      e.waiters.set(reqId, resolve);
      e.proc.send({ ...msg, reqId });
    });
  }
  async all(msgFor) {
    const res = await Promise.all(this.workers.map((_, i) => this.call(i, msgFor(i))));
    for (const r of res) if (r.error) throw new Error(r.error);
    return res;
  }
  async stop() {
    await Promise.all(this.workers.map((e, i) => (e.exited ? null : this.call(i, { type: 'exit' }))));
  }
}

async function runWorker() {
  const { io } = await import('socket.io-client');
  const id = Number(process.env.BENCH_WORKER_ID);
  const state = {
    clients: [], // { userId, token, room, role, socket, ... }
    errors: [], // first few error texts
    errorEvents: 0,
    connectErrors: 0,
    disconnects: 0, // disconnects we did not ask for
    closing: false,
    stats: null,
    cpu0: null,
  };
  const noteError = (what) => { if (state.errors.length < 20) state.errors.push(what); };

  function connect(c, url) {
    return new Promise((resolve) => {
      const t0 = nowMs();
      const s = io(url, {
        auth: { token: c.token },
        transports: ['websocket'],
        forceNew: true, // one engine.io connection per client, no multiplexing
        reconnection: false, // a drop must show up as a drop
        timeout: 60000,
      });
      c.socket = s;
      s.on('error', (e) => { state.errorEvents++; noteError(`error event for ${c.userId}: ${JSON.stringify(e)}`); });
      s.on('disconnect', (reason) => {
        if (!state.closing) { state.disconnects++; noteError(`disconnect of ${c.userId}: ${reason}`); }
      });
      s.once('connect', () => resolve(nowMs() - t0));
      s.once('connect_error', (e) => { state.connectErrors++; noteError(`connect_error for ${c.userId}: ${e.message}`); resolve(null); });
    });
  }

  async function connectAll(url, concurrency) {
    const times = [];
    let next = 0;
    const lane = async () => {
      while (next < state.clients.length) {
        const c = state.clients[next++];
        const t = await connect(c, url);
        if (t != null) times.push(t);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
    return times;
  }

  async function joinAll(concurrency) {
    let next = 0, failed = 0;
    const lane = async () => {
      while (next < state.clients.length) {
        const c = state.clients[next++];
        if (!c.room || !c.socket?.connected) continue;
        const [err, ack] = await new Promise((r) => c.socket.timeout(30000).emit('join_room', { chatRoomId: c.room }, (e, a) => r([e, a])));
        if (err || !ack || ack.error || ack.chatRoomId !== c.room) { failed++; noteError(`join_room ack for ${c.userId}: ${err ? 'no ack within 30 s' : JSON.stringify(ack)}`); }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
    return failed;
  }

  const pad = (n) => 'x'.repeat(Math.max(0, n));

  // --- chat: pairs; the sender of pair p posts `perPair` messages at `rate`/s -----------
  function armChat(p) {
    const st = state.stats = {
      sent: 0, acks: 0, ackErrors: 0, peerRecv: 0, echoes: 0, dups: 0, unexpected: 0,
      latPeer: [], latAck: [], latEcho: [], firstSend: Infinity, lastRecv: 0,
    };
    for (const c of state.clients) {
      if (c.role === 'receiver') {
        c.seen = new Uint8Array(p.perPair);
        c.socket.on('receive_message', (m) => {
          const now = nowMs();
          const parts = typeof m?.text === 'string' ? m.text.split('|') : [];
          const seq = Number(parts[2]);
          if (parts[0] !== 'b' || Number(parts[1]) !== c.pair || m.chatRoomId !== c.room || m.senderId !== c.peer || !(seq >= 0 && seq < p.perPair)) {
            st.unexpected++; noteError(`unexpected receive_message at ${c.userId}: ${JSON.stringify(m).slice(0, 200)}`); return;
          }
          if (c.seen[seq]) { st.dups++; return; }
          c.seen[seq] = 1;
          st.peerRecv++;
          st.latPeer.push(now - Number(parts[3]));
          if (now > st.lastRecv) st.lastRecv = now;
        });
      } else if (c.role === 'sender') {
        c.echoSeen = new Uint8Array(p.perPair);
        c.socket.on('receive_message', (m) => {
          const now = nowMs();
          const parts = typeof m?.text === 'string' ? m.text.split('|') : [];
          const seq = Number(parts[2]);
          if (m?.senderId !== c.userId || Number(parts[1]) !== c.pair || !(seq >= 0 && seq < p.perPair)) {
            st.unexpected++; noteError(`unexpected receive_message at sender ${c.userId}: ${JSON.stringify(m).slice(0, 200)}`); return;
          }
          if (c.echoSeen[seq]) { st.dups++; return; }
          c.echoSeen[seq] = 1;
          st.echoes++;
          st.latEcho.push(now - Number(parts[3]));
        });
      }
    }
  }

  function goChat(p, t0) {
    const st = state.stats;
    const senders = state.clients.filter((c) => c.role === 'sender');
    const interval = 1000 / p.rate;
    for (const c of senders) { c.sent = 0; c.offset = (c.pair / p.pairs) * interval; }
    const filler = pad(p.textBytes - 40);
    return new Promise((resolve) => {
      const tick = () => {
        const now = nowMs();
        let pending = 0;
        for (const c of senders) {
          while (c.sent < p.perPair && t0 + c.offset + c.sent * interval <= now) {
            const seq = c.sent++;
            const ts = nowMs();
            if (ts < st.firstSend) st.firstSend = ts;
            st.sent++;
            c.socket.emit('send_message', { chatRoomId: c.room, text: `b|${c.pair}|${seq}|${ts.toFixed(3)}|${filler}` }, (ack) => {
              const at = nowMs();
              if (!ack || ack.error || typeof ack._id !== 'string') { st.ackErrors++; noteError(`send_message ack error for ${c.userId}: ${JSON.stringify(ack)}`); return; }
              st.acks++;
              st.latAck.push(at - ts);
            });
          }
          if (c.sent < p.perPair) pending++;
        }
        if (pending) setTimeout(tick, 1); else resolve();
      };
      setTimeout(tick, Math.max(0, t0 - nowMs()));
    });
  }

  // --- fanout: one room; client 0 of worker 0 posts `messages` at `rate`/s ---------------
  function armFanout(p) {
    const st = state.stats = {
      sent: 0, acks: 0, ackErrors: 0, recv: 0, dups: 0, unexpected: 0, userJoined: 0,
      lat: [], latAck: [], lastBySeq: new Array(p.messages).fill(-1), countBySeq: new Array(p.messages).fill(0),
      firstSend: Infinity, lastRecv: 0,
    };
    for (const c of state.clients) {
      c.seen = new Uint8Array(p.messages);
      c.socket.on('user_joined', () => { st.userJoined++; });
      c.socket.on('receive_message', (m) => {
        const now = nowMs();
        const parts = typeof m?.text === 'string' ? m.text.split('|') : [];
        const seq = Number(parts[2]);
        if (parts[0] !== 'b' || parts[1] !== 'f' || m.chatRoomId !== c.room || !(seq >= 0 && seq < p.messages)) {
          st.unexpected++; noteError(`unexpected receive_message at ${c.userId}: ${JSON.stringify(m).slice(0, 200)}`); return;
        }
        if (c.seen[seq]) { st.dups++; return; }
        c.seen[seq] = 1;
        st.recv++;
        const lat = now - Number(parts[3]);
        st.lat.push(lat);
        st.countBySeq[seq]++;
        if (lat > st.lastBySeq[seq]) st.lastBySeq[seq] = lat;
        if (now > st.lastRecv) st.lastRecv = now;
      });
    }
  }

  function goFanout(p, t0) {
    const st = state.stats;
    const sender = state.clients.find((c) => c.role === 'sender');
    if (!sender) return Promise.resolve();
    const interval = 1000 / p.rate;
    const filler = pad(p.textBytes - 40);
    let sent = 0;
    return new Promise((resolve) => {
      const tick = () => {
        const now = nowMs();
        while (sent < p.messages && t0 + sent * interval <= now) {
          const seq = sent++;
          const ts = nowMs();
          if (ts < st.firstSend) st.firstSend = ts;
          st.sent++;
          sender.socket.emit('send_message', { chatRoomId: sender.room, text: `b|f|${seq}|${ts.toFixed(3)}|${filler}` }, (ack) => {
            const at = nowMs();
            if (!ack || ack.error || typeof ack._id !== 'string') { st.ackErrors++; noteError(`send_message ack error: ${JSON.stringify(ack)}`); return; }
            st.acks++;
            st.latAck.push(at - ts);
          });
        }
        if (sent < p.messages) setTimeout(tick, 1); else resolve();
      };
      setTimeout(tick, Math.max(0, t0 - nowMs()));
    });
  }

  const progress = () => {
    const st = state.stats || {};
    return {
      sent: st.sent || 0, acks: st.acks || 0, ackErrors: st.ackErrors || 0,
      recv: (st.peerRecv ?? st.recv) || 0, echoes: st.echoes || 0, userJoined: st.userJoined || 0,
      errorEvents: state.errorEvents, disconnects: state.disconnects,
    };
  };

  let sending = null;
  process.on('message', async (m) => {
    const reply = (x) => process.send({ ...x, reqId: m.reqId });
    try {
      switch (m.type) {
        case 'init':
          state.clients = m.clients;
          reply({ ok: true });
          break;
        case 'connect': {
          state.closing = false;
          const times = await connectAll(m.url, m.concurrency);
          reply({ times, connected: state.clients.filter((c) => c.socket?.connected).length, connectErrors: state.connectErrors });
          break;
        }
        case 'join': {
          if (m.scenario === 'fanout') armFanout(m.params);
          const failed = await joinAll(m.concurrency);
          if (m.scenario === 'chat') armChat(m.params);
          reply({ failed });
          break;
        }
        case 'go':
          state.cpu0 = process.cpuUsage();
          sending = m.scenario === 'chat' ? goChat(m.params, m.t0) : goFanout(m.params, m.t0);
          reply({ ok: true });
          break;
        case 'progress':
          reply(progress());
          break;
        case 'result': {
          const st = state.stats || {};
          const cpu = process.cpuUsage(state.cpu0 || undefined);
          const out = { ...progress(), dups: st.dups || 0, unexpected: st.unexpected || 0, firstSend: Number.isFinite(st.firstSend) ? st.firstSend : null, lastRecv: st.lastRecv,
            errors: state.errors, cpuS: (cpu.user + cpu.system) / 1e6, connected: state.clients.filter((c) => c.socket?.connected).length };
          if (m.scenario === 'chat') Object.assign(out, { latPeer: st.latPeer, latAck: st.latAck, latEcho: st.latEcho });
          if (m.scenario === 'fanout') Object.assign(out, { lat: st.lat, latAck: st.latAck, lastBySeq: st.lastBySeq, countBySeq: st.countBySeq });
          reply(out);
          break;
        }
        case 'cpu': {
          const cpu = process.cpuUsage();
          reply({ cpuS: (cpu.user + cpu.system) / 1e6, connected: state.clients.filter((c) => c.socket?.connected).length, disconnects: state.disconnects, errorEvents: state.errorEvents, errors: state.errors });
          break;
        }
        case 'close': {
          state.closing = true;
          for (const c of state.clients) c.socket?.disconnect();
          await sleep(100);
          reply({ ok: true });
          break;
        }
        case 'exit':
          state.closing = true;
          for (const c of state.clients) c.socket?.disconnect();
          reply({ ok: true });
          setTimeout(() => process.exit(0), 50);
          break;
        default:
          reply({ error: `unknown command ${m.type}` });
      }
    } catch (e) {
      reply({ error: String(e?.stack || e) });
    }
  });
  void sending;
  void id;
}

// ---------------------------------------------------------------------------------------
// Scenarios (parent side)

const split = (items, n) => Array.from({ length: n }, (_, w) => items.filter((_, i) => i % n === w));
const sum = (xs, f) => xs.reduce((a, x) => a + (f(x) || 0), 0);

async function connectPhase(pool, opts, label) {
  const per = Math.ceil(opts.connectConcurrency / pool.workers.length);
  const res = await pool.all(() => ({ type: 'connect', url: opts.url, concurrency: per }));
  const connected = sum(res, (r) => r.connected);
  log(`${label}: ${connected} connected, ${sum(res, (r) => r.connectErrors)} connect errors`);
  return { connected, connectErrors: sum(res, (r) => r.connectErrors), connectMs: percentiles(res.flatMap((r) => r.times)) };
}

/** Waits until `done(progress)` holds, or nothing moved for drainTimeout seconds after sending ended. */
async function drain(pool, opts, sendingEndsAt, done) {
  let last = null, lastChange = nowMs(), lastLog = nowMs();
  for (;;) {
    await sleep(100);
    const res = await pool.all(() => ({ type: 'progress' }));
    const agg = {};
    for (const r of res) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') agg[k] = (agg[k] || 0) + v;
    if (done(agg)) return { agg, timedOut: false };
    if (nowMs() - lastLog > 5000) {
      lastLog = nowMs();
      const s = serverSample(opts.pid);
      log(`progress: sent ${agg.sent}, acked ${agg.acks}, ack errors ${agg.ackErrors}, received ${agg.recv}, echoes ${agg.echoes}; server CPU ${s?.cpuS ?? '?'} s`);
    }
    const key = JSON.stringify(agg);
    if (key !== last) { last = key; lastChange = nowMs(); }
    if (nowMs() > sendingEndsAt && nowMs() - lastChange > opts.drainTimeout * 1000) return { agg, timedOut: true };
  }
}

async function scenarioChat(opts, pool) {
  const P = opts.pairs;
  const perPair = Math.floor(opts.messages / P);
  const total = perPair * P;
  log(`chat: ${P} pairs x ${perPair} messages at ${opts.rate}/s per sender (${round(P * opts.rate, 1)} msg/s offered), ${total} total`);
  const clients = [];
  for (let p = 0; p < P; p++) {
    const a = userId(2 * p), b = userId(2 * p + 1);
    const room = await createConversation(opts, [a, b]);
    clients.push({ userId: a, token: jwt(a, opts.secret), room, role: 'sender', pair: p, peer: b });
    clients.push({ userId: b, token: jwt(b, opts.secret), room, role: 'receiver', pair: p, peer: a });
  }
  const parts = split(clients, pool.workers.length);
  await pool.all((i) => ({ type: 'init', clients: parts[i] }));
  const conn = await connectPhase(pool, opts, 'chat');
  const params = { pairs: P, perPair, rate: opts.rate, textBytes: opts.textBytes };
  const joinRes = await pool.all(() => ({ type: 'join', scenario: 'chat', params, concurrency: 20 }));
  await sleep(500);

  const win = new Window(opts.pid);
  const w0 = await pool.all(() => ({ type: 'cpu' }));
  const t0 = nowMs() + 200;
  await pool.all(() => ({ type: 'go', scenario: 'chat', params, t0 }));
  const sendingEndsAt = t0 + (perPair / opts.rate) * 1000;
  const { timedOut } = await drain(pool, opts, sendingEndsAt, (a) => a.recv >= total && a.acks + a.ackErrors >= total && a.echoes >= total);
  const w1 = await pool.all(() => ({ type: 'cpu' }));
  const m = win.close(sum(w1, (r) => r.cpuS) - sum(w0, (r) => r.cpuS));
  const res = await pool.all(() => ({ type: 'result', scenario: 'chat' }));

  const recv = sum(res, (r) => r.recv), acks = sum(res, (r) => r.acks), echoes = sum(res, (r) => r.echoes);
  const firstSend = Math.min(...res.map((r) => r.firstSend).filter((x) => x > 0)), lastRecv = Math.max(...res.map((r) => r.lastRecv));
  const activeS = (lastRecv - firstSend) / 1000;
  const cpuS = m.server?.cpuS;
  return {
    params: { pairs: P, messagesPerPair: perPair, messages: total, ratePerSender: opts.rate, offeredMsgPerS: P * opts.rate, textBytes: opts.textBytes, workers: opts.workers },
    setup: { ...conn, joinFailures: sum(joinRes, (r) => r.failed) },
    result: {
      sent: sum(res, (r) => r.sent),
      delivered: recv,
      lost: total - recv,
      duplicates: sum(res, (r) => r.dups),
      unexpected: sum(res, (r) => r.unexpected),
      acked: acks,
      ackErrors: sum(res, (r) => r.ackErrors),
      unacked: total - acks - sum(res, (r) => r.ackErrors),
      senderEchoes: echoes,
      senderEchoesMissing: total - echoes,
      errorEvents: sum(res, (r) => r.errorEvents),
      unexpectedDisconnects: sum(res, (r) => r.disconnects),
      drainTimedOut: timedOut,
      activeS: round(activeS, 3),
      deliveredMsgPerS: round(recv / activeS, 1),
      latencyMs: percentiles(res.flatMap((r) => r.latPeer)),
      ackLatencyMs: percentiles(res.flatMap((r) => r.latAck)),
      echoLatencyMs: percentiles(res.flatMap((r) => r.latEcho)),
      serverCpuUsPerMessage: cpuS != null && recv ? round((cpuS * 1e6) / recv, 1) : null,
      // each message is 3 socket writes in linsta: receive_message to the peer and to the sender, plus the ack
      serverCpuUsPerSocketDelivery: cpuS != null && recv ? round((cpuS * 1e6) / (recv + echoes), 1) : null,
      serverCpuCores: cpuS != null ? round(cpuS / m.wallS, 2) : null,
      loadgenCpuUsPerMessage: recv ? round((m.loadgenCpuS * 1e6) / recv, 1) : null,
      errors: res.flatMap((r) => r.errors).slice(0, 20),
    },
    window: m,
  };
}

async function scenarioFanout(opts, pool) {
  const N = opts.members, K = opts.messages;
  log(`fanout: ${N} members, ${K} messages at ${opts.rate}/s (${N * opts.rate} deliveries/s offered)`);
  const ids = Array.from({ length: N }, (_, i) => userId(i));
  const room = await createConversation(opts, ids);
  const clients = ids.map((id, i) => ({ userId: id, token: jwt(id, opts.secret), room, role: i === 0 ? 'sender' : 'member' }));
  const parts = split(clients, pool.workers.length);
  await pool.all((i) => ({ type: 'init', clients: parts[i] }));

  const winConnect = new Window(opts.pid);
  const w0c = await pool.all(() => ({ type: 'cpu' }));
  const conn = await connectPhase(pool, opts, 'fanout');
  const w1c = await pool.all(() => ({ type: 'cpu' }));
  const connectWindow = winConnect.close(sum(w1c, (r) => r.cpuS) - sum(w0c, (r) => r.cpuS));

  // join_room: linsta tells the others in the room `user_joined`, so N joins make ~N^2/2 events
  const params = { members: N, messages: K, rate: opts.rate, textBytes: opts.textBytes };
  const winJoin = new Window(opts.pid);
  const w0j = await pool.all(() => ({ type: 'cpu' }));
  const joinRes = await pool.all(() => ({ type: 'join', scenario: 'fanout', params, concurrency: 20 }));
  // wait for the user_joined flood to end
  let lastJ = -1, stableSince = nowMs();
  for (;;) {
    await sleep(200);
    const pr = await pool.all(() => ({ type: 'progress' }));
    const j = sum(pr, (r) => r.userJoined);
    if (j !== lastJ) { lastJ = j; stableSince = nowMs(); }
    else if (nowMs() - stableSince > opts.joinSettle * 1000) break;
  }
  const w1j = await pool.all(() => ({ type: 'cpu' }));
  const joinWindow = winJoin.close(sum(w1j, (r) => r.cpuS) - sum(w0j, (r) => r.cpuS));
  joinWindow.userJoinedEvents = lastJ;
  joinWindow.userJoinedExpected = (N * (N - 1)) / 2;
  joinWindow.serverCpuUsPerUserJoinedEvent = joinWindow.server && lastJ ? round((joinWindow.server.cpuS * 1e6) / lastJ, 2) : null;
  log(`fanout: joined, ${lastJ} user_joined events`);

  const win = new Window(opts.pid);
  const w0 = await pool.all(() => ({ type: 'cpu' }));
  const t0 = nowMs() + 200;
  await pool.all(() => ({ type: 'go', scenario: 'fanout', params, t0 }));
  const expected = N * K;
  const sendingEndsAt = t0 + (K / opts.rate) * 1000;
  const { timedOut } = await drain(pool, opts, sendingEndsAt, (a) => a.recv >= expected && a.acks + a.ackErrors >= K);
  const w1 = await pool.all(() => ({ type: 'cpu' }));
  const m = win.close(sum(w1, (r) => r.cpuS) - sum(w0, (r) => r.cpuS));
  const res = await pool.all(() => ({ type: 'result', scenario: 'fanout' }));

  const recv = sum(res, (r) => r.recv);
  const lastBySeq = Array.from({ length: K }, (_, s) => Math.max(...res.map((r) => r.lastBySeq[s])));
  const countBySeq = Array.from({ length: K }, (_, s) => sum(res, (r) => r.countBySeq[s]));
  const firstSend = Math.min(...res.map((r) => r.firstSend).filter((x) => x > 0)), lastRecv = Math.max(...res.map((r) => r.lastRecv));
  const activeS = (lastRecv - firstSend) / 1000;
  const cpuS = m.server?.cpuS;
  const acks = sum(res, (r) => r.acks), ackErrors = sum(res, (r) => r.ackErrors);
  return {
    params: { members: N, messages: K, rate: opts.rate, offeredDeliveriesPerS: N * opts.rate, textBytes: opts.textBytes, workers: opts.workers },
    setup: { ...conn, joinFailures: sum(joinRes, (r) => r.failed), connectWindow, joinWindow },
    result: {
      sent: sum(res, (r) => r.sent),
      deliveries: recv,
      expectedDeliveries: expected,
      lostDeliveries: expected - recv,
      messagesNotReachingEveryone: countBySeq.filter((c) => c < N).length,
      duplicates: sum(res, (r) => r.dups),
      unexpected: sum(res, (r) => r.unexpected),
      acked: acks,
      ackErrors,
      unacked: K - acks - ackErrors,
      errorEvents: sum(res, (r) => r.errorEvents),
      unexpectedDisconnects: sum(res, (r) => r.disconnects),
      drainTimedOut: timedOut,
      activeS: round(activeS, 3),
      deliveriesPerS: round(recv / activeS, 0),
      latencyMs: percentiles(res.flatMap((r) => r.lat)),
      lastReceiverLatencyMs: percentiles(lastBySeq.filter((x) => x >= 0)),
      ackLatencyMs: percentiles(res.flatMap((r) => r.latAck)),
      serverCpuUsPerDelivery: cpuS != null && recv ? round((cpuS * 1e6) / recv, 2) : null,
      serverCpuUsPerMessage: cpuS != null && K ? round((cpuS * 1e6) / K, 0) : null,
      serverCpuCores: cpuS != null ? round(cpuS / m.wallS, 2) : null,
      loadgenCpuUsPerDelivery: recv ? round((m.loadgenCpuS * 1e6) / recv, 2) : null,
      errors: res.flatMap((r) => r.errors).slice(0, 20),
    },
    window: m,
  };
}

async function scenarioConnections(opts, pool) {
  const N = opts.clients;
  log(`connections: ${N} idle clients, ${opts.concurrency} connecting at a time, ${opts.rounds} round(s)`);
  const clients = Array.from({ length: N }, (_, i) => { const id = userId(i); return { userId: id, token: jwt(id, opts.secret), role: 'idle' }; });
  const parts = split(clients, pool.workers.length);
  await pool.all((i) => ({ type: 'init', clients: parts[i] }));
  await sleep(1000);

  const rounds = [];
  for (let round_ = 1; round_ <= opts.rounds; round_++) {
    const before = serverSample(opts.pid);
    const win = new Window(opts.pid);
    const w0 = await pool.all(() => ({ type: 'cpu' }));
    const conn = await connectPhase(pool, { ...opts, connectConcurrency: opts.concurrency }, `connections round ${round_}`);
    const w1 = await pool.all(() => ({ type: 'cpu' }));
    const connectWindow = win.close(sum(w1, (r) => r.cpuS) - sum(w0, (r) => r.cpuS));
    await sleep(opts.settle * 1000);
    const settled = serverSample(opts.pid);

    const idleWin = new Window(opts.pid);
    const wi0 = await pool.all(() => ({ type: 'cpu' }));
    await sleep(opts.idle * 1000);
    const wi1 = await pool.all(() => ({ type: 'cpu' }));
    const idleWindow = idleWin.close(sum(wi1, (r) => r.cpuS) - sum(wi0, (r) => r.cpuS));
    const stillConnected = sum(wi1, (r) => r.connected);
    const afterIdle = serverSample(opts.pid);

    const closeWin = new Window(opts.pid);
    await pool.all(() => ({ type: 'close' }));
    await sleep(opts.settle * 1000);
    const closeWindow = closeWin.close();
    const afterClose = serverSample(opts.pid);

    const c = conn.connected;
    rounds.push({
      round: round_,
      connected: c,
      connectErrors: conn.connectErrors,
      stillConnectedAfterIdle: stillConnected,
      unexpectedDisconnects: sum(wi1, (r) => r.disconnects),
      errorEvents: sum(wi1, (r) => r.errorEvents),
      connectMs: conn.connectMs,
      connectPhaseS: connectWindow.wallS,
      connectionsPerS: round(c / connectWindow.wallS, 0),
      rssKb: { before: before?.rssKb, connected: settled?.rssKb, afterIdle: afterIdle?.rssKb, afterClose: afterClose?.rssKb },
      rssAnonKb: { before: before?.rssAnonKb, connected: settled?.rssAnonKb, afterIdle: afterIdle?.rssAnonKb, afterClose: afterClose?.rssAnonKb },
      memoryKbPerConnection: before && settled && c ? round((settled.rssKb - before.rssKb) / c, 2) : null,
      anonMemoryKbPerConnection: before && settled && c ? round((settled.rssAnonKb - before.rssAnonKb) / c, 2) : null,
      serverCpuUsPerConnection: connectWindow.server && c ? round((connectWindow.server.cpuS * 1e6) / c, 1) : null,
      serverCpuUsPerDisconnect: closeWindow.server && c ? round((closeWindow.server.cpuS * 1e6) / c, 1) : null,
      serverIdleCpuPercentOfCore: idleWindow.server ? round((100 * idleWindow.server.cpuS) / idleWindow.wallS, 2) : null,
      loadgenCpuUsPerConnection: c ? round((connectWindow.loadgenCpuS * 1e6) / c, 1) : null,
      serverThreads: settled?.threads,
      errors: wi1.flatMap((r) => r.errors).slice(0, 20),
      connectWindow,
      idleWindow,
      closeWindow,
    });
  }
  return {
    params: { clients: N, concurrency: opts.concurrency, settleS: opts.settle, idleS: opts.idle, rounds: opts.rounds, workers: opts.workers },
    result: rounds[0],
    laterRounds: rounds.slice(1),
  };
}

// ---------------------------------------------------------------------------------------

async function main() {
  if (process.argv.includes('--worker')) return runWorker();
  const opts = parseArgs(process.argv.slice(2));
  const started = new Date().toISOString();
  const server0 = serverSample(opts.pid);
  if (opts.pid && server0?.error) throw new Error(`cannot read server process ${opts.pid}: ${server0.error}`);
  const health = await fetch(`${opts.rest}/health`).then((r) => r.status).catch((e) => String(e));
  if (health !== 200) throw new Error(`${opts.rest}/health answered ${health}`);
  const pool = new WorkerPool(opts.workers);
  let out;
  try {
    const run = { chat: scenarioChat, fanout: scenarioFanout, connections: scenarioConnections }[opts.scenario];
    const r = await run(opts, pool);
    const server1 = serverSample(opts.pid);
    out = {
      scenario: opts.scenario,
      label: opts.label || undefined,
      started,
      machine: machineInfo(),
      serverPid: opts.pid,
      serverRssKbAtStart: server0?.rssKb ?? null,
      serverRssKbAtEnd: server1?.rssKb ?? null,
      serverPeakRssKb: server1?.hwmKb ?? null,
      ...r,
    };
  } finally {
    await pool.stop();
  }
  const json = JSON.stringify(out, null, 2);
  process.stdout.write(json + '\n');
  if (opts.out) writeFileSync(opts.out, json + '\n');
}

main().catch((e) => {
  log(`failed: ${e?.stack || e}`);
  process.exit(1);
});
