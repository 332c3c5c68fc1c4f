// Each family's own client flows on data brought over by `switchboard import` (docs/MIGRATION.md):
// the real socket.io-client and the families' REST routes against a server whose store holds
// the five legacy databases that tests/support/legacy_fixtures.rs generated. What to expect
// comes from the generator's manifest (SB_IMPORTED: a JSON file written by
// tests/integration/import/flows.rs): history pages in creation order, derived unread counts,
// "read by", pending notifications, and a new message in an imported conversation.
//
// Run through tests/integration/import/flows.rs, never on its own (it needs SB_IMPORTED).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Client, env, http, signToken, withClients } from "../helpers.mjs";

const imported = JSON.parse(readFileSync(process.env.SB_IMPORTED ?? assert.fail("SB_IMPORTED is not set"), "utf8"));

const tokenOf = (userId) => signToken({ sub: userId });
const family = (name) => imported.families[name] ?? assert.fail(`no ${name} in SB_IMPORTED`);
/** Conversations with at least `n` messages. */
const withMessages = (f, n) => f.conversations.filter((c) => c.messages.length >= n);
/** The 1-based position of a message in its conversation's creation order. */
const positionOf = (conversation, id) => conversation.messages.indexOf(id) + 1;
/** What a reader's imported mark says about the message at `position`. */
const hasRead = (participant, position) => position <= participant.read_upto;
const other = (conversation, userId) => conversation.participants.find((p) => p.id !== userId);

