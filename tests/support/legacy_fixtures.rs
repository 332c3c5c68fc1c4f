//! Generated legacy databases of the five Node servers, for the import tests and the import
//! benchmark. From a `Plan` (family, sizes, seed) it writes users, conversations, messages and
//! notifications in the shapes of docs/LEGACY_SHAPES.md, into a MongoDB database (kaajkaam,
//! linsta, calmora, marketplace: ObjectIds, BSON dates, Mongoose's `__v` and subdocument
//! `_id`s where Mongoose adds them) or a PostgreSQL one (quickclinic: Prisma's quoted tables,
//! text ids, `timestamp(3)`), and returns a `Manifest`: the facts the data was generated
//! with (message order, read and delivered points, expected unread counts, the planted
//! inconsistencies), the oracle an import test compares the imported store with.
//!
//! The data is what an import must cope with: messages inserted in shuffled order (creation
//! order is `createdAt`, then id), exact timestamp ties, conversations without messages,
//! legacy read marks that disagree with the read point, a stale `unreadCount`, unicode and
//! long texts, attachments, call records, edits, a soft-deleted conversation.
//!
//! Deterministic: the same plan writes the same data, ids included. Memory stays bounded:
//! conversations are generated and written a batch at a time (at most `BATCH` documents or
//! rows per write); with `keep_details: false` the manifest keeps totals and the planted
//! anomalies only. `add_more` appends a later round (later messages, new read marks,
//! notification changes) for the import-again-at-cut-over test.
//!
//! Used by the integration tests (`support::legacy_fixtures`) and by
//! `examples/legacy_fixtures.rs` (through `#[path]`), so it depends on neither; the writers
//! need the `mongo` or `postgres` feature, the generator nothing.

// The tests and the example each use a different part of it.
#![allow(dead_code)]

use serde::Serialize;

/// The most documents one `insert_many`, or rows one `COPY`, carries.
pub const BATCH: usize = 10_000;

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 2023-01-01T00:00:00Z. Users sign up in the year before it; conversations start in the 500
/// days after it, notifications in the 600 days after it.
const START_MS: i64 = 1_672_531_200_000;

// Independent random streams, so that one part of the data does not shift another.
const STREAM_USERS: u64 = 1;
const STREAM_PAIRS: u64 = 2;
const STREAM_SHUFFLE: u64 = 3;
const STREAM_SPECIAL: u64 = 4;
const STREAM_CONVERSATION: u64 = 1 << 40;
const STREAM_NOTIFICATIONS: u64 = 2 << 40;
const STREAM_MORE: u64 = 3 << 40;

// ---------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------

/// The Node server whose database is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Kaajkaam,
    Linsta,
    Calmora,
    Marketplace,
    Quickclinic,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Kaajkaam,
        Family::Linsta,
        Family::Calmora,
        Family::Marketplace,
        Family::Quickclinic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Kaajkaam => "kaajkaam",
            Family::Linsta => "linsta",
            Family::Calmora => "calmora",
            Family::Marketplace => "marketplace",
            Family::Quickclinic => "quickclinic",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|family| family.name() == raw)
    }

    /// quickclinic's database is PostgreSQL; the others' MongoDB.
    pub fn on_postgres(self) -> bool {
        self == Family::Quickclinic
    }

    /// Whether messages carry read state (`readBy` or `isRead`): all but linsta.
    pub fn keeps_reads(self) -> bool {
        self != Family::Linsta
    }

    /// Whether messages carry a `delivered` flag: calmora and marketplace.
    pub fn message_delivered_flag(self) -> bool {
        matches!(self, Family::Calmora | Family::Marketplace)
    }

    /// Whether notifications carry a `delivered` flag: kaajkaam and marketplace (linsta's and
    /// calmora's count as delivered at creation).
    pub fn notification_delivered_flag(self) -> bool {
        matches!(self, Family::Kaajkaam | Family::Marketplace)
    }

    /// Every family but quickclinic has a notifications collection.
    pub fn has_notifications(self) -> bool {
        self != Family::Quickclinic
    }

    /// The two roles conversations pair (each conversation has one user of each), or `None`
    /// when any two users may talk (linsta, whose users have no role field).
    pub fn roles(self) -> Option<(&'static str, &'static str)> {
        match self {
            Family::Kaajkaam => Some(("client", "provider")),
            Family::Linsta => None,
            Family::Calmora => Some(("user", "therapist")),
            Family::Marketplace => Some(("buyer", "seller")),
            Family::Quickclinic => Some(("PATIENT", "DOCTOR")),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub family: Family,
    /// Each with two participants, no two with the same pair of users.
    pub conversations: usize,
    /// Each conversation has 0 (about one in twenty, and at least one when there are two or
    /// more conversations) or 1 to `max_messages` messages, uniformly.
    pub max_messages: usize,
    /// At least `Plan::min_users(family, conversations)`: every conversation has its own pair.
    pub users: usize,
    /// Exactly this many per user; none for quickclinic (no notifications table).
    pub notifications_per_user: usize,
    pub seed: u64,
    /// Keep per-conversation and per-notification facts in the manifest (needed by
    /// `add_more`); off for huge plans, whose manifest keeps totals, features, the planted
    /// anomalies and per-user notification counts.
    pub keep_details: bool,
}

impl Plan {
    /// A plan with the fewest users that give every conversation its own pair (at least 6),
    /// 5 notifications per user, details kept.
    pub fn new(family: Family, conversations: usize, max_messages: usize, seed: u64) -> Self {
        Self {
            family,
            conversations,
            max_messages,
            users: Self::min_users(family, conversations).max(6),
            notifications_per_user: 5,
            seed,
            keep_details: true,
        }
    }

    /// The fewest users with at least `conversations` distinct pairs (one user of each role,
    /// two fifths of the users having the second role).
    pub fn min_users(family: Family, conversations: usize) -> usize {
        let mut users = 2;
        while Pairs::capacity(family, users) < conversations as u64 {
            users += 1;
        }
        users
    }
}

// ---------------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------------

/// What was generated, computed from how it was generated: the oracle of an import test.
/// Positions are 1-based indexes into a conversation's messages in creation order
/// (`createdAt`, then id); 0 means "none".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    pub family: Family,
    pub seed: u64,
    pub totals: Totals,
    pub features: Features,
    /// Per conversation, in generation order; empty without `Plan::keep_details`.
    pub conversations: Vec<ConversationFacts>,
    /// Every user, in generation order, with their notification counts (the notifications
    /// themselves only with `Plan::keep_details`).
    pub users: Vec<UserFacts>,
    /// Planted: a message below a reader's newest read message that lacks that reader's mark
    /// (kaajkaam: not in `readBy`, a few; the flag families: `isRead: false`, one). Always kept.
    pub disagreements: Vec<Disagreement>,
    /// kaajkaam conversations whose stored `unreadCount` disagrees with the derived count
    /// (`ParticipantFacts::legacy_unread` ≠ `expected_unread` for one participant).
    pub unread_count_mismatches: Vec<String>,
    /// kaajkaam conversations stored with `isActive: false` (one).
    pub inactive_conversations: Vec<String>,
    /// How many `add_more` rounds were written after the first.
    pub rounds: u32,
    /// The latest time (epoch ms) written anywhere; a later round starts after it.
    pub latest_ms: i64,
    /// Whether per-conversation and per-notification facts were kept.
    pub details: bool,
}

/// Record counts as the legacy database holds them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub conversations: u64,
    pub messages: u64,
    pub notifications: u64,
    pub users: u64,
}

