//! Where a family's records keep each field: the collection or table of each kind of record
//! and the names of its fields or columns. `Mapping::defaults` gives the shapes of
//! docs/LEGACY_SHAPES.md; `Mapping::load` lays an operator's mapping file over them.
//!
//! # The mapping file
//!
//! TOML, with the sections `[conversations]`, `[messages]`, `[notifications]` and `[users]`.
//! A key the file leaves out keeps the family's default, so a file names only what differs;
//! a key that does not exist is an error that names it (a typo never passes silently).
//!
//! - `from`: the collection (MongoDB) or table (PostgreSQL; `schema.table` is accepted).
//!   Names are used as written: on PostgreSQL they are quoted, so `ChatMessages` is the
//!   table Prisma created as `"ChatMessages"`.
//! - Every other string is a field (column) name. A dotted name reads a nested field
//!   (`sender.id`; MongoDB sorts on dotted names too, PostgreSQL only on columns).
//! - An empty name (`edited_at = ""`) says this database has no such field: the record takes
//!   the default for it. Only optional fields may be emptied.
//! - `enabled = false` in `[notifications]` or `[users]` skips that kind of record.
//!
//! ```toml
//! # kaajkaam's defaults, except that messages lived in `chat_messages` with the text in
//! # `body` and no edit time, and the users are imported from somewhere else.
//! [messages]
//! from = "chat_messages"
//! text = "body"
//! edited_at = ""
//!
//! [conversations]
//! # Each listed field holds one id or an array of ids; together, the participants.
//! participants = ["buyerId", "sellerId"]
//! # Copied into the conversation's context under their own names (the last segment).
//! context = ["orderId"]
//!
//! [users]
//! enabled = false
//! ```
//!
//! The compound fields have fixed inner names, those of the Node servers' models:
//! `attachments` holds `[{ url, type, name, size }]` (or plain URL strings), `call` holds
//! `{ callType, duration, status }`, `read_by` holds `[{ userId, readAt }]`, and
//! `unread_count` holds `{ <userId>: n }`.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use super::family::Family;
use crate::domain::ConversationContext;

/// Why a mapping file cannot be used; the message names the file and the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MappingError(pub String);

/// Where each kind of record is, and what its fields are called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub conversations: ConversationFields,
    pub messages: MessageFields,
    pub notifications: NotificationFields,
    pub users: UserFields,
}

/// A conversation (chat, chat room, relation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationFields {
    pub from: String,
    pub id: String,
    /// Fields holding an id or an array of ids, read in this order and concatenated
    /// (duplicates dropped); at least two distinct participants are required.
    pub participants: Vec<String>,
    /// Fields copied into the context under their own names (a dotted name under its last
    /// segment), when the record has them.
    #[serde(default)]
    pub context: Vec<String>,
    /// Whether the conversation is stored as one created under a chosen id (context
    /// `chosenId = <its id>`), as calmora's `sendMessage` creates them.
    #[serde(default)]
    pub named: bool,
    /// `{ <userId>: n }`, the legacy unread counters (for the report).
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub unread_count: Option<String>,
    /// `false` when the conversation was soft-deleted; absent means active.
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<String>,
    pub created_at: String,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<String>,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageFields {
    pub from: String,
    pub id: String,
    pub conversation: String,
    pub sender: String,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub text: Option<String>,
    /// `text | image | file | call | meeting | system`; anything else reads as `text`.
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub attachments: Option<String>,
    /// `{ callType, duration, status }` of a call message.
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub call: Option<String>,
    /// `[{ userId, readAt }]`; when mapped, it is the read state (over `is_read`).
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub read_by: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_read: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub read_at: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub delivered: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub edited_at: Option<String>,
    pub created_at: String,
}

/// A notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationFields {
    #[serde(default = "enabled")]
    pub enabled: bool,
    pub from: String,
    pub id: String,
    pub recipient: String,
    pub kind: String,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    pub message: String,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub reference_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_read: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub read_at: Option<String>,
    /// Unmapped: every notification counts as delivered at its creation.
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub delivered: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub delivered_at: Option<String>,
    pub created_at: String,
}

