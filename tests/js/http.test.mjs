// What browsers and operators rely on besides the events: the health check QuickClinic's
// server documented, and CORS on the REST routes and the Socket.IO polling endpoint (the Node
// servers enabled CORS for their front-ends, and a browser app sends its token in a header).

import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, it } from "node:test";
import { Client, ISO_MS, assertRefused, env, http, makeUser, withClients } from "./helpers.mjs";

const ORIGIN = "http://localhost:3000";

/** One HTTP request on a connection of its own (no keep-alive pool). */
function onNewConnection(url, { method = "GET", body } = {}) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "text/plain;charset=UTF-8" };
    const req = request(url, { method, agent: false, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP basics", () => {
  it("GET /health answers {status: ok, timestamp} on every listener", async () => {
    for (const base of [env.linsta, env.quickclinic, env.native]) {
      const res = await fetch(`${base}/health`);
      assert.equal(res.status, 200, base);
      const body = await res.json();
      assert.equal(body.status, "ok");
      assert.match(body.timestamp, ISO_MS);
    }
  });

  for (const [dialect, path] of [
    ["linsta", "/api/chat/rooms"],
    ["quickclinic", "/api/doctorpatientrelations"],
  ]) {
    it(`${dialect}: a browser preflight for a JSON POST with a Bearer token is allowed`, async () => {
      const res = await fetch(`${env[dialect]}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: ORIGIN,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
      assert.ok(res.status >= 200 && res.status < 300, `preflight status ${res.status}`);
      const allowOrigin = res.headers.get("access-control-allow-origin");
      assert.ok(allowOrigin === "*" || allowOrigin === ORIGIN, `allow-origin: ${allowOrigin}`);
      const allowHeaders = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      assert.ok(
        allowHeaders === "*" || (allowHeaders.includes("authorization") && allowHeaders.includes("content-type")),
        `allow-headers: ${allowHeaders}`,
      );
    });

    it(`${dialect}: the Socket.IO polling handshake carries CORS headers`, async () => {
      const res = await fetch(`${env[dialect]}/socket.io/?EIO=4&transport=polling`, { headers: { origin: ORIGIN } });
      assert.equal(res.status, 200);
      const allowOrigin = res.headers.get("access-control-allow-origin");
      assert.ok(allowOrigin === "*" || allowOrigin === ORIGIN, `allow-origin: ${allowOrigin}`);
      // An Engine.IO v4 open packet: "0" followed by the handshake JSON.
      const text = await res.text();
      assert.match(text, /^0\{/);
      assert.ok(JSON.parse(text.slice(1)).sid);
    });

    // Browsers (and socket.io-client in Node) run the long-poll GET and the POSTs on separate
    // TCP connections: an Engine.IO session must not belong to the connection that opened it.
    it(`${dialect}: a polling session is reachable from another TCP connection`, async () => {
      const base = `${env[dialect]}/socket.io/?EIO=4&transport=polling`;
      const open = await onNewConnection(base);
      assert.equal(open.status, 200, open.text);
      const { sid } = JSON.parse(open.text.slice(1));
      // A Socket.IO CONNECT to the main namespace, as the client sends it.
      const post = await onNewConnection(`${base}&sid=${sid}`, { method: "POST", body: "40" });
      assert.equal(post.status, 200, `POST with the session id on a new connection: ${post.status} ${post.text}`);
    });
  }
});

// A browser sends a site's cookies with requests any other site makes (a cross-site
// WebSocket, a form), so the `token` cookie must never let a foreign page act as the user.
// The test server runs with cors_origins = ["*"]: any page may call, without credentials, and
// the cookie identifies only requests that come from no page at all.
describe("browser origins and the token cookie", () => {
  const EVIL = "http://evil.example";

  it("CORS with * never allows credentials", async () => {
    const res = await fetch(`${env.linsta}/api/chat/rooms`, {
      method: "OPTIONS",
      headers: { origin: EVIL, "access-control-request-method": "GET" },
    });
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
  });

  it("REST: the cookie identifies a request without an Origin, never one from a foreign page", async () => {
    const ann = await makeUser("ann");
    const cookie = `token=${ann.token}`;
    const plain = await http("GET", `${env.linsta}/api/chat/rooms`, { headers: { cookie } });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    const foreign = await http("GET", `${env.linsta}/api/chat/rooms`, { headers: { cookie, origin: EVIL } });
    assert.equal(foreign.status, 401, JSON.stringify(foreign.body));
    // The page's own header token is no ambient credential: it works from any origin.
    const bearer = await http("GET", `${env.linsta}/api/chat/rooms`, { token: ann.token, headers: { origin: EVIL } });
    assert.equal(bearer.status, 200);
  });

  for (const transports of [["websocket"], ["polling"]]) {
    it(`Socket.IO over ${transports[0]}: a cross-site handshake carrying only the cookie is refused`, () =>
      withClients(async (track) => {
        const ann = await makeUser("ann");
        const extraHeaders = { cookie: `token=${ann.token}`, origin: EVIL };
        const foreign = track(await Client.connect(env.linsta, { transports, extraHeaders }));
        await assertRefused(foreign);
        // Without an Origin (a server, a native app) the cookie still identifies.
        const native = track(
          await Client.connect(env.linsta, { transports, extraHeaders: { cookie: `token=${ann.token}` } }),
        );
        await native.none("error");
        assert.equal(native.socket.connected, true);
      }));
  }
});
