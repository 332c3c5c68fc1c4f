// Wire compatibility of the `marketplace` dialect (docs/DIALECTS.md, "marketplace"): the real
// socket.io-client as the marketplace app uses it (user-join right after connecting, chat
// rooms, typing, read marks, online status, notifications), with a token at the handshake and
// with legacy identity, over the default transports and over polling only.

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
  makeUser,
  newId,
  notify,
  provision,
  withClients,
} from "./helpers.mjs";

/** The shape of `new-message` (and of the `send-message` ack). */
function assertMarketMessage(m, { chatId, sender, content, messageType = "text", media = [] }) {
  assert.equal(typeof m?._id, "string", JSON.stringify(m));
  assert.equal(m.chatId, chatId);
  assert.equal(m.sender, sender.id);
  assert.equal(m.content, content);
  assert.equal(m.messageType, messageType);
  assert.deepEqual(m.media, media);
  assert.equal(typeof m.delivered, "boolean");
  assert.equal(typeof m.isRead, "boolean");
  assert.match(m.createdAt, ISO_MS);
}

for (const transport of TRANSPORTS) {
  describe(`marketplace over ${transport.name}`, () => {
    /** A connection with the user's token, joined as the app does right after connecting. */
    const connect = async (user, track) => {
      const client = track(await Client.connect(env.marketplace, { ...transport.options, auth: { token: user.token } }));
      assert.deepEqual(await client.request("user-join", user.id), { userId: user.id, isOnline: true });
      return client;
    };
    const joinChat = async (client, chatId) => {
      assert.deepEqual(await client.request("join-chat", chatId), { chatId });
    };

    it("send-message reaches the room (sender included) as new-message and the receiver's every connection as message-notification", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer", { role: "client" });
        const seller = await makeUser("seller", { role: "provider" });
        const chatId = await provision([buyer, seller]);
        const b = await connect(buyer, track);
        const s = await connect(seller, track);
        const sPhone = await connect(seller, track);
        await joinChat(b, chatId);
        await joinChat(s, chatId);

        b.emit("send-message", { chatId, content: "Hello there!" });
        for (const client of [b, s]) {
          assertMarketMessage(await client.next("new-message"), { chatId, sender: buyer, content: "Hello there!" });
        }
        await sPhone.none("new-message");
        for (const client of [s, sPhone]) {
          const note = await client.next("message-notification");
          assert.equal(note.chatId, chatId);
          assertMarketMessage(note.message, { chatId, sender: buyer, content: "Hello there!" });
        }
        await b.none("message-notification");

        const media = ["https://example.com/a.png", { url: "https://example.com/b.pdf", type: "pdf", name: "b.pdf", size: 12 }];
        const acked = await s.request("send-message", { chatId, content: "", messageType: "image", media });
        assertMarketMessage(acked, { chatId, sender: seller, content: "", messageType: "image", media });
        assertMarketMessage(await b.next("new-message"), { chatId, sender: seller, content: "", messageType: "image", media });
      }));

    it("a listener that allows only clients and providers refuses other pairs", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer", { role: "client" });
        const seller = await makeUser("seller", { role: "provider" });
        const other = await makeUser("other", { role: "client" });
        const deal = await provision([buyer, seller]);
        const peers = await provision([buyer, other]);
        const b = track(
          await Client.connect(env.marketplaceRestricted, { ...transport.options, auth: { token: buyer.token } }),
        );
        await b.request("user-join", buyer.id);
        const allowed = await b.request("send-message", { chatId: deal, content: "client to provider" });
        assertMarketMessage(allowed, { chatId: deal, sender: buyer, content: "client to provider" });
        assertAckError(await b.request("send-message", { chatId: peers, content: "client to client" }));
        // The same two through an unrestricted listener of the same process.
        const open = await connect(buyer, track);
        const sent = await open.request("send-message", { chatId: peers, content: "client to client" });
        assertMarketMessage(sent, { chatId: peers, sender: buyer, content: "client to client" });
      }));

    it("joining marks what was sent before delivered; reading tells the room", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const chatId = await provision([buyer, seller]);
        const b = await connect(buyer, track);
        await joinChat(b, chatId);
        const first = await b.request("send-message", { chatId, content: "before you came" });
        assert.equal(first.delivered, false);

        const s = await connect(seller, track);
        await joinChat(s, chatId);
        const read = await s.request("mark-messages-read", { chatId });
        assert.deepEqual(read, { userId: seller.id, chatId });
        for (const client of [b, s]) {
          assert.deepEqual(await client.next("messages-read"), { userId: seller.id, chatId });
        }
      }));

    it("typing reaches the others in the room, never the typist, and stops", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const chatId = await provision([buyer, seller]);
        const b = await connect(buyer, track);
        const s = await connect(seller, track);
        await joinChat(b, chatId);
        await joinChat(s, chatId);
        b.emit("typing-start", { chatId });
        assert.deepEqual(await s.next("user-typing"), { userId: buyer.id, isTyping: true });
        b.emit("typing-stop", { roomId: chatId, userId: buyer.id });
        assert.deepEqual(await s.next("user-typing"), { userId: buyer.id, isTyping: false });
        await b.none("user-typing");
      }));

    it("presence: contacts hear user-status-changed, strangers do not; status can be asked and set", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const stranger = await makeUser("stranger");
        await provision([buyer, seller]);
        const b = await connect(buyer, track);
        const x = await connect(stranger, track);
        const s = await connect(seller, track);
        const online = await b.next("user-status-changed", (e) => e.userId === seller.id);
        assert.equal(online.isOnline, true);
        await x.none("user-status-changed", (e) => e.userId === seller.id);

        assert.deepEqual(
          { ...(await b.request("get-online-status", seller.id)), lastActive: null },
          { userId: seller.id, isOnline: true, lastActive: null },
        );
        b.emit("get-online-status", seller.id);
        assert.equal((await b.next("online-status")).isOnline, true);

        const set = await s.request("set-online-status", { userId: seller.id, isOnline: false });
        assert.equal(set.isOnline, false);
        assert.equal((await b.next("user-status-changed", (e) => e.userId === seller.id)).isOnline, false);
        assertAckError(await s.request("set-online-status", { userId: buyer.id, isOnline: false }));
        await s.request("set-online-status", { userId: seller.id, isOnline: true });
        assert.equal((await b.next("user-status-changed", (e) => e.userId === seller.id)).isOnline, true);

        s.close();
        const offline = await b.next("user-status-changed", (e) => e.userId === seller.id && !e.isOnline);
        assert.match(offline.lastActive, ISO_MS);
        const status = await b.request("get-online-status", seller.id);
        assert.equal(status.isOnline, false);
        assert.match(status.lastActive, ISO_MS);
      }));

    it("notifications: pending ones come once on join-notifications, then live; read, read all, count", () =>
      withClients(async (track) => {
        const seller = await makeUser("seller");
        for (const message of ["order 1", "order 2"]) {
          const res = await notify(env.native, { userId: seller.id, type: "order", title: "New order", message, data: { orderId: "o1" } });
          assert.equal(res.status, 201, JSON.stringify(res.body));
        }
        const s = await connect(seller, track);
        assert.deepEqual(await s.request("join-notifications", seller.id), { count: 2 });
        for (const message of ["order 1", "order 2"]) {
          const n = await s.next("new-notification", (e) => e.message === message);
          assert.equal(typeof n._id, "string");
          assert.deepEqual(
            { userId: n.userId, type: n.type, title: n.title, data: n.data, isRead: n.isRead, delivered: n.delivered },
            { userId: seller.id, type: "order", title: "New order", data: { orderId: "o1" }, isRead: false, delivered: true },
          );
          assert.match(n.createdAt, ISO_MS);
        }
        const again = await connect(seller, track);
        assert.deepEqual(await again.request("join-notifications", seller.id), { count: 0 });
        await again.none("new-notification");

        const live = await notify(env.marketplace, { userId: seller.id, type: "review", message: "5 stars" });
        assert.equal(live.status, 201);
        assert.equal((await s.next("new-notification")).message, "5 stars");

        assert.deepEqual(await s.request("get-unread-count", seller.id), { count: 3 });
        s.emit("mark-notification-read", { notificationId: live.body.id });
        assert.deepEqual(await s.next("notification-read"), { notificationId: live.body.id });
        // The answer to an event with an ack is also sent as the event: take the newest one.
        s.emit("get-unread-count", seller.id);
        assert.deepEqual(await s.next("unread-count", (e) => e.count !== 3), { count: 2 });
        s.emit("mark-all-notifications-read", seller.id);
        await s.next("all-notifications-read");
        assert.deepEqual(await s.request("get-unread-count", seller.id), { count: 0 });

        // Someone else's notifications are none of one's business.
        const other = await makeUser("other");
        const o = await connect(other, track);
        assertAckError(await o.request("mark-notification-read", { notificationId: live.body.id }));
        assertAckError(await o.request("get-unread-count", seller.id));
        assertAckError(await o.request("join-notifications", seller.id));
      }));

    it("refuses strangers, unknown chats, blank messages and malformed events; the connection stays usable", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const stranger = await makeUser("stranger");
        const chatId = await provision([buyer, seller]);
        const x = await connect(stranger, track);
        const s = await connect(seller, track);
        await joinChat(s, chatId);
        assertAckError(await x.request("join-chat", chatId));
        assertAckError(await x.request("join-chat", newId()));
        assertAckError(await x.request("send-message", { chatId, content: "let me in" }));
        const b = await connect(buyer, track);
        await joinChat(b, chatId);
        for (const payload of [
          { chatId, content: " " },
          { chatId, content: "x".repeat(10_001) },
          { chatId, content: "x", messageType: "hologram" },
          { chatId, content: 5 },
          "just text",
          null,
        ]) {
          assertAckError(await b.request("send-message", payload));
          b.emit("send-message", payload);
          assertErrorEvent(await b.next("error"));
        }
        assertAckError(await b.request("join-chat", { chatId }));
        assertAckError(await b.request("mark-messages-read", chatId));
        await s.none("new-message");
        b.emit("no_such_event", 1, 2, 3);
        const ok = await b.request("send-message", { chatId, content: "y".repeat(10_000) });
        assert.equal(ok.content.length, 10_000);
        assert.equal((await s.next("new-message")).content.length, 10_000);
        assert.equal(b.socket.connected, true);
      }));

    it("with a token, user-join must name the token's user; without legacy identity a bare connection is refused", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const client = track(await Client.connect(env.marketplace, { ...transport.options, auth: { token: buyer.token } }));
        assertAckError(await client.request("user-join", seller.id));
        assert.deepEqual(await client.request("user-join", buyer.id), { userId: buyer.id, isOnline: true });
        await assertRefused(track(await Client.connect(env.marketplace, transport.options)));
      }));

    it("with legacy identity, user-join identifies a bare connection and nothing else is accepted before it", () =>
      withClients(async (track) => {
        const buyer = await makeUser("buyer");
        const seller = await makeUser("seller");
        const chatId = await provision([buyer, seller]);
        const b = track(await Client.connect(env.marketplaceLegacy, transport.options));
        assertAckError(await b.request("join-chat", chatId));
        b.emit("get-unread-count", buyer.id);
        assertErrorEvent(await b.next("error"));
        assert.deepEqual(await b.request("user-join", buyer.id), { userId: buyer.id, isOnline: true });
        const s = track(await Client.connect(env.marketplaceLegacy, transport.options));
        await s.request("user-join", seller.id);
        assert.equal((await b.next("user-status-changed", (e) => e.userId === seller.id)).isOnline, true);
        await joinChat(b, chatId);
        await joinChat(s, chatId);
        b.emit("send-message", { chatId, content: "legacy hello" });
        assert.equal((await s.next("new-message")).content, "legacy hello");
        assertAckError(await b.request("user-join", seller.id));
      }));
  });
}
