// Wire compatibility of the `linsta` dialect (docs/DIALECTS.md, "linsta"): the real
// socket.io-client, configured as the Linsta app configures it, over the default transports
// and over polling only, plus the REST routes the app calls.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Client,
  ISO_MS,
  TRANSPORTS,
  assertAckError,
  assertErrorEvent,
  assertRefused,
  env,
  http,
  makeUser,
  newId,
  notify,
  signToken,
  withClients,
} from "./helpers.mjs";

/** POST /api/chat/rooms as `user`, expecting success. */
async function openRoom(user, other) {
  const res = await http("POST", `${env.linsta}/api/chat/rooms`, {
    token: user.token,
    body: { otherUserId: other.id },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** The message shape of `receive_message` (and of an acked send). */
function assertLinstaMessage(message, { room, sender, text }) {
  assert.equal(typeof message?._id, "string", JSON.stringify(message));
  assert.equal(message.chatRoomId, room);
  assert.equal(message.senderId, sender.id);
  assert.equal(message.text, text);
  assert.match(message.createdAt, ISO_MS);
}

function assertLinstaNotification(n, { user, type, message, referenceId }) {
  assert.equal(typeof n?._id, "string", JSON.stringify(n));
  assert.equal(n.userId, user.id);
  assert.equal(n.type, type);
  assert.equal(n.message, message);
  assert.equal(n.referenceId, referenceId);
  assert.equal(n.isRead, false);
  assert.match(n.createdAt, ISO_MS);
}

const texts = (messages) => messages.map((m) => m.text);

for (const transport of TRANSPORTS) {
  describe(`linsta over ${transport.name}`, () => {
    const connect = (user, track) =>
      Client.connect(env.linsta, { ...transport.options, auth: { token: user.token } }).then(track);
    const connectWith = (options, track) =>
      Client.connect(env.linsta, { ...transport.options, ...options }).then(track);
    /** Joins with an ack so that the join is done before the test goes on. */
    const join = async (client, room) => {
      const ack = await client.request("join_room", { chatRoomId: room });
      assert.ok(!(ack && typeof ack === "object" && "error" in ack), `join refused: ${JSON.stringify(ack)}`);
    };

    it("accepts the auth.token handshake and keeps the connection", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const client = await connect(alice, track);
        if (transport.upgraded) await client.transportBecomes("websocket");
        await client.none("error");
        await client.none("disconnect");
        assert.equal(client.socket.connected, true);
        if (!transport.upgraded) assert.equal(client.socket.io.engine.transport.name, "polling");
      }));

    it("refuses a missing token: error {message}, then a server disconnect", () =>
      withClients(async (track) => {
        await assertRefused(await connectWith({}, track));
      }));

    it("refuses a bad token the same way", () =>
      withClients(async (track) => {
        const id = newId();
        const now = Math.floor(Date.now() / 1000);
        const bad = [
          signToken({ sub: id }, "not-the-secret"),
          signToken({ sub: id, iat: now - 7200, exp: now - 3600 }),
          "not a jwt",
        ];
        for (const token of bad) {
          await assertRefused(await connectWith({ auth: { token } }, track));
        }
      }));

    it("creates chat rooms over REST idempotently and lists them", async () => {
      const alice = await makeUser("alice");
      const bob = await makeUser("bob");
      const first = await openRoom(alice, bob);
      assert.equal(typeof first.chatRoomId, "string");
      assert.deepEqual([...first.participants].sort(), [alice.id, bob.id].sort());
      assert.match(first.createdAt, ISO_MS);
      assert.equal((await openRoom(alice, bob)).chatRoomId, first.chatRoomId);
      assert.equal((await openRoom(bob, alice)).chatRoomId, first.chatRoomId);

      const listed = await http("GET", `${env.linsta}/api/chat/rooms`, { token: alice.token });
      assert.equal(listed.status, 200);
      const room = listed.body.find((r) => r._id === first.chatRoomId);
      assert.ok(room, `room missing from ${JSON.stringify(listed.body)}`);
      assert.match(room.createdAt, ISO_MS);
      const people = [...room.participants].sort((x, y) => x._id.localeCompare(y._id));
      const expected = [alice, bob]
        .map((u) => ({ _id: u.id, name: u.name, email: u.email }))
        .sort((x, y) => x._id.localeCompare(y._id));
      assert.deepEqual(
        people.map((p) => ({ _id: p._id, name: p.name, email: p.email })),
        expected,
      );
    });

    it("answers REST errors with 400, 401, 403 and 404 and a {message} body", async () => {
      const alice = await makeUser("alice");
      const bob = await makeUser("bob");
      const mallory = await makeUser("mallory");
      const { chatRoomId } = await openRoom(alice, bob);
      const cases = [
        ["no token", "POST", "/api/chat/rooms", { body: { otherUserId: bob.id } }, 401],
        ["bad token", "GET", "/api/chat/rooms", { token: signToken({ sub: alice.id }, "wrong") }, 401],
        ["no otherUserId", "POST", "/api/chat/rooms", { token: alice.token, body: {} }, 400],
        ["otherUserId not a string", "POST", "/api/chat/rooms", { token: alice.token, body: { otherUserId: 7 } }, 400],
        ["non-participant", "GET", `/api/chat/messages/${chatRoomId}`, { token: mallory.token }, 403],
        ["unknown room", "GET", `/api/chat/messages/${newId()}`, { token: alice.token }, 404],
      ];
      for (const [label, method, path, options, status] of cases) {
        const res = await http(method, `${env.linsta}${path}`, options);
        assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
        assert.equal(typeof res.body?.message, "string", `${label}: body ${JSON.stringify(res.body)}`);
      }
    });

    it("join_room announces user_joined; send_message reaches the room, sender included, once each", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const { chatRoomId } = await openRoom(alice, bob);
        const a = await connect(alice, track);
        const b = await connect(bob, track);
        // Alice's join is acked so that she is surely in the room; Bob joins as the app's
        // client does, with a plain emit, and Alice hears of it.
        await join(a, chatRoomId);
        b.emit("join_room", { chatRoomId });
        const joined = await a.next("user_joined");
        assert.deepEqual(joined, { userId: bob.id, chatRoomId });
        await b.none("user_joined", (j) => j?.userId === bob.id);

        a.emit("send_message", { chatRoomId, text: "Hey, how are you?" });
        for (const client of [a, b]) {
          const message = await client.next("receive_message");
          assertLinstaMessage(message, { room: chatRoomId, sender: alice, text: "Hey, how are you?" });
        }
        // One copy per connection, however many rooms it is in.
        await a.none("receive_message");
        await b.none("receive_message");

        const rest = await http("GET", `${env.linsta}/api/chat/messages/${chatRoomId}?limit=50&skip=0`, {
          token: bob.token,
        });
        assert.equal(rest.status, 200, JSON.stringify(rest.body));
        assert.equal(rest.body.length, 1);
        const [stored] = rest.body;
        assert.equal(stored.chatRoomId, chatRoomId);
        assert.equal(stored.text, "Hey, how are you?");
        assert.deepEqual(stored.senderId, { _id: alice.id, name: alice.name, email: alice.email });
        assert.match(stored.createdAt, ISO_MS);
      }));

    it("get_history pages in chronological order, skip counting back from the newest", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const { chatRoomId } = await openRoom(alice, bob);
        const a = await connect(alice, track);
        await join(a, chatRoomId);
        for (const text of ["m1", "m2", "m3", "m4", "m5"]) {
          const saved = await a.request("send_message", { chatRoomId, text });
          assert.equal(saved?.text, text, JSON.stringify(saved));
        }
        const page = async (limit, skip) => {
          a.emit("get_history", { chatRoomId, limit, skip });
          const history = await a.next("message_history");
          assert.equal(history.chatRoomId, chatRoomId);
          for (const m of history.messages) {
            assert.equal(typeof m._id, "string");
            assert.equal(m.chatRoomId, chatRoomId);
            assert.match(m.createdAt, ISO_MS);
          }
          return texts(history.messages);
        };
        assert.deepEqual(await page(50, 0), ["m1", "m2", "m3", "m4", "m5"]);
        assert.deepEqual(await page(2, 0), ["m4", "m5"]);
        assert.deepEqual(await page(2, 1), ["m3", "m4"]);
        assert.deepEqual(await page(2, 4), ["m1"]);

        const acked = await a.request("get_history", { chatRoomId, limit: 3, skip: 0 });
        assert.deepEqual(texts(acked?.messages ?? []), ["m3", "m4", "m5"], JSON.stringify(acked));

        const rest = await http("GET", `${env.linsta}/api/chat/messages/${chatRoomId}?limit=2&skip=1`, {
          token: alice.token,
        });
        assert.equal(rest.status, 200);
        assert.deepEqual(texts(rest.body), ["m3", "m4"]);
      }));

    it("refuses blank text with an error and broadcasts nothing", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const { chatRoomId } = await openRoom(alice, bob);
        const a = await connect(alice, track);
        const b = await connect(bob, track);
        await join(a, chatRoomId);
        await join(b, chatRoomId);
        for (const text of ["", "   "]) {
          a.emit("send_message", { chatRoomId, text });
          assertErrorEvent(await a.next("error"));
        }
        await b.none("receive_message");
        await a.none("receive_message");
      }));

    it("refuses a non-participant's join_room and send_message", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const mallory = await makeUser("mallory");
        const { chatRoomId } = await openRoom(alice, bob);
        const b = await connect(bob, track);
        await join(b, chatRoomId);
        const m = await connect(mallory, track);
        m.emit("join_room", { chatRoomId });
        assertErrorEvent(await m.next("error"));
        m.emit("send_message", { chatRoomId, text: "let me in" });
        assertErrorEvent(await m.next("error"));
        assertAckError(await m.request("join_room", { chatRoomId }));
        assertAckError(await m.request("get_history", { chatRoomId, limit: 50, skip: 0 }));
        await b.none("receive_message");
        await b.none("user_joined");
        // Nothing was stored either.
        const rest = await http("GET", `${env.linsta}/api/chat/messages/${chatRoomId}`, { token: bob.token });
        assert.deepEqual(rest.body, []);
      }));

    it("subscribe_notifications answers notification_subscribed; a notification arrives live", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const a = await connect(alice, track);
        a.emit("subscribe_notifications");
        await a.next("notification_subscribed");

        const referenceId = newId();
        const posted = await notify(env.linsta, {
          userId: alice.id,
          type: "LIKE",
          message: "Bob liked your post",
          referenceId,
        });
        assert.equal(posted.status, 201, JSON.stringify(posted.body));
        const live = await a.next("notification");
        assertLinstaNotification(live, { user: alice, type: "LIKE", message: "Bob liked your post", referenceId });

        // The service key is also accepted as a Bearer token, and from the native listener.
        const bearer = await http("POST", `${env.native}/api/v1/notifications`, {
          headers: { authorization: `Bearer ${env.serviceKey}` },
          body: { userId: alice.id, type: "COMMENT", message: "Bob commented", referenceId },
        });
        assert.equal(bearer.status, 201, JSON.stringify(bearer.body));
        const second = await a.next("notification");
        assertLinstaNotification(second, { user: alice, type: "COMMENT", message: "Bob commented", referenceId });
        await a.none("notification");
      }));

    it("refuses notification triggers without the service key", async () => {
      const alice = await makeUser("alice");
      const body = { userId: alice.id, type: "LIKE", message: "x" };
      const none = await http("POST", `${env.linsta}/api/v1/notifications`, { body });
      assert.equal(none.status, 401, JSON.stringify(none.body));
      const user = await http("POST", `${env.linsta}/api/v1/notifications`, { token: alice.token, body });
      assert.ok([401, 403].includes(user.status), `a user's token: ${user.status}`);
    });

    it("keeps a notification for an offline user and pushes it once on connect", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const referenceId = newId();
        const posted = await notify(env.native, {
          userId: alice.id,
          type: "EVENT_RSVP",
          message: "Bob is going to your event",
          referenceId,
        });
        assert.equal(posted.status, 201, JSON.stringify(posted.body));
        const first = await connect(alice, track);
        const pending = await first.next("notification");
        assertLinstaNotification(pending, {
          user: alice,
          type: "EVENT_RSVP",
          message: "Bob is going to your event",
          referenceId,
        });
        first.close();
        const again = await connect(alice, track);
        await again.none("notification");
      }));

    it("answers acknowledgements with the result or {error}, and then sends no error event", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const { chatRoomId } = await openRoom(alice, bob);
        const a = await connect(alice, track);
        await join(a, chatRoomId);
        const saved = await a.request("send_message", { chatRoomId, text: "acked" });
        assertLinstaMessage(saved, { room: chatRoomId, sender: alice, text: "acked" });
        assertAckError(await a.request("send_message", { chatRoomId, text: " " }));
        assertAckError(await a.request("join_room", { chatRoomId: newId() }));
        await a.none("error");
      }));

    it("survives malformed events and stays usable", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const { chatRoomId } = await openRoom(alice, bob);
        const a = await connect(alice, track);
        const b = await connect(bob, track);
        await join(b, chatRoomId);
        const malformed = [
          ["send_message", "just a string"],
          ["send_message", { chatRoomId: 42, text: ["x"] }],
          ["send_message", { chatRoomId }],
          ["send_message", null],
          ["join_room", {}],
          ["join_room", 123],
          ["get_history", { chatRoomId, limit: "many", skip: -1 }],
        ];
        for (const [event, payload] of malformed) {
          assertAckError(await a.request(event, payload));
          a.emit(event, payload);
          assertErrorEvent(await a.next("error"));
        }
        await a.none("error");
        // An unknown event may be answered with an error; the connection must stay usable.
        a.emit("no_such_event", { anything: true });
        a.emit("send_message");
        assertErrorEvent(await a.next("error"));

        assert.equal(a.socket.connected, true);
        await join(a, chatRoomId);
        a.emit("send_message", { chatRoomId, text: "still here" });
        assertLinstaMessage(await b.next("receive_message"), { room: chatRoomId, sender: alice, text: "still here" });
      }));

    it("refuses text over 10,000 characters and accepts exactly 10,000", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const { chatRoomId } = await openRoom(alice, bob);
        const a = await connect(alice, track);
        const b = await connect(bob, track);
        await join(a, chatRoomId);
        await join(b, chatRoomId);
        a.emit("send_message", { chatRoomId, text: "x".repeat(10_001) });
        assertErrorEvent(await a.next("error"));
        await b.none("receive_message");
        a.emit("send_message", { chatRoomId, text: "y".repeat(10_000) });
        const message = await b.next("receive_message");
        assert.equal(message.text.length, 10_000);
      }));

    it("delivers to the sender's other connection too", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const { chatRoomId } = await openRoom(alice, bob);
        const phone = await connect(alice, track);
        const laptop = await connect(alice, track);
        await join(phone, chatRoomId);
        await join(laptop, chatRoomId);
        phone.emit("send_message", { chatRoomId, text: "from my phone" });
        assertLinstaMessage(await laptop.next("receive_message"), {
          room: chatRoomId,
          sender: alice,
          text: "from my phone",
        });
        await laptop.none("receive_message");
      }));
  });
}
