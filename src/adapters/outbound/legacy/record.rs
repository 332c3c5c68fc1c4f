//! One legacy record, as the JSON value both sources turn a document or row into (MongoDB:
//! ObjectIds as hex strings, dates as ISO strings; PostgreSQL: `row_to_json`), mapped to the
//! import port's records through its `Mapping` section.
//!
//! The readers are strict about what a mapped field holds: a field that is present with a
//! value of the wrong kind makes the record `Read::Unreadable`, with a reason that names the
//! field as the source calls it, because the likeliest cause is a mapping that points at the
//! wrong field, and the mapping file can say that a field is not there (`name = ""`).
//! Absent and `null` are the same: the field's default, or unreadable when it is required;
//! but a record without its creation time takes the one its id carries when the id is an
//! ObjectId (Mongoose models without `timestamps` still have one in every `_id`).
//! What is kept as it was: history is imported, not re-validated (blank texts, long
//! notification types), except that NUL characters are removed from every text, since
//! PostgreSQL cannot store them. The rules per field are in each function's doc.
//!
//! Also here, for both sources: `NoRecords`, the stream of a section turned off.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::mapping::{
    ConversationFields, MessageFields, NotificationFields, UserFields, context_key,
};
use crate::adapters::json::data_from_json;
use crate::domain::conversation::CHOSEN_ID_KEY;
use crate::domain::{
    Attachment, CallInfo, CallOutcome, CallType, ConversationContext, ConversationId, DataValue,
    IdError, MessageBody, MessageId, MessageKind, Notification, NotificationId, Role, Timestamp,
    UserId, UserProfile,
};
use crate::ports::{Batches, LegacyConversation, LegacyMessage, LegacyRead, Read, SourceError};

/// Why a record cannot be mapped: a sentence naming the field.
type Reason = String;

/// A conversation: its id, at least two distinct participants (the `participants` fields in
/// order, each an id or an array of ids, duplicates dropped) and `createdAt` are required.
/// The context holds the `context` fields that are present (an empty string counts as
/// absent), plus `chosenId = <id>` for a named family; `active` is true unless the field says
/// `false`; `unread_count` is a map of user id to count.
pub fn conversation(fields: &ConversationFields, doc: &Value) -> Read<LegacyConversation> {
    read(doc, &fields.id, || {
        let d = Doc(doc);
        let id = d.required_id(&fields.id, ConversationId::parse)?;
        let mut participants: Vec<UserId> = Vec::new();
        for name in &fields.participants {
            for user in d.ids(name, UserId::parse)? {
                if !participants.contains(&user) {
                    participants.push(user);
                }
            }
        }
        if participants.len() < 2 {
            return Err(format!(
                "`{}`: fewer than two distinct participants",
                fields.participants.join("`, `")
            ));
        }
        let mut context = Vec::new();
        for name in &fields.context {
            let Some(value) = d.get(name) else { continue };
            if value.as_str() == Some("") {
                continue;
            }
            let value = parse_id(name, value, ConversationId::parse)?;
            context.push((context_key(name).to_owned(), value.into_string()));
        }
        if fields.named {
            context.push((CHOSEN_ID_KEY.to_owned(), id.as_str().to_owned()));
        }
        let context = ConversationContext::new(context).map_err(|e| format!("context: {e}"))?;
        Ok(LegacyConversation {
            created_at: d.created_at(&fields.created_at, id.as_str())?,
            updated_at: d.time(fields.updated_at.as_deref())?,
            unread_counts: d.unread_counts(fields.unread_count.as_deref())?,
            active: d.bool(fields.active.as_deref())?.unwrap_or(true),
            id,
            participants,
            context,
        })
    })
}

/// A message: id, conversation, sender and `createdAt` are required. The body is built as it
/// was: the text (absent: empty), the kind (`messageType`; absent or unknown: text),
/// attachments (`[{ url, type, name, size }]` or URL strings; `url` required, the name
/// defaults to the URL's last segment, the type to `image` in an image message and `file`
/// otherwise), and for a call message its `{ callType, duration, status }`; a call message
/// without usable call information is kept as a text message. The read state is `readBy`
/// when mapped, else the `isRead`/`readAt` flag when either is mapped, else unknown.
pub fn message(fields: &MessageFields, doc: &Value) -> Read<LegacyMessage> {
    read(doc, &fields.id, || {
        let d = Doc(doc);
        let id = d.required_id(&fields.id, MessageId::parse)?;
        let kind = fields
            .kind
            .as_deref()
            .and_then(|name| d.get(name))
            .and_then(Value::as_str)
            .and_then(MessageKind::parse)
            .unwrap_or(MessageKind::Text);
        let call = match kind {
            MessageKind::Call => fields.call.as_deref().and_then(|name| d.call(name)),
            _ => None,
        };
        let kind = match (kind, call) {
            (MessageKind::Call, None) => MessageKind::Text,
            (kind, _) => kind,
        };
        let body = MessageBody {
            kind,
            text: d.text(fields.text.as_deref())?.unwrap_or_default(),
            attachments: d.attachments(fields.attachments.as_deref(), kind)?,
            call,
        };
        let read = if let Some(name) = fields.read_by.as_deref() {
            LegacyRead::By(d.read_by(name)?)
        } else if fields.is_read.is_some() || fields.read_at.is_some() {
            let at = d.time(fields.read_at.as_deref())?;
            let read = d.bool(fields.is_read.as_deref())?.unwrap_or(at.is_some());
            LegacyRead::Flag { read, at }
        } else {
            LegacyRead::Unknown
        };
        let delivered = match fields.delivered.as_deref() {
            Some(name) => Some(d.bool(Some(name))?.unwrap_or(false)),
            None => None,
        };
        Ok(LegacyMessage {
            conversation_id: d.required_id(&fields.conversation, ConversationId::parse)?,
            sender: d.required_id(&fields.sender, UserId::parse)?,
            body,
            created_at: d.created_at(&fields.created_at, id.as_str())?,
            edited_at: d.time(fields.edited_at.as_deref())?,
            read,
            delivered,
            id,
        })
    })
}