/// How often the unusual cases occur in the data (each at least once in a plan big enough
/// to hold it: the first chance is always taken).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Features {
    /// Conversations without messages (a later round gives the first of them some).
    pub empty_conversations: u64,
    /// Messages created in the same millisecond as the message before them.
    pub ties: u64,
    /// kaajkaam `messageType: "call"` with `callInfo`.
    pub calls: u64,
    /// kaajkaam `messageType: "system"`.
    pub system_messages: u64,
    /// kaajkaam messages with `attachments`, marketplace messages with `media`.
    pub with_attachments: u64,
    /// marketplace messages whose `media` are plain URL strings.
    pub plain_media: u64,
    /// kaajkaam messages with `isEdited: true` and `editedAt`.
    pub edited: u64,
    /// Texts of 1,000 bytes or more.
    pub long_texts: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationFacts {
    /// As clients see it: the ObjectId's hex, or quickclinic's relation id.
    pub id: String,
    /// In stored order (quickclinic: doctor, patient).
    pub participants: Vec<ParticipantFacts>,
    /// The context the import gives it, sorted by key: kaajkaam's `orderId` / `gigId` /
    /// `jobId` (ObjectId hex) when stored, quickclinic's `doctorId` and `patientId`,
    /// calmora's `chosenId` (the chat's id); none for linsta and marketplace.
    pub context: Vec<(String, String)>,
    /// In creation order.
    pub messages: Vec<MessageFacts>,
    pub created_at_ms: i64,
    /// `false` for the kaajkaam conversation stored with `isActive: false`.
    pub active: bool,
    pub unread_count_mismatch: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantFacts {
    pub user: String,
    /// The position of the newest message they read or sent, whichever is later; for
    /// linsta (no read state) every message.
    pub read_upto: usize,
    /// Messages after `read_upto`: `messages.len() - read_upto`.
    pub expected_unread: usize,
    /// calmora and marketplace (the families with a `delivered` flag): the position of the
    /// newest message delivered to them or sent by them, never below `read_upto`. `None`
    /// where the family kept no delivered state.
    pub delivered_upto: Option<usize>,
    /// kaajkaam: their entry in the stored `unreadCount` map.
    pub legacy_unread: Option<u64>,
    /// The generator's bookkeeping: the legacy read marks (`readBy` / `isRead`) are written
    /// on every message from the others up to this position (the planted disagreements
    /// aside); `read_upto` is the newest of those or a later message of their own.
    pub marked_upto: usize,
    /// The generator's bookkeeping: the `delivered` flags are written up to this position.
    pub delivered_marked_upto: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageFacts {
    pub id: String,
    pub sender: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserFacts {
    pub id: String,
    pub name: String,
    /// `None` for linsta.
    pub role: Option<String>,
    pub unread_notifications: u64,
    /// Counted only where notifications have a `delivered` flag (kaajkaam, marketplace);
    /// 0 elsewhere (imported as delivered at creation).
    pub undelivered_notifications: u64,
    /// With `Plan::keep_details`, in generation order.
    pub notifications: Vec<NotificationFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationFacts {
    pub id: String,
    pub read: bool,
    /// Always true where the family has no delivered flag.
    pub delivered: bool,
    pub created_at_ms: i64,
}

/// A message below `user`'s newest read message that lacks `user`'s read mark.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Disagreement {
    pub conversation: String,
    pub message: String,
    pub user: String,
}

impl Manifest {
    pub fn conversation(&self, id: &str) -> Option<&ConversationFacts> {
        self.conversations.iter().find(|c| c.id == id)
    }

    pub fn user(&self, id: &str) -> Option<&UserFacts> {
        self.users.iter().find(|u| u.id == id)
    }
}

impl ConversationFacts {
    pub fn participant_ids(&self) -> Vec<&str> {
        self.participants.iter().map(|p| p.user.as_str()).collect()
    }

    pub fn participant(&self, user: &str) -> Option<&ParticipantFacts> {
        self.participants.iter().find(|p| p.user == user)
    }

    pub fn message_ids(&self) -> Vec<&str> {
        self.messages.iter().map(|m| m.id.as_str()).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Where the legacy database lives.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Mongo { uri: &'a str, database: &'a str },
    Postgres { url: &'a str },
}

/// Generates `plan` into the MongoDB database `database` at `uri` (kaajkaam, linsta,
/// calmora, marketplace).
///
/// # Panics
/// When the server refuses a write, or for quickclinic.
#[cfg(feature = "mongo")]
pub async fn write_mongo(plan: &Plan, uri: &str, database: &str) -> Manifest {
    write(plan, &Target::Mongo { uri, database }).await
}

/// Generates `plan` (quickclinic) into the PostgreSQL database at `url`, creating Prisma's
/// tables when they are missing.
///
/// # Panics
/// When the server refuses a statement, or for a family other than quickclinic.
#[cfg(feature = "postgres")]
pub async fn write_postgres(plan: &Plan, url: &str) -> Manifest {
    write(plan, &Target::Postgres { url }).await
}

/// The manifest `write` returns for `plan`, without writing anything (the generator is
/// deterministic): the oracle alone, e.g. for a database written earlier.
pub fn manifest_of(plan: &Plan) -> Manifest {
    let mut generator = Generator::new(plan, 0);
    for c in 0..plan.conversations {
        generator.conversation(c);
    }
    if plan.family.has_notifications() {
        for u in 0..plan.users {
            generator.notifications(u);
        }
    }
    generator.manifest
}

/// Generates `plan` into `target`.
///
/// # Panics
/// When the target refuses a write or does not hold this family's database.
#[cfg(any(feature = "mongo", feature = "postgres"))]
pub async fn write(plan: &Plan, target: &Target<'_>) -> Manifest {
    // The database works while the next batch is generated: a task of its own writes.
    let mut writer = Writer::start(Sink::open(plan.family, target).await);
    let mut generator = Generator::new(plan, 0);
    for chunk in in_batches(generator.users.clone()) {
        writer.send(Batch::Users(chunk)).await;
    }
    let mut conversations = Vec::new();
    let mut messages = Vec::new();
    for c in 0..plan.conversations {
        let (conversation, mut new) = generator.conversation(c);
        conversations.push(conversation);
        messages.append(&mut new);
        if conversations.len() >= BATCH || messages.len() >= BATCH {
            generator
                .flush(&mut writer, &mut conversations, &mut messages)
                .await;
        }
    }
    generator
        .flush(&mut writer, &mut conversations, &mut messages)
        .await;
    if plan.family.has_notifications() {
        let mut batch = Vec::new();
        for u in 0..plan.users {
            batch.extend(generator.notifications(u));
            if batch.len() >= BATCH || u + 1 == plan.users {
                generator.shuffle.shuffle(&mut batch);
                writer
                    .send(Batch::Notifications(std::mem::take(&mut batch)))
                    .await;
            }
        }
    }
    writer.finish().await;
    generator.manifest
}

/// A later round on a database `write` filled with `plan` (the "import again at cut-over"
/// case): about a third of the conversations (always the first, and the first without
/// messages) get 1 to 5 new messages, later than everything written before; participants
/// read further (new `readBy` entries, `isRead` / `delivered` flags set on older messages,
/// kaajkaam's `unreadCount`, `lastMessage` and `updatedAt` updated); about half the users
/// have a notification marked read (or delivered) and half get a new unread one. Returns
/// `before` updated; the planted disagreements stay as they were.
///
/// # Panics
/// When `before` has no details (`Plan::keep_details`) or came from another plan, or the
/// target refuses a write.
#[cfg(any(feature = "mongo", feature = "postgres"))]
pub async fn add_more(plan: &Plan, before: &Manifest, target: &Target<'_>) -> Manifest {
    assert!(
        before.details,
        "add_more needs a manifest with details (Plan::keep_details)"
    );
    assert_eq!(
        (before.family, before.seed),
        (plan.family, plan.seed),
        "add_more: the manifest is not this plan's"
    );
    let round = before.rounds + 1;
    let mut sink = Sink::open(plan.family, target).await;
    let mut generator = Generator::new(plan, round);
    generator.manifest = before.clone();
    generator.manifest.rounds = round;
    let changes = generator.more();
    let Round {
        mut messages,
        marks,
        conversations,
        notification_updates,
        mut notifications,
    } = changes;
    generator.shuffle.shuffle(&mut messages);
    for chunk in messages.chunks(BATCH) {
        sink.messages(chunk).await;
    }
    for mark in &marks {
        sink.marks(mark).await;
    }
    for update in &conversations {
        sink.conversation_update(update).await;
    }
    for update in &notification_updates {
        sink.notification_update(update).await;
    }
    generator.shuffle.shuffle(&mut notifications);
    for chunk in notifications.chunks(BATCH) {
        sink.notifications(chunk).await;
    }
    sink.close().await;
    generator.manifest
}

// ---------------------------------------------------------------------------------------------
// Generated records (family-neutral; the sinks give them each family's shape)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct GenUser {
    id: String,
    name: String,
    email: String,
    avatar: Option<String>,
    role: Option<&'static str>,
    created_ms: i64,
    last_active_ms: i64,
    online: bool,
}

#[derive(Debug, Clone)]
struct GenConversation {
    id: String,
    participants: [String; 2],
    /// Stored reference fields (kaajkaam's `orderId` / `gigId` / `jobId`: ObjectId hex).
    references: Vec<(&'static str, String)>,
    created_ms: i64,
    updated_ms: i64,
    /// Text, sender, time.
    last_message: Option<(String, String, i64)>,
    /// kaajkaam's `unreadCount`.
    unread_count: Vec<(String, u64)>,
    active: bool,
}

#[derive(Debug, Clone)]
struct Attachment {
    url: String,
    kind: &'static str,
    name: String,
    size: i32,
}

#[derive(Debug, Clone)]
struct CallInfo {
    kind: &'static str,
    duration: i32,
    status: &'static str,
}

#[derive(Debug, Clone)]
struct GenMessage {
    id: String,
    conversation: String,
    sender: String,
    recipient: String,
    created_ms: i64,
    text: String,
    /// `messageType`.
    kind: &'static str,
    attachments: Vec<Attachment>,
    /// marketplace: `media` as plain URL strings.
    plain_media: bool,
    call: Option<CallInfo>,
    edited_ms: Option<i64>,
    /// Who read it and when: kaajkaam's `readBy`; for the flag families the recipient when
    /// `isRead` (the time is quickclinic's `readAt`).
    read_by: Vec<(String, i64)>,
    /// The recipient's `delivered` flag (calmora, marketplace).
    delivered: bool,
}

#[derive(Debug, Clone)]
enum Value {
    Str(String),
    Int(i64),
    Oid(String),
}

#[derive(Debug, Clone)]
struct GenNotification {
    id: String,
    user: String,
    kind: &'static str,
    title: Option<String>,
    message: String,
    /// ObjectId hex.
    reference: Option<String>,
    /// `data` (kaajkaam, marketplace) or `extra` (calmora); `None` is stored as null.
    data: Option<Vec<(&'static str, Value)>>,
    read_ms: Option<i64>,
    delivered_ms: Option<i64>,
    created_ms: i64,
}

/// New read (and delivered) marks on messages written before.
#[derive(Debug, Clone)]
struct MarkUpdate {
    reader: String,
    read_at_ms: i64,
    /// Messages (from the others) that `reader` now read.
    read: Vec<String>,
    /// Messages (from the others) now delivered to `reader` (calmora, marketplace).
    delivered: Vec<String>,
}

#[derive(Debug, Clone)]
struct ConversationUpdate {
    id: String,
    updated_ms: Option<i64>,
    last_message: Option<(String, String, i64)>,
    unread_count: Option<Vec<(String, u64)>>,
}

#[derive(Debug, Clone)]
struct NotificationUpdate {
    id: String,
    read_ms: Option<i64>,
    delivered_ms: Option<i64>,
}

/// What a later round writes.
struct Round {
    messages: Vec<GenMessage>,
    marks: Vec<MarkUpdate>,
    conversations: Vec<ConversationUpdate>,
    notification_updates: Vec<NotificationUpdate>,
    notifications: Vec<GenNotification>,
}

// ---------------------------------------------------------------------------------------------
// Randomness and ids
// ---------------------------------------------------------------------------------------------

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64: small, fast, and good enough for test data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn derived(seed: u64, stream: u64) -> Self {
        Self(mix(seed ^ mix(stream.wrapping_add(0x5EED))))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in `lo..=hi`.
    fn upto(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64) < p * (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len() as u64) as usize]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    User = 1,
    Conversation = 2,
    Message = 3,
    Notification = 4,
    Reference = 5,
    Subdoc = 6,
}

/// Ids in the family's style. ObjectIds: the time's seconds (as drivers make them), two
/// bytes of the seed, the kind and round, a 5-byte counter. quickclinic: cuid-like, `c`,
/// the time's milliseconds and a counter in base 36, kind, round, seed. Within one kind and
/// round the counter grows, so messages of the same millisecond sort by id in creation order.
#[derive(Debug, Clone)]
struct Ids {
    cuid: bool,
    tag: u16,
    round: u8,
    next: [u64; 7],
}

impl Ids {
    fn new(family: Family, seed: u64, round: u32) -> Self {
        assert!(round < 32, "at most 31 rounds of add_more");
        Self {
            cuid: family.on_postgres(),
            tag: (mix(seed) >> 48) as u16,
            round: round as u8,
            next: [0; 7],
        }
    }

    fn next(&mut self, kind: Kind, at_ms: i64) -> String {
        let counter = self.next[kind as usize];
        self.next[kind as usize] += 1;
        if self.cuid {
            assert!(counter < 36u64.pow(6), "too many ids of one kind");
            let noise = mix(counter ^ (u64::from(self.tag) << 32) ^ (kind as u64) << 56);
            format!(
                "c{}{}{}{}{}{}",
                base36(at_ms as u64, 8),
                base36(counter, 6),
                kind as u8,
                base36(u64::from(self.round), 1),
                base36(u64::from(self.tag), 4),
                base36(noise % 36u64.pow(4), 4)
            )
        } else {
            assert!(counter < 1 << 40, "too many ids of one kind");
            let mut bytes = [0u8; 12];
            bytes[..4].copy_from_slice(&((at_ms / 1000) as u32).to_be_bytes());
            bytes[4..6].copy_from_slice(&self.tag.to_be_bytes());
            bytes[6] = ((kind as u8) << 5) | self.round;
            bytes[7..].copy_from_slice(&counter.to_be_bytes()[3..]);
            hex(&bytes)
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// `n` in base 36, zero-padded to `width` digits.
fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    assert_eq!(n, 0, "a base-36 field overflowed");
    String::from_utf8(digits).expect("ASCII digits")
}

/// The users of each conversation: a bijection from conversation numbers to distinct pairs
/// (one user of each role, or any two for linsta), scattered by a stride coprime with the
/// number of pairs.
#[derive(Debug, Clone)]
struct Pairs {
    grouped: bool,
    users: usize,
    /// The first user of the second role.
    split: usize,
    total: u64,
    stride: u64,
    offset: u64,
}

impl Pairs {
    fn split(users: usize) -> usize {
        users - users * 2 / 5
    }

    fn capacity(family: Family, users: usize) -> u64 {
        let users = users as u64;
        if family.roles().is_some() {
            let second = users * 2 / 5;
            (users - second) * second
        } else {
            users * users.saturating_sub(1) / 2
        }
    }

    fn new(family: Family, users: usize, conversations: usize, rng: &mut Rng) -> Self {
        let total = Self::capacity(family, users);
        assert!(
            total >= conversations as u64,
            "{users} users give {total} distinct pairs, fewer than {conversations} conversations: \
             use at least Plan::min_users = {}",
            Plan::min_users(family, conversations)
        );
        let mut stride = if total > 2 {
            total / 3 + rng.below(total / 3)
        } else {
            1
        };
        while gcd(stride, total) != 1 {
            stride += 1;
        }
        Self {
            grouped: family.roles().is_some(),
            users,
            split: Self::split(users),
            total,
            stride,
            offset: rng.below(total),
        }
    }

    /// User indexes: (first role, second role), or an unordered pair.
    fn pair(&self, c: usize) -> (usize, usize) {
        let cell = ((c as u128 * u128::from(self.stride) + u128::from(self.offset))
            % u128::from(self.total)) as u64;
        if self.grouped {
            let second = (self.users - self.split) as u64;
            (
                (cell / second) as usize,
                self.split + (cell % second) as usize,
            )
        } else {
            // Row i holds the pairs (i, j > i); before it come i * (2n - i - 1) / 2 pairs.
            let n = self.users as u64;
            let before = |i: u64| i * (2 * n - i - 1) / 2;
            let (mut lo, mut hi) = (0, n - 1);
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if before(mid) <= cell {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let j = lo + 1 + (cell - before(lo));
            (lo as usize, j as usize)
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

// ---------------------------------------------------------------------------------------------
// Content
// ---------------------------------------------------------------------------------------------

/// Pieces of message text: scripts, emoji (with skin tones, ZWJ sequences, flags),
/// combining marks, and the characters a `COPY` or JSON encoder must escape.
const PHRASES: &[&str] = &[
    "Hi!",
    "Hello, is this still available?",
    "Can you do it by Friday?",
    "Sure, I'll send the details tonight.",
    "नमस्ते, कस्तो छ?",
    "धन्यवाद 🙏",
    "Ça marche, merci beaucoup !",
    "好的，明天见。",
    "مرحبا، هل أنت متاح غدا؟",
    "שלום, מה שלומך?",
    "Привет! Как дела?",
    "Zażółć gęślą jaźń",
    "Tôi sẽ gửi sau nhé",
    "日本語のテキストです",
    "👍",
    "👍🏽",
    "🎉🎉🎉",
    "family 👨‍👩‍👧‍👦 and flags 🇳🇵🇧🇩",
    "e\u{301}te\u{301} (combining accents)",
    "ok",
    "I'll be 10 minutes late — traffic 🚗",
    "Line one\nLine two",
    "a\ttab and a\r\nCRLF",
    "quotes \"double\" and 'single', a back\\slash and {braces}",
    "Price: ₹1,500 / $18.99 / €17",
    "See https://example.com/p/42?ref=chat&x=1",
];

/// Display name and ASCII slug (for the email address).
const NAMES: &[(&str, &str)] = &[
    ("Aarav Sharma", "aarav"),
    ("Sita Thapa", "sita"),
    ("José Álvarez", "jose"),
    ("Zoë Müller", "zoe"),
    ("李雷", "lilei"),
    ("Nguyễn Ngọc Anh", "anh"),
    ("Fatima Zahra", "fatima"),
    ("Olga Петрова", "olga"),
    ("Emily O'Brien", "emily"),
    ("Rahim Uddin", "rahim"),
    ("Ayşe Yılmaz", "ayse"),
    ("Kofi Mensah", "kofi"),
];

fn text(rng: &mut Rng, features: &mut Features) -> String {
    if rng.chance(0.02) {
        let target = rng.upto(1_000, 4_000);
        let mut out = String::with_capacity(target + 64);
        while out.len() < target {
            out.push_str(rng.pick_str(PHRASES));
            out.push(' ');
        }
        features.long_texts += 1;
        return out;
    }
    let pieces = rng.upto(1, 4);
    let mut out = String::new();
    for i in 0..pieces {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.pick_str(PHRASES));
    }
    out
}

/// The gap between two messages that do not tie.
fn gap(rng: &mut Rng) -> i64 {
    match rng.below(100) {
        0..45 => rng.range(SECOND, 2 * MINUTE),
        45..85 => rng.range(2 * MINUTE, 3 * HOUR),
        _ => rng.range(3 * HOUR, 3 * DAY),
    }
}

/// Takes the first chance, then each with probability `p`.
fn take(done: &mut bool, rng: &mut Rng, p: f64) -> bool {
    if !*done || rng.chance(p) {
        *done = true;
        true
    } else {
        false
    }
}

/// Which unusual cases have occurred once (the first chance of each is always taken).
#[derive(Debug, Clone, Default)]
struct Forced {
    tie: bool,
    call: bool,
    system: bool,
    attachment: bool,
    plain_media: bool,
    edited: bool,
}

impl Forced {
    fn all_done() -> Self {
        Self {
            tie: true,
            call: true,
            system: true,
            attachment: true,
            plain_media: true,
            edited: true,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

struct Generator<'p> {
    plan: &'p Plan,
    ids: Ids,
    users: Vec<GenUser>,
    pairs: Option<Pairs>,
    empty_index: Option<usize>,
    inactive_index: Option<usize>,
    forced: Forced,
    shuffle: Rng,
    manifest: Manifest,
}

impl<'p> Generator<'p> {
    /// Round 0 generates from scratch; a later round regenerates the users (the same) and
    /// makes ids of its own.
    fn new(plan: &'p Plan, round: u32) -> Self {
        let family = plan.family;
        let mut user_ids = Ids::new(family, plan.seed, 0);
        let users = generate_users(plan, &mut user_ids);
        let mut special = Rng::derived(plan.seed, STREAM_SPECIAL);
        let empty_index =
            (plan.conversations >= 2).then(|| special.below(plan.conversations as u64) as usize);
        let inactive_index = (family == Family::Kaajkaam && plan.conversations > 0)
            .then(|| special.below(plan.conversations as u64) as usize);
        let pairs = (round == 0).then(|| {
            Pairs::new(
                family,
                plan.users,
                plan.conversations,
                &mut Rng::derived(plan.seed, STREAM_PAIRS),
            )
        });
        let manifest = Manifest {
            family,
            seed: plan.seed,
            totals: Totals {
                users: users.len() as u64,
                ..Totals::default()
            },
            features: Features::default(),
            conversations: Vec::new(),
            users: users
                .iter()
                .map(|u| UserFacts {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    role: u.role.map(str::to_owned),
                    unread_notifications: 0,
                    undelivered_notifications: 0,
                    notifications: Vec::new(),
                })
                .collect(),
            disagreements: Vec::new(),
            unread_count_mismatches: Vec::new(),
            inactive_conversations: Vec::new(),
            rounds: round,
            latest_ms: START_MS,
            details: plan.keep_details,
        };
        Self {
            plan,
            ids: Ids::new(family, plan.seed, round),
            users,
            pairs,
            empty_index,
            inactive_index,
            forced: if round == 0 {
                Forced::default()
            } else {
                Forced::all_done()
            },
            shuffle: Rng::derived(plan.seed, STREAM_SHUFFLE + u64::from(round)),
            manifest,
        }
    }

    fn saw(&mut self, ms: i64) {
        self.manifest.latest_ms = self.manifest.latest_ms.max(ms);
    }

    /// Conversation `c` and its messages in creation order, with the read state written on
    /// them; its facts go into the manifest.
    fn conversation(&mut self, c: usize) -> (GenConversation, Vec<GenMessage>) {
        let plan = self.plan;
        let family = plan.family;
        let mut rng = Rng::derived(plan.seed, STREAM_CONVERSATION + c as u64);
        let (first, second) = self.pairs.as_ref().expect("round 0 has pairs").pair(c);
        // quickclinic: [doctorId, patientId], the doctor having the second role; elsewhere
        // whoever started the chat comes first.
        let (a, b) = if family == Family::Quickclinic || rng.chance(0.5) {
            (second, first)
        } else {
            (first, second)
        };
        let participants = [self.users[a].id.clone(), self.users[b].id.clone()];
        let created_ms = START_MS + rng.below((500 * DAY) as u64) as i64;
        let id = self.ids.next(Kind::Conversation, created_ms);

        let mut references = Vec::new();
        if family == Family::Kaajkaam {
            let keys: &[&'static str] = match rng.below(100) {
                0..40 => &["orderId"],
                40..55 => &["gigId"],
                55..70 => &["jobId"],
                70..75 => &["gigId", "orderId"],
                _ => &[],
            };
            for key in keys {
                references.push((*key, self.ids.next(Kind::Reference, created_ms - DAY)));
            }
        }
        let mut context: Vec<(String, String)> = match family {
            Family::Kaajkaam => references
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            Family::Quickclinic => vec![
                ("doctorId".into(), participants[0].clone()),
                ("patientId".into(), participants[1].clone()),
            ],
            Family::Calmora => vec![("chosenId".into(), id.clone())],
            Family::Linsta | Family::Marketplace => Vec::new(),
        };
        context.sort();

        let count = if Some(c) == self.empty_index || plan.max_messages == 0 || rng.chance(0.05) {
            0
        } else {
            rng.upto(1, plan.max_messages)
        };
        let active = !(family == Family::Kaajkaam && Some(c) == self.inactive_index);
        let mut facts = ConversationFacts {
            id: id.clone(),
            participants: participants
                .iter()
                .map(|user| ParticipantFacts {
                    user: user.clone(),
                    read_upto: 0,
                    expected_unread: 0,
                    delivered_upto: family.message_delivered_flag().then_some(0),
                    legacy_unread: (family == Family::Kaajkaam).then_some(0),
                    marked_upto: 0,
                    delivered_marked_upto: 0,
                })
                .collect(),
            context,
            messages: Vec::with_capacity(count),
            created_at_ms: created_ms,
            active,
            unread_count_mismatch: false,
        };

        let mut messages = Vec::with_capacity(count);
        let mut at = created_ms + rng.range(SECOND, DAY);
        let mut sender = usize::from(rng.chance(0.2));
        for i in 0..count {
            if i > 0 {
                if take(&mut self.forced.tie, &mut rng, 0.03) {
                    self.manifest.features.ties += 1;
                } else {
                    at += gap(&mut rng);
                }
                if rng.chance(0.55) {
                    sender ^= 1;
                }
            }
            let message = self.message(&mut rng, &id, &participants, sender, at);
            facts.messages.push(MessageFacts {
                id: message.id.clone(),
                sender: message.sender.clone(),
                created_at_ms: at,
            });
            messages.push(message);
        }

        let marks = self.advance_marks(&mut rng, &mut facts, &mut messages, true, 0);
        debug_assert!(marks.is_empty(), "a new conversation has no older messages");
        if family == Family::Kaajkaam {
            for p in &mut facts.participants {
                p.legacy_unread = Some(p.expected_unread as u64);
            }
            if count > 0 && (self.manifest.unread_count_mismatches.is_empty() || rng.chance(0.03)) {
                let j = rng.below(2) as usize;
                facts.participants[j].legacy_unread =
                    Some(facts.participants[j].expected_unread as u64 + rng.range(1, 5) as u64);
                facts.unread_count_mismatch = true;
                self.manifest.unread_count_mismatches.push(id.clone());
            }
            if !active {
                self.manifest.inactive_conversations.push(id.clone());
            }
        }

        let updated_ms = messages.last().map_or(created_ms, |m| m.created_ms);
        let conversation = GenConversation {
            id,
            participants,
            references,
            created_ms,
            updated_ms,
            last_message: messages
                .last()
                .map(|m| (m.text.clone(), m.sender.clone(), m.created_ms)),
            unread_count: facts
                .participants
                .iter()
                .filter_map(|p| p.legacy_unread.map(|n| (p.user.clone(), n)))
                .collect(),
            active,
        };
        let latest = messages
            .iter()
            .map(|m| {
                let read = m.read_by.iter().map(|(_, t)| *t).max().unwrap_or(0);
                m.created_ms.max(read).max(m.edited_ms.unwrap_or(0))
            })
            .max()
            .unwrap_or(created_ms);
        self.saw(latest);
        self.manifest.totals.conversations += 1;
        self.manifest.totals.messages += count as u64;
        if count == 0 {
            self.manifest.features.empty_conversations += 1;
        }
        if plan.keep_details {
            self.manifest.conversations.push(facts);
        }
        (conversation, messages)
    }

    /// One message, its read state not yet written.
    fn message(
        &mut self,
        rng: &mut Rng,
        conversation: &str,
        participants: &[String; 2],
        sender: usize,
        at: i64,
    ) -> GenMessage {
        let id = self.ids.next(Kind::Message, at);
        let mut m = GenMessage {
            id,
            conversation: conversation.to_owned(),
            sender: participants[sender].clone(),
            recipient: participants[1 - sender].clone(),
            created_ms: at,
            text: String::new(),
            kind: "text",
            attachments: Vec::new(),
            plain_media: false,
            call: None,
            edited_ms: None,
            read_by: Vec::new(),
            delivered: false,
        };
        let forced = &mut self.forced;
        let features = &mut self.manifest.features;
        match self.plan.family {
            Family::Kaajkaam => {
                if take(&mut forced.call, rng, 0.02) {
                    let kind = *rng.pick(&["audio", "video"]);
                    let status = *rng.pick(&["completed", "completed", "missed", "declined"]);
                    let duration = if status == "completed" {
                        rng.range(5, 3_600) as i32
                    } else {
                        0
                    };
                    let label = if kind == "audio" { "Audio" } else { "Video" };
                    m.text = match status {
                        "completed" => {
                            format!("{label} call · {}:{:02}", duration / 60, duration % 60)
                        }
                        "missed" => format!("Missed {kind} call"),
                        _ => format!("Declined {kind} call"),
                    };
                    m.kind = "call";
                    m.call = Some(CallInfo {
                        kind,
                        duration,
                        status,
                    });
                    features.calls += 1;
                } else if take(&mut forced.system, rng, 0.01) {
                    m.kind = "system";
                    m.text = rng
                        .pick(&[
                            "Order status changed to accepted",
                            "Order status changed to delivered",
                            "The job was marked complete",
                        ])
                        .to_string();
                    features.system_messages += 1;
                } else if take(&mut forced.attachment, rng, 0.08) {
                    let files = rng.upto(1, 3);
                    for i in 0..files {
                        let (kind, name) = *rng.pick(&[
                            ("image", "IMG_2041.jpg"),
                            ("image", "screenshot 2023-05-01.png"),
                            ("video", "site-visit.mp4"),
                            ("pdf", "contract.pdf"),
                            ("doc", "रिपोर्ट.docx"),
                            ("file", "data.zip"),
                        ]);
                        m.attachments.push(Attachment {
                            url: format!("/uploads/{at}-{i}-{}", name.replace(' ', "_")),
                            kind,
                            name: name.to_owned(),
                            size: rng.range(1_024, 20_000_000) as i32,
                        });
                    }
                    m.kind = *rng.pick(&["text", "text", "text", "text", "image", "file"]);
                    if rng.chance(0.5) {
                        m.text = text(rng, features);
                    }
                    features.with_attachments += 1;
                } else {
                    m.text = text(rng, features);
                    if take(&mut forced.edited, rng, 0.05) {
                        m.edited_ms = Some(at + rng.range(5 * SECOND, 30 * MINUTE));
                        features.edited += 1;
                    }
                }
            }
            Family::Marketplace => {
                if take(&mut forced.attachment, rng, 0.08) {
                    let files = rng.upto(1, 2);
                    for _ in 0..files {
                        let (kind, name) = *rng.pick(&[
                            ("image", "product.jpg"),
                            ("image", "छवि.png"),
                            ("file", "invoice.pdf"),
                        ]);
                        let key = rng.next_u64();
                        m.attachments.push(Attachment {
                            url: format!(
                                "https://res.cloudinary.com/demo/upload/v1/{key:x}/{name}"
                            ),
                            kind,
                            name: name.to_owned(),
                            size: rng.range(1_024, 8_000_000) as i32,
                        });
                    }
                    m.kind = if m.attachments[0].kind == "image" {
                        "image"
                    } else {
                        "file"
                    };
                    if take(&mut forced.plain_media, rng, 0.25) {
                        m.plain_media = true;
                        features.plain_media += 1;
                    }
                    if rng.chance(0.5) {
                        m.text = text(rng, features);
                    }
                    features.with_attachments += 1;
                } else {
                    m.text = text(rng, features);
                }
            }
            Family::Linsta | Family::Calmora | Family::Quickclinic => {
                m.text = text(rng, features);
            }
        }
        m
    }

    /// Moves both participants' read (and delivered) points forward over `facts.messages`,
    /// of which `new` are the last ones, not written yet: the marks go on those directly,
    /// and come back as updates for the older ones. The first round picks the points from
    /// scratch and plants the disagreements; later rounds move some points forward.
    fn advance_marks(
        &mut self,
        rng: &mut Rng,
        facts: &mut ConversationFacts,
        new: &mut [GenMessage],
        initial: bool,
        floor_ms: i64,
    ) -> Vec<MarkUpdate> {
        let family = self.plan.family;
        let n = facts.messages.len();
        let n_old = n - new.len();
        let senders: Vec<usize> = facts
            .messages
            .iter()
            .map(|m| usize::from(m.sender != facts.participants[0].user))
            .collect();
        let mut updates = Vec::new();
        for j in 0..facts.participants.len() {
            let last_sent = senders.iter().rposition(|&s| s == j).map_or(0, |i| i + 1);
            let k_old = facts.participants[j].marked_upto;
            let d_old = facts.participants[j].delivered_marked_upto;
            let k_new = if !family.keeps_reads() {
                n
            } else if initial {
                match rng.below(100) {
                    _ if n == 0 => 0,
                    0..55 => n,
                    55..85 => rng.upto(last_sent, n),
                    _ => rng.upto(0, n),
                }
            } else if k_old < n && rng.chance(0.6) {
                if rng.chance(0.5) {
                    n
                } else {
                    rng.upto(k_old + 1, n)
                }
            } else {
                k_old
            };
            let mut d_new = d_old.max(k_new);
            if family.message_delivered_flag() && d_new < n && rng.chance(0.5) {
                d_new = rng.upto(d_new, n);
            }
            let read_at = if k_new > 0 {
                let base = facts.messages[k_new - 1].created_at_ms;
                let next_gap = if k_new < n {
                    facts.messages[k_new].created_at_ms - base
                } else {
                    HOUR
                };
                let at = base + rng.below(next_gap.clamp(1, HOUR) as u64) as i64;
                at.max(floor_ms + rng.range(SECOND, MINUTE))
            } else {
                0
            };
            let user = facts.participants[j].user.clone();
            let mut update = MarkUpdate {
                reader: user.clone(),
                read_at_ms: read_at,
                read: Vec::new(),
                delivered: Vec::new(),
            };
            for pos in (k_old + 1)..=k_new {
                if senders[pos - 1] != j {
                    if pos <= n_old {
                        update.read.push(facts.messages[pos - 1].id.clone());
                    } else {
                        new[pos - 1 - n_old].read_by.push((user.clone(), read_at));
                    }
                }
            }
            for pos in (d_old + 1)..=d_new {
                if senders[pos - 1] != j {
                    if pos <= n_old {
                        update.delivered.push(facts.messages[pos - 1].id.clone());
                    } else {
                        new[pos - 1 - n_old].delivered = true;
                    }
                }
            }
            let newest_from_others = |upto: usize| {
                (1..=upto)
                    .rev()
                    .find(|&pos| senders[pos - 1] != j)
                    .unwrap_or(0)
            };
            let newest_read = newest_from_others(k_new);

            if initial && family.keeps_reads() {
                let candidates: Vec<usize> = (1..newest_read)
                    .filter(|&pos| senders[pos - 1] != j)
                    .collect();
                let plant = !candidates.is_empty()
                    && (self.manifest.disagreements.is_empty()
                        || (family == Family::Kaajkaam && rng.chance(0.02)));
                if plant {
                    let pos = *rng.pick(&candidates);
                    new[pos - 1 - n_old]
                        .read_by
                        .retain(|(reader, _)| *reader != user);
                    self.manifest.disagreements.push(Disagreement {
                        conversation: facts.id.clone(),
                        message: facts.messages[pos - 1].id.clone(),
                        user: user.clone(),
                    });
                }
            }

            let p = &mut facts.participants[j];
            p.marked_upto = k_new;
            p.delivered_marked_upto = d_new;
            p.read_upto = newest_read.max(last_sent);
            p.expected_unread = n - p.read_upto;
            if family.message_delivered_flag() {
                p.delivered_upto = Some(newest_from_others(d_new).max(last_sent));
            }
            if family.keeps_reads() && (!update.read.is_empty() || !update.delivered.is_empty()) {
                self.manifest.latest_ms = self.manifest.latest_ms.max(read_at);
                updates.push(update);
            }
        }
        updates
    }

    /// User `u`'s notifications; their counts (and facts) go into the manifest.
    fn notifications(&mut self, u: usize) -> Vec<GenNotification> {
        let plan = self.plan;
        let mut rng = Rng::derived(plan.seed, STREAM_NOTIFICATIONS + u as u64);
        let mut out = Vec::with_capacity(plan.notifications_per_user);
        for _ in 0..plan.notifications_per_user {
            let created_ms = START_MS + rng.below((600 * DAY) as u64) as i64;
            let state = rng.below(100);
            let read = state < 40;
            let delivered = !plan.family.notification_delivered_flag() || state < 75;
            let notification = self.notification(&mut rng, u, created_ms, read, delivered);
            out.push(notification);
        }
        out
    }

    fn notification(
        &mut self,
        rng: &mut Rng,
        u: usize,
        created_ms: i64,
        read: bool,
        delivered: bool,
    ) -> GenNotification {
        let family = self.plan.family;
        let id = self.ids.next(Kind::Notification, created_ms);
        let other = self.users[rng.below(self.users.len() as u64) as usize]
            .name
            .clone();
        let reference = self.ids.next(Kind::Reference, created_ms - HOUR);
        let (kind, title, message, data) = match family {
            Family::Kaajkaam => {
                let (kind, title, message): (&'static str, &str, String) = match rng.below(5) {
                    0 => (
                        "message",
                        "New message",
                        format!("{other} sent you a message"),
                    ),
                    1 => ("order", "Order update", "Your order was accepted ✅".into()),
                    2 => ("payment", "Payment received", "रु 1,500 received".into()),
                    3 => (
                        "job",
                        "New application",
                        format!("{other} applied to your job"),
                    ),
                    _ => ("review", "New review", format!("{other} rated you ★★★★☆")),
                };
                let data = vec![
                    ("orderId", Value::Oid(reference.clone())),
                    ("amount", Value::Int(rng.range(100, 50_000))),
                ];
                (kind, Some(title.to_owned()), message, Some(data))
            }
            Family::Linsta => {
                let (kind, message) = match rng.below(4) {
                    0 => ("LIKE", format!("{other} liked your post")),
                    1 => ("COMMENT", format!("{other} commented: “nice!” 😍")),
                    2 => ("EVENT_RSVP", format!("{other} is going to your event")),
                    _ => ("FOLLOW", format!("{other} started following you")),
                };
                (kind, None, message, None)
            }
            Family::Calmora => {
                let (kind, message) = match rng.below(3) {
                    0 => ("message", format!("New message from {other}")),
                    1 => ("session", "Your session starts in 15 minutes".to_owned()),
                    _ => ("reminder", "Time for your daily check-in 🌿".to_owned()),
                };
                let extra = rng.chance(0.7).then(|| {
                    vec![
                        ("chatId", Value::Str(reference.clone())),
                        ("senderName", Value::Str(other.clone())),
                    ]
                });
                (kind, None, message, extra)
            }
            Family::Marketplace => {
                let (kind, title, message) = match rng.below(4) {
                    0 => (
                        "message",
                        "New message",
                        format!("{other}: is it available?"),
                    ),
                    1 => ("order", "New order", "You have a new order 🛒".to_owned()),
                    2 => ("offer", "New offer", format!("{other} offered $42")),
                    _ => ("review", "New review", format!("{other} left a review")),
                };
                let data = vec![
                    ("productId", Value::Str(reference.clone())),
                    ("price", Value::Int(rng.range(1, 100_000))),
                ];
                (kind, Some(title.to_owned()), message, Some(data))
            }
            Family::Quickclinic => unreachable!("quickclinic has no notifications"),
        };
        let read_ms = read.then(|| created_ms + rng.range(MINUTE, 2 * DAY));
        let delivered_ms = delivered.then(|| created_ms + rng.range(0, MINUTE));
        let facts = &mut self.manifest.users[u];
        if !read {
            facts.unread_notifications += 1;
        }
        if !delivered {
            facts.undelivered_notifications += 1;
        }
        if self.plan.keep_details {
            facts.notifications.push(NotificationFacts {
                id: id.clone(),
                read,
                delivered,
                created_at_ms: created_ms,
            });
        }
        self.manifest.totals.notifications += 1;
        self.saw(read_ms.unwrap_or(created_ms).max(created_ms + MINUTE));
        GenNotification {
            id,
            user: self.users[u].id.clone(),
            kind,
            title,
            message,
            reference: Some(reference).filter(|_| rng.chance(0.8)),
            data,
            read_ms,
            delivered_ms,
            created_ms,
        }
    }

    /// A later round, applied to the manifest; what to write comes back.
    fn more(&mut self) -> Round {
        let plan = self.plan;
        let family = plan.family;
        let round = self.manifest.rounds;
        let mut rng = Rng::derived(plan.seed, STREAM_MORE + u64::from(round));
        let floor = self.manifest.latest_ms + HOUR;
        let mut clock = floor;
        let first_empty = self
            .manifest
            .conversations
            .iter()
            .position(|c| c.messages.is_empty());
        let mut conversations = std::mem::take(&mut self.manifest.conversations);
        let mut out = Round {
            messages: Vec::new(),
            marks: Vec::new(),
            conversations: Vec::new(),
            notification_updates: Vec::new(),
            notifications: Vec::new(),
        };
        for (ci, facts) in conversations.iter_mut().enumerate() {
            let extend = ci == 0 || Some(ci) == first_empty || rng.chance(0.33);
            if !extend && !rng.chance(0.25) {
                continue;
            }
            let offsets: Vec<u64> = facts
                .participants
                .iter()
                .map(|p| p.legacy_unread.map_or(0, |n| n - p.expected_unread as u64))
                .collect();
            let participants = [
                facts.participants[0].user.clone(),
                facts.participants[1].user.clone(),
            ];
            let mut new = Vec::new();
            if extend {
                if facts.messages.is_empty() {
                    self.manifest.features.empty_conversations -= 1;
                }
                let count = rng.upto(1, 5);
                let mut sender = rng.below(2) as usize;
                for i in 0..count {
                    if i > 0 && rng.chance(0.1) {
                        self.manifest.features.ties += 1;
                    } else {
                        clock += rng.range(SECOND, 10 * MINUTE);
                    }
                    if i > 0 && rng.chance(0.5) {
                        sender ^= 1;
                    }
                    let message = self.message(&mut rng, &facts.id, &participants, sender, clock);
                    facts.messages.push(MessageFacts {
                        id: message.id.clone(),
                        sender: message.sender.clone(),
                        created_at_ms: clock,
                    });
                    new.push(message);
                }
            }
            let marks = self.advance_marks(&mut rng, facts, &mut new, false, clock);
            if family == Family::Kaajkaam {
                for (p, offset) in facts.participants.iter_mut().zip(&offsets) {
                    p.legacy_unread = Some(p.expected_unread as u64 + offset);
                }
            }
            let last = new.last();
            let update = ConversationUpdate {
                id: facts.id.clone(),
                updated_ms: last.map(|m| m.created_ms),
                last_message: last.map(|m| (m.text.clone(), m.sender.clone(), m.created_ms)),
                unread_count: (family == Family::Kaajkaam).then(|| {
                    facts
                        .participants
                        .iter()
                        .map(|p| (p.user.clone(), p.legacy_unread.unwrap_or(0)))
                        .collect()
                }),
            };
            if update.updated_ms.is_some() || update.unread_count.is_some() {
                out.conversations.push(update);
            }
            for m in &new {
                let read = m.read_by.iter().map(|(_, t)| *t).max().unwrap_or(0);
                clock = clock.max(m.edited_ms.unwrap_or(0)).max(read);
            }
            self.manifest.totals.messages += new.len() as u64;
            out.messages.extend(new);
            out.marks.extend(marks);
        }
        self.manifest.conversations = conversations;
        self.saw(clock);

        if family.has_notifications() {
            for u in 0..self.users.len() {
                let at = clock + rng.range(SECOND, HOUR);
                if rng.chance(0.5) {
                    let facts = &mut self.manifest.users[u];
                    if let Some(n) = facts.notifications.iter_mut().find(|n| !n.read) {
                        n.read = true;
                        facts.unread_notifications -= 1;
                        let newly_delivered = !n.delivered;
                        if newly_delivered {
                            n.delivered = true;
                            facts.undelivered_notifications -= 1;
                        }
                        out.notification_updates.push(NotificationUpdate {
                            id: n.id.clone(),
                            read_ms: Some(at),
                            delivered_ms: newly_delivered.then_some(at),
                        });
                    } else if let Some(n) = facts.notifications.iter_mut().find(|n| !n.delivered) {
                        n.delivered = true;
                        facts.undelivered_notifications -= 1;
                        out.notification_updates.push(NotificationUpdate {
                            id: n.id.clone(),
                            read_ms: None,
                            delivered_ms: Some(at),
                        });
                    }
                }
                if rng.chance(0.5) {
                    let delivered = !family.notification_delivered_flag();
                    let created = at + rng.range(SECOND, MINUTE);
                    let n = self.notification(&mut rng, u, created, false, delivered);
                    out.notifications.push(n);
                }
                self.saw(at + MINUTE);
            }
        }
        out
    }

    /// Sends the buffered conversations, then their messages in shuffled order, to the
    /// writer, and empties both buffers.
    #[cfg(any(feature = "mongo", feature = "postgres"))]
    async fn flush(
        &mut self,
        writer: &mut Writer,
        conversations: &mut Vec<GenConversation>,
        messages: &mut Vec<GenMessage>,
    ) {
        self.shuffle.shuffle(conversations);
        for chunk in in_batches(std::mem::take(conversations)) {
            writer.send(Batch::Conversations(chunk)).await;
        }
        self.shuffle.shuffle(messages);
        for chunk in in_batches(std::mem::take(messages)) {
            writer.send(Batch::Messages(chunk)).await;
        }
    }
}

/// `items` in pieces of at most `BATCH`.
fn in_batches<T>(items: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::with_capacity(items.len().div_ceil(BATCH));
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        out.push(items.by_ref().take(BATCH).collect());
    }
    out
}

fn generate_users(plan: &Plan, ids: &mut Ids) -> Vec<GenUser> {
    let mut rng = Rng::derived(plan.seed, STREAM_USERS);
    let roles = plan.family.roles();
    let split = Pairs::split(plan.users);
    (0..plan.users)
        .map(|i| {
            let created_ms = START_MS - 365 * DAY + rng.below((360 * DAY) as u64) as i64;
            let id = ids.next(Kind::User, created_ms);
            let (name, slug) = *rng.pick(NAMES);
            let avatar = rng
                .chance(0.85)
                .then(|| format!("https://cdn.example.com/avatars/{id}.jpg"));
            GenUser {
                name: name.to_owned(),
                email: format!("{slug}.{i}@example.com"),
                avatar,
                role: roles.map(|(a, b)| if i < split { a } else { b }),
                created_ms,
                last_active_ms: START_MS + rng.below((600 * DAY) as u64) as i64,
                online: rng.chance(0.1),
                id,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sinks
// ---------------------------------------------------------------------------------------------

#[cfg(any(feature = "mongo", feature = "postgres"))]
enum Sink {
    #[cfg(feature = "mongo")]
    Mongo(mongo_io::MongoSink),
    #[cfg(feature = "postgres")]
    Postgres(pg_io::PgSink),
}

/// One write for the writer task.
#[cfg(any(feature = "mongo", feature = "postgres"))]
enum Batch {
    Users(Vec<GenUser>),
    Conversations(Vec<GenConversation>),
    Messages(Vec<GenMessage>),
    Notifications(Vec<GenNotification>),
}

/// A task that owns the sink and writes the batches sent to it, in order; at most two wait,
/// which bounds memory.
#[cfg(any(feature = "mongo", feature = "postgres"))]
struct Writer {
    batches: Option<tokio::sync::mpsc::Sender<Batch>>,
    task: tokio::task::JoinHandle<()>,
}

#[cfg(any(feature = "mongo", feature = "postgres"))]
impl Writer {
    fn start(mut sink: Sink) -> Self {
        let (batches, mut receiver) = tokio::sync::mpsc::channel(2);
        let task = tokio::spawn(async move {
            while let Some(batch) = receiver.recv().await {
                match batch {
                    Batch::Users(users) => sink.users(&users).await,
                    Batch::Conversations(conversations) => {
                        sink.conversations(&conversations).await;
                    }
                    Batch::Messages(messages) => sink.messages(&messages).await,
                    Batch::Notifications(notifications) => {
                        sink.notifications(&notifications).await;
                    }
                }
            }
            sink.close().await;
        });
        Self {
            batches: Some(batches),
            task,
        }
    }

    async fn send(&mut self, batch: Batch) {
        let sender = self.batches.as_ref().expect("the writer is running");
        if sender.send(batch).await.is_err() {
            // The task ended early: it panicked, and `finish` passes the panic on.
            self.batches = None;
            self.wait().await;
            unreachable!("the writer task stopped without finishing");
        }
    }

    /// Waits until everything sent is written.
    async fn finish(mut self) {
        self.batches = None;
        self.wait().await;
    }

    async fn wait(&mut self) {
        match (&mut self.task).await {
            Ok(()) => {}
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => panic!("legacy fixtures: the writer task failed: {err}"),
        }
    }
}

#[cfg(any(feature = "mongo", feature = "postgres"))]
macro_rules! each_sink {
    ($sink:expr, $s:ident => $call:expr) => {
        match $sink {
            #[cfg(feature = "mongo")]
            Sink::Mongo($s) => $call,
            #[cfg(feature = "postgres")]
            Sink::Postgres($s) => $call,
        }
    };
}

#[cfg(any(feature = "mongo", feature = "postgres"))]
impl Sink {
    async fn open(family: Family, target: &Target<'_>) -> Self {
        match *target {
            Target::Mongo { uri, database } => {
                assert!(
                    !family.on_postgres(),
                    "{}'s legacy database is PostgreSQL",
                    family.name()
                );
                #[cfg(feature = "mongo")]
                return Sink::Mongo(mongo_io::MongoSink::open(family, uri, database).await);
                #[cfg(not(feature = "mongo"))]
                panic!("writing to MongoDB ({uri}, {database}) needs the `mongo` feature");
            }
            Target::Postgres { url } => {
                assert!(
                    family.on_postgres(),
                    "{}'s legacy database is MongoDB",
                    family.name()
                );
                #[cfg(feature = "postgres")]
                return Sink::Postgres(pg_io::PgSink::open(url).await);
                #[cfg(not(feature = "postgres"))]
                panic!("writing to PostgreSQL ({url}) needs the `postgres` feature");
            }
        }
    }

    async fn users(&mut self, users: &[GenUser]) {
        each_sink!(self, s => s.users(users).await)
    }

    async fn conversations(&mut self, conversations: &[GenConversation]) {
        each_sink!(self, s => s.conversations(conversations).await)
    }

    async fn messages(&mut self, messages: &[GenMessage]) {
        each_sink!(self, s => s.messages(messages).await)
    }

    async fn notifications(&mut self, notifications: &[GenNotification]) {
        if notifications.is_empty() {
            return;
        }
        each_sink!(self, s => s.notifications(notifications).await)
    }

    async fn marks(&mut self, update: &MarkUpdate) {
        each_sink!(self, s => s.marks(update).await)
    }

    async fn conversation_update(&mut self, update: &ConversationUpdate) {
        each_sink!(self, s => s.conversation_update(update).await)
    }

    async fn notification_update(&mut self, update: &NotificationUpdate) {
        each_sink!(self, s => s.notification_update(update).await)
    }

    async fn close(self) {
        each_sink!(self, s => s.close().await)
    }
}

#[cfg(feature = "mongo")]
mod mongo_io {
    //! The MongoDB families' documents, and writing them.

    use mongodb::bson::oid::ObjectId;
    use mongodb::bson::{Bson, DateTime, Document, doc};

    use super::{
        ConversationUpdate, Family, GenConversation, GenMessage, GenNotification, GenUser, Kind,
        MarkUpdate, NotificationUpdate, Value,
    };

    fn oid(hex: &str) -> ObjectId {
        ObjectId::parse_str(hex).expect("generated ids are ObjectId hex")
    }

    fn date(ms: i64) -> DateTime {
        DateTime::from_millis(ms)
    }

    /// Mongoose gives every array subdocument an `_id`: derived from its message's id (the
    /// kind byte says subdocument, the seed bytes hold the index), so reruns are identical.
    fn subdoc_id(message: &str, index: usize) -> ObjectId {
        let mut bytes = oid(message).bytes();
        bytes[4..6].copy_from_slice(&(index as u16).to_be_bytes());
        bytes[6] = ((Kind::Subdoc as u8) << 5) | (bytes[6] & 31);
        ObjectId::from_bytes(bytes)
    }

    struct Names {
        conversations: &'static str,
        /// Mongoose models (kaajkaam, linsta) add `__v`.
        mongoose: bool,
    }

    fn names(family: Family) -> Names {
        match family {
            Family::Kaajkaam => Names {
                conversations: "conversations",
                mongoose: true,
            },
            Family::Linsta => Names {
                conversations: "chatrooms",
                mongoose: true,
            },
            Family::Calmora | Family::Marketplace => Names {
                conversations: "chats",
                mongoose: false,
            },
            Family::Quickclinic => unreachable!("quickclinic is on PostgreSQL"),
        }
    }

    fn value(v: &Value) -> Bson {
        match v {
            Value::Str(s) => Bson::String(s.clone()),
            // As the Node driver stores a JavaScript number: int32 when it fits.
            Value::Int(n) => i32::try_from(*n).map_or(Bson::Double(*n as f64), Bson::Int32),
            Value::Oid(hex) => Bson::ObjectId(oid(hex)),
        }
    }

    fn unread_count(counts: &[(String, u64)]) -> Document {
        counts
            .iter()
            .map(|(user, n)| (user.clone(), Bson::Int32(*n as i32)))
            .collect()
    }

    fn last_message((text, sender, at): &(String, String, i64)) -> Document {
        doc! { "text": text, "sender": oid(sender), "timestamp": date(*at) }
    }

    fn user(family: Family, u: &GenUser) -> Document {
        let mut d = doc! { "_id": oid(&u.id), "name": &u.name };
        if family != Family::Calmora {
            d.insert("email", &u.email);
        }
        if family != Family::Linsta
            && let Some(avatar) = &u.avatar
        {
            d.insert("avatar", avatar);
        }
        if let Some(role) = u.role {
            d.insert("role", role);
        }
        match family {
            Family::Kaajkaam => {
                d.insert("lastActive", date(u.last_active_ms));
            }
            Family::Marketplace => {
                d.insert("isOnline", u.online);
                d.insert("lastActive", date(u.last_active_ms));
            }
            _ => {}
        }
        if names(family).mongoose {
            d.insert("createdAt", date(u.created_ms));
            d.insert("updatedAt", date(u.created_ms));
            d.insert("__v", 0);
        }
        d
    }

    fn conversation(family: Family, c: &GenConversation) -> Document {
        let mut d = doc! {
            "_id": oid(&c.id),
            "participants": [oid(&c.participants[0]), oid(&c.participants[1])],
        };
        if family == Family::Kaajkaam {
            for (key, id) in &c.references {
                d.insert(*key, oid(id));
            }
            if let Some(last) = &c.last_message {
                d.insert("lastMessage", last_message(last));
            }
            d.insert("unreadCount", unread_count(&c.unread_count));
            d.insert("isActive", c.active);
        }
        d.insert("createdAt", date(c.created_ms));
        d.insert("updatedAt", date(c.updated_ms));
        if names(family).mongoose {
            d.insert("__v", 0);
        }
        d
    }

    fn attachment(a: &super::Attachment) -> Document {
        doc! { "url": &a.url, "type": a.kind, "name": &a.name, "size": a.size }
    }

    fn message(family: Family, m: &GenMessage) -> Document {
        let is_read = !m.read_by.is_empty();
        match family {
            Family::Kaajkaam => {
                let attachments: Vec<Document> = m
                    .attachments
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let mut d = attachment(a);
                        d.insert("_id", subdoc_id(&m.id, i));
                        d
                    })
                    .collect();
                let read_by: Vec<Document> = m
                    .read_by
                    .iter()
                    .enumerate()
                    .map(|(i, (user, at))| {
                        doc! {
                            "userId": oid(user),
                            "readAt": date(*at),
                            "_id": subdoc_id(&m.id, 100 + i),
                        }
                    })
                    .collect();
                let mut d = doc! {
                    "_id": oid(&m.id),
                    "conversationId": oid(&m.conversation),
                    "sender": oid(&m.sender),
                    "text": &m.text,
                    "messageType": m.kind,
                    "attachments": attachments,
                    "readBy": read_by,
                    "isEdited": m.edited_ms.is_some(),
                };
                if let Some(call) = &m.call {
                    d.insert(
                        "callInfo",
                        doc! {
                            "callType": call.kind,
                            "duration": call.duration,
                            "status": call.status,
                        },
                    );
                }
                if let Some(edited) = m.edited_ms {
                    d.insert("editedAt", date(edited));
                }
                d.insert("createdAt", date(m.created_ms));
                d.insert("updatedAt", date(m.edited_ms.unwrap_or(m.created_ms)));
                d.insert("__v", 0);
                d
            }
            Family::Linsta => doc! {
                "_id": oid(&m.id),
                "chatRoomId": oid(&m.conversation),
                "senderId": oid(&m.sender),
                "text": &m.text,
                "createdAt": date(m.created_ms),
                "updatedAt": date(m.created_ms),
                "__v": 0,
            },
            Family::Calmora => doc! {
                "_id": oid(&m.id),
                "chatId": oid(&m.conversation),
                "senderId": oid(&m.sender),
                "recipientId": oid(&m.recipient),
                "message": &m.text,
                "delivered": m.delivered,
                "isRead": is_read,
                "createdAt": date(m.created_ms),
            },
            Family::Marketplace => {
                let media: Vec<Bson> = m
                    .attachments
                    .iter()
                    .map(|a| {
                        if m.plain_media {
                            Bson::String(a.url.clone())
                        } else {
                            Bson::Document(attachment(a))
                        }
                    })
                    .collect();
                doc! {
                    "_id": oid(&m.id),
                    "chatId": oid(&m.conversation),
                    "sender": oid(&m.sender),
                    "content": &m.text,
                    "messageType": m.kind,
                    "media": media,
                    "delivered": m.delivered,
                    "isRead": is_read,
                    "createdAt": date(m.created_ms),
                }
            }
            Family::Quickclinic => unreachable!("quickclinic is on PostgreSQL"),
        }
    }

    fn notification(family: Family, n: &GenNotification) -> Document {
        let data = || -> Bson {
            n.data.as_ref().map_or(Bson::Null, |pairs| {
                Bson::Document(
                    pairs
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), value(v)))
                        .collect(),
                )
            })
        };
        let mut d = doc! { "_id": oid(&n.id), "userId": oid(&n.user), "type": n.kind };
        match family {
            Family::Kaajkaam => {
                d.insert("title", n.title.clone().unwrap_or_default());
                d.insert("message", &n.message);
                if let Some(reference) = &n.reference {
                    d.insert("referenceId", oid(reference));
                }
                d.insert("data", data());
                d.insert("isRead", n.read_ms.is_some());
                if let Some(at) = n.read_ms {
                    d.insert("readAt", date(at));
                }
                d.insert("delivered", n.delivered_ms.is_some());
                if let Some(at) = n.delivered_ms {
                    d.insert("deliveredAt", date(at));
                }
                d.insert("createdAt", date(n.created_ms));
                d.insert("updatedAt", date(n.created_ms));
                d.insert("__v", 0);
            }
            Family::Linsta => {
                d.insert("message", &n.message);
                if let Some(reference) = &n.reference {
                    d.insert("referenceId", oid(reference));
                }
                d.insert("isRead", n.read_ms.is_some());
                d.insert("createdAt", date(n.created_ms));
                d.insert("updatedAt", date(n.created_ms));
                d.insert("__v", 0);
            }
            Family::Calmora => {
                d.insert("message", &n.message);
                d.insert("extra", data());
                d.insert("isRead", n.read_ms.is_some());
                d.insert("createdAt", date(n.created_ms));
            }
            Family::Marketplace => {
                d.insert("title", n.title.clone().unwrap_or_default());
                d.insert("message", &n.message);
                d.insert("data", data());
                d.insert("isRead", n.read_ms.is_some());
                d.insert("delivered", n.delivered_ms.is_some());
                d.insert("createdAt", date(n.created_ms));
            }
            Family::Quickclinic => unreachable!("quickclinic has no notifications"),
        }
        d
    }

    pub(super) struct MongoSink {
        family: Family,
        client: mongodb::Client,
        db: mongodb::Database,
    }

    impl MongoSink {
        pub(super) async fn open(family: Family, uri: &str, database: &str) -> Self {
            let client = mongodb::Client::with_uri_str(uri)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: no MongoDB client for {uri}: {e}"));
            let db = client.database(database);
            Self { family, client, db }
        }

        async fn insert(&self, collection: &str, docs: Vec<Document>) {
            if docs.is_empty() {
                return;
            }
            self.db
                .collection::<Document>(collection)
                .insert_many(docs)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: insert into {collection}: {e}"));
        }

        async fn update_many(&self, collection: &str, filter: Document, update: Document) {
            self.db
                .collection::<Document>(collection)
                .update_many(filter, update)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: update of {collection}: {e}"));
        }

        pub(super) async fn users(&mut self, users: &[GenUser]) {
            let docs = users.iter().map(|u| user(self.family, u)).collect();
            self.insert("users", docs).await;
        }

        pub(super) async fn conversations(&mut self, conversations: &[GenConversation]) {
            let docs = conversations
                .iter()
                .map(|c| conversation(self.family, c))
                .collect();
            self.insert(names(self.family).conversations, docs).await;
        }

        pub(super) async fn messages(&mut self, messages: &[GenMessage]) {
            let docs = messages.iter().map(|m| message(self.family, m)).collect();
            self.insert("messages", docs).await;
        }

        pub(super) async fn notifications(&mut self, notifications: &[GenNotification]) {
            let docs = notifications
                .iter()
                .map(|n| notification(self.family, n))
                .collect();
            self.insert("notifications", docs).await;
        }

        pub(super) async fn marks(&mut self, update: &MarkUpdate) {
            let ids = |list: &[String]| -> Vec<ObjectId> { list.iter().map(|m| oid(m)).collect() };
            if !update.read.is_empty() {
                let set = match self.family {
                    Family::Kaajkaam => {
                        // One readBy entry (with Mongoose's _id) per newly read message.
                        for (i, message) in update.read.iter().enumerate() {
                            let entry = doc! {
                                "userId": oid(&update.reader),
                                "readAt": date(update.read_at_ms),
                                "_id": subdoc_id(message, 200 + i % 50),
                            };
                            self.update_many(
                                "messages",
                                doc! { "_id": oid(message) },
                                doc! { "$push": { "readBy": entry } },
                            )
                            .await;
                        }
                        None
                    }
                    Family::Calmora | Family::Marketplace => {
                        Some(doc! { "isRead": true, "delivered": true })
                    }
                    Family::Linsta | Family::Quickclinic => None,
                };
                if let Some(set) = set {
                    self.update_many(
                        "messages",
                        doc! { "_id": { "$in": ids(&update.read) } },
                        doc! { "$set": set },
                    )
                    .await;
                }
            }
            if !update.delivered.is_empty() && self.family.message_delivered_flag() {
                self.update_many(
                    "messages",
                    doc! { "_id": { "$in": ids(&update.delivered) } },
                    doc! { "$set": { "delivered": true } },
                )
                .await;
            }
        }

        pub(super) async fn conversation_update(&mut self, update: &ConversationUpdate) {
            let mut set = Document::new();
            if let Some(at) = update.updated_ms {
                set.insert("updatedAt", date(at));
            }
            if self.family == Family::Kaajkaam {
                if let Some(last) = &update.last_message {
                    set.insert("lastMessage", last_message(last));
                }
                if let Some(counts) = &update.unread_count {
                    set.insert("unreadCount", unread_count(counts));
                }
            }
            if set.is_empty() {
                return;
            }
            self.update_many(
                names(self.family).conversations,
                doc! { "_id": oid(&update.id) },
                doc! { "$set": set },
            )
            .await;
        }

        pub(super) async fn notification_update(&mut self, update: &NotificationUpdate) {
            let mut set = Document::new();
            if let Some(at) = update.read_ms {
                set.insert("isRead", true);
                if self.family == Family::Kaajkaam {
                    set.insert("readAt", date(at));
                }
            }
            if let Some(at) = update.delivered_ms
                && self.family.notification_delivered_flag()
            {
                set.insert("delivered", true);
                if self.family == Family::Kaajkaam {
                    set.insert("deliveredAt", date(at));
                }
            }
            if set.is_empty() {
                return;
            }
            self.update_many(
                "notifications",
                doc! { "_id": oid(&update.id) },
                doc! { "$set": set },
            )
            .await;
        }

        pub(super) async fn close(self) {
            self.client.shutdown().await;
        }
    }
}

#[cfg(feature = "postgres")]
mod pg_io {
    //! quickclinic's Prisma tables, and writing them with `COPY … FROM STDIN`.

    use std::fmt::Write as _;

    use sqlx::{Connection, PgConnection};

    use super::{
        ConversationUpdate, GenConversation, GenMessage, GenNotification, GenUser, MarkUpdate,
        NotificationUpdate,
    };

    /// The tables as `prisma migrate` creates them for quickclinic's models (roles kept as
    /// text rather than a Prisma enum type), without their keys and indexes: `CONSTRAINTS`
    /// adds those after the load, which is several times faster than checking each row.
    const TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS "User" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "email" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'PATIENT',
    "image" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL
);
CREATE TABLE IF NOT EXISTS "DoctorPatientRelation" (
    "id" TEXT NOT NULL,
    "doctorId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL
);
CREATE TABLE IF NOT EXISTS "ChatMessages" (
    "id" TEXT NOT NULL,
    "relationId" TEXT NOT NULL,
    "senderId" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "isRead" BOOLEAN NOT NULL DEFAULT false,
    "readAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"#;

    /// Prisma's keys, unique indexes and foreign keys, each added when missing.
    const CONSTRAINTS: &str = r#"
DO $$
DECLARE
    wanted TEXT[][] := ARRAY[
        ['User', 'User_pkey', 'PRIMARY KEY ("id")'],
        ['DoctorPatientRelation', 'DoctorPatientRelation_pkey', 'PRIMARY KEY ("id")'],
        ['ChatMessages', 'ChatMessages_pkey', 'PRIMARY KEY ("id")'],
        ['DoctorPatientRelation', 'DoctorPatientRelation_doctorId_fkey',
         'FOREIGN KEY ("doctorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE'],
        ['DoctorPatientRelation', 'DoctorPatientRelation_patientId_fkey',
         'FOREIGN KEY ("patientId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE'],
        ['ChatMessages', 'ChatMessages_relationId_fkey',
         'FOREIGN KEY ("relationId") REFERENCES "DoctorPatientRelation"("id") ON DELETE CASCADE ON UPDATE CASCADE'],
        ['ChatMessages', 'ChatMessages_senderId_fkey',
         'FOREIGN KEY ("senderId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE']
    ];
BEGIN
    FOR i IN 1 .. array_length(wanted, 1) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = wanted[i][2]
                       AND conrelid = quote_ident(wanted[i][1])::regclass) THEN
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s',
                           wanted[i][1], wanted[i][2], wanted[i][3]);
        END IF;
    END LOOP;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS "User_email_key" ON "User"("email");
CREATE UNIQUE INDEX IF NOT EXISTS "DoctorPatientRelation_doctorId_patientId_key"
    ON "DoctorPatientRelation"("doctorId", "patientId");
"#;

    /// A `timestamp(3)` in COPY's text form (UTC).
    fn timestamp(out: &mut String, ms: i64) {
        let at = chrono::DateTime::from_timestamp_millis(ms).expect("a representable time");
        write!(out, "{}", at.format("%Y-%m-%d %H:%M:%S%.3f")).expect("writing to a String");
    }

    fn naive(ms: i64) -> chrono::NaiveDateTime {
        chrono::DateTime::from_timestamp_millis(ms)
            .expect("a representable time")
            .naive_utc()
    }

    /// A text field in COPY's text form: backslash, tab, newline and carriage return escaped.
    fn text(out: &mut String, value: &str) {
        for ch in value.chars() {
            match ch {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                _ => out.push(ch),
            }
        }
    }

    fn optional(out: &mut String, value: Option<&str>) {
        match value {
            Some(value) => text(out, value),
            None => out.push_str("\\N"),
        }
    }

    pub(super) struct PgSink {
        conn: PgConnection,
    }

    impl PgSink {
        pub(super) async fn open(url: &str) -> Self {
            let mut conn = PgConnection::connect(url)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: cannot connect to {url}: {e}"));
            // Only test data: a crash may lose the end of it.
            sqlx::raw_sql("SET synchronous_commit TO off")
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: {e}"));
            sqlx::raw_sql(TABLES)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: creating the Prisma tables: {e}"));
            Self { conn }
        }

        async fn copy(&mut self, statement: &str, rows: String) {
            let mut copy = self
                .conn
                .copy_in_raw(statement)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: {statement}: {e}"));
            copy.send(rows.into_bytes())
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: {statement}: {e}"));
            copy.finish()
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: {statement}: {e}"));
        }

        pub(super) async fn users(&mut self, users: &[GenUser]) {
            let mut rows = String::new();
            for u in users {
                text(&mut rows, &u.id);
                rows.push('\t');
                text(&mut rows, &u.name);
                rows.push('\t');
                text(&mut rows, &u.email);
                rows.push('\t');
                text(&mut rows, u.role.unwrap_or("PATIENT"));
                rows.push('\t');
                optional(&mut rows, u.avatar.as_deref());
                rows.push('\t');
                timestamp(&mut rows, u.created_ms);
                rows.push('\t');
                timestamp(&mut rows, u.created_ms);
                rows.push('\n');
            }
            self.copy(
                r#"COPY "User" ("id", "name", "email", "role", "image", "createdAt", "updatedAt") FROM STDIN"#,
                rows,
            )
            .await;
        }

        pub(super) async fn conversations(&mut self, conversations: &[GenConversation]) {
            let mut rows = String::new();
            for c in conversations {
                text(&mut rows, &c.id);
                rows.push('\t');
                text(&mut rows, &c.participants[0]);
                rows.push('\t');
                text(&mut rows, &c.participants[1]);
                rows.push('\t');
                timestamp(&mut rows, c.created_ms);
                rows.push('\t');
                timestamp(&mut rows, c.updated_ms);
                rows.push('\n');
            }
            self.copy(
                r#"COPY "DoctorPatientRelation" ("id", "doctorId", "patientId", "createdAt", "updatedAt") FROM STDIN"#,
                rows,
            )
            .await;
        }

        pub(super) async fn messages(&mut self, messages: &[GenMessage]) {
            let mut rows = String::with_capacity(messages.len() * 160);
            for m in messages {
                text(&mut rows, &m.id);
                rows.push('\t');
                text(&mut rows, &m.conversation);
                rows.push('\t');
                text(&mut rows, &m.sender);
                rows.push('\t');
                text(&mut rows, &m.text);
                rows.push('\t');
                match m.read_by.first() {
                    Some((_, at)) => {
                        rows.push_str("t\t");
                        timestamp(&mut rows, *at);
                    }
                    None => rows.push_str("f\t\\N"),
                }
                rows.push('\t');
                timestamp(&mut rows, m.created_ms);
                rows.push('\n');
            }
            self.copy(
                r#"COPY "ChatMessages" ("id", "relationId", "senderId", "text", "isRead", "readAt", "createdAt") FROM STDIN"#,
                rows,
            )
            .await;
        }

        pub(super) async fn notifications(&mut self, _: &[GenNotification]) {
            unreachable!("quickclinic has no notifications");
        }

        pub(super) async fn marks(&mut self, update: &MarkUpdate) {
            if update.read.is_empty() {
                return;
            }
            sqlx::query(
                r#"UPDATE "ChatMessages" SET "isRead" = true, "readAt" = $1 WHERE "id" = ANY($2)"#,
            )
            .bind(naive(update.read_at_ms))
            .bind(&update.read)
            .execute(&mut self.conn)
            .await
            .unwrap_or_else(|e| panic!("legacy fixtures: marking messages read: {e}"));
        }

        pub(super) async fn conversation_update(&mut self, update: &ConversationUpdate) {
            let Some(at) = update.updated_ms else {
                return;
            };
            sqlx::query(r#"UPDATE "DoctorPatientRelation" SET "updatedAt" = $1 WHERE "id" = $2"#)
                .bind(naive(at))
                .bind(&update.id)
                .execute(&mut self.conn)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: updating a relation: {e}"));
        }

        pub(super) async fn notification_update(&mut self, _: &NotificationUpdate) {
            unreachable!("quickclinic has no notifications");
        }

        pub(super) async fn close(mut self) {
            sqlx::raw_sql(CONSTRAINTS)
                .execute(&mut self.conn)
                .await
                .unwrap_or_else(|e| panic!("legacy fixtures: Prisma's keys and indexes: {e}"));
            // A failed goodbye does not undo what was written.
            let _ = self.conn.close().await;
        }
    }
}
