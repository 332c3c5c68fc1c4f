// The Node peer of the benchmark: a socket.io 4 server with the linsta flows that
// bench/loadgen drives, kept in memory, written as a Node developer would write it for
// production (no tricks for the benchmark). bench/compare.sh measures switchboard against it.
//
//   PORT=3001 JWT_SECRET=bench-secret SERVICE_KEY=bench-key node server.mjs
//
// One port serves both Socket.IO (/socket.io/) and REST:
//   GET  /health
//   POST /api/v1/conversations { participantIds }   (x-api-key: SERVICE_KEY) -> 201 { id, participantIds }
// Socket.IO (handshake auth.token, an HS256 JWT whose sub is the user id):
//   join_room({ chatRoomId }, ack)       -> ack { chatRoomId }; user_joined { userId, chatRoomId } to the others
//   send_message({ chatRoomId, text }, ack) -> receive_message { _id, chatRoomId, senderId, text, createdAt }
//                                             to the room (sender included), ack with the message
// A refused request is answered with ack { error } (or an `error` event without an ack),
// as switchboard does.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import express from 'express';
import jwt from 'jsonwebtoken';
import { Server } from 'socket.io';

const port = Number(process.env.PORT || 3001);
const secret = process.env.JWT_SECRET;
const serviceKey = process.env.SERVICE_KEY;
if (!secret || !serviceKey) {
  console.error('JWT_SECRET and SERVICE_KEY are required');
  process.exit(2);
}

/** chatRoomId -> { participants: Set<userId>, messages: [] } */
const rooms = new Map();

// 24 hex digits, like the MongoDB ObjectIds the linsta clients are used to.
let counter = 0;
const prefix = randomBytes(6).toString('hex');
const newId = () => prefix + (counter++).toString(16).padStart(12, '0');

const app = express();
app.use(express.json({ limit: '1mb' }));

app.get('/health', (req, res) => res.json({ status: 'ok' }));

app.post('/api/v1/conversations', (req, res) => {
  if (req.get('x-api-key') !== serviceKey) return res.status(401).json({ message: 'bad service key' });
  const ids = req.body?.participantIds;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string' && x)) {
    return res.status(400).json({ message: 'participantIds must be an array of user ids' });
  }
  const participants = new Set(ids);
  if (participants.size > 1000) return res.status(400).json({ message: 'too many participants' });
  const id = newId();
  rooms.set(id, { participants, messages: [] });
  res.status(201).json({ id, participantIds: [...participants] });
});

const httpServer = createServer(app);
const io = new Server(httpServer, { cors: { origin: '*' } });

io.use((socket, next) => {
  const token = socket.handshake.auth?.token;
  if (typeof token !== 'string') return next(new Error('Authentication required'));
  try {
    const payload = jwt.verify(token, secret, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || !payload.sub) throw new Error('no sub');
    socket.data.userId = payload.sub;
    next();
  } catch {
    next(new Error('Invalid token'));
  }
});

/** Answers a refused request the way the client asked: in its ack, else as an `error` event. */
function refuse(socket, ack, message) {
  if (typeof ack === 'function') ack({ error: message });
  else socket.emit('error', { message });
}

/** The room when the user takes part in it, else undefined. */
function roomOf(socket, chatRoomId) {
  const room = typeof chatRoomId === 'string' ? rooms.get(chatRoomId) : undefined;
  return room && room.participants.has(socket.data.userId) ? room : undefined;
}

io.on('connection', (socket) => {
  const userId = socket.data.userId;

  socket.on('join_room', (payload, ack) => {
    const chatRoomId = payload?.chatRoomId;
    if (!roomOf(socket, chatRoomId)) return refuse(socket, ack, 'Not a participant of this chat room');
    socket.join(chatRoomId);
    socket.to(chatRoomId).emit('user_joined', { userId, chatRoomId });
    if (typeof ack === 'function') ack({ chatRoomId });
  });

  socket.on('send_message', (payload, ack) => {
    const chatRoomId = payload?.chatRoomId;
    const text = payload?.text;
    if (typeof text !== 'string' || !text.trim()) return refuse(socket, ack, 'text is required');
    const room = roomOf(socket, chatRoomId);
    if (!room) return refuse(socket, ack, 'Not a participant of this chat room');
    const message = { _id: newId(), chatRoomId, senderId: userId, text, createdAt: new Date().toISOString() };
    room.messages.push(message);
    io.to(chatRoomId).emit('receive_message', message);
    if (typeof ack === 'function') ack(message);
  });
});

httpServer.listen(port, '127.0.0.1', () => console.log(`node peer listening on ${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
