// Wire compatibility of the `calmora` dialect (docs/DIALECTS.md, "calmora"): the real
// socket.io-client as the Calmora app uses it (registerUser after connecting, joinRoom and
// leaveRoom with the bare chat id, sendMessage), with a token at the handshake and with legacy
// identity, over the default transports and over polling only; and POST /emit-notification.

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
  provision,
  withClients,
} from "./helpers.mjs";

/** The shape of `receiveMessage` and of the `sendMessage` ack. */
function assertCalmoraMessage(m, { chatId, sender, recipient, text }) {
  assert.equal(typeof m?._id, "string", JSON.stringify(m));
  assert.equal(m.chatId, chatId);
  assert.equal(m.senderId, sender.id);
  assert.equal(m.recipientId, recipient.id);
  assert.equal(m.message, text);
  assert.match(m.createdAt, ISO_MS);
  assert.deepEqual(m.sender, { _id: sender.id, name: sender.name, avatar: `https://example.com/${sender.id}.png` });
}

function assertChatAlert(n, { user, chatId, sender }) {
  assert.equal(typeof n?._id, "string", JSON.stringify(n));
  assert.equal(n.userId, user.id);
  assert.equal(n.type, "chat");
  assert.equal(typeof n.message, "string");
  assert.deepEqual(n.extra, { chatId, senderId: sender.id, senderName: sender.name });
  assert.match(n.createdAt, ISO_MS);
}

const message = (sender, recipient, chatId, text) => ({
  senderId: sender.id,
  recipientId: recipient.id,
  message: text,
  chatId,
});

for (const transport of TRANSPORTS) {
  describe(`calmora over ${transport.name}`, () => {
    /** A connection with the user's token, registered as the app does right after connecting. */
    const connect = async (user, track) => {
      const client = track(await Client.connect(env.calmora, { ...transport.options, auth: { token: user.token } }));
      const ack = await client.request("registerUser", user.id);
      assert.deepEqual(ack, { userId: user.id });
      return client;
    };
    /** A bare connection to the legacy-identity listener, registered with registerUser. */
    const connectLegacy = async (user, track) => {
      const client = track(await Client.connect(env.calmoraLegacy, transport.options));
      const ack = await client.request("registerUser", user.id);
      assert.deepEqual(ack, { userId: user.id });
      return client;
    };
    const joinRoom = async (client, chatId) => {
      const ack = await client.request("joinRoom", chatId);
      assert.deepEqual(ack, { chatId });
    };

    it("sendMessage to a new chat creates it; the recipient and the sender's other connections get receiveMessage", () =>
      withClients(async (track) => {
        const ann = await makeUser("ann");
        const bob = await makeUser("bob");
        const a = await connect(ann, track);
        const aPhone = await connect(ann, track);
        const b = await connect(bob, track);
        const chatId = newId();

        const saved = await a.request("sendMessage", message(ann, bob, chatId, "Hi Bob"));
        assertCalmoraMessage(saved, { chatId, sender: ann, recipient: bob, text: "Hi Bob" });
        for (const client of [b, aPhone]) {
          const received = await client.next("receiveMessage");
          assert.deepEqual(received, saved);
        }
        await a.none("receiveMessage");

        // The chat exists now: Bob answers in it.
        b.emit("sendMessage", message(bob, ann, chatId, "Hi Ann"));
        const reply = await a.next("receiveMessage");
        assertCalmoraMessage(reply, { chatId, sender: bob, recipient: ann, text: "Hi Ann" });
        await b.none("receiveMessage");
      }));

    it("a chat notification goes only to a recipient viewing the chat nowhere", () =>
      withClients(async (track) => {
        const ann = await makeUser("ann");
        const bob = await makeUser("bob");
        const a = await connect(ann, track);
        const bChat = await connect(bob, track);
        const bOther = await connect(bob, track);
        const chatId = newId();

        await a.request("sendMessage", message(ann, bob, chatId, "first"));
        for (const client of [bChat, bOther]) {
          assertChatAlert(await client.next("new_notification"), { user: bob, chatId, sender: ann });
        }
        await a.none("new_notification");

        await joinRoom(bChat, chatId);
        await a.request("sendMessage", message(ann, bob, chatId, "while viewing"));
        await bOther.next("receiveMessage", (m) => m.message === "while viewing");
        await bOther.none("new_notification");
        await bChat.none("new_notification");

        assert.deepEqual(await bChat.request("leaveRoom", chatId), { chatId });
        await a.request("sendMessage", message(ann, bob, chatId, "after leaving"));
        assertChatAlert(await bOther.next("new_notification"), { user: bob, chatId, sender: ann });

        // Viewing also ends when the viewing connection closes.
        await joinRoom(bChat, chatId);
        bChat.close();
        // The server notices the disconnect on its own time: give it a moment.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await a.request("sendMessage", message(ann, bob, chatId, "after closing"));
        assertChatAlert(await bOther.next("new_notification"), { user: bob, chatId, sender: ann });
      }));

    it("refuses a recipient outside a known chat, strangers, blank and oversize text; the connection stays usable", () =>
      withClients(async (track) => {
        const ann = await makeUser("ann");
        const bob = await makeUser("bob");
        const eve = await makeUser("eve");
        const chatId = await provision([ann, bob]);
        const a = await connect(ann, track);
        const e = await connect(eve, track);
        const b = await connect(bob, track);

        const provisioned = await a.request("sendMessage", message(ann, bob, chatId, "provisioned"));
        assertCalmoraMessage(provisioned, { chatId, sender: ann, recipient: bob, text: "provisioned" });
        assert.equal((await b.next("receiveMessage")).message, "provisioned");

        for (const payload of [
          message(ann, eve, chatId, "not in this chat"),
          message(ann, bob, chatId, " "),
          message(ann, bob, chatId, "x".repeat(10_001)),
          message(bob, ann, chatId, "as someone else"),
          { recipientId: bob.id, message: "no chat" },
          "just text",
          null,
        ]) {
          assertAckError(await a.request("sendMessage", payload));
          a.emit("sendMessage", payload);
          assertErrorEvent(await a.next("error"));
        }
        assertAckError(await e.request("sendMessage", message(eve, ann, chatId, "let me in")));
        assertAckError(await e.request("joinRoom", chatId));
        assertAckError(await a.request("joinRoom", { chatId }));
        await b.none("receiveMessage");

        a.emit("no_such_event", 1, 2);
        const ok = await a.request("sendMessage", message(ann, bob, chatId, "y".repeat(10_000)));
        assert.equal(ok.message.length, 10_000, JSON.stringify(ok).slice(0, 200));
        assert.equal(a.socket.connected, true);
      }));

    it("with a token, registerUser must name the token's user", () =>
      withClients(async (track) => {
        const ann = await makeUser("ann");
        const bob = await makeUser("bob");
        const client = track(await Client.connect(env.calmora, { ...transport.options, auth: { token: ann.token } }));
        assertAckError(await client.request("registerUser", bob.id));
        client.emit("registerUser", bob.id);
        assertErrorEvent(await client.next("error"));
        assert.deepEqual(await client.request("registerUser", ann.id), { userId: ann.id });
      }));

    it("without legacy identity a connection without a token is refused", () =>
      withClients(async (track) => {
        await assertRefused(track(await Client.connect(env.calmora, transport.options)));
      }));

    it("with legacy identity, registerUser identifies a bare connection, and nothing else is accepted before it", () =>
      withClients(async (track) => {
        const ann = await makeUser("ann");
        const bob = await makeUser("bob");
        const early = track(await Client.connect(env.calmoraLegacy, transport.options));
        assertAckError(await early.request("sendMessage", message(ann, bob, newId(), "too early")));
        early.emit("joinRoom", newId());
        assertErrorEvent(await early.next("error"));

        const a = await connectLegacy(ann, track);
        const b = await connectLegacy(bob, track);
        const chatId = newId();
        const saved = await a.request("sendMessage", message(ann, bob, chatId, "legacy hello"));
        assertCalmoraMessage(saved, { chatId, sender: ann, recipient: bob, text: "legacy hello" });
        assert.equal((await b.next("receiveMessage")).message, "legacy hello");
        // A token presented to the legacy listener still names the only user it may claim.
        const withToken = track(
          await Client.connect(env.calmoraLegacy, { ...transport.options, auth: { token: ann.token } }),
        );
        assertAckError(await withToken.request("registerUser", bob.id));
      }));
  });
}