/// A user profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserFields {
    #[serde(default = "enabled")]
    pub enabled: bool,
    pub from: String,
    pub id: String,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub avatar: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub role: Option<String>,
    #[serde(
        default,
        deserialize_with = "field_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_active: Option<String>,
}

fn enabled() -> bool {
    true
}

/// An optional field's name; empty means the database has no such field.
fn field_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let name = String::deserialize(deserializer)?;
    Ok((!name.is_empty()).then_some(name))
}

fn name(raw: &str) -> String {
    raw.to_owned()
}

fn some(raw: &str) -> Option<String> {
    Some(raw.to_owned())
}

fn names(raw: &[&str]) -> Vec<String> {
    raw.iter().map(|s| (*s).to_owned()).collect()
}

/// The sections of a mapping file, in the order they are documented.
const SECTIONS: [&str; 4] = ["conversations", "messages", "notifications", "users"];

impl Mapping {
    /// The family's shapes as docs/LEGACY_SHAPES.md lists them.
    pub fn defaults(family: Family) -> Self {
        match family {
            Family::Kaajkaam => Self::kaajkaam(),
            Family::Linsta => Self::linsta(),
            Family::Calmora => Self::calmora(),
            Family::Marketplace => Self::marketplace(),
            Family::Quickclinic => Self::quickclinic(),
        }
    }

    /// The family's defaults with the mapping file at `path` laid over them, or the defaults
    /// alone without a file.
    ///
    /// # Errors
    /// The file cannot be read, is not TOML, names a section or key that does not exist,
    /// gives a value of the wrong type, or leaves a required name empty; the message names
    /// the file and the key.
    pub fn load(family: Family, path: Option<&Path>) -> Result<Self, MappingError> {
        let Some(path) = path else {
            return Ok(Self::defaults(family));
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| MappingError(format!("mapping file {}: {e}", path.display())))?;
        Self::overlay(family, &text)
            .map_err(|e| MappingError(format!("mapping file {}: {e}", path.display())))
    }