/// A notification: id, recipient, type (not empty), message and `createdAt` are required;
/// `data` defaults to an empty map, `referenceId` may be a string or a number.
///
/// Read: when the `isRead` flag is present, true means read at `readAt` or else at creation,
/// false means unread; without the flag, read at `readAt` when there is one. Delivered
/// likewise from `delivered` and `deliveredAt`, except that a family without a delivered
/// field counts every notification as delivered at `deliveredAt` or its creation (the old
/// server pushed it or listed it); and whatever was read was delivered by then.
pub fn notification(fields: &NotificationFields, doc: &Value) -> Read<Notification> {
    read(doc, &fields.id, || {
        let d = Doc(doc);
        let id = d.required_id(&fields.id, NotificationId::parse)?;
        let kind = d
            .text(Some(&fields.kind))?
            .ok_or_else(|| missing(&fields.kind))?;
        if kind.trim().is_empty() {
            return Err(format!("`{}` is empty", fields.kind));
        }
        let created_at = d.created_at(&fields.created_at, id.as_str())?;
        let read_at = mark(
            d.bool(fields.is_read.as_deref())?,
            d.time(fields.read_at.as_deref())?,
            created_at,
        );
        let delivered_at = d.time(fields.delivered_at.as_deref())?;
        let delivered_at = match fields.delivered.as_deref() {
            Some(name) => mark(d.bool(Some(name))?, delivered_at, created_at),
            None => Some(delivered_at.unwrap_or(created_at)),
        }
        .or(read_at);
        let data = match fields.data.as_deref().and_then(|name| d.get(name)) {
            Some(value) => without_nul_data(data_from_json(value)),
            None => DataValue::empty_map(),
        };
        Ok(Notification {
            recipient: d.required_id(&fields.recipient, UserId::parse)?,
            kind,
            title: d.text(fields.title.as_deref())?,
            message: d
                .text(Some(&fields.message))?
                .ok_or_else(|| missing(&fields.message))?,
            reference_id: d.optional_id_text(fields.reference_id.as_deref())?,
            data,
            created_at,
            delivered_at,
            read_at,
            id,
        })
    })
}

/// A user profile: the id is required; name, email, avatar and role are strings (blank ones
/// count as absent), `lastActive` a time.
pub fn user(fields: &UserFields, doc: &Value) -> Read<UserProfile> {
    read(doc, &fields.id, || {
        let d = Doc(doc);
        let filled = |name: Option<&str>| -> Result<Option<String>, Reason> {
            Ok(d.text(name)?.filter(|s| !s.trim().is_empty()))
        };
        Ok(UserProfile {
            id: d.required_id(&fields.id, UserId::parse)?,
            name: filled(fields.name.as_deref())?,
            email: filled(fields.email.as_deref())?,
            avatar: filled(fields.avatar.as_deref())?,
            role: filled(fields.role.as_deref())?.and_then(|r| Role::new(&r)),
            last_active: d.time(fields.last_active.as_deref())?,
        })
    })
}

/// The stream of a kind of record the mapping turned off (`enabled = false`): empty.
pub struct NoRecords;

#[async_trait]
impl<T: Send + 'static> Batches<T> for NoRecords {
    async fn next_batch(&mut self, _max: usize) -> Result<Option<Vec<Read<T>>>, SourceError> {
        Ok(None)
    }
}

/// The record's id as the source shows it, for a report: a string or number as its text,
/// any other value as JSON, empty when there is none.
pub fn record_id(doc: &Value, id_field: &str) -> String {
    match field(doc, id_field) {
        None => String::new(),
        Some(value) => id_text(value).unwrap_or_else(|| value.to_string()),
    }
}

/// The value at a dotted path (`callInfo.callType`; a segment of digits indexes an array);
/// `None` when absent or `null`.
pub fn field<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut value = doc;
    for segment in path.split('.') {
        value = match value {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    (!value.is_null()).then_some(value)
}

/// An id's text: a string as it is, an integer as its decimal text.
pub fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// A point in time: RFC 3339 / ISO-8601 text, with or without an offset (none means UTC, as
/// Prisma's `timestamp(3)` columns hold it; `T` or a space between date and time; a date
/// alone is its midnight), or a number of milliseconds since the epoch (also as a string of
/// digits).
pub fn time(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(millis) => Some(Timestamp::from_millis(millis)),
            None => n
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e15)
                // Within ±9e15 ms (±285,000 years) the rounding is exact enough and fits i64.
                .map(|f| {
                    #[allow(clippy::cast_possible_truncation)]
                    let millis = f.round() as i64;
                    Timestamp::from_millis(millis)
                }),
        },
        Value::String(s) => time_text(s.trim()),
        _ => None,
    }
}

fn time_text(s: &str) -> Option<Timestamp> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().map(Timestamp::from_millis);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Some(Timestamp::from_millis(at.timestamp_millis()));
    }
    // %#z: `+01`, `+0100` and `+01:00` (PostgreSQL writes the short form).
    for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(at) = DateTime::parse_from_str(s, format) {
            return Some(Timestamp::from_millis(at.timestamp_millis()));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(s, format) {
            return Some(Timestamp::from_millis(at.and_utc().timestamp_millis()));
        }
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(Timestamp::from_millis(
        day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
    ))
}

/// The creation time an ObjectId carries (its first four bytes: seconds since the epoch).
fn object_id_time(id: &str) -> Option<Timestamp> {
    if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let seconds = u32::from_str_radix(&id[..8], 16).ok()?;
    Some(Timestamp::from_millis(i64::from(seconds) * 1000))
}

/// A read or delivered mark from its flag and time: a true flag without a time dates from
/// the record's creation, a false flag is no mark, no flag leaves the time as it is.
fn mark(flag: Option<bool>, at: Option<Timestamp>, created_at: Timestamp) -> Option<Timestamp> {
    match flag {
        Some(true) => Some(at.unwrap_or(created_at)),
        Some(false) => None,
        None => at,
    }
}

