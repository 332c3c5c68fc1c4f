// One core, many dialects at once (docs/DIALECTS.md): a conversation whose participants speak
// different dialects, each receiving the other's messages in its own event names and shapes
// (a kaajkaam REST post included); presence across dialects; and the native provisioning
// routes used from every listener.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Client, ISO_MS, TRANSPORTS, env, http, makeUser, newId, notify, provision, withClients } from "./helpers.mjs";

for (const transport of TRANSPORTS) {
  describe(`cross-dialect over ${transport.name}`, () => {
    const linsta = (user, track) =>
      Client.connect(env.linsta, { ...transport.options, auth: { token: user.token } }).then(track);
    const quickclinic = async (user, relationId, track) => {
      const client = track(
        await Client.connect(env.quickclinic, { ...transport.options, auth: { token: user.token, relationId } }),
      );
      await client.next("connected");
      return client;
    };
    const join = async (client, chatRoomId) => {
      const ack = await client.request("join_room", { chatRoomId });
      assert.ok(!(ack && typeof ack === "object" && "error" in ack), `join refused: ${JSON.stringify(ack)}`);
    };
    const calmora = async (user, track) => {
      const client = track(await Client.connect(env.calmora, { ...transport.options, auth: { token: user.token } }));
      await client.request("registerUser", user.id);
      return client;
    };
    const marketplace = async (user, track) => {
      const client = track(await Client.connect(env.marketplace, { ...transport.options, auth: { token: user.token } }));
      await client.request("user-join", user.id);
      return client;
    };

    it("calmora and marketplace users receive a linsta user's message in their own shapes", () =>
      withClients(async (track) => {
        const lina = await makeUser("lina");
        const cara = await makeUser("cara");
        const mark = await makeUser("mark");
        const chatId = await provision([lina, cara, mark]);
        const l = await linsta(lina, track);
        await join(l, chatId);
        const c = await calmora(cara, track);
        const m = await marketplace(mark, track);
        assert.deepEqual(await m.request("join-chat", chatId), { chatId });

        l.emit("send_message", { chatRoomId: chatId, text: "hello all" });
        const calm = await c.next("receiveMessage");
        assert.deepEqual(
          { chatId: calm.chatId, senderId: calm.senderId, recipientId: calm.recipientId, message: calm.message },
          { chatId, senderId: lina.id, recipientId: cara.id, message: "hello all" },
        );
        assert.equal(calm.sender.name, lina.name);
        assert.match(calm.createdAt, ISO_MS);
        const market = await m.next("new-message");
        assert.deepEqual(
          { chatId: market.chatId, sender: market.sender, content: market.content, messageType: market.messageType },
          { chatId, sender: lina.id, content: "hello all", messageType: "text" },
        );
        assert.equal((await m.next("message-notification")).message._id, market._id);
        assert.equal(market._id, calm._id);
        // Nobody of the three views it on calmora: cara gets the chat notification.
        assert.equal((await c.next("new_notification")).extra.chatId, chatId);

        // And back: each one's message reaches the linsta room.
        c.emit("sendMessage", { senderId: cara.id, recipientId: lina.id, message: "from calmora", chatId });
        assert.equal((await l.next("receive_message", (e) => e.text === "from calmora")).senderId, cara.id);
        m.emit("send-message", { chatId, content: "from marketplace" });
        assert.equal((await l.next("receive_message", (e) => e.text === "from marketplace")).senderId, mark.id);
      }));

    const kaajkaam = (user, track) =>
      Client.connect(env.kaajkaam, { ...transport.options, auth: { token: user.token } }).then(track);
    const kaajkaamPost = (user, conversationId, text) =>
      http("POST", `${env.kaajkaam}/api/chat/conversations/${conversationId}/messages`, {
        headers: { "x-auth-token": user.token },
        body: { text },
      });

    it("a kaajkaam REST post reaches linsta, calmora and marketplace participants in their shapes", () =>
      withClients(async (track) => {
        const kara = await makeUser("kara");
        const lina = await makeUser("lina");
        const cara = await makeUser("cara");
        const mark = await makeUser("mark");
        const chatId = await provision([kara, lina, cara, mark]);
        const l = await linsta(lina, track);
        await join(l, chatId);
        const c = await calmora(cara, track);
        const m = await marketplace(mark, track);
        assert.deepEqual(await m.request("join-chat", chatId), { chatId });
        const k = await kaajkaam(kara, track);
        assert.deepEqual(await k.request("join_conversation", chatId), { conversationId: chatId });

        const posted = await kaajkaamPost(kara, chatId, "from the gig app");
        assert.equal(posted.status, 201, JSON.stringify(posted.body));
        const id = posted.body._id;
        const lin = await l.next("receive_message");
        assert.deepEqual(
          { _id: lin._id, chatRoomId: lin.chatRoomId, senderId: lin.senderId, text: lin.text },
          { _id: id, chatRoomId: chatId, senderId: kara.id, text: "from the gig app" },
        );
        const calm = await c.next("receiveMessage");
        assert.deepEqual(
          { _id: calm._id, chatId: calm.chatId, senderId: calm.senderId, recipientId: calm.recipientId, message: calm.message },
          { _id: id, chatId, senderId: kara.id, recipientId: cara.id, message: "from the gig app" },
        );
        const market = await m.next("new-message");
        assert.deepEqual(
          { _id: market._id, chatId: market.chatId, sender: market.sender, content: market.content },
          { _id: id, chatId, sender: kara.id, content: "from the gig app" },
        );
        assert.equal((await m.next("message-notification")).message._id, id);
        // The REST sender's own socket in the room hears it too, as the seed's room emit did.
        assert.equal((await k.next("receive_message"))._id, id);

        // And back: a linsta message reaches the kaajkaam user as receive_message.
        l.emit("send_message", { chatRoomId: chatId, text: "from linsta" });
        const back = await k.next("receive_message", (e) => e.text === "from linsta");
        assert.equal(back.sender, lina.id);
        assert.equal(back.conversationId, chatId);
        assert.equal(back.messageType, "text");
        assert.equal((await k.next("new_notification", (n) => n.data?.messageId === back._id)).userId, kara.id);
      }));

    it("a kaajkaam patient's REST post reaches the quickclinic doctor; presence crosses both ways", () =>
      withClients(async (track) => {
        const doctor = await makeUser("house", { role: "doctor" });
        const patient = await makeUser("kara", { role: "patient" });
        const created = await http("POST", `${env.quickclinic}/api/doctorpatientrelations`, {
          token: doctor.token,
          body: { doctorId: doctor.id, patientId: patient.id },
        });
        assert.ok([200, 201].includes(created.status), JSON.stringify(created.body));
        const relationId = created.body.id;

        const k = await kaajkaam(patient, track);
        const q = await quickclinic(doctor, relationId, track);
        assert.deepEqual(await k.next("user_online", (e) => e.userId === doctor.id), { userId: doctor.id });

        const posted = await kaajkaamPost(patient, relationId, "my results came back");
        assert.equal(posted.status, 201, JSON.stringify(posted.body));
        const { message } = await q.next("new_message");
        assert.deepEqual(
          { id: message.id, relationId: message.relationId, senderId: message.senderId, text: message.text },
          { id: posted.body._id, relationId, senderId: patient.id, text: "my results came back" },
        );
        assert.equal(message.senderRole, "patient");

        q.close();
        assert.deepEqual(await k.next("user_offline"), { userId: doctor.id });
      }));

    it("a quickclinic doctor's message reaches a calmora patient; presence crosses dialects", () =>
      withClients(async (track) => {
        const doctor = await makeUser("house", { role: "doctor" });
        const patient = await makeUser("cara", { role: "patient" });
        const buyer = await makeUser("mark");
        const created = await http("POST", `${env.quickclinic}/api/doctorpatientrelations`, {
          token: doctor.token,
          body: { doctorId: doctor.id, patientId: patient.id },
        });
        assert.ok([200, 201].includes(created.status), JSON.stringify(created.body));
        const relationId = created.body.id;
        await provision([buyer, doctor]);

        const c = await calmora(patient, track);
        const m = await marketplace(buyer, track);
        const q = await quickclinic(doctor, relationId, track);
        // The doctor came online on quickclinic: the marketplace contact hears it.
        const online = await m.next("user-status-changed", (e) => e.userId === doctor.id);
        assert.equal(online.isOnline, true);

        q.emit("send_message", { text: "how are you?" });
        const received = await c.next("receiveMessage");
        assert.deepEqual(
          { chatId: received.chatId, senderId: received.senderId, recipientId: received.recipientId, message: received.message },
          { chatId: relationId, senderId: doctor.id, recipientId: patient.id, message: "how are you?" },
        );

        q.close();
        const offline = await m.next("user-status-changed", (e) => e.userId === doctor.id && !e.isOnline);
        assert.match(offline.lastActive, ISO_MS);
      }));

    it("a quickclinic doctor and a linsta patient talk in one relation", () =>
      withClients(async (track) => {
        const doctor = await makeUser("house", { role: "doctor" });
        const patient = await makeUser("lina", { role: "patient" });
        const created = await http("POST", `${env.quickclinic}/api/doctorpatientrelations`, {
          token: doctor.token,
          body: { doctorId: doctor.id, patientId: patient.id },
        });
        assert.ok([200, 201].includes(created.status), JSON.stringify(created.body));
        const relationId = created.body.id;

        const l = await linsta(patient, track);
        await join(l, relationId);
        const q = await quickclinic(doctor, relationId, track);

        l.emit("send_message", { chatRoomId: relationId, text: "hello doctor" });
        const { message } = await q.next("new_message");
        assert.equal(typeof message.id, "string");
        assert.equal(message.relationId, relationId);
        assert.equal(message.senderId, patient.id);
        assert.equal(message.senderRole, "patient");
        assert.equal(message.text, "hello doctor");
        assert.equal(message.isRead, false);
        assert.match(message.createdAt, ISO_MS);
        // linsta's sender is part of its room.
        assert.equal((await l.next("receive_message")).text, "hello doctor");

        q.emit("send_message", { text: "hello patient" });
        const received = await l.next("receive_message");
        assert.equal(typeof received._id, "string");
        assert.deepEqual(
          { chatRoomId: received.chatRoomId, senderId: received.senderId, text: received.text },
          { chatRoomId: relationId, senderId: doctor.id, text: "hello patient" },
        );
        assert.match(received.createdAt, ISO_MS);
        assert.equal(received.id, undefined, "linsta payloads use _id, not id");
        await l.none("receive_message");

        // Each side's REST history holds both messages, in its own shape.
        const linstaHistory = await http("GET", `${env.linsta}/api/chat/messages/${relationId}`, {
          token: patient.token,
        });
        assert.equal(linstaHistory.status, 200, JSON.stringify(linstaHistory.body));
        assert.deepEqual(
          linstaHistory.body.map((m) => [m.senderId._id, m.text]),
          [
            [patient.id, "hello doctor"],
            [doctor.id, "hello patient"],
          ],
        );
        const clinicHistory = await http(
          "GET",
          `${env.quickclinic}/api/doctorpatientrelations/${relationId}/chats?page=1&limit=20`,
          { token: doctor.token },
        );
        assert.equal(clinicHistory.status, 200, JSON.stringify(clinicHistory.body));
        assert.deepEqual(
          clinicHistory.body.messages.map((m) => [m.senderId, m.text]),
          [
            [patient.id, "hello doctor"],
            [doctor.id, "hello patient"],
          ],
        );
      }));

    it("a conversation provisioned with the service key is a linsta chat room", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const bob = await makeUser("bob");
        const res = await http("POST", `${env.native}/api/v1/conversations`, {
          serviceKey: env.serviceKey,
          body: { participantIds: [alice.id, bob.id] },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(typeof res.body.id, "string");
        assert.deepEqual([...res.body.participantIds].sort(), [alice.id, bob.id].sort());
        // A user's token may open a conversation it takes part in (the same one), not others'.
        const own = await http("POST", `${env.native}/api/v1/conversations`, {
          token: alice.token,
          body: { participantIds: [alice.id, bob.id] },
        });
        assert.equal(own.status, 201, JSON.stringify(own.body));
        assert.equal(own.body.id, res.body.id);
        const refused = await http("POST", `${env.native}/api/v1/conversations`, {
          token: bob.token,
          body: { participantIds: [alice.id, "66f1234567890abcdef0ffff"] },
        });
        assert.equal(refused.status, 403, `another pair's conversation: ${refused.status}`);

        const a = await linsta(alice, track);
        const b = await linsta(bob, track);
        await join(a, res.body.id);
        await join(b, res.body.id);
        a.emit("send_message", { chatRoomId: res.body.id, text: "provisioned" });
        assert.equal((await b.next("receive_message")).text, "provisioned");
      }));

    it("a notification posted on any listener reaches a linsta user", () =>
      withClients(async (track) => {
        const alice = await makeUser("alice");
        const a = await linsta(alice, track);
        a.emit("subscribe_notifications");
        await a.next("notification_subscribed");
        const referenceId = newId();
        const posted = await notify(env.quickclinic, {
          userId: alice.id,
          type: "COMMENT",
          title: "New comment",
          message: "Someone commented",
          referenceId,
          data: { postId: referenceId },
        });
        assert.equal(posted.status, 201, JSON.stringify(posted.body));
        const n = await a.next("notification");
        assert.equal(n.userId, alice.id);
        assert.equal(n.type, "COMMENT");
        assert.equal(n.message, "Someone commented");
        assert.equal(n.referenceId, referenceId);
        assert.equal(n.isRead, false);
      }));
  });
}