describe("calmora POST /emit-notification", () => {
  const emit = (body, headers) => http("POST", `${env.calmora}/emit-notification`, { body, headers });

  it("stores the notification, pushes new_notification to a connected user, answers {success, notification}", () =>
    withClients(async (track) => {
      const ann = await makeUser("ann");
      const a = track(await Client.connect(env.calmora, { auth: { token: ann.token } }));
      await a.request("registerUser", ann.id);
      const body = { userId: ann.id, type: "appointment", message: "Your session starts soon", extra: { sessionId: "s1" } };
      const res = await emit(body, { "x-api-key": env.serviceKey });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.success, true);
      const n = res.body.notification;
      assert.equal(typeof n._id, "string");
      assert.deepEqual(
        { userId: n.userId, type: n.type, message: n.message, extra: n.extra },
        { userId: ann.id, type: "appointment", message: "Your session starts soon", extra: { sessionId: "s1" } },
      );
      assert.match(n.createdAt, ISO_MS);
      assert.deepEqual(await a.next("new_notification"), n);

      const bearer = await emit({ userId: ann.id, type: "chat", message: "New message", extra: {} }, {
        authorization: `Bearer ${env.serviceKey}`,
      });
      assert.equal(bearer.status, 200, JSON.stringify(bearer.body));
    }));

  it("without the service key answers 401, a bad body 400, both with a message", async () => {
    const ann = await makeUser("ann");
    const good = { userId: ann.id, type: "chat", message: "hi" };
    for (const headers of [{}, { "x-api-key": "guess" }, { authorization: `Bearer ${ann.token}` }]) {
      const res = await emit(good, headers);
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(typeof res.body.message, "string");
    }
    for (const bad of [{ type: "chat", message: "hi" }, { userId: ann.id, type: "chat" }, { ...good, extra: [1] }]) {
      const res = await emit(bad, { "x-api-key": env.serviceKey });
      assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body.message, "string");
    }
  });
});