fn read<T>(doc: &Value, id_field: &str, build: impl FnOnce() -> Result<T, Reason>) -> Read<T> {
    match build() {
        Ok(record) => Read::Record(record),
        Err(reason) => Read::Unreadable {
            id: record_id(doc, id_field),
            reason,
        },
    }
}

fn missing(name: &str) -> Reason {
    format!("`{name}` is missing")
}

/// A value for a reason, shortened: a reason is one line of a report.
fn shown(value: &Value) -> String {
    const MAX: usize = 60;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let mut short: String = text.chars().take(MAX).collect();
    short.push('…');
    short
}

fn parse_id<T>(
    name: &str,
    value: &Value,
    parse: impl Fn(String) -> Result<T, IdError>,
) -> Result<T, Reason> {
    let text = id_text(value).ok_or_else(|| {
        format!(
            "`{name}`: not an id (a string or an integer): {}",
            shown(value)
        )
    })?;
    parse(text).map_err(|e| format!("`{name}`: {e}"))
}

fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}

fn without_nul_data(value: DataValue) -> DataValue {
    match value {
        DataValue::String(s) if s.contains('\0') => DataValue::String(without_nul(&s)),
        DataValue::List(items) => {
            DataValue::List(items.into_iter().map(without_nul_data).collect())
        }
        DataValue::Map(map) => DataValue::Map(
            map.into_iter()
                .map(|(k, v)| (without_nul(&k), without_nul_data(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The last segment of a URL's path, for an attachment that has no name.
fn url_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The readers of one record's fields, each returning a reason that names the field.
struct Doc<'a>(&'a Value);

impl<'a> Doc<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        field(self.0, name)
    }

    fn required_id<T>(
        &self,
        name: &str,
        parse: impl Fn(String) -> Result<T, IdError>,
    ) -> Result<T, Reason> {
        let value = self.get(name).ok_or_else(|| missing(name))?;
        parse_id(name, value, parse)
    }

    /// A field holding one id or an array of them (`null` items skipped); none when absent.
    fn ids<T>(
        &self,
        name: &str,
        parse: impl Fn(String) -> Result<T, IdError>,
    ) -> Result<Vec<T>, Reason> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter(|(_, item)| !item.is_null())
                .map(|(i, item)| parse_id(&format!("{name}[{i}]"), item, &parse))
                .collect(),
            Some(value) => Ok(vec![parse_id(name, value, parse)?]),
        }
    }

    fn optional_id_text(&self, name: Option<&str>) -> Result<Option<String>, Reason> {
        let Some((name, value)) = name.and_then(|n| Some((n, self.get(n)?))) else {
            return Ok(None);
        };
        let text = id_text(value).ok_or_else(|| {
            format!(
                "`{name}`: not an id (a string or an integer): {}",
                shown(value)
            )
        })?;
        Ok(Some(without_nul(&text)))
    }

    fn text(&self, name: Option<&str>) -> Result<Option<String>, Reason> {
        let Some((name, value)) = name.and_then(|n| Some((n, self.get(n)?))) else {
            return Ok(None);
        };
        match value {
            Value::String(s) => Ok(Some(without_nul(s))),
            other => Err(format!("`{name}`: not a string: {}", shown(other))),
        }
    }

    fn time(&self, name: Option<&str>) -> Result<Option<Timestamp>, Reason> {
        let Some((name, value)) = name.and_then(|n| Some((n, self.get(n)?))) else {
            return Ok(None);
        };
        time(value)
            .map(Some)
            .ok_or_else(|| format!("`{name}`: not a time: {}", shown(value)))
    }

    /// The required creation time; when the record has none, the time its ObjectId carries
    /// (Mongoose models without `timestamps` still have one in every `_id`).
    fn created_at(&self, name: &str, id: &str) -> Result<Timestamp, Reason> {
        match self.time(Some(name))? {
            Some(at) => Ok(at),
            None => object_id_time(id).ok_or_else(|| missing(name)),
        }
    }

    fn bool(&self, name: Option<&str>) -> Result<Option<bool>, Reason> {
        let Some((name, value)) = name.and_then(|n| Some((n, self.get(n)?))) else {
            return Ok(None);
        };
        value
            .as_bool()
            .map(Some)
            .ok_or_else(|| format!("`{name}`: not true or false: {}", shown(value)))
    }

    fn unread_counts(&self, name: Option<&str>) -> Result<Vec<(UserId, u64)>, Reason> {
        let Some((name, value)) = name.and_then(|n| Some((n, self.get(n)?))) else {
            return Ok(Vec::new());
        };
        let Value::Object(map) = value else {
            return Err(format!(
                "`{name}`: not a map of user ids to counts: {}",
                shown(value)
            ));
        };
        map.iter()
            .filter(|(_, count)| !count.is_null())
            .map(|(user, count)| {
                let user = UserId::parse(user.clone()).map_err(|e| format!("`{name}`: {e}"))?;
                let count = count
                    .as_u64()
                    .ok_or_else(|| format!("`{name}.{user}`: not a count: {}", shown(count)))?;
                Ok((user, count))
            })
            .collect()
    }

    fn attachments(
        &self,
        name: Option<&str>,
        kind: MessageKind,
    ) -> Result<Vec<Attachment>, Reason> {
        let Some((name, value)) = name.and_then(|n| Some((n, self.get(n)?))) else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(format!("`{name}`: not an array: {}", shown(value)));
        };
        let default_kind = match kind {
            MessageKind::Image => "image",
            _ => "file",
        };
        let mut attachments = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("{name}[{i}]");
            let attachment = match item {
                Value::Null => continue,
                Value::String(url) => Attachment {
                    url: without_nul(url),
                    kind: default_kind.to_owned(),
                    name: without_nul(&url_name(url)),
                    size: 0,
                },
                Value::Object(_) => {
                    let part = Doc(item);
                    let url = part
                        .text(Some("url"))
                        .map_err(|e| format!("`{at}`: {e}"))?
                        .ok_or_else(|| format!("`{at}.url` is missing"))?;
                    let size = match part.get("size") {
                        None => 0,
                        Some(size) => size_of(size)
                            .ok_or_else(|| format!("`{at}.size`: not a size: {}", shown(size)))?,
                    };
                    Attachment {
                        kind: part
                            .text(Some("type"))
                            .map_err(|e| format!("`{at}`: {e}"))?
                            .unwrap_or_else(|| default_kind.to_owned()),
                        name: part
                            .text(Some("name"))
                            .map_err(|e| format!("`{at}`: {e}"))?
                            .unwrap_or_else(|| url_name(&url)),
                        url,
                        size,
                    }
                }
                other => {
                    return Err(format!(
                        "`{at}`: not an attachment or a URL: {}",
                        shown(other)
                    ));
                }
            };
            attachments.push(attachment);
        }
        Ok(attachments)
    }

    /// `{ callType, duration, status }` when the type and status are known ones (a missing
    /// or bad duration is 0 seconds); otherwise none.
    fn call(&self, name: &str) -> Option<CallInfo> {
        let info = Doc(self.get(name)?);
        let call_type = CallType::parse(info.get("callType")?.as_str()?)?;
        let status = CallOutcome::parse(info.get("status")?.as_str()?)?;
        let duration_secs = info
            .get("duration")
            .and_then(Value::as_f64)
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map_or(0, |secs| {
                // Saturating: a float beyond u32 becomes u32::MAX.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let secs = secs.round() as u32;
                secs
            });
        Some(CallInfo {
            call_type,
            duration_secs,
            status,
        })
    }

    fn read_by(&self, name: &str) -> Result<Vec<(UserId, Option<Timestamp>)>, Reason> {
        let Some(value) = self.get(name) else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(format!("`{name}`: not an array: {}", shown(value)));
        };
        let mut readers: Vec<(UserId, Option<Timestamp>)> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            let entry = Doc(item);
            let user = entry
                .required_id("userId", UserId::parse)
                .map_err(|e| format!("`{name}[{i}]`: {e}"))?;
            let at = entry
                .time(Some("readAt"))
                .map_err(|e| format!("`{name}[{i}]`: {e}"))?;
            if !readers.iter().any(|(known, _)| known == &user) {
                readers.push((user, at));
            }
        }
        Ok(readers)
    }
}