    /// The family's defaults with the mapping file's text laid over them, key by key.
    ///
    /// # Errors
    /// As `load`, without the file's name.
    pub fn overlay(family: Family, text: &str) -> Result<Self, MappingError> {
        let file: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| MappingError(format!("not valid TOML: {e}")))?;
        let mut merged = toml::Table::try_from(Self::defaults(family))
            .map_err(|e| MappingError(format!("the defaults do not serialize: {e}")))?;
        for (section, value) in file {
            let Some(fields) = value.as_table() else {
                return Err(MappingError(format!(
                    "`{section}` must be a section ([{section}])"
                )));
            };
            let Some(toml::Value::Table(defaults)) = merged.get_mut(&section) else {
                return Err(MappingError(format!(
                    "unknown section `[{section}]`, expected one of {}",
                    SECTIONS.join(", ")
                )));
            };
            for (key, value) in fields {
                defaults.insert(key.clone(), value.clone());
            }
        }
        // Section by section, so that an error names its section as well as its key.
        let section = |name: &str| {
            merged
                .get(name)
                .cloned()
                .ok_or_else(|| MappingError(format!("section `[{name}]` is missing")))
        };
        let mapping = Self {
            conversations: typed("conversations", section("conversations")?)?,
            messages: typed("messages", section("messages")?)?,
            notifications: typed("notifications", section("notifications")?)?,
            users: typed("users", section("users")?)?,
        };
        mapping.check()?;
        Ok(mapping)
    }

    /// What serde cannot say: required names are not empty, a conversation has where to
    /// find its participants, and context names make valid context keys.
    fn check(&self) -> Result<(), MappingError> {
        let c = &self.conversations;
        let m = &self.messages;
        let n = &self.notifications;
        let u = &self.users;
        let required = [
            ("conversations.from", &c.from),
            ("conversations.id", &c.id),
            ("conversations.created_at", &c.created_at),
            ("messages.from", &m.from),
            ("messages.id", &m.id),
            ("messages.conversation", &m.conversation),
            ("messages.sender", &m.sender),
            ("messages.created_at", &m.created_at),
            ("notifications.from", &n.from),
            ("notifications.id", &n.id),
            ("notifications.recipient", &n.recipient),
            ("notifications.kind", &n.kind),
            ("notifications.message", &n.message),
            ("notifications.created_at", &n.created_at),
            ("users.from", &u.from),
            ("users.id", &u.id),
        ];
        if let Some((key, _)) = required.iter().find(|(_, name)| name.is_empty()) {
            return Err(MappingError(format!("`{key}` must name a field")));
        }
        if c.participants.is_empty() || c.participants.iter().any(String::is_empty) {
            return Err(MappingError(
                "`conversations.participants` must list at least one field, none empty".into(),
            ));
        }
        for field in &c.context {
            let key = context_key(field);
            // The domain's rule for context keys, checked once here rather than per record.
            ConversationContext::new([(key.to_owned(), "x".to_owned())]).map_err(|_| {
                MappingError(format!(
                    "`conversations.context`: {field:?} does not make a context key \
                     (letters, digits and _ only, at most 64)"
                ))
            })?;
        }
        Ok(())
    }

    fn kaajkaam() -> Self {
        Self {
            conversations: ConversationFields {
                from: name("conversations"),
                id: name("_id"),
                participants: names(&["participants"]),
                context: names(&["orderId", "gigId", "jobId"]),
                named: false,
                unread_count: some("unreadCount"),
                active: some("isActive"),
                created_at: name("createdAt"),
                updated_at: some("updatedAt"),
            },
            messages: MessageFields {
                from: name("messages"),
                id: name("_id"),
                conversation: name("conversationId"),
                sender: name("sender"),
                text: some("text"),
                kind: some("messageType"),
                attachments: some("attachments"),
                call: some("callInfo"),
                read_by: some("readBy"),
                is_read: None,
                read_at: None,
                delivered: None,
                edited_at: some("editedAt"),
                created_at: name("createdAt"),
            },
            notifications: NotificationFields {
                enabled: true,
                from: name("notifications"),
                id: name("_id"),
                recipient: name("userId"),
                kind: name("type"),
                title: some("title"),
                message: name("message"),
                reference_id: some("referenceId"),
                data: some("data"),
                is_read: some("isRead"),
                read_at: some("readAt"),
                delivered: some("delivered"),
                delivered_at: some("deliveredAt"),
                created_at: name("createdAt"),
            },
            users: UserFields {
                enabled: true,
                from: name("users"),
                id: name("_id"),
                name: some("name"),
                email: some("email"),
                avatar: some("avatar"),
                role: some("role"),
                last_active: some("lastActive"),
            },
        }
    }

    fn linsta() -> Self {
        Self {
            conversations: mongo_chats("chatrooms"),
            messages: MessageFields {
                from: name("messages"),
                id: name("_id"),
                conversation: name("chatRoomId"),
                sender: name("senderId"),
                text: some("text"),
                kind: None,
                attachments: None,
                call: None,
                read_by: None,
                is_read: None,
                read_at: None,
                delivered: None,
                edited_at: None,
                created_at: name("createdAt"),
            },
            notifications: NotificationFields {
                enabled: true,
                from: name("notifications"),
                id: name("_id"),
                recipient: name("userId"),
                kind: name("type"),
                title: None,
                message: name("message"),
                reference_id: some("referenceId"),
                data: None,
                is_read: some("isRead"),
                read_at: None,
                delivered: None,
                delivered_at: None,
                created_at: name("createdAt"),
            },
            users: UserFields {
                enabled: true,
                from: name("users"),
                id: name("_id"),
                name: some("name"),
                email: some("email"),
                avatar: None,
                role: None,
                last_active: None,
            },
        }
    }

    fn calmora() -> Self {
        Self {
            conversations: ConversationFields {
                named: true,
                ..mongo_chats("chats")
            },
            messages: MessageFields {
                from: name("messages"),
                id: name("_id"),
                conversation: name("chatId"),
                sender: name("senderId"),
                text: some("message"),
                kind: None,
                attachments: None,
                call: None,
                read_by: None,
                is_read: some("isRead"),
                read_at: None,
                delivered: some("delivered"),
                edited_at: None,
                created_at: name("createdAt"),
            },
            notifications: NotificationFields {
                enabled: true,
                from: name("notifications"),
                id: name("_id"),
                recipient: name("userId"),
                kind: name("type"),
                title: None,
                message: name("message"),
                reference_id: None,
                data: some("extra"),
                is_read: some("isRead"),
                read_at: None,
                delivered: None,
                delivered_at: None,
                created_at: name("createdAt"),
            },
            users: UserFields {
                enabled: true,
                from: name("users"),
                id: name("_id"),
                name: some("name"),
                email: None,
                avatar: some("avatar"),
                role: some("role"),
                last_active: None,
            },
        }
    }

    fn marketplace() -> Self {
        Self {
            conversations: mongo_chats("chats"),
            messages: MessageFields {
                from: name("messages"),
                id: name("_id"),
                conversation: name("chatId"),
                sender: name("sender"),
                text: some("content"),
                kind: some("messageType"),
                attachments: some("media"),
                call: None,
                read_by: None,
                is_read: some("isRead"),
                read_at: None,
                delivered: some("delivered"),
                edited_at: None,
                created_at: name("createdAt"),
            },
            notifications: NotificationFields {
                enabled: true,
                from: name("notifications"),
                id: name("_id"),
                recipient: name("userId"),
                kind: name("type"),
                title: some("title"),
                message: name("message"),
                reference_id: None,
                data: some("data"),
                is_read: some("isRead"),
                read_at: None,
                delivered: some("delivered"),
                delivered_at: None,
                created_at: name("createdAt"),
            },
            users: UserFields {
                enabled: true,
                from: name("users"),
                id: name("_id"),
                name: some("name"),
                email: some("email"),
                avatar: some("avatar"),
                role: some("role"),
                last_active: some("lastActive"),
            },
        }
    }

    fn quickclinic() -> Self {
        Self {
            conversations: ConversationFields {
                from: name("DoctorPatientRelation"),
                id: name("id"),
                participants: names(&["doctorId", "patientId"]),
                context: names(&["doctorId", "patientId"]),
                named: false,
                unread_count: None,
                active: None,
                created_at: name("createdAt"),
                updated_at: some("updatedAt"),
            },
            messages: MessageFields {
                from: name("ChatMessages"),
                id: name("id"),
                conversation: name("relationId"),
                sender: name("senderId"),
                text: some("text"),
                kind: None,
                attachments: None,
                call: None,
                read_by: None,
                is_read: some("isRead"),
                read_at: some("readAt"),
                delivered: None,
                edited_at: None,
                created_at: name("createdAt"),
            },
            // QuickClinic kept no notifications; these are Prisma-style names for a table a
            // team may have added, off unless a mapping file enables them.
            notifications: NotificationFields {
                enabled: false,
                from: name("Notification"),
                id: name("id"),
                recipient: name("userId"),
                kind: name("type"),
                title: some("title"),
                message: name("message"),
                reference_id: some("referenceId"),
                data: some("data"),
                is_read: some("isRead"),
                read_at: some("readAt"),
                delivered: None,
                delivered_at: None,
                created_at: name("createdAt"),
            },
            users: UserFields {
                enabled: true,
                from: name("User"),
                id: name("id"),
                name: some("name"),
                email: some("email"),
                avatar: some("image"),
                role: some("role"),
                last_active: None,
            },
        }
    }
}

