// Wire compatibility of the `kaajkaam` dialect (docs/DIALECTS.md, "kaajkaam"): its REST API
// under /api/chat as the app calls it (x-auth-token, JSON and multipart with files), and the
// real socket.io-client for what is live (receive_message, new_notification, typing, reads,
// presence and WebRTC call signaling), with a token at the handshake and with the legacy
// query.userId, over the default transports and over polling only.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  Client,
  ISO_MS,
  TRANSPORTS,
  assertAckError,
  assertRefused,
  env,
  http,
  makeUser,
  newId,
  provision,
  withClients,
} from "./helpers.mjs";

/** A call to kaajkaam's REST API as the app makes it: the token in `x-auth-token`. */
function api(method, path, user, body) {
  const headers = user ? { "x-auth-token": user.token } : {};
  return http(method, `${env.kaajkaam}/api/chat${path}`, { headers, body });
}

/** Multipart `POST /conversations/:id/messages`: `text` and files in `attachments`. */
async function upload(user, conversationId, { text, files = [] }) {
  const form = new FormData();
  if (text !== undefined) form.append("text", text);
  for (const file of files) form.append("attachments", new Blob([file.bytes], { type: file.type }), file.name);
  const response = await fetch(`${env.kaajkaam}/api/chat/conversations/${conversationId}/messages`, {
    method: "POST",
    headers: { "x-auth-token": user.token },
    body: form,
  });
  const raw = await response.text();
  let body = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // Left as text: the assertion that fails will show it.
  }
  return { status: response.status, body };
}

/** Opens (gets or creates) the conversation of `user` and `other`; its `_id`. */
async function open(user, other, context = {}) {
  const res = await api("POST", "/conversations", user, { participantId: other.id, ...context });
  assert.ok([200, 201].includes(res.status), JSON.stringify(res.body));
  return res.body._id;
}

