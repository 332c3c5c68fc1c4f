// The Node side of the cucumber steps: a long-running process, driven by JSON lines on stdin,
// that runs the real socket.io-client (the library every client app ships) on behalf of the Rust
// tests, so that the features exercise exactly the wire the apps speak.
//
// Commands (one JSON object a line; every one gets exactly one reply carrying its `id`):
//   {id, op: "connect", client, url, options}      -> {id, ok, connected, socketId?, error?}
//   {id, op: "emit", client, event, args, ack, timeoutMs?} -> {id, ok, ack?} (ack: the ack's arguments)
//   {id, op: "disconnect", client}                 -> {id, ok}
//   {id, op: "http", method, url, headers, body}   -> {id, ok, status, body}
//   {id, op: "upload", url, headers, fields, files} -> {id, ok, status, body} (a multipart POST:
//       fields {name: text}, files [{field, name, type, hex}])
//   {id, op: "download", url}                      -> {id, ok, status, contentType, hex}
//   {id, op: "transport", client}                  -> {id, ok, transport} (engine's current transport)
//   {id, op: "shutdown"}                           -> {id, ok}, then the process exits
// Anything else gets {id, ok: false, error}. Every event any client receives is written as
//   {type: "event", client, event, args}
// including the reserved `connect`, `disconnect` (args: [reason]) and `connect_error` (args: [message]).

import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const clients = new Map();

// stdout is the protocol channel: nothing else may be printed there.
function send(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function reply(id, fields) {
  send({ id, ok: true, ...fields });
}

function fail(id, error) {
  send({ id, ok: false, error: String(error) });
}

function clientNamed(name) {
  const socket = clients.get(name);
  if (!socket) throw new Error(`no client named ${JSON.stringify(name)}`);
  return socket;
}

function connect(cmd) {
  const { id, client, url } = cmd;
  const previous = clients.get(client);
  if (previous) {
    // Silenced first: its farewell must not be reported as the new connection's event.
    previous.offAny();
    previous.removeAllListeners();
    previous.disconnect();
  }
  // forceNew: socket.io-client would otherwise share one Manager between clients of the same
  // URL and they could not carry different tokens. No reconnection: a test decides when a
  // client comes back, and a refused client must stay refused.
  const socket = io(url, { forceNew: true, reconnection: false, ...cmd.options });
  clients.set(client, socket);
  const report = (event, args) => send({ type: "event", client, event, args });
  socket.onAny((event, ...args) => report(event, args));
  socket.on("disconnect", (reason) => report("disconnect", [reason]));
  socket.on("connect_error", (err) => report("connect_error", [err?.message ?? String(err)]));

  // The reply tells how the handshake ended; later events arrive as event lines.
  let settled = false;
  const settle = (fields) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    reply(id, fields);
  };
  const timer = setTimeout(
    () => settle({ connected: false, error: "connect timeout" }),
    cmd.timeoutMs ?? 5000,
  );
  socket.on("connect", () => {
    report("connect", []);
    settle({ connected: true, socketId: socket.id });
  });
  socket.on("connect_error", (err) => settle({ connected: false, error: err?.message ?? String(err) }));
}

function emit(cmd) {
  const socket = clientNamed(cmd.client);
  const args = Array.isArray(cmd.args) ? cmd.args : [];
  if (!cmd.ack) {
    socket.emit(cmd.event, ...args);
    reply(cmd.id, {});
    return;
  }
  socket.timeout(cmd.timeoutMs ?? 5000).emit(cmd.event, ...args, (err, ...ack) => {
    if (err) fail(cmd.id, `no acknowledgement for ${cmd.event}: ${err.message}`);
    else reply(cmd.id, { ack });
  });
}

async function http(cmd) {
  const headers = { ...(cmd.headers ?? {}) };
  const init = { method: cmd.method ?? "GET", headers };
  if (cmd.body !== undefined && cmd.body !== null) {
    headers["content-type"] ??= "application/json";
    init.body = typeof cmd.body === "string" ? cmd.body : JSON.stringify(cmd.body);
  }
  const response = await fetch(cmd.url, init);
  const text = await response.text();
  let body = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // Not JSON: the raw text is reported, so that a test can say what it got.
  }
  reply(cmd.id, { status: response.status, body });
}

/** A multipart/form-data POST built with the platform's FormData, as a browser app sends it. */
async function upload(cmd) {
  const form = new FormData();
  for (const [name, value] of Object.entries(cmd.fields ?? {})) form.append(name, value);
  for (const file of cmd.files ?? []) {
    form.append(file.field, new Blob([Buffer.from(file.hex, "hex")], { type: file.type }), file.name);
  }
  const response = await fetch(cmd.url, { method: "POST", headers: cmd.headers ?? {}, body: form });
  const text = await response.text();
  let body = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // Not JSON: reported as text.
  }
  reply(cmd.id, { status: response.status, body });
}

/** The raw bytes of a GET, in hex, with their content type. */
async function download(cmd) {
  const response = await fetch(cmd.url);
  const bytes = Buffer.from(await response.arrayBuffer());
  reply(cmd.id, {
    status: response.status,
    contentType: response.headers.get("content-type"),
    hex: bytes.toString("hex"),
  });
}

async function handle(cmd) {
  switch (cmd.op) {
    case "connect":
      return connect(cmd);
    case "emit":
      return emit(cmd);
    case "disconnect": {
      const socket = clientNamed(cmd.client);
      socket.disconnect();
      clients.delete(cmd.client);
      return reply(cmd.id, {});
    }
    case "transport":
      return reply(cmd.id, { transport: clientNamed(cmd.client).io.engine?.transport?.name ?? null });
    case "http":
      return http(cmd);
    case "upload":
      return upload(cmd);
    case "download":
      return download(cmd);
    case "shutdown":
      for (const socket of clients.values()) socket.disconnect();
      reply(cmd.id, {});
      return process.exit(0);
    default:
      return fail(cmd.id, `unknown op ${JSON.stringify(cmd.op)}`);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    return fail(null, `not JSON: ${err.message}`);
  }
  Promise.resolve()
    .then(() => handle(cmd))
    .catch((err) => fail(cmd.id, err?.message ?? err));
});
// The test process went away: nothing is left to serve.
lines.on("close", () => process.exit(0));
