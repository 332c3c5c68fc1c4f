#!/usr/bin/env node
// Prints Markdown tables from the JSON results that bench.mjs wrote (--out) in a directory.
//   node bench/summarize.mjs /tmp/switchboard-bench-results
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] || '/tmp/switchboard-bench-results';
const runs = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ file: f, ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
const store = (r) => (r.label || r.file).match(/memory|sqlite|postgres|mongo/)?.[0] ?? '?';
const name = (r) => r.label || r.file.replace(/\.json$/, '');
const f = (x, d = 1) => (x == null ? '–' : Number(x).toFixed(d));
const lat = (l) => `${f(l.p50, 2)} / ${f(l.p95, 2)} / ${f(l.p99, 2)} / ${f(l.max, 1)}`;

const chat = runs.filter((r) => r.scenario === 'chat');
if (chat.length) {
  console.log('### Chat (pairs)\n');
  console.log('| run | store | offered msg/s | delivered msg/s | latency ms p50 / p95 / p99 / max | lost | unacked + ack errors | error events | server CPU µs/msg | server cores | load-gen CPU µs/msg | others\' CPU s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of chat) {
    const x = r.result;
    console.log(`| ${name(r)} | ${store(r)} | ${r.params.offeredMsgPerS} | ${f(x.deliveredMsgPerS, 0)} | ${lat(x.latencyMs)} | ${x.lost} | ${x.unacked + x.ackErrors} | ${x.errorEvents} | ${f(x.serverCpuUsPerMessage)} | ${f(x.serverCpuCores, 2)} | ${f(x.loadgenCpuUsPerMessage, 0)} | ${f(r.window.otherCpuS, 1)} |`);
  }
  console.log();
}

const fan = runs.filter((r) => r.scenario === 'fanout');
if (fan.length) {
  console.log('### Fan-out (one room)\n');
  console.log('| run | store | members × msgs | offered deliveries/s | deliveries/s | server CPU µs/delivery | last receiver ms p50 / p95 / p99 / max | per delivery ms p50 / p99 | lost | join phase: user_joined events, server µs each | others\' CPU s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of fan) {
    const x = r.result, j = r.setup.joinWindow;
    console.log(`| ${name(r)} | ${store(r)} | ${r.params.members} × ${r.params.messages} | ${r.params.offeredDeliveriesPerS} | ${f(x.deliveriesPerS, 0)} | ${f(x.serverCpuUsPerDelivery, 2)} | ${lat(x.lastReceiverLatencyMs)} | ${f(x.latencyMs.p50, 1)} / ${f(x.latencyMs.p99, 1)} | ${x.lostDeliveries} | ${j.userJoinedEvents}, ${f(j.serverCpuUsPerUserJoinedEvent, 2)} | ${f(r.window.otherCpuS, 1)} |`);
  }
  console.log();
}

const conn = runs.filter((r) => r.scenario === 'connections');
if (conn.length) {
  console.log('### Idle connections\n');
  console.log('| run | store | round | connected | RSS KB before → connected → closed | KB/conn (RSS) | KB/conn (anon) | server CPU µs/connect | µs/disconnect | connect ms p50 / p99 | idle server CPU % | others\' CPU s (connect phase) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of conn) {
    for (const x of [r.result, ...(r.laterRounds || [])]) {
      console.log(`| ${name(r)} | ${store(r)} | ${x.round} | ${x.connected} | ${x.rssKb.before} → ${x.rssKb.connected} → ${x.rssKb.afterClose} | ${f(x.memoryKbPerConnection, 1)} | ${f(x.anonMemoryKbPerConnection, 1)} | ${f(x.serverCpuUsPerConnection, 0)} | ${f(x.serverCpuUsPerDisconnect, 0)} | ${f(x.connectMs.p50, 0)} / ${f(x.connectMs.p99, 0)} | ${f(x.serverIdleCpuPercentOfCore, 2)} | ${f(x.connectWindow.otherCpuS, 1)} |`);
    }
  }
  console.log();
}
