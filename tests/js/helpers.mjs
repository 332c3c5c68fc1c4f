// Shared helpers of the wire-compatibility suite: environment, tokens, users, an HTTP helper,
// and a socket.io-client wrapper that records every event so a test can wait for one (or
// assert that one does not come) without racing the server.

import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { io } from "socket.io-client";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite through tests/integration/js_wire.rs`);
  return value;
}

export const env = {
  linsta: required("SB_LINSTA_URL"),
  quickclinic: required("SB_QUICKCLINIC_URL"),
  calmora: required("SB_CALMORA_URL"),
  calmoraLegacy: required("SB_CALMORA_LEGACY_URL"),
  marketplace: required("SB_MARKETPLACE_URL"),
  marketplaceLegacy: required("SB_MARKETPLACE_LEGACY_URL"),
  marketplaceRestricted: required("SB_MARKETPLACE_RESTRICTED_URL"),
  kaajkaam: required("SB_KAAJKAAM_URL"),
  kaajkaamLegacy: required("SB_KAAJKAAM_LEGACY_URL"),
  kaajkaamRestricted: required("SB_KAAJKAAM_RESTRICTED_URL"),
  /** How long the server lets a call ring unanswered. */
  ringTimeoutMs: Number(required("SB_RING_TIMEOUT_SECS")) * 1000,
  /** The largest upload the server takes. */
  maxFileBytes: Number(required("SB_MAX_FILE_BYTES")),
  native: required("SB_NATIVE_URL"),
  jwtSecret: required("SB_JWT_SECRET"),
  serviceKey: required("SB_SERVICE_KEY"),
};

/** How long to wait for an event that must come, and to watch for one that must not. */
export const WAIT_MS = 5000;
export const QUIET_MS = 300;

/** The transports every flow is run over: the default (polling, then the WebSocket upgrade) and polling only. */
export const TRANSPORTS = [
  { name: "default transports (websocket upgrade)", options: {}, upgraded: true },
  { name: "polling only", options: { transports: ["polling"] }, upgraded: false },
];

/** ISO-8601 UTC with milliseconds, as docs/DIALECTS.md fixes every wire timestamp. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A fresh id shaped like a Mongo ObjectId, so that tests sharing one server never collide. */
export function newId() {
  return randomBytes(12).toString("hex");
}

const b64url = (value) => Buffer.from(value).toString("base64url");

/** An HS256 JWT, signed by hand as the apps' auth services do (no npm package needed). */
export function signToken(claims, secret = env.jwtSecret) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ iat: now, exp: now + 3600, ...claims }));
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

/** A plain HTTP call; the body is parsed as JSON when it is JSON. */
export async function http(method, url, { token, serviceKey, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (serviceKey) init.headers["x-api-key"] = serviceKey;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let parsed = text;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    // Left as text: the assertion that fails will show it.
  }
  return { status: response.status, body: parsed };
}

/**
 * A user known to the server: a profile upserted with the service key, and a token whose
 * claims say the same (so the test holds whichever source the server reads).
 */
export async function makeUser(label, { role } = {}) {
  const id = newId();
  const name = `${label[0].toUpperCase()}${label.slice(1)} ${id.slice(-4)}`;
  const email = `${label}.${id.slice(-6)}@example.com`;
  const profile = { name, email, avatar: `https://example.com/${id}.png`, role: role ?? "user" };
  const res = await http("PUT", `${env.native}/api/v1/users/${id}`, {
    serviceKey: env.serviceKey,
    body: profile,
  });
  assert.ok([200, 201, 204].includes(res.status), `user upsert: ${res.status} ${JSON.stringify(res.body)}`);
  const claims = { sub: id, name, email };
  if (role) claims.role = role;
  return { id, name, email, role, token: signToken(claims) };
}

/**
 * A socket.io-client socket that keeps every event it receives in arrival order. `next`
 * takes the first matching event (from the record or as it arrives); `none` asserts that no
 * matching event is recorded or comes within a short window.
 */
export class Client {
  constructor(socket) {
    this.socket = socket;
    this.events = [];
    this.waiters = new Set();
    const record = (event, args) => {
      this.events.push({ event, args });
      for (const wake of this.waiters) wake();
    };
    socket.onAny((event, ...args) => record(event, args));
    socket.on("disconnect", (reason) => record("disconnect", [reason]));
    socket.on("connect_error", (err) => record("connect_error", [err.message]));
  }