describe("kaajkaam on imported data", () => {
  const f = family("kaajkaam");
  const base = `${env.kaajkaam}/api/chat`;
  const get = (path, userId) => http("GET", `${base}${path}`, { headers: { "x-auth-token": tokenOf(userId) } });

  it("lists each participant's conversations with the unread count derived from the imported marks", async () => {
    for (const conversation of withMessages(f, 1).slice(0, 4)) {
      for (const p of conversation.participants) {
        const res = await get("/conversations", p.id);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const listed = res.body.find((c) => c._id === conversation.id);
        if (!conversation.active) {
          assert.equal(listed, undefined, "a soft-deleted conversation stays hidden");
          continue;
        }
        assert.ok(listed, `conversation ${conversation.id} in ${p.id}'s list`);
        assert.equal(listed.unreadCount[p.id], p.expected_unread, `unread of ${p.id} in ${conversation.id}`);
      }
    }
  });

  it("gives the total unread count over all of a user's imported conversations", async () => {
    const user = f.conversations[0].participants[0].id;
    const expected = f.conversations
      .flatMap((c) => c.participants)
      .filter((p) => p.id === user)
      .reduce((sum, p) => sum + p.expected_unread, 0);
    const res = await get("/unread-count", user);
    assert.equal(res.status, 200);
    assert.equal(res.body.count, expected);
  });

  it("pages history in creation order with readBy from the marks", async () => {
    const conversation = withMessages(f, 12)[0] ?? withMessages(f, 2)[0];
    const viewer = conversation.participants[0].id;
    const n = conversation.messages.length;
    for (const skip of [0, 5]) {
      const res = await get(`/conversations/${conversation.id}/messages?limit=5&skip=${skip}`, viewer);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const page = Array.isArray(res.body) ? res.body : res.body.messages;
      assert.deepEqual(
        page.map((m) => m._id),
        conversation.messages.slice(Math.max(0, n - skip - 5), n - skip),
      );
      for (const m of page) {
        const position = positionOf(conversation, m._id);
        for (const p of conversation.participants.filter((p) => p.id !== m.sender)) {
          const readers = m.readBy.map((r) => r.userId);
          assert.equal(readers.includes(p.id), hasRead(p, position), `readBy of message ${position} for ${p.id}`);
        }
      }
    }
  });

  it("posts a new message into an imported conversation", async () => {
    const conversation = f.conversations.find((c) => c.id === f.post_to);
    const sender = conversation.participants[0].id;
    const res = await http("POST", `${base}/conversations/${conversation.id}/messages`, {
      headers: { "x-auth-token": tokenOf(sender) },
      body: { text: "first message after the move" },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const last = await get(`/conversations/${conversation.id}/messages?limit=2&skip=0`, sender);
    const page = Array.isArray(last.body) ? last.body : last.body.messages;
    assert.deepEqual(page.map((m) => m._id), [conversation.messages.at(-1), res.body._id]);
  });
});

describe("linsta on imported data", () => {
  const f = family("linsta");

  it("pages a chat room's history over REST and over get_history", () =>
    withClients(async (track) => {
      const conversation = withMessages(f, 8)[0] ?? withMessages(f, 2)[0];
      const user = conversation.participants[0].id;
      const n = conversation.messages.length;
      const res = await http("GET", `${env.linsta}/api/chat/messages/${conversation.id}?limit=5&skip=0`, {
        token: tokenOf(user),
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.map((m) => m._id), conversation.messages.slice(Math.max(0, n - 5)));

      const client = track(await Client.connect(env.linsta, { auth: { token: tokenOf(user) } }));
      client.emit("join_room", { chatRoomId: conversation.id });
      client.emit("get_history", { chatRoomId: conversation.id, limit: 3, skip: 5 });
      const history = await client.next("message_history");
      assert.deepEqual(
        history.messages.map((m) => m._id),
        conversation.messages.slice(Math.max(0, n - 8), Math.max(0, n - 5)),
      );
    }));

  it("lists the imported rooms and pushes no old notification again on connect", () =>
    withClients(async (track) => {
      const conversation = f.conversations[0];
      const user = conversation.participants[0].id;
      const rooms = await http("GET", `${env.linsta}/api/chat/rooms`, { token: tokenOf(user) });
      assert.equal(rooms.status, 200);
      assert.ok(rooms.body.some((r) => r._id === conversation.id));
      const client = track(await Client.connect(env.linsta, { auth: { token: tokenOf(user) } }));
      await client.none("notification");
    }));

  it("sends into an imported room", () =>
    withClients(async (track) => {
      const conversation = f.conversations.find((c) => c.id === f.post_to);
      const [a, b] = conversation.participants.map((p) => p.id);
      const sender = track(await Client.connect(env.linsta, { auth: { token: tokenOf(a) } }));
      const receiver = track(await Client.connect(env.linsta, { auth: { token: tokenOf(b) } }));
      for (const client of [sender, receiver]) client.emit("join_room", { chatRoomId: conversation.id });
      await sender.next("user_joined").catch(() => {});
      sender.emit("send_message", { chatRoomId: conversation.id, text: "after the move" });
      const got = await receiver.next("receive_message", (m) => m.text === "after the move");
      assert.equal(got.chatRoomId, conversation.id);
      assert.equal(got.senderId, a);
    }));
});

describe("quickclinic on imported data", () => {
  const f = family("quickclinic");

  it("pages a relation's chats with isRead from the other side's imported mark", async () => {
    const relation = withMessages(f, 8)[0] ?? withMessages(f, 2)[0];
    const viewer = relation.participants[0].id;
    const n = relation.messages.length;
    const res = await http(
      "GET",
      `${env.quickclinic}/api/doctorpatientrelations/${relation.id}/chats?page=1&limit=5`,
      { token: tokenOf(viewer) },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.pagination.total, n);
    assert.deepEqual(res.body.messages.map((m) => m.id), relation.messages.slice(Math.max(0, n - 5)));
    for (const m of res.body.messages) {
      const reader = other(relation, m.senderId);
      assert.equal(m.isRead, hasRead(reader, positionOf(relation, m.id)), `isRead of ${m.id}`);
    }
  });

  it("loads page two over the socket and sends a new message", () =>
    withClients(async (track) => {
      const relation = f.conversations.find((c) => c.id === f.post_to);
      const [doctor, patient] = relation.participants.map((p) => p.id);
      const n = relation.messages.length;
      const d = track(await Client.connect(env.quickclinic, { auth: { token: tokenOf(doctor), relationId: relation.id } }));
      const p = track(await Client.connect(env.quickclinic, { auth: { token: tokenOf(patient), relationId: relation.id } }));
      await d.next("connected");
      await p.next("connected");
      d.emit("get_initial_messages", { page: 1, limit: 3 });
      const initial = await d.next("initial_messages");
      assert.deepEqual(initial.messages.map((m) => m.id), relation.messages.slice(Math.max(0, n - 3)));
      assert.equal(initial.pagination.total, n);
      d.emit("send_message", { text: "after the move" });
      const got = await p.next("new_message", (e) => e.message?.text === "after the move");
      assert.equal(got.message.senderId, doctor);
      assert.equal(got.message.relationId, relation.id);
    }));
});

describe("calmora on imported data", () => {
  const f = family("calmora");

  it("sends into an imported chat by its id, and the recipient receives it", () =>
    withClients(async (track) => {
      const chat = f.conversations.find((c) => c.id === f.post_to);
      const [a, b] = chat.participants.map((p) => p.id);
      const sender = track(await Client.connect(env.calmora, { auth: { token: tokenOf(a) } }));
      const recipient = track(await Client.connect(env.calmora, { auth: { token: tokenOf(b) } }));
      sender.emit("registerUser", a);
      recipient.emit("registerUser", b);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ack = await sender.request("sendMessage", { senderId: a, recipientId: b, message: "after the move", chatId: chat.id });
      assert.equal(ack.chatId, chat.id, JSON.stringify(ack));
      const got = await recipient.next("receiveMessage", (m) => m.message === "after the move");
      assert.equal(got.chatId, chat.id);
      assert.equal(got.senderId, a);
    }));
});

describe("marketplace on imported data", () => {
  const f = family("marketplace");
  const connect = async (track, userId) => {
    const client = track(await Client.connect(env.marketplace, { auth: { token: tokenOf(userId) } }));
    await client.request("user-join", userId);
    return client;
  };

  it("counts unread notifications and pushes the undelivered ones once", () =>
    withClients(async (track) => {
      const user = f.users.find((u) => u.undelivered_notifications > 0);
      assert.ok(user, "the generated marketplace data has undelivered notifications");
      const client = await connect(track, user.id);
      const unread = await client.request("get-unread-count", user.id);
      assert.equal(unread.count, user.unread_notifications);
      client.emit("join-notifications", user.id);
      for (let i = 0; i < user.undelivered_notifications; i++) await client.next("new-notification");
      await client.none("new-notification");
      client.close();
      const again = await connect(track, user.id);
      again.emit("join-notifications", user.id);
      await again.none("new-notification");
    }));

  it("sends into an imported chat; the message is new, undelivered and unread for the other side", () =>
    withClients(async (track) => {
      const chat = f.conversations.find((c) => c.id === f.post_to);
      const [a, b] = chat.participants.map((p) => p.id);
      const sender = await connect(track, a);
      await sender.request("join-chat", chat.id);
      sender.emit("send-message", { chatId: chat.id, content: "after the move" });
      const got = await sender.next("new-message", (m) => m.content === "after the move");
      assert.equal(got.chatId, chat.id);
      assert.equal(got.isRead, false);
      const receiver = await connect(track, b);
      await receiver.request("join-chat", chat.id);
      receiver.emit("mark-messages-read", { chatId: chat.id });
      const read = await receiver.next("messages-read");
      assert.equal(read.chatId, chat.id);
    }));
});