/// A byte count: a non-negative integer (or a whole float, as JavaScript numbers are).
fn size_of(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19).then(|| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = f as u64;
        n
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::adapters::outbound::legacy::family::Family;
    use crate::adapters::outbound::legacy::mapping::Mapping;

    fn record<T: std::fmt::Debug>(read: Read<T>) -> T {
        match read {
            Read::Record(record) => record,
            Read::Unreadable { id, reason } => panic!("{id} unreadable: {reason}"),
        }
    }

    /// The reason a record is unreadable; panics when it reads.
    fn reason<T: std::fmt::Debug>(read: Read<T>) -> (String, String) {
        match read {
            Read::Unreadable { id, reason } => (id, reason),
            Read::Record(record) => panic!("read, expected unreadable: {record:?}"),
        }
    }

    fn at(iso: &str) -> Timestamp {
        time(&json!(iso)).unwrap_or_else(|| panic!("{iso} is a time"))
    }

    fn uid(raw: &str) -> UserId {
        UserId::parse(raw).unwrap()
    }

    fn uids(raw: &[&str]) -> Vec<UserId> {
        raw.iter().map(|r| uid(r)).collect()
    }

    fn context(pairs: &[(&str, &str)]) -> ConversationContext {
        ConversationContext::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .unwrap()
    }

    const A: &str = "665f0000000000000000000a";
    const B: &str = "665f0000000000000000000b";

    #[test]
    fn kaajkaam_records() {
        let m = Mapping::defaults(Family::Kaajkaam);
        let c = record(conversation(
            &m.conversations,
            &json!({
                "_id": "665f00000000000000000001",
                "participants": [A, B, A],
                "orderId": "order456", "gigId": null, "jobId": "",
                "lastMessage": { "text": "hi", "sender": A, "timestamp": "2024-05-02T10:00:00.000Z" },
                "unreadCount": { A: 0, B: 3 },
                "isActive": false,
                "createdAt": "2024-05-01T10:00:00.000Z",
                "updatedAt": "2024-05-02T10:00:00.000Z",
                "__v": 0
            }),
        ));
        assert_eq!(c.id.as_str(), "665f00000000000000000001");
        assert_eq!(c.participants, uids(&[A, B]));
        assert_eq!(c.context, context(&[("orderId", "order456")]));
        assert_eq!(c.unread_counts, vec![(uid(A), 0), (uid(B), 3)]);
        assert!(!c.active);
        assert_eq!(c.created_at, at("2024-05-01T10:00:00Z"));
        assert_eq!(c.updated_at, Some(at("2024-05-02T10:00:00Z")));

        let call = record(message(
            &m.messages,
            &json!({
                "_id": "665f00000000000000000101",
                "conversationId": "665f00000000000000000001",
                "sender": A,
                "text": "",
                "messageType": "call",
                "attachments": [],
                "callInfo": { "callType": "video", "duration": 61.4, "status": "completed" },
                "readBy": [{ "userId": B, "readAt": "2024-05-01T10:05:00.000Z" }, { "userId": A }],
                "isEdited": false,
                "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!(
            call.body,
            MessageBody {
                kind: MessageKind::Call,
                text: String::new(),
                attachments: Vec::new(),
                call: Some(CallInfo {
                    call_type: CallType::Video,
                    duration_secs: 61,
                    status: CallOutcome::Completed,
                }),
            }
        );
        assert_eq!(call.sender, uid(A));
        assert_eq!(
            call.read,
            LegacyRead::By(vec![
                (uid(B), Some(at("2024-05-01T10:05:00Z"))),
                (uid(A), None)
            ])
        );
        assert_eq!(call.delivered, None);
        assert_eq!(call.edited_at, None);

        let files = record(message(
            &m.messages,
            &json!({
                "_id": "665f00000000000000000102",
                "conversationId": "665f00000000000000000001",
                "sender": B,
                "text": "the plans\u{0}",
                "messageType": "file",
                "attachments": [
                    { "url": "/uploads/plan.pdf", "type": "pdf", "name": "Plan.pdf", "size": 1024 },
                    { "url": "/uploads/x/photo.jpg?v=2" }
                ],
                "isEdited": true,
                "editedAt": "2024-05-01T10:03:00.000Z",
                "createdAt": "2024-05-01T10:02:00.000Z"
            }),
        ));
        assert_eq!(files.body.kind, MessageKind::File);
        // NUL is removed; everything else is kept as it was.
        assert_eq!(files.body.text, "the plans");
        assert_eq!(
            files.body.attachments,
            vec![
                Attachment {
                    url: "/uploads/plan.pdf".into(),
                    kind: "pdf".into(),
                    name: "Plan.pdf".into(),
                    size: 1024,
                },
                Attachment {
                    url: "/uploads/x/photo.jpg?v=2".into(),
                    kind: "file".into(),
                    name: "photo.jpg".into(),
                    size: 0,
                },
            ]
        );
        // readBy mapped but absent: nobody read it.
        assert_eq!(files.read, LegacyRead::By(Vec::new()));
        assert_eq!(files.edited_at, Some(at("2024-05-01T10:03:00Z")));

        let n = record(notification(
            &m.notifications,
            &json!({
                "_id": "665f00000000000000000201",
                "userId": B,
                "type": "message",
                "title": "New message",
                "message": "You have a new message",
                "referenceId": "665f00000000000000000001",
                "data": { "conversationId": "665f00000000000000000001", "n": 2 },
                "isRead": true,
                "delivered": true,
                "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!(n.recipient, uid(B));
        assert_eq!(n.kind, "message");
        assert_eq!(n.title.as_deref(), Some("New message"));
        assert_eq!(n.reference_id.as_deref(), Some("665f00000000000000000001"));
        assert_eq!(
            n.data.get("conversationId").and_then(DataValue::as_str),
            Some("665f00000000000000000001")
        );
        assert_eq!(n.data.get("n"), Some(&DataValue::Number(2.0)));
        // Flags without times date from the creation.
        assert_eq!(n.read_at, Some(at("2024-05-01T10:01:00Z")));
        assert_eq!(n.delivered_at, Some(at("2024-05-01T10:01:00Z")));

        let pending = record(notification(
            &m.notifications,
            &json!({
                "_id": "665f00000000000000000202", "userId": B, "type": "order",
                "message": "Order shipped", "isRead": false, "delivered": false,
                "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!((pending.read_at, pending.delivered_at), (None, None));
        assert_eq!(pending.data, DataValue::empty_map());

        let u = record(user(
            &m.users,
            &json!({
                "_id": A, "name": "Ann", "email": "ann@example.com", "avatar": "",
                "role": "Seller", "lastActive": "2024-04-30T08:00:00.000Z", "password": "x"
            }),
        ));
        assert_eq!(
            u,
            UserProfile {
                id: uid(A),
                name: Some("Ann".into()),
                email: Some("ann@example.com".into()),
                avatar: None,
                role: Role::new("seller"),
                last_active: Some(at("2024-04-30T08:00:00Z")),
            }
        );
    }

    #[test]
    fn linsta_records() {
        let m = Mapping::defaults(Family::Linsta);
        let c = record(conversation(
            &m.conversations,
            &json!({
                "_id": "665f00000000000000000001", "participants": [A, B],
                "createdAt": "2024-05-01T10:00:00.000Z", "updatedAt": "2024-05-01T11:00:00.000Z"
            }),
        ));
        assert!(c.context.is_empty());
        assert!(c.active);
        assert!(c.unread_counts.is_empty());

        let msg = record(message(
            &m.messages,
            &json!({
                "_id": "665f00000000000000000101", "chatRoomId": "665f00000000000000000001",
                "senderId": A, "text": "hello", "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!(msg.conversation_id.as_str(), "665f00000000000000000001");
        assert_eq!(msg.body.kind, MessageKind::Text);
        assert_eq!(msg.body.text, "hello");
        assert_eq!(msg.read, LegacyRead::Unknown);
        assert_eq!(msg.delivered, None);

        let n = record(notification(
            &m.notifications,
            &json!({
                "_id": "665f00000000000000000201", "userId": B, "type": "LIKE",
                "message": "Ann liked your post", "referenceId": "665f000000000000000000ff",
                "isRead": false, "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!(n.title, None);
        assert_eq!(n.read_at, None);
        // No delivered flag: delivered at its creation.
        assert_eq!(n.delivered_at, Some(at("2024-05-01T10:01:00Z")));

        let u = record(user(&m.users, &json!({ "_id": A, "name": "Ann" })));
        assert_eq!(u.name.as_deref(), Some("Ann"));
        assert_eq!((u.email, u.role, u.last_active), (None, None, None));
    }

    #[test]
    fn calmora_records() {
        let m = Mapping::defaults(Family::Calmora);
        let c = record(conversation(
            &m.conversations,
            &json!({
                "_id": "665f00000000000000000001", "participants": [A, B],
                "createdAt": "2024-05-01T10:00:00.000Z"
            }),
        ));
        assert_eq!(
            c.context,
            context(&[(CHOSEN_ID_KEY, "665f00000000000000000001")])
        );
        assert_eq!(c.updated_at, None);

        let msg = record(message(
            &m.messages,
            &json!({
                "_id": "665f00000000000000000101", "chatId": "665f00000000000000000001",
                "senderId": A, "recipientId": B, "message": "how are you?",
                "delivered": true, "isRead": true, "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!(msg.body.text, "how are you?");
        assert_eq!(msg.delivered, Some(true));
        assert_eq!(
            msg.read,
            LegacyRead::Flag {
                read: true,
                at: None
            }
        );
        let unread = record(message(
            &m.messages,
            &json!({
                "_id": "665f00000000000000000102", "chatId": "665f00000000000000000001",
                "senderId": A, "message": "still there?", "createdAt": "2024-05-01T10:02:00.000Z"
            }),
        ));
        assert_eq!(unread.delivered, Some(false));
        assert_eq!(
            unread.read,
            LegacyRead::Flag {
                read: false,
                at: None
            }
        );

        let n = record(notification(
            &m.notifications,
            &json!({
                "_id": "665f00000000000000000201", "userId": B, "type": "session",
                "message": "Your session starts soon", "extra": { "sessionId": "s1", "at": [1, true] },
                "isRead": false, "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!(
            n.data.get("sessionId").and_then(DataValue::as_str),
            Some("s1")
        );
        assert_eq!(
            n.data.get("at"),
            Some(&DataValue::List(vec![
                DataValue::Number(1.0),
                DataValue::Bool(true)
            ]))
        );
        assert_eq!(n.delivered_at, Some(at("2024-05-01T10:01:00Z")));

        let u = record(user(
            &m.users,
            &json!({ "_id": A, "name": "Ann", "avatar": "/a.png", "role": "therapist" }),
        ));
        assert_eq!(u.avatar.as_deref(), Some("/a.png"));
        assert_eq!(u.role, Role::new("therapist"));
    }

    #[test]
    fn marketplace_records() {
        let m = Mapping::defaults(Family::Marketplace);
        let c = record(conversation(
            &m.conversations,
            &json!({
                "_id": "665f00000000000000000001", "participants": [A, B],
                "createdAt": "2024-05-01T10:00:00.000Z"
            }),
        ));
        assert!(c.context.is_empty());

        let msg = record(message(
            &m.messages,
            &json!({
                "_id": "665f00000000000000000101", "chatId": "665f00000000000000000001",
                "sender": B, "content": "", "messageType": "image",
                "media": ["https://cdn.example.com/m/photo.png"],
                "delivered": true, "isRead": false, "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!(msg.body.kind, MessageKind::Image);
        assert_eq!(
            msg.body.attachments,
            vec![Attachment {
                url: "https://cdn.example.com/m/photo.png".into(),
                kind: "image".into(),
                name: "photo.png".into(),
                size: 0,
            }]
        );
        assert_eq!(msg.delivered, Some(true));
        assert_eq!(
            msg.read,
            LegacyRead::Flag {
                read: false,
                at: None
            }
        );

        let n = record(notification(
            &m.notifications,
            &json!({
                "_id": "665f00000000000000000201", "userId": B, "type": "offer",
                "title": "New offer", "message": "You got an offer", "data": null,
                "isRead": true, "delivered": false, "createdAt": "2024-05-01T10:01:00.000Z"
            }),
        ));
        assert_eq!(n.data, DataValue::empty_map());
        // Read implies delivered, whatever the flag says.
        assert_eq!(n.read_at, Some(at("2024-05-01T10:01:00Z")));
        assert_eq!(n.delivered_at, n.read_at);

        let u = record(user(
            &m.users,
            &json!({ "_id": A, "isOnline": true, "lastActive": 1_714_557_600_000_i64 }),
        ));
        assert_eq!(
            u.last_active,
            Some(Timestamp::from_millis(1_714_557_600_000))
        );
    }

    #[test]
    fn quickclinic_records() {
        let m = Mapping::defaults(Family::Quickclinic);
        // As row_to_json writes a Prisma row: timestamp(3) without an offset.
        let c = record(conversation(
            &m.conversations,
            &json!({
                "id": "0b6f3c1e-8d7a-4b8e-9a43-2d1f6e0c9b11", "doctorId": "doc-1",
                "patientId": "pat-1", "createdAt": "2024-05-01T10:00:00.123",
                "updatedAt": "2024-05-01T10:00:00.123"
            }),
        ));
        assert_eq!(c.participants, uids(&["doc-1", "pat-1"]));
        assert_eq!(
            c.context,
            context(&[("doctorId", "doc-1"), ("patientId", "pat-1")])
        );
        assert_eq!(c.created_at, at("2024-05-01T10:00:00.123Z"));

        let msg = record(message(
            &m.messages,
            &json!({
                "id": 42, "relationId": "0b6f3c1e-8d7a-4b8e-9a43-2d1f6e0c9b11",
                "senderId": "pat-1", "text": "Doctor?", "isRead": true,
                "readAt": "2024-05-01T10:05:00", "createdAt": "2024-05-01T10:01:00"
            }),
        ));
        assert_eq!(msg.id.as_str(), "42");
        assert_eq!(
            msg.read,
            LegacyRead::Flag {
                read: true,
                at: Some(at("2024-05-01T10:05:00Z"))
            }
        );
        let unread = record(message(
            &m.messages,
            &json!({
                "id": 43, "relationId": "0b6f3c1e-8d7a-4b8e-9a43-2d1f6e0c9b11",
                "senderId": "doc-1", "text": "Yes", "isRead": false, "readAt": null,
                "createdAt": "2024-05-01T10:06:00"
            }),
        ));
        assert_eq!(
            unread.read,
            LegacyRead::Flag {
                read: false,
                at: None
            }
        );

        let u = record(user(
            &m.users,
            &json!({ "id": "doc-1", "name": "Dr. Who", "email": "who@example.com",
                     "role": "DOCTOR", "image": "/who.png", "password": "hash" }),
        ));
        assert_eq!(u.avatar.as_deref(), Some("/who.png"));
        assert_eq!(u.role, Role::new("doctor"));
    }

    #[test]
    fn times_in_every_accepted_form() {
        let noon = Timestamp::from_millis(1_714_564_800_000); // 2024-05-01T12:00:00Z
        let with_millis = Timestamp::from_millis(1_714_564_800_123);
        for (raw, expected) in [
            (json!("2024-05-01T12:00:00Z"), noon),
            (json!("2024-05-01T12:00:00.123Z"), with_millis),
            (json!("2024-05-01T14:00:00+02:00"), noon),
            (json!("2024-05-01T14:00:00.123+02:00"), with_millis),
            (json!("2024-05-01 14:00:00+02"), noon),
            (json!("2024-05-01T14:00:00+0200"), noon),
            (json!("2024-05-01 12:00:00.123+00:00"), with_millis),
            // No offset: UTC, as Prisma's timestamp(3) holds it.
            (json!("2024-05-01T12:00:00"), noon),
            (json!("2024-05-01T12:00:00.123"), with_millis),
            (json!("2024-05-01 12:00:00.123"), with_millis),
            (
                json!("2024-05-01"),
                Timestamp::from_millis(1_714_521_600_000),
            ),
            (json!(" 2024-05-01T12:00:00Z "), noon),
            (json!(1_714_564_800_123_i64), with_millis),
            (json!(1_714_564_800_123.4), with_millis),
            (json!("1714564800123"), with_millis),
            (json!(-1000), Timestamp::from_millis(-1000)),
        ] {
            assert_eq!(time(&raw), Some(expected), "{raw}");
        }
        for raw in [
            json!("yesterday"),
            json!(""),
            json!("2024-13-01T00:00:00Z"),
            json!(true),
            json!({ "$date": 1 }),
            json!(f64::MAX),
        ] {
            assert_eq!(time(&raw), None, "{raw}");
        }
    }

    #[test]
    fn fields_by_dotted_paths_ids_by_text() {
        let doc = json!({ "a": { "b": [{ "c": 5 }] }, "n": null });
        assert_eq!(field(&doc, "a.b.0.c"), Some(&json!(5)));
        assert_eq!(field(&doc, "a.b.1.c"), None);
        assert_eq!(field(&doc, "a.x"), None);
        assert_eq!(field(&doc, "n"), None);
        assert_eq!(id_text(&json!("x1")), Some("x1".into()));
        assert_eq!(id_text(&json!(-7)), Some("-7".into()));
        assert_eq!(id_text(&json!(u64::MAX)), Some(u64::MAX.to_string()));
        assert_eq!(id_text(&json!(1.5)), None);
        assert_eq!(id_text(&json!({ "$oid": "x" })), None);
    }

    #[test]
    fn a_missing_creation_time_falls_back_to_the_object_id() {
        let m = Mapping::defaults(Family::Linsta);
        let c = record(conversation(
            &m.conversations,
            &json!({ "_id": "665f1c80aaaaaaaaaaaaaaaa", "participants": [A, B] }),
        ));
        assert_eq!(c.created_at, Timestamp::from_millis(0x665f_1c80 * 1000));
        // Not for other ids, and never for a time that is there but bad.
        let (_, why) = reason(conversation(
            &m.conversations,
            &json!({ "_id": "c1", "participants": [A, B] }),
        ));
        assert_eq!(why, "`createdAt` is missing");
        let (_, why) = reason(conversation(
            &m.conversations,
            &json!({ "_id": "665f1c80aaaaaaaaaaaaaaaa", "participants": [A, B], "createdAt": "soon" }),
        ));
        assert_eq!(why, "`createdAt`: not a time: \"soon\"");
    }

    #[test]
    fn unreadable_conversations_say_which_field() {
        let m = Mapping::defaults(Family::Kaajkaam);
        let cases = [
            (
                json!({ "participants": [A, B], "createdAt": 1 }),
                "",
                "`_id` is missing",
            ),
            (
                json!({ "_id": "c1", "participants": [A, A], "createdAt": 1 }),
                "c1",
                "`participants`: fewer than two distinct participants",
            ),
            (
                json!({ "_id": "c1", "participants": [A, 1.5], "createdAt": 1 }),
                "c1",
                "`participants[1]`: not an id (a string or an integer): 1.5",
            ),
            (
                json!({ "_id": "c1", "participants": [A, "b c"], "createdAt": 1 }),
                "c1",
                "`participants[1]`: user id must not contain control characters or whitespace",
            ),
            (
                json!({ "_id": "c1", "participants": [A, B], "orderId": {}, "createdAt": 1 }),
                "c1",
                "`orderId`: not an id (a string or an integer): {}",
            ),
            (
                json!({ "_id": "c1", "participants": [A, B], "isActive": "no", "createdAt": 1 }),
                "c1",
                "`isActive`: not true or false: \"no\"",
            ),
            (
                json!({ "_id": "c1", "participants": [A, B], "unreadCount": { A: -1 }, "createdAt": 1 }),
                "c1",
                "`unreadCount.665f0000000000000000000a`: not a count: -1",
            ),
            (
                json!({ "_id": 7, "participants": [A, B], "createdAt": 1, "updatedAt": [] }),
                "7",
                "`updatedAt`: not a time: []",
            ),
        ];
        for (doc, id, why) in cases {
            assert_eq!(
                reason(conversation(&m.conversations, &doc)),
                (id.to_owned(), why.to_owned()),
                "{doc}"
            );
        }
        // Quickclinic: a relation whose patient was deleted has one participant.
        let q = Mapping::defaults(Family::Quickclinic);
        let (id, why) = reason(conversation(
            &q.conversations,
            &json!({ "id": 3, "doctorId": "doc-1", "patientId": null, "createdAt": "2024-05-01T10:00:00" }),
        ));
        assert_eq!(id, "3");
        assert_eq!(
            why,
            "`doctorId`, `patientId`: fewer than two distinct participants"
        );
    }

    #[test]
    fn unreadable_messages_say_which_field() {
        let m = Mapping::defaults(Family::Kaajkaam);
        let base = json!({
            "_id": "m1", "conversationId": "c1", "sender": A, "createdAt": "2024-05-01T10:00:00Z"
        });
        let with = |key: &str, value: Value| {
            let mut doc = base.clone();
            match value {
                Value::Null => doc.as_object_mut().unwrap().remove(key),
                value => doc.as_object_mut().unwrap().insert(key.to_owned(), value),
            };
            doc
        };
        for (doc, why) in [
            (with("sender", Value::Null), "`sender` is missing"),
            (
                with("conversationId", json!("")),
                "`conversationId`: conversation id must not be empty",
            ),
            (
                with("createdAt", json!("later")),
                "`createdAt`: not a time: \"later\"",
            ),
            (with("text", json!(5)), "`text`: not a string: 5"),
            (
                with("attachments", json!("x.png")),
                "`attachments`: not an array: \"x.png\"",
            ),
            (
                with("attachments", json!([{ "name": "x" }])),
                "`attachments[0].url` is missing",
            ),
            (
                with("attachments", json!([{ "url": "/x", "size": -1 }])),
                "`attachments[0].size`: not a size: -1",
            ),
            (
                with("attachments", json!([3])),
                "`attachments[0]`: not an attachment or a URL: 3",
            ),
            (
                with("readBy", json!([{ "readAt": "2024-05-01T10:00:00Z" }])),
                "`readBy[0]`: `userId` is missing",
            ),
            (
                with("readBy", json!([{ "userId": B, "readAt": "x" }])),
                "`readBy[0]`: `readAt`: not a time: \"x\"",
            ),
            (
                with("editedAt", json!(false)),
                "`editedAt`: not a time: false",
            ),
        ] {
            assert_eq!(
                reason(message(&m.messages, &doc)),
                ("m1".to_owned(), why.to_owned()),
                "{doc}"
            );
        }
        // A long value is shortened in the reason.
        let (_, why) = reason(message(
            &m.messages,
            &with("text", Value::Array(vec![json!("y"); 40])),
        ));
        assert!(why.ends_with('…') && why.chars().count() < 100, "{why}");
    }

    #[test]
    fn a_call_message_without_usable_call_info_stays_text() {
        let m = Mapping::defaults(Family::Kaajkaam);
        for call_info in [
            Value::Null,
            json!({ "callType": "hologram", "status": "completed" }),
            json!({ "callType": "audio" }),
            json!("audio"),
        ] {
            let doc = json!({
                "_id": "m1", "conversationId": "c1", "sender": A, "text": "Call ended",
                "messageType": "call", "callInfo": call_info, "createdAt": 1
            });
            let msg = record(message(&m.messages, &doc));
            assert_eq!(msg.body.kind, MessageKind::Text, "{doc}");
            assert_eq!(msg.body.text, "Call ended");
            assert_eq!(msg.body.call, None);
        }
        // Call info on a message that is not a call is ignored; an unknown kind is text.
        let msg = record(message(
            &m.messages,
            &json!({
                "_id": "m2", "conversationId": "c1", "sender": A, "messageType": "sticker",
                "callInfo": { "callType": "audio", "status": "missed" }, "createdAt": 1
            }),
        ));
        assert_eq!((msg.body.kind, msg.body.call), (MessageKind::Text, None));
        let missed = record(message(
            &m.messages,
            &json!({
                "_id": "m3", "conversationId": "c1", "sender": A, "messageType": "call",
                "callInfo": { "callType": "audio", "status": "missed", "duration": "x" },
                "createdAt": 1
            }),
        ));
        assert_eq!(
            missed.body.call,
            Some(CallInfo {
                call_type: CallType::Audio,
                duration_secs: 0,
                status: CallOutcome::Missed,
            })
        );
    }

    #[test]
    fn unreadable_notifications_and_users_say_which_field() {
        let m = Mapping::defaults(Family::Kaajkaam);
        for (doc, why) in [
            (
                json!({ "_id": "n1", "type": "t", "message": "m", "createdAt": 1 }),
                "`userId` is missing",
            ),
            (
                json!({ "_id": "n1", "userId": A, "message": "m", "createdAt": 1 }),
                "`type` is missing",
            ),
            (
                json!({ "_id": "n1", "userId": A, "type": " ", "message": "m", "createdAt": 1 }),
                "`type` is empty",
            ),
            (
                json!({ "_id": "n1", "userId": A, "type": "t", "createdAt": 1 }),
                "`message` is missing",
            ),
            (
                json!({ "_id": "n1", "userId": A, "type": "t", "message": "m", "isRead": 1, "createdAt": 1 }),
                "`isRead`: not true or false: 1",
            ),
            (
                json!({ "_id": "n1", "userId": A, "type": "t", "message": "m", "referenceId": [], "createdAt": 1 }),
                "`referenceId`: not an id (a string or an integer): []",
            ),
        ] {
            assert_eq!(
                reason(notification(&m.notifications, &doc)),
                ("n1".to_owned(), why.to_owned()),
                "{doc}"
            );
        }
        assert_eq!(
            reason(user(&m.users, &json!({ "name": "Ann" }))),
            (String::new(), "`_id` is missing".to_owned())
        );
        assert_eq!(
            reason(user(&m.users, &json!({ "_id": A, "email": 3 }))),
            (A.to_owned(), "`email`: not a string: 3".to_owned())
        );
    }

    #[test]
    fn notification_marks_from_flags_and_times() {
        let m = Mapping::defaults(Family::Kaajkaam);
        let created = "2024-05-01T10:00:00Z";
        let read_time = "2024-05-01T11:00:00Z";
        let delivered_time = "2024-05-01T10:30:00Z";
        let n = record(notification(
            &m.notifications,
            &json!({
                "_id": "n1", "userId": A, "type": "t", "message": "m\u{0}", "isRead": true,
                "readAt": read_time, "delivered": true, "deliveredAt": delivered_time,
                "data": { "k\u{0}": "v\u{0}" }, "referenceId": 12, "createdAt": created
            }),
        ));
        assert_eq!(n.message, "m");
        assert_eq!(n.read_at, Some(at(read_time)));
        assert_eq!(n.delivered_at, Some(at(delivered_time)));
        assert_eq!(n.data, DataValue::map_of([("k", "v".to_owned())]));
        assert_eq!(n.reference_id.as_deref(), Some("12"));
        // A time without its flag counts; a false flag wins over a time.
        let n = record(notification(
            &m.notifications,
            &json!({
                "_id": "n2", "userId": A, "type": "t", "message": "m", "readAt": read_time,
                "delivered": false, "deliveredAt": delivered_time, "createdAt": created
            }),
        ));
        assert_eq!(n.read_at, Some(at(read_time)));
        assert_eq!(n.delivered_at, Some(at(read_time)));
    }

    #[test]
    fn report_ids() {
        assert_eq!(record_id(&json!({ "_id": "x" }), "_id"), "x");
        assert_eq!(record_id(&json!({ "id": 12 }), "id"), "12");
        assert_eq!(record_id(&json!({ "id": [1] }), "id"), "[1]");
        assert_eq!(record_id(&json!({}), "id"), "");
    }
}
