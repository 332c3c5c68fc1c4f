// Wire compatibility of the `quickclinic` dialect (docs/DIALECTS.md, "quickclinic"): a chat
// is a doctor–patient relation; the socket handshake names the relation. The real
// socket.io-client over the default transports and over polling only, plus the REST routes.

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
  withClients,
} from "./helpers.mjs";

const relationsUrl = `${env.quickclinic}/api/doctorpatientrelations`;

/** POST /api/doctorpatientrelations with `by`'s token (either party may create it). */
async function openRelation(doctor, patient, by = doctor) {
  const res = await http("POST", relationsUrl, {
    token: by.token,
    body: { doctorId: doctor.id, patientId: patient.id },
  });
  assert.ok([200, 201].includes(res.status), `relation: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** POST /api/doctorpatientrelations/:id/chats, the app's fallback send path. */
async function postChat(relationId, user, text) {
  const res = await http("POST", `${relationsUrl}/${relationId}/chats`, { token: user.token, body: { text } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.message;
}

function assertClinicMessage(message, { relationId, sender, role, text }) {
  assert.equal(typeof message?.id, "string", JSON.stringify(message));
  assert.equal(message.relationId, relationId);
  assert.equal(message.senderId, sender.id);
  assert.equal(message.senderRole, role);
  assert.equal(message.text, text);
  assert.equal(message.isRead, false);
  assert.equal(message.readAt, null);
  assert.match(message.createdAt, ISO_MS);
}

const texts = (messages) => messages.map((m) => m.text);

for (const transport of TRANSPORTS) {
  describe(`quickclinic over ${transport.name}`, () => {
    const connectWith = (options, track) =>
      Client.connect(env.quickclinic, { ...transport.options, ...options }).then(track);
    /** Connects as the app does and consumes the `connected` greeting. */
    const connect = async (user, relationId, track) => {
      const client = await connectWith({ auth: { token: user.token, relationId } }, track);
      await client.next("connected");
      return client;
    };
    const pair = async () => ({
      doctor: await makeUser("house", { role: "doctor" }),
      patient: await makeUser("pat", { role: "patient" }),
    });

    it("creates relations with either party's token, keyed by the pair", async () => {
      const { doctor, patient } = await pair();
      const relation = await openRelation(doctor, patient);
      assert.equal(typeof relation.id, "string");
      assert.equal(relation.doctorId, doctor.id);
      assert.equal(relation.patientId, patient.id);
      assert.match(relation.createdAt, ISO_MS);
      const again = await openRelation(doctor, patient, patient);
      assert.equal(again.id, relation.id);

      const stranger = await makeUser("mallory");
      const refused = await http("POST", relationsUrl, {
        token: stranger.token,
        body: { doctorId: doctor.id, patientId: patient.id },
      });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      const anonymous = await http("POST", relationsUrl, { body: { doctorId: doctor.id, patientId: patient.id } });
      assert.equal(anonymous.status, 401, JSON.stringify(anonymous.body));
      const incomplete = await http("POST", relationsUrl, { token: doctor.token, body: { doctorId: doctor.id } });
      assert.equal(incomplete.status, 400, JSON.stringify(incomplete.body));
    });

    it("greets a party of the relation with connected {userId, userName, userRole}", () =>
      withClients(async (track) => {
        const { doctor, patient } = await pair();
        const { id } = await openRelation(doctor, patient);
        const d = await connectWith({ auth: { token: doctor.token, relationId: id } }, track);
        assert.deepEqual(await d.next("connected"), { userId: doctor.id, userName: doctor.name, userRole: "doctor" });
        if (transport.upgraded) await d.transportBecomes("websocket");
        // The handshake may also travel in the query.
        const p = await connectWith({ query: { token: patient.token, relationId: id } }, track);
        assert.deepEqual(await p.next("connected"), {
          userId: patient.id,
          userName: patient.name,
          userRole: "patient",
        });
        await d.none("error");
        assert.equal(d.socket.connected && p.socket.connected, true);
      }));

    it("refuses strangers, unknown relations and missing credentials: error, then disconnect", () =>
      withClients(async (track) => {
        const { doctor, patient } = await pair();
        const stranger = await makeUser("mallory", { role: "patient" });
        const { id } = await openRelation(doctor, patient);
        const attempts = [
          { auth: { token: stranger.token, relationId: id } },
          { auth: { token: doctor.token, relationId: newId() } },
          { auth: { token: doctor.token } },
          { auth: { relationId: id } },
        ];
        for (const options of attempts) {
          const client = await connectWith(options, track);
          await assertRefused(client);
          await client.none("connected");
        }
      }));

    it("pages get_initial_messages from the newest, each page chronological", () =>
      withClients(async (track) => {
        const { doctor, patient } = await pair();
        const { id } = await openRelation(doctor, patient);
        for (const text of ["m1", "m2", "m3", "m4", "m5"]) await postChat(id, doctor, text);
        const d = await connect(doctor, id, track);
        const page = async (pageNo, limit) => {
          d.emit("get_initial_messages", { page: pageNo, limit });
          return d.next("initial_messages");
        };
        const first = await page(1, 2);
        assert.deepEqual(texts(first.messages), ["m4", "m5"]);
        assert.deepEqual(first.pagination, { page: 1, limit: 2, total: 5, totalPages: 3, hasMore: true });
        const last = await page(3, 2);
        assert.deepEqual(texts(last.messages), ["m1"]);
        assert.deepEqual(last.pagination, { page: 3, limit: 2, total: 5, totalPages: 3, hasMore: false });
        const all = await page(1, 20);
        assert.deepEqual(texts(all.messages), ["m1", "m2", "m3", "m4", "m5"]);
        assert.equal(all.pagination.hasMore, false);

        const acked = await d.request("get_initial_messages", { page: 2, limit: 2 });
        assert.deepEqual(texts(acked?.messages ?? []), ["m2", "m3"], JSON.stringify(acked));
      }));

    it("send_message reaches the whole room, the sender included, as new_message {message}", () =>
      withClients(async (track) => {
        const { doctor, patient } = await pair();
        const { id } = await openRelation(doctor, patient);
        const d = await connect(doctor, id, track);
        const p = await connect(patient, id, track);
        // Sent without an ack, as the app does: it shows its own message when it comes back.
        d.emit("send_message", { text: "How are you feeling?" });
        for (const client of [p, d]) {
          const received = await client.next("new_message");
          assertClinicMessage(received.message, { relationId: id, sender: doctor, role: "doctor", text: "How are you feeling?" });
        }
        await p.none("new_message");
        await d.none("new_message");

        p.emit("send_message", { text: "Better, thanks" });
        const reply = await d.next("new_message", (e) => e?.message?.text === "Better, thanks");
        assertClinicMessage(reply.message, { relationId: id, sender: patient, role: "patient", text: "Better, thanks" });
      }));

    it("user_typing goes to the other side only", () =>
      withClients(async (track) => {
        const { doctor, patient } = await pair();
        const { id } = await openRelation(doctor, patient);
        const d = await connect(doctor, id, track);
        const p = await connect(patient, id, track);
        p.emit("user_typing");
        assert.deepEqual(await d.next("user_typing"), { userId: patient.id, userName: patient.name });
        await p.none("user_typing");
      }));

    it("mark_as_read announces message_read {messageId, readBy} and the message is read", () =>
      withClients(async (track) => {
        const { doctor, patient } = await pair();
        const { id } = await openRelation(doctor, patient);
        const d = await connect(doctor, id, track);
        const p = await connect(patient, id, track);
        d.emit("send_message", { text: "Take two a day" });
        const { message } = await p.next("new_message");
        p.emit("mark_as_read", { messageId: message.id });
        assert.deepEqual(await d.next("message_read"), { messageId: message.id, readBy: patient.id });

        const res = await http("GET", `${relationsUrl}/${id}/chats?page=1&limit=20`, { token: doctor.token });
        assert.equal(res.status, 200);
        const stored = res.body.messages.find((m) => m.id === message.id);
        assert.equal(stored?.isRead, true, JSON.stringify(res.body));
        assert.match(stored.readAt, ISO_MS);

        p.emit("mark_as_read", { messageId: newId() });
        assertErrorEvent(await p.next("error"));
      }));

    it("serves the chats over REST: GET pages, POST answers 201 {message} and reaches the sockets", () =>
      withClients(async (track) => {
        const { doctor, patient } = await pair();
        const stranger = await makeUser("mallory");
        const { id } = await openRelation(doctor, patient);
        const d = await connect(doctor, id, track);
        const p = await connect(patient, id, track);
        const posted = await postChat(id, patient, "sent over REST");
        assertClinicMessage(posted, { relationId: id, sender: patient, role: "patient", text: "sent over REST" });
        // A REST send is no socket's own: every connection of both parties gets it.
        for (const client of [d, p]) {
          const { message } = await client.next("new_message");
          assert.equal(message.id, posted.id);
        }

        const page = await http("GET", `${relationsUrl}/${id}/chats?page=1&limit=20`, { token: doctor.token });
        assert.equal(page.status, 200);
        assert.deepEqual(texts(page.body.messages), ["sent over REST"]);
        assert.deepEqual(page.body.pagination, { page: 1, limit: 20, total: 1, totalPages: 1, hasMore: false });

        const checks = [
          ["stranger GET", "GET", {}, stranger.token, 403],
          ["stranger POST", "POST", { text: "hi" }, stranger.token, 403],
          ["no token", "GET", {}, undefined, 401],
          ["blank text", "POST", { text: "  " }, doctor.token, 400],
          // PostgreSQL cannot store a NUL: refused at the door, on every store alike.
          ["NUL in text", "POST", { text: "a\u0000b" }, doctor.token, 400],
        ];
        for (const [label, method, body, token, status] of checks) {
          const res = await http(method, `${relationsUrl}/${id}/chats`, {
            token,
            body: method === "POST" ? body : undefined,
          });
          assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
        }
        const unknown = await http("GET", `${relationsUrl}/${newId()}/chats`, { token: doctor.token });
        assert.ok([403, 404].includes(unknown.status), `unknown relation: ${unknown.status}`);
        await p.none("new_message");
      }));

    it("refuses blank and oversize text, acks results or {error}, and stays usable after malformed events", () =>
      withClients(async (track) => {
        const { doctor, patient } = await pair();
        const { id } = await openRelation(doctor, patient);
        const d = await connect(doctor, id, track);
        const p = await connect(patient, id, track);

        for (const payload of [{ text: "" }, { text: "x".repeat(10_001) }, "just text", { text: 5 }, null, { text: "a\u0000b" }]) {
          d.emit("send_message", payload);
          assertErrorEvent(await d.next("error"));
          assertAckError(await d.request("send_message", payload));
        }
        for (const [event, payload] of [
          ["mark_as_read", {}],
          ["get_initial_messages", { page: "one", limit: 20 }],
        ]) {
          d.emit(event, payload);
          assertErrorEvent(await d.next("error"));
        }
        await p.none("new_message");
        // Refusals answered through an ack sent no error event.
        await d.none("error");

        // An unknown event may be answered with an error; the connection must stay usable.
        d.emit("no_such_event", 1, 2, 3);
        const saved = await d.request("send_message", { text: "y".repeat(10_000) });
        assert.ok(saved && !("error" in saved), JSON.stringify(saved).slice(0, 200));
        const { message } = await p.next("new_message");
        assert.equal(message.text.length, 10_000);
        assert.equal(d.socket.connected, true);
      }));
  });
}