async function postText(user, conversationId, text) {
  const res = await api("POST", `/conversations/${conversationId}/messages`, user, { text });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** The message model: `{ _id, conversationId, sender, text, messageType, attachments, callInfo, readBy, isEdited, editedAt, createdAt }`. */
function assertMessage(m, { conversationId, sender, text, messageType = "text" }) {
  assert.equal(typeof m?._id, "string", JSON.stringify(m));
  assert.equal(m.conversationId, conversationId);
  assert.equal(m.sender, sender.id);
  assert.equal(m.text, text);
  assert.equal(m.messageType, messageType);
  assert.ok(Array.isArray(m.attachments), JSON.stringify(m));
  assert.ok("callInfo" in m, JSON.stringify(m));
  assert.ok(Array.isArray(m.readBy), JSON.stringify(m));
  assert.equal(m.isEdited, false);
  assert.equal(m.editedAt, null);
  assert.match(m.createdAt, ISO_MS);
}

/** The `messageType: "call"` messages of a conversation, as `[status, callType]`. */
async function callRecords(user, conversationId) {
  const res = await api("GET", `/conversations/${conversationId}/messages?limit=50&skip=0`, user);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body
    .filter((m) => m.messageType === "call")
    .map((m) => {
      assert.equal(typeof m.callInfo.duration, "number");
      assert.ok(Number.isInteger(m.callInfo.duration));
      return [m.callInfo.status, m.callInfo.callType, m.sender];
    });
}

describe("kaajkaam REST", () => {
  it("POST /conversations gets or creates per pair and context, also under 10 concurrent calls", async () => {
    const buyer = await makeUser("buyer");
    const seller = await makeUser("seller");
    const orderId = newId();
    const created = await api("POST", "/conversations", buyer, { participantId: seller.id, orderId });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const c = created.body;
    assert.equal(typeof c._id, "string");
    assert.equal(c.orderId, orderId);
    assert.equal(c.gigId, null);
    assert.equal(c.jobId, null);
    assert.equal(c.isActive, true);
    assert.equal(c.lastMessage, null);
    assert.deepEqual(c.unreadCount, { [buyer.id]: 0, [seller.id]: 0 });
    assert.match(c.createdAt, ISO_MS);
    assert.match(c.updatedAt, ISO_MS);
    const people = Object.fromEntries(c.participants.map((p) => [p._id, p]));
    assert.deepEqual(people[seller.id], {
      _id: seller.id,
      name: seller.name,
      email: seller.email,
      avatar: `https://example.com/${seller.id}.png`,
    });

    const again = await api("POST", "/conversations", seller, { participantId: buyer.id, orderId });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body._id, c._id);
    const otherContext = await open(buyer, seller, { gigId: newId() });
    assert.notEqual(otherContext, c._id);

    const jobId = newId();
    const racing = await Promise.all(
      Array.from({ length: 10 }, () => api("POST", "/conversations", buyer, { participantId: seller.id, jobId })),
    );
    for (const res of racing) assert.ok([200, 201].includes(res.status), JSON.stringify(res.body));
    assert.equal(new Set(racing.map((res) => res.body._id)).size, 1);
    assert.equal(racing.filter((res) => res.status === 201).length, 1);
  });

  it("messages: post, page, unread count, read marks as readBy, list newest first, hide for me only", async () => {
    const buyer = await makeUser("buyer");
    const seller = await makeUser("seller");
    const older = await open(buyer, seller);
    const newer = await open(buyer, seller, { orderId: newId() });
    const first = await postText(buyer, older, "Hello!");
    assertMessage(first, { conversationId: older, sender: buyer, text: "Hello!" });
    assert.deepEqual(first.attachments, []);
    assert.equal(first.callInfo, null);
    assert.deepEqual(first.readBy, []);
    await postText(buyer, older, "Are you there?");

    const page = await api("GET", `/conversations/${older}/messages?limit=50&skip=0`, seller);
    assert.equal(page.status, 200);
    assert.deepEqual(
      page.body.map((m) => m.text),
      ["Hello!", "Are you there?"],
    );
    const skipped = await api("GET", `/conversations/${older}/messages?limit=1&skip=1`, seller);
    assert.deepEqual(
      skipped.body.map((m) => m.text),
      ["Hello!"],
    );
    assert.deepEqual((await api("GET", "/unread-count", seller)).body, { count: 2 });

    const listed = await api("GET", "/conversations", seller);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.map((c) => c._id),
      [older, newer],
    );
    assert.equal(listed.body[0].unreadCount[seller.id], 2);
    assert.deepEqual(
      { text: listed.body[0].lastMessage.text, sender: listed.body[0].lastMessage.sender },
      { text: "Are you there?", sender: buyer.id },
    );
    assert.match(listed.body[0].lastMessage.timestamp, ISO_MS);
    const one = await api("GET", `/conversations/${older}`, seller);
    assert.equal(one.status, 200);
    assert.equal(one.body._id, older);

    const read = await api("PUT", `/conversations/${older}/read`, seller);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.deepEqual((await api("GET", "/unread-count", seller)).body, { count: 0 });
    const afterRead = await api("GET", `/conversations/${older}/messages`, buyer);
    for (const m of afterRead.body) {
      assert.equal(m.readBy.length, 1, JSON.stringify(m));
      assert.equal(m.readBy[0].userId, seller.id);
      assert.match(m.readBy[0].readAt, ISO_MS);
    }

    const hidden = await api("DELETE", `/conversations/${older}`, buyer);
    assert.equal(hidden.status, 200, JSON.stringify(hidden.body));
    assert.deepEqual(
      (await api("GET", "/conversations", buyer)).body.map((c) => c._id),
      [newer],
    );
    assert.equal((await api("GET", "/conversations", seller)).body.length, 2, "the other side still lists it");
    await postText(seller, older, "still interested?");
    assert.deepEqual(
      (await api("GET", "/conversations", buyer)).body.map((c) => c._id),
      [older, newer],
    );
  });

  it("multipart files are stored, linked and served back byte for byte with their type", async () => {
    const buyer = await makeUser("buyer");
    const seller = await makeUser("seller");
    const conversationId = await open(buyer, seller);
    const picture = randomBytes(50_000);
    const brief = Buffer.from("%PDF-1.4 a brief");
    const res = await upload(buyer, conversationId, {
      text: "Here is the design",
      files: [
        { name: "design.png", type: "image/png", bytes: picture },
        { name: "../../../etc/brief.pdf", type: "application/pdf", bytes: brief },
      ],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assertMessage(res.body, { conversationId, sender: buyer, text: "Here is the design" });
    const [png, pdf] = res.body.attachments;
    assert.deepEqual(
      { type: png.type, name: png.name, size: png.size },
      { type: "image", name: "design.png", size: picture.length },
    );
    assert.deepEqual(
      { type: pdf.type, name: pdf.name, size: pdf.size },
      { type: "pdf", name: "../../../etc/brief.pdf", size: brief.length },
    );
    for (const [attachment, bytes, type] of [
      [png, picture, "image/png"],
      [pdf, brief, "application/pdf"],
    ]) {
      assert.ok(!attachment.url.includes(".."), attachment.url);
      const served = await fetch(new URL(attachment.url, env.kaajkaam));
      assert.equal(served.status, 200);
      assert.equal(served.headers.get("content-type"), type);
      assert.ok(Buffer.from(await served.arrayBuffer()).equals(bytes), `${attachment.name} differs`);
    }
    // The other participant's history links the same files.
    const history = await api("GET", `/conversations/${conversationId}/messages`, seller);
    assert.deepEqual(history.body[0].attachments, res.body.attachments);

    // A file alone is a message; neither text nor file is not.
    const fileOnly = await upload(seller, conversationId, {
      files: [{ name: "notes.txt", type: "text/plain", bytes: Buffer.from("notes") }],
    });
    assert.equal(fileOnly.status, 201, JSON.stringify(fileOnly.body));
    assert.equal(fileOnly.body.text, "");
    assert.equal(fileOnly.body.attachments[0].type, "doc");
    const nothing = await upload(seller, conversationId, { text: "  " });
    assert.equal(nothing.status, 400, JSON.stringify(nothing.body));
    // A file a browser could run is served as a download.
    const html = await upload(seller, conversationId, {
      files: [{ name: "x.html", type: "text/html", bytes: Buffer.from("<script>alert(1)</script>") }],
    });
    const served = await fetch(new URL(html.body.attachments[0].url, env.kaajkaam));
    assert.equal(served.headers.get("content-disposition"), "attachment");
    assert.match(served.headers.get("content-security-policy"), /sandbox/);
    assert.equal((await fetch(`${env.kaajkaam}/uploads/../Cargo.toml`)).status, 404);
    assert.equal((await fetch(`${env.kaajkaam}/uploads/${newId()}.png`)).status, 404);
  });

  it("a file over the limit is 413 and nothing is posted; too many files is 400", async () => {
    const buyer = await makeUser("buyer");
    const seller = await makeUser("seller");
    const conversationId = await open(buyer, seller);
    const big = await upload(buyer, conversationId, {
      text: "too big",
      files: [{ name: "big.bin", type: "application/octet-stream", bytes: Buffer.alloc(env.maxFileBytes + 1) }],
    });
    assert.equal(big.status, 413, JSON.stringify(big.body));
    assert.equal(typeof big.body.message, "string");
    const many = await upload(buyer, conversationId, {
      files: Array.from({ length: 6 }, (_, i) => ({ name: `${i}.txt`, type: "text/plain", bytes: Buffer.from("x") })),
    });
    assert.equal(many.status, 400, JSON.stringify(many.body));
    assert.deepEqual((await api("GET", `/conversations/${conversationId}/messages`, buyer)).body, []);
  });

  it("errors: 400 bad input, 401 no or bad token, 403 not a participant, 404 unknown, all with { message }", async () => {
    const buyer = await makeUser("buyer");
    const seller = await makeUser("seller");
    const eve = await makeUser("eve");
    const conversationId = await open(buyer, seller);
    const unknown = newId();
    const cases = [
      [400, "POST", "/conversations", buyer, {}],
      [400, "POST", "/conversations", buyer, { participantId: buyer.id }],
      [400, "POST", `/conversations/${conversationId}/messages`, buyer, { text: "" }],
      [400, "POST", `/conversations/${conversationId}/messages`, buyer, { text: "x".repeat(10_001) }],
      [400, "POST", `/conversations/${conversationId}/call-record`, buyer, { callType: "fax", status: "completed" }],
      [401, "GET", "/conversations", null, undefined],
      [401, "GET", "/unread-count", { token: "not-a-jwt" }, undefined],
      [403, "GET", `/conversations/${conversationId}`, eve, undefined],
      [403, "GET", `/conversations/${conversationId}/messages`, eve, undefined],
      [403, "POST", `/conversations/${conversationId}/messages`, eve, { text: "hi" }],
      [403, "PUT", `/conversations/${conversationId}/read`, eve, undefined],
      [403, "DELETE", `/conversations/${conversationId}`, eve, undefined],
      [404, "GET", `/conversations/${unknown}`, buyer, undefined],
      [404, "POST", `/conversations/${unknown}/messages`, buyer, { text: "hi" }],
    ];
    for (const [status, method, path, user, body] of cases) {
      const res = await api(method, path, user, body);
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body?.message, "string", `${method} ${path}: ${JSON.stringify(res.body)}`);
    }
    // Bearer works as well as x-auth-token.
    const bearer = await http("GET", `${env.kaajkaam}/api/chat/unread-count`, { token: buyer.token });
    assert.equal(bearer.status, 200);
  });

  it("POST /call-record leaves a call message from the recorder", async () => {
    const buyer = await makeUser("buyer");
    const seller = await makeUser("seller");
    const conversationId = await open(buyer, seller);
    const res = await api("POST", `/conversations/${conversationId}/call-record`, buyer, {
      callType: "audio",
      duration: 95,
      status: "completed",
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assertMessage(res.body, { conversationId, sender: buyer, text: "", messageType: "call" });
    assert.deepEqual(res.body.callInfo, { callType: "audio", duration: 95, status: "completed" });
  });
});

for (const transport of TRANSPORTS) {
  describe(`kaajkaam over ${transport.name}`, () => {
    /** A connection with the user's token in the handshake. */
    const connect = (user, track) =>
      Client.connect(env.kaajkaam, { ...transport.options, auth: { token: user.token } }).then(track);
    /** A connection as the app makes it today: `query.userId`, on a listener with legacy identity. */
    const legacy = (user, track) =>
      Client.connect(env.kaajkaamLegacy, { ...transport.options, query: { userId: user.id } }).then(track);
    const join = async (client, conversationId) => {
      assert.deepEqual(await client.request("join_conversation", conversationId), { conversationId });
    };

    it("a REST message reaches the conversation room and the other participant's personal room, with new_notification", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const conversationId = await open(buyer, seller);
        const b = await legacy(buyer, track);
        await join(b, conversationId);
        const s = await connect(seller, track);
        const sPhone = await legacy(seller, track);
        await join(s, conversationId);

        const sent = await postText(buyer, conversationId, "Is it still available?");
        for (const client of [b, s, sPhone]) {
          const m = await client.next("receive_message");
          assertMessage(m, { conversationId, sender: buyer, text: "Is it still available?" });
          assert.equal(m._id, sent._id);
        }
        for (const client of [s, sPhone]) {
          const note = await client.next("new_notification");
          assert.equal(note.type, "message");
          assert.equal(note.userId, seller.id);
          assert.equal(note.title, buyer.name);
          assert.equal(note.message, "Is it still available?");
          assert.deepEqual(note.data, { conversationId, messageId: sent._id, senderId: buyer.id });
          assert.equal(note.isRead, false);
        }
        await b.none("new_notification");

        // The socket path: send_message, acked with the saved message.
        const acked = await s.request("send_message", { conversationId, text: "Yes it is" });
        assertMessage(acked, { conversationId, sender: seller, text: "Yes it is" });
        assert.equal((await b.next("receive_message")).text, "Yes it is");
        assert.equal((await s.next("receive_message")).text, "Yes it is", "the room includes the sender");
      }));

    it("typing, stop_typing and mark_read reach the room; the typist hears nothing", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const conversationId = await open(buyer, seller);
        const b = await connect(buyer, track);
        const s = await connect(seller, track);
        await join(b, conversationId);
        await join(s, conversationId);
        b.emit("typing", conversationId);
        const typing = await s.next("user_typing");
        assert.equal(typing.userId, buyer.id);
        assert.match(typing.timestamp, ISO_MS);
        b.emit("stop_typing", conversationId);
        assert.deepEqual(await s.next("user_stop_typing"), { userId: buyer.id });
        await b.none("user_typing");

        await postText(buyer, conversationId, "read me");
        s.emit("mark_read", conversationId);
        for (const client of [b, s]) {
          assert.deepEqual(await client.next("messages_read"), { userId: seller.id, conversationId });
        }
        assert.deepEqual((await api("GET", "/unread-count", seller)).body, { count: 0 });
      }));

    it("presence: user_online to contacts on connect and on user_online(userId), user_offline after the last connection", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const stranger = await makeUser("eve");
        await open(buyer, seller);
        const b = await connect(buyer, track);
        const e = await connect(stranger, track);
        const s = await legacy(seller, track);
        const sPhone = await connect(seller, track);
        assert.deepEqual(await b.next("user_online", (p) => p.userId === seller.id), { userId: seller.id });
        s.emit("user_online", seller.id);
        assert.deepEqual(await b.next("user_online", (p) => p.userId === seller.id), { userId: seller.id });
        await e.none("user_online", (p) => p.userId === seller.id);
        assertAckError(await s.request("user_online", buyer.id));

        s.close();
        await b.none("user_offline");
        sPhone.close();
        assert.deepEqual(await b.next("user_offline"), { userId: seller.id });
        await e.none("user_offline");
      }));

    it("a call: initiate rings every callee connection, accept, ICE both ways, end; one completed call message", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const conversationId = await open(buyer, seller);
        const b = await connect(buyer, track);
        const s = await connect(seller, track);
        const sPhone = await legacy(seller, track);
        await join(b, conversationId);

        const offer = { type: "offer", sdp: `v=0 ${newId()}` };
        b.emit("call:initiate", { conversationId, callType: "video", offer, from: buyer.id, to: seller.id });
        const incoming = await s.next("call:incoming");
        assert.equal(typeof incoming.callId, "string");
        assert.deepEqual(incoming, { callId: incoming.callId, conversationId, callType: "video", offer, from: buyer.id });
        assert.deepEqual(await sPhone.next("call:incoming"), incoming);

        const answer = { type: "answer", sdp: "v=0 answer" };
        s.emit("call:accept", { conversationId, to: buyer.id, answer });
        assert.deepEqual(await b.next("call:accepted"), { callId: incoming.callId, answer, from: seller.id });

        const candidate = { candidate: "candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host", sdpMid: "0" };
        b.emit("webrtc:ice-candidate", { to: seller.id, candidate });
        assert.deepEqual(await s.next("webrtc:ice-candidate"), { candidate, from: buyer.id });
        s.emit("webrtc:ice-candidate", { to: buyer.id, candidate });
        assert.deepEqual(await b.next("webrtc:ice-candidate"), { candidate, from: seller.id });

        await new Promise((resolve) => setTimeout(resolve, 1100));
        b.emit("call:end", { conversationId, to: seller.id });
        assert.deepEqual(await s.next("call:ended"), { callId: incoming.callId, from: buyer.id });
        const record = await b.next("receive_message", (m) => m.messageType === "call");
        assertMessage(record, { conversationId, sender: buyer, text: "", messageType: "call" });
        assert.equal(record.callInfo.status, "completed");
        assert.ok(record.callInfo.duration >= 1, JSON.stringify(record.callInfo));
        assert.deepEqual(await callRecords(seller, conversationId), [["completed", "video", buyer.id]]);
        // Over: ICE is no longer relayed.
        assertAckError(await b.request("webrtc:ice-candidate", { to: seller.id, candidate }));
        await s.none("webrtc:ice-candidate");
      }));

    it("reject is declined; a busy callee is not rung; a caller who hangs up first leaves a missed call", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const rival = await makeUser("rival");
        const deal = await open(buyer, seller);
        const other = await open(rival, seller);
        const b = await connect(buyer, track);
        const s = await connect(seller, track);
        const r = await connect(rival, track);

        b.emit("call:initiate", { conversationId: deal, callType: "audio", offer: {}, to: seller.id });
        const first = await s.next("call:incoming");
        s.emit("call:reject", { conversationId: deal, to: buyer.id });
        assert.deepEqual(await b.next("call:rejected"), { callId: first.callId, from: seller.id });

        b.emit("call:initiate", { conversationId: deal, callType: "audio", offer: {}, to: seller.id });
        const second = await s.next("call:incoming");
        r.emit("call:initiate", { conversationId: other, callType: "video", offer: {}, to: seller.id });
        const busy = await r.next("call:busy");
        assert.equal(typeof busy.callId, "string");
        assert.notEqual(busy.callId, second.callId);
        assert.equal(busy.from, seller.id);
        await s.none("call:incoming");

        b.emit("call:end", { conversationId: deal, to: seller.id });
        assert.deepEqual(await s.next("call:ended"), { callId: second.callId, from: buyer.id });
        assert.deepEqual(await callRecords(buyer, deal), [
          ["declined", "audio", buyer.id],
          ["missed", "audio", buyer.id],
        ]);
        assert.deepEqual(await callRecords(seller, other), [["missed", "video", rival.id]]);
      }));

    it("a disconnect during a call ends it for the peer, recorded completed", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const conversationId = await open(buyer, seller);
        const b = await connect(buyer, track);
        const s = await connect(seller, track);
        b.emit("call:initiate", { conversationId, callType: "video", offer: {}, to: seller.id });
        const incoming = await s.next("call:incoming");
        s.emit("call:accept", { conversationId, to: buyer.id, answer: {} });
        await b.next("call:accepted");
        s.close();
        assert.deepEqual(await b.next("call:ended"), { callId: incoming.callId, from: seller.id });
        assert.deepEqual(await callRecords(buyer, conversationId), [["completed", "video", buyer.id]]);
      }));

    it("non-participants cannot join, send or call; a bad token is refused; a bare userId needs legacy identity", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const eve = await makeUser("eve");
        const conversationId = await open(buyer, seller);
        const e = await connect(eve, track);
        const s = await connect(seller, track);
        assertAckError(await e.request("join_conversation", conversationId));
        assertAckError(await e.request("send_message", { conversationId, text: "hi" }));
        assertAckError(
          await e.request("call:initiate", { conversationId, callType: "audio", offer: {}, to: seller.id }),
        );
        await s.none("call:incoming");
        assertAckError(await e.request("call:initiate", { conversationId, callType: "audio", offer: {}, to: eve.id }));

        const forged = track(
          await Client.connect(env.kaajkaam, { ...transport.options, auth: { token: "not-a-jwt" } }),
        );
        await assertRefused(forged);
        const bare = track(await Client.connect(env.kaajkaam, { ...transport.options, query: { userId: buyer.id } }));
        await assertRefused(bare);
        // Legacy identity on: a token that is presented must still be good.
        const legacyForged = track(
          await Client.connect(env.kaajkaamLegacy, {
            ...transport.options,
            query: { userId: buyer.id },
            auth: { token: "not-a-jwt" },
          }),
        );
        await assertRefused(legacyForged);
      }));
  });
}

describe("kaajkaam call timeout", () => {
  it("a call nobody answers within the ring timeout is missed, and both sides hear it ended", () =>
    withClients(async (track) => {
      const buyer = await makeUser("buyer");
      const seller = await makeUser("seller");
      const conversationId = await open(buyer, seller);
      const b = track(await Client.connect(env.kaajkaam, { auth: { token: buyer.token } }));
      const s = track(await Client.connect(env.kaajkaam, { auth: { token: seller.token } }));
      b.emit("call:initiate", { conversationId, callType: "audio", offer: {}, to: seller.id });
      const incoming = await s.next("call:incoming");
      const waitMs = env.ringTimeoutMs + 3000;
      assert.deepEqual(await b.next("call:ended", () => true, waitMs), { callId: incoming.callId, from: seller.id });
      assert.deepEqual(await s.next("call:ended", () => true, waitMs), { callId: incoming.callId, from: buyer.id });
      assert.deepEqual(await callRecords(buyer, conversationId), [["missed", "audio", buyer.id]]);
      // The callee's late answer finds no call.
      assertAckError(await s.request("call:accept", { conversationId, to: buyer.id, answer: {} }));
    }));
});