  static async connect(url, options = {}, { expectConnect = true } = {}) {
    const socket = io(url, { forceNew: true, reconnection: false, ...options });
    const client = new Client(socket);
    if (!expectConnect) return client;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connect to ${url} within ${WAIT_MS} ms`)), WAIT_MS);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("connect_error", (err) => {
        clearTimeout(timer);
        reject(new Error(`connect_error: ${err.message}`));
      });
    });
    return client;
  }

  #take(event, predicate) {
    const index = this.events.findIndex((e) => e.event === event && predicate(...e.args));
    if (index === -1) return undefined;
    return this.events.splice(index, 1)[0];
  }

  /** Resolves with the first argument of the first matching event. */
  next(event, predicate = () => true, timeoutMs = WAIT_MS) {
    return this.nextArgs(event, predicate, timeoutMs).then((args) => args[0]);
  }

  /** Resolves with all arguments of the first matching event. */
  nextArgs(event, predicate = () => true, timeoutMs = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.#take(event, predicate);
        if (!found) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found.args);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.events.map((e) => `${e.event} ${JSON.stringify(e.args)}`).join("\n  ");
        reject(new Error(`no "${event}" within ${timeoutMs} ms; unconsumed events:\n  ${seen}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  /** Fails if a matching event is already recorded or arrives within `quietMs`. */
  async none(event, predicate = () => true, quietMs = QUIET_MS) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const found = this.events.find((e) => e.event === event && predicate(...e.args));
    assert.equal(found, undefined, `unexpected "${event}": ${JSON.stringify(found?.args)}`);
  }

  emit(event, ...args) {
    this.socket.emit(event, ...args);
  }

  /** Emits with an acknowledgement callback and resolves with the ack's first argument. */
  async request(event, ...args) {
    return this.socket.timeout(WAIT_MS).emitWithAck(event, ...args);
  }

  /** Waits until the engine runs on `name` (the WebSocket upgrade happens after connect). */
  async transportBecomes(name) {
    const deadline = Date.now() + WAIT_MS;
    while (this.socket.io.engine?.transport?.name !== name) {
      if (Date.now() > deadline) {
        assert.fail(`transport is still ${this.socket.io.engine?.transport?.name}, expected ${name}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close() {
    this.socket.disconnect();
  }
}

/** Asserts the server refused the connection the way the Node servers did: `error {message}`, then its own disconnect. */
export async function assertRefused(client) {
  const error = await client.next("error");
  assert.equal(typeof error?.message, "string", `error payload: ${JSON.stringify(error)}`);
  assert.ok(error.message.length > 0);
  const reason = await client.next("disconnect");
  assert.equal(reason, "io server disconnect");
}

/** Asserts a Socket.IO-level error payload: `{ message: non-empty string }`. */
export function assertErrorEvent(payload) {
  assert.equal(typeof payload?.message, "string", `error payload: ${JSON.stringify(payload)}`);
  assert.ok(payload.message.length > 0, "empty error message");
}

/** Asserts an ack refusal: `{ error: … }` (docs/DIALECTS.md, "Acks and errors"). */
export function assertAckError(ack) {
  assert.ok(ack && typeof ack === "object" && "error" in ack, `expected {error}, got ${JSON.stringify(ack)}`);
  assert.ok(ack.error, `empty error in ${JSON.stringify(ack)}`);
}

/** Opens a conversation between `users` with the service key (the main app's provisioning). */
export async function provision(users, context) {
  const res = await http("POST", `${env.native}/api/v1/conversations`, {
    serviceKey: env.serviceKey,
    body: { participantIds: users.map((u) => u.id), ...(context ? { context } : {}) },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

/** Posts a notification from "the main application" with the service key. */
export function notify(baseUrl, body) {
  return http("POST", `${baseUrl}/api/v1/notifications`, { serviceKey: env.serviceKey, body });
}

/** Runs `fn` with the clients it opens, closing them whatever happens. */
export async function withClients(fn) {
  const opened = [];
  const track = (client) => {
    opened.push(client);
    return client;
  };
  try {
    return await fn(track);
  } finally {
    for (const client of opened) client.close();
  }
}