/// The chat documents of linsta, calmora and marketplace: participants and times, no context.
fn mongo_chats(collection: &str) -> ConversationFields {
    ConversationFields {
        from: name(collection),
        id: name("_id"),
        participants: names(&["participants"]),
        context: Vec::new(),
        named: false,
        unread_count: None,
        active: None,
        created_at: name("createdAt"),
        updated_at: some("updatedAt"),
    }
}

/// The context key a context field is copied under: its name, or a dotted name's last segment.
pub fn context_key(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

fn typed<T: serde::de::DeserializeOwned>(
    section: &str,
    value: toml::Value,
) -> Result<T, MappingError> {
    value
        .try_into()
        .map_err(|e: toml::de::Error| MappingError(format!("[{section}]: {}", e.message())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_familys_defaults_pass_the_checks_and_survive_an_empty_file() {
        for family in Family::ALL {
            let defaults = Mapping::defaults(family);
            defaults.check().unwrap();
            assert_eq!(Mapping::overlay(family, "").unwrap(), defaults, "{family}");
            assert_eq!(Mapping::load(family, None).unwrap(), defaults, "{family}");
        }
    }

    #[test]
    fn kaajkaam_defaults() {
        let m = Mapping::defaults(Family::Kaajkaam);
        assert_eq!(m.conversations.from, "conversations");
        assert_eq!(m.conversations.participants, ["participants"]);
        assert_eq!(m.conversations.context, ["orderId", "gigId", "jobId"]);
        assert_eq!(m.conversations.unread_count.as_deref(), Some("unreadCount"));
        assert_eq!(m.conversations.active.as_deref(), Some("isActive"));
        assert!(!m.conversations.named);
        assert_eq!(m.messages.conversation, "conversationId");
        assert_eq!(m.messages.sender, "sender");
        assert_eq!(m.messages.call.as_deref(), Some("callInfo"));
        assert_eq!(m.messages.read_by.as_deref(), Some("readBy"));
        assert_eq!(m.messages.edited_at.as_deref(), Some("editedAt"));
        assert_eq!(m.notifications.delivered.as_deref(), Some("delivered"));
        assert_eq!(m.notifications.delivered_at.as_deref(), Some("deliveredAt"));
        assert!(m.notifications.enabled && m.users.enabled);
        assert_eq!(m.users.last_active.as_deref(), Some("lastActive"));
    }

    #[test]
    fn linsta_defaults() {
        let m = Mapping::defaults(Family::Linsta);
        assert_eq!(m.conversations.from, "chatrooms");
        assert!(m.conversations.context.is_empty());
        assert_eq!(m.messages.conversation, "chatRoomId");
        assert_eq!(m.messages.sender, "senderId");
        assert_eq!(m.messages.text.as_deref(), Some("text"));
        // No read state, no delivered flag on notifications.
        assert_eq!(m.messages.read_by, None);
        assert_eq!(m.messages.is_read, None);
        assert_eq!(m.notifications.delivered, None);
        assert_eq!(m.notifications.reference_id.as_deref(), Some("referenceId"));
        assert_eq!(m.users.avatar, None);
    }

    #[test]
    fn calmora_defaults() {
        let m = Mapping::defaults(Family::Calmora);
        assert_eq!(m.conversations.from, "chats");
        assert!(m.conversations.named);
        assert_eq!(m.messages.conversation, "chatId");
        assert_eq!(m.messages.text.as_deref(), Some("message"));
        assert_eq!(m.messages.delivered.as_deref(), Some("delivered"));
        assert_eq!(m.messages.is_read.as_deref(), Some("isRead"));
        assert_eq!(m.notifications.data.as_deref(), Some("extra"));
        assert_eq!(m.notifications.delivered, None);
        assert_eq!(m.users.email, None);
    }

    #[test]
    fn marketplace_defaults() {
        let m = Mapping::defaults(Family::Marketplace);
        assert_eq!(m.conversations.from, "chats");
        assert!(!m.conversations.named);
        assert_eq!(m.messages.sender, "sender");
        assert_eq!(m.messages.text.as_deref(), Some("content"));
        assert_eq!(m.messages.attachments.as_deref(), Some("media"));
        assert_eq!(m.messages.kind.as_deref(), Some("messageType"));
        assert_eq!(m.notifications.title.as_deref(), Some("title"));
        assert_eq!(m.notifications.delivered.as_deref(), Some("delivered"));
    }

    #[test]
    fn quickclinic_defaults() {
        let m = Mapping::defaults(Family::Quickclinic);
        assert_eq!(m.conversations.from, "DoctorPatientRelation");
        assert_eq!(m.conversations.id, "id");
        assert_eq!(m.conversations.participants, ["doctorId", "patientId"]);
        assert_eq!(m.conversations.context, ["doctorId", "patientId"]);
        assert_eq!(m.messages.from, "ChatMessages");
        assert_eq!(m.messages.conversation, "relationId");
        assert_eq!(m.messages.read_at.as_deref(), Some("readAt"));
        assert!(!m.notifications.enabled);
        assert_eq!(m.users.from, "User");
        assert_eq!(m.users.avatar.as_deref(), Some("image"));
    }

    #[test]
    fn a_file_overrides_key_by_key() {
        let m = Mapping::overlay(
            Family::Kaajkaam,
            r#"
            [messages]
            from = "chat_messages"
            text = "body"
            edited_at = ""

            [conversations]
            participants = ["buyerId", "sellerId"]
            context = ["order.orderId"]

            [users]
            enabled = false
            "#,
        )
        .unwrap();
        let defaults = Mapping::defaults(Family::Kaajkaam);
        assert_eq!(m.messages.from, "chat_messages");
        assert_eq!(m.messages.text.as_deref(), Some("body"));
        assert_eq!(m.messages.edited_at, None);
        // What the file leaves out keeps its default.
        assert_eq!(m.messages.sender, defaults.messages.sender);
        assert_eq!(m.messages.read_by, defaults.messages.read_by);
        assert_eq!(m.conversations.participants, ["buyerId", "sellerId"]);
        assert_eq!(m.conversations.context, ["order.orderId"]);
        assert_eq!(m.conversations.created_at, "createdAt");
        assert!(!m.users.enabled);
        assert_eq!(m.users.from, "users");
        assert_eq!(m.notifications, defaults.notifications);
    }

    #[test]
    fn a_section_can_be_enabled() {
        let m = Mapping::overlay(
            Family::Quickclinic,
            "[notifications]\nenabled = true\nfrom = \"Alert\"",
        )
        .unwrap();
        assert!(m.notifications.enabled);
        assert_eq!(m.notifications.from, "Alert");
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        let err = Mapping::overlay(Family::Linsta, "[messages]\ntxt = \"body\"").unwrap_err();
        assert!(err.0.contains("[messages]"), "{err}");
        assert!(err.0.contains("txt"), "{err}");

        let err = Mapping::overlay(Family::Linsta, "[message]\ntext = \"body\"").unwrap_err();
        assert!(err.0.contains("[message]"), "{err}");

        let err = Mapping::overlay(Family::Linsta, "text = \"body\"").unwrap_err();
        assert!(err.0.contains("`text`"), "{err}");
    }

    #[test]
    fn wrong_types_empty_required_names_and_bad_context_keys_are_errors() {
        let err = Mapping::overlay(Family::Linsta, "[users]\nenabled = \"no\"").unwrap_err();
        assert!(err.0.contains("[users]"), "{err}");

        let err = Mapping::overlay(Family::Linsta, "[messages]\nsender = \"\"").unwrap_err();
        assert!(err.0.contains("messages.sender"), "{err}");

        let err =
            Mapping::overlay(Family::Linsta, "[conversations]\nparticipants = []").unwrap_err();
        assert!(err.0.contains("participants"), "{err}");

        let err = Mapping::overlay(
            Family::Kaajkaam,
            "[conversations]\ncontext = [\"order-id\"]",
        )
        .unwrap_err();
        assert!(err.0.contains("order-id"), "{err}");

        let err = Mapping::overlay(Family::Kaajkaam, "[messages\n").unwrap_err();
        assert!(err.0.contains("not valid TOML"), "{err}");
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mapping.toml");
        std::fs::write(&path, "[users]\nemal = \"mail\"\n").unwrap();
        let err = Mapping::load(Family::Marketplace, Some(&path)).unwrap_err();
        assert!(err.0.contains("mapping.toml"), "{err}");
        assert!(err.0.contains("emal"), "{err}");

        std::fs::write(&path, "[users]\nemail = \"mail\"\n").unwrap();
        let m = Mapping::load(Family::Marketplace, Some(&path)).unwrap();
        assert_eq!(m.users.email.as_deref(), Some("mail"));

        let missing = dir.path().join("absent.toml");
        let err = Mapping::load(Family::Marketplace, Some(&missing)).unwrap_err();
        assert!(err.0.contains("absent.toml"), "{err}");
    }
}
