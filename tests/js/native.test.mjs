// Native clients (the raw WebSocket protocol of docs/PROTOCOL.md) and Socket.IO dialect
// clients (the real socket.io-client) in the same conversations: each gets the other's
// messages in its own shapes, and the seq a native client sees continues across dialects.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import WebSocket from "ws";
import { Client, WAIT_MS, env, makeUser, provision, withClients } from "./helpers.mjs";

/** A small native client: hello, requests by id, events recorded in arrival order. */
class Native {
  static async connect(user) {
    const socket = new WebSocket(`${env.native.replace(/^http/, "ws")}/ws`);
    const client = new Native(socket);
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    socket.send(JSON.stringify({ type: "hello", data: { token: user.token } }));
    const welcome = await client.next("welcome");
    assert.equal(welcome.user.id, user.id);
    return client;
  }

  constructor(socket) {
    this.socket = socket;
    this.events = [];
    this.waiters = [];
    this.answers = new Map();
    this.nextId = 1;
    socket.on("message", (raw) => {
      const frame = JSON.parse(raw.toString());
      if ("ok" in frame) {
        this.answers.get(frame.id)?.(frame);
        this.answers.delete(frame.id);
        return;
      }
      this.events.push(frame);
      this.waiters = this.waiters.filter((w) => !w(frame));
    });
  }

  request(type, data) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${type}`)), WAIT_MS);
      this.answers.set(id, (frame) => {
        clearTimeout(timer);
        frame.ok ? resolve(frame.data) : reject(new Error(`${type}: ${frame.error.code} ${frame.error.message}`));
      });
      this.socket.send(JSON.stringify({ id, type, data }));
    });
  }

  next(type) {
    const index = this.events.findIndex((e) => e.type === type);
    if (index >= 0) return Promise.resolve(this.events.splice(index, 1)[0].data);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} event within ${WAIT_MS} ms`)), WAIT_MS);
      this.waiters.push((frame) => {
        if (frame.type !== type) return false;
        clearTimeout(timer);
        this.events.splice(this.events.indexOf(frame), 1);
        resolve(frame.data);
        return true;
      });
    });
  }

  close() {
    this.socket.close();
  }
}

describe("native clients beside the Socket.IO dialects", () => {
  it("a native user and a linsta user talk in one conversation, each in their own shapes", () =>
    withClients(async (track) => {
      const nina = await makeUser("nina");
      const lina = await makeUser("lina");
      const chatId = await provision([nina, lina]);
      const n = track(await Native.connect(nina));
      const l = track(await Client.connect(env.linsta, { auth: { token: lina.token } }));
      await l.request("join_room", { chatRoomId: chatId });

      const sent = await n.request("messages.send", { conversationId: chatId, text: "from native" });
      assert.equal(sent.seq, 1);
      // Every connection of every participant gets message.new, the sender's own included.
      assert.equal((await n.next("message.new")).id, sent.id);
      const got = await l.next("receive_message");
      assert.equal(got.text, "from native");

      l.emit("send_message", { chatRoomId: chatId, text: "from linsta" });
      const live = await n.next("message.new");
      assert.deepEqual(
        { conversationId: live.conversationId, seq: live.seq, senderId: live.senderId, text: live.text },
        { conversationId: chatId, seq: 2, senderId: lina.id, text: "from linsta" },
      );
    }));

  it("a marketplace user's message reaches a native user, and the native reply reaches marketplace", () =>
    withClients(async (track) => {
      const nina = await makeUser("nina");
      const mark = await makeUser("mark");
      const chatId = await provision([nina, mark]);
      const n = track(await Native.connect(nina));
      const m = track(await Client.connect(env.marketplace, { auth: { token: mark.token } }));
      await m.request("user-join", mark.id);
      assert.deepEqual(await m.request("join-chat", chatId), { chatId });

      m.emit("send-message", { chatId, content: "is it available?", messageType: "text" });
      // The marketplace server broadcast to the whole room, the sender included.
      assert.equal((await m.next("new-message")).content, "is it available?");
      const live = await n.next("message.new");
      assert.equal(live.text, "is it available?");
      assert.equal(live.seq, 1);

      await n.request("messages.send", { conversationId: chatId, text: "yes" });
      const reply = await m.next("new-message");
      assert.deepEqual({ content: reply.content, sender: reply.sender }, { content: "yes", sender: nina.id });
    }));
});
