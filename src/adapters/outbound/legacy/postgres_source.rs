//! `PgSource`: a Node server's PostgreSQL database (Prisma's tables) read as
//! legacy records. Each row becomes a JSON value (`row_to_json`) and goes through the
//! family's `Mapping` (`record.rs`), so the source needs no knowledge of the column types.
//!
//! Every stream holds one pooled connection with a read-only transaction and a server-side
//! cursor over one sorted query, and fetches a batch per call: memory stays bounded and the
//! server sorts once, even for millions of rows. Table and column names come from the
//! mapping file and are always quoted as identifiers, never interpolated as they are.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Postgres, Transaction};

use super::mapping::Mapping;
use super::record;
use crate::adapters::outbound::postgres::PgStores;
use crate::domain::{ConversationId, Notification, UserProfile};
use crate::ports::{
    Batches, LegacyConversation, LegacyCounts, LegacyMessage, LegacySource, Read, SourceError,
};

/// A stream each, and one for lookups while they run.
const MAX_CONNECTIONS: u32 = 4;
/// The most rows one `FETCH` asks for, whatever the caller's batch.
const MAX_FETCH: usize = 10_000;
/// The cursor's name; each stream has its own transaction, so one name serves all.
const CURSOR: &str = "legacy_records";
/// PostgreSQL's error class "data exception" (`22…`): an id that is no value of the id
/// column's type, which no row can have.
const DATA_EXCEPTION: &str = "22";

/// Maps one row (as JSON) to a record of the stream.
type ReadFn<T> = fn(&Mapping, &Value) -> Read<T>;

/// A legacy PostgreSQL database, read through a small sqlx pool.
pub struct PgSource {
    pool: PgPool,
    mapping: Arc<Mapping>,
    /// `SELECT … WHERE <id> = $1` for `conversation(id)`, in the id column's own type when
    /// it is known, so that its index serves the lookup.
    lookup: String,
}

impl PgSource {
    /// Connects (`url` is a libpq-style URL) with sessions that are read-only by default.
    /// `timeout` bounds every wait for a connection.
    ///
    /// # Errors
    /// The URL is malformed, or no connection is made within `timeout`; the message names
    /// the server and database, never the password.
    pub async fn connect(
        url: &str,
        mapping: Mapping,
        timeout: Duration,
    ) -> Result<Self, SourceError> {
        // sqlx's parse errors name the part that is wrong, not the URL.
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| SourceError(format!("bad PostgreSQL URL: {e}")))?
            .options([("default_transaction_read_only", "on")]);
        let server = PgStores::describe(url);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(timeout)
            .connect_with(options)
            .await
            .map_err(|e| SourceError(format!("PostgreSQL at {server}: {e}")))?;
        let f = &mapping.conversations;
        let id_type = column_type(&pool, &f.from, &f.id).await?;
        let lookup = lookup_sql(&f.from, &f.id, id_type.as_deref());
        Ok(Self {
            pool,
            mapping: Arc::new(mapping),
            lookup,
        })
    }

    /// Declares the cursor over `SELECT row_to_json(t)::text FROM <table> t ORDER BY …` in a
    /// transaction of its own.
    async fn stream<T: Send + 'static>(
        &self,
        table: &str,
        order: &[&str],
        id_field: &str,
        read: ReadFn<T>,
    ) -> Result<Box<dyn Batches<T>>, SourceError> {
        let reading = format!("reading {}", quote_table(table));
        let mut tx = self.pool.begin().await.map_err(|e| failed(&reading, &e))?;
        sqlx::query(AssertSqlSafe(declare_sql(table, order)))
            .persistent(false)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed(&reading, &e))?;
        Ok(Box::new(PgBatches {
            tx: Some(tx),
            reading,
            id_field: id_field.to_owned(),
            mapping: Arc::clone(&self.mapping),
            read,
        }))
    }

    async fn count(&self, table: &str, enabled: bool) -> Result<u64, SourceError> {
        if !enabled {
            return Ok(0);
        }
        let quoted = quote_table(table);
        let counting = format!("counting {quoted}");
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(&quoted)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| failed(&counting, &e))?;
        if !exists {
            return Ok(0);
        }
        let count: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {quoted}")))
                .persistent(false)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| failed(&counting, &e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[async_trait]
impl LegacySource for PgSource {
    async fn counts(&self) -> Result<LegacyCounts, SourceError> {
        let m = &self.mapping;
        Ok(LegacyCounts {
            conversations: self.count(&m.conversations.from, true).await?,
            messages: self.count(&m.messages.from, true).await?,
            notifications: self
                .count(&m.notifications.from, m.notifications.enabled)
                .await?,
            users: self.count(&m.users.from, m.users.enabled).await?,
        })
    }

    async fn messages(&self) -> Result<Box<dyn Batches<LegacyMessage>>, SourceError> {
        let f = &self.mapping.messages;
        let order = [f.conversation.as_str(), &f.created_at, &f.id];
        self.stream(&f.from, &order, &f.id, |m, v| {
            record::message(&m.messages, v)
        })
        .await
    }

    async fn conversations(&self) -> Result<Box<dyn Batches<LegacyConversation>>, SourceError> {
        let f = &self.mapping.conversations;
        self.stream(&f.from, &[&f.id], &f.id, |m, v| {
            record::conversation(&m.conversations, v)
        })
        .await
    }

    async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<LegacyConversation>, SourceError> {
        let f = &self.mapping.conversations;
        let found: Result<Option<String>, sqlx::Error> =
            sqlx::query_scalar(AssertSqlSafe(self.lookup.clone()))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await;
        let row = match found {
            Ok(row) => row,
            // `abc` as an integer id, say: no row has it.
            Err(sqlx::Error::Database(e))
                if e.code().is_some_and(|c| c.starts_with(DATA_EXCEPTION)) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(failed(&format!("reading {}", quote_table(&f.from)), &e)),
        };
        Ok(row.and_then(
            |text| match read_row(&text, &f.id, |v| record::conversation(f, v)) {
                Read::Record(conversation) => Some(conversation),
                Read::Unreadable { .. } => None,
            },
        ))
    }

    async fn notifications(&self) -> Result<Box<dyn Batches<Notification>>, SourceError> {
        let f = &self.mapping.notifications;
        if !f.enabled {
            return Ok(Box::new(record::NoRecords));
        }
        self.stream(&f.from, &[&f.id], &f.id, |m, v| {
            record::notification(&m.notifications, v)
        })
        .await
    }

    async fn users(&self) -> Result<Box<dyn Batches<UserProfile>>, SourceError> {
        let f = &self.mapping.users;
        if !f.enabled {
            return Ok(Box::new(record::NoRecords));
        }
        self.stream(&f.from, &[&f.id], &f.id, |m, v| record::user(&m.users, v))
            .await
    }
}

/// One cursor, fetched a batch at a time; the transaction ends with the last row, or is
/// rolled back (closing the cursor) when the stream is dropped before.
struct PgBatches<T> {
    tx: Option<Transaction<'static, Postgres>>,
    reading: String,
    id_field: String,
    mapping: Arc<Mapping>,
    read: ReadFn<T>,
}

#[async_trait]
impl<T: Send + 'static> Batches<T> for PgBatches<T> {
    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Read<T>>>, SourceError> {
        let Some(tx) = self.tx.as_mut() else {
            return Ok(None);
        };
        let n = max.clamp(1, MAX_FETCH);
        let rows: Vec<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("FETCH FORWARD {n} FROM {CURSOR}")))
                .persistent(false)
                .fetch_all(&mut **tx)
                .await
                .map_err(|e| failed(&self.reading, &e))?;
        if rows.len() < n
            && let Some(tx) = self.tx.take()
        {
            // Every row is read: a COMMIT that fails (a read-only transaction) loses nothing,
            // and the pool drops a connection that broke.
            let _ = tx.commit().await;
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let (mapping, read) = (&self.mapping, self.read);
        Ok(Some(
            rows.iter()
                .map(|text| read_row(text, &self.id_field, |v| read(mapping, v)))
                .collect(),
        ))
    }
}

fn read_row<T>(text: &str, id_field: &str, read: impl FnOnce(&Value) -> Read<T>) -> Read<T> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => read(&value),
        // row_to_json writes JSON; a value serde_json refuses (a number beyond f64) is
        // still reported, not fatal.
        Err(e) => Read::Unreadable {
            id: String::new(),
            reason: format!("the row's JSON does not parse ({e}); `{id_field}` unknown"),
        },
    }
}

/// The type of `table.column` as PostgreSQL names it (`integer`, `uuid`, `text`, a quoted
/// name for a type of its own); `None` when there is no such table or column.
async fn column_type(
    pool: &PgPool,
    table: &str,
    column: &str,
) -> Result<Option<String>, SourceError> {
    sqlx::query_scalar(
        "SELECT a.atttypid::regtype::text FROM pg_attribute a \
         WHERE a.attrelid = to_regclass($1) AND a.attname = $2 \
           AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .bind(quote_table(table))
    .bind(column)
    .fetch_optional(pool)
    .await
    .map_err(|e| {
        failed(
            &format!("reading the columns of {}", quote_table(table)),
            &e,
        )
    })
}

/// The conversation lookup: compared in the column's own type when known (the type name
/// comes from the catalog, not from the mapping file), else as text.
fn lookup_sql(table: &str, id: &str, id_type: Option<&str>) -> String {
    let column = format!("t.{}", quote_ident(id));
    let filter = match id_type {
        Some(ty) => format!("{column} = CAST($1 AS {ty})"),
        None => format!("{column}::text = $1"),
    };
    format!(
        "SELECT row_to_json(t)::text FROM {} t WHERE {filter} LIMIT 1",
        quote_table(table)
    )
}

fn declare_sql(table: &str, order: &[&str]) -> String {
    let mut columns: Vec<String> = Vec::with_capacity(order.len());
    for name in order {
        let column = format!("t.{}", quote_ident(name));
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    format!(
        "DECLARE {CURSOR} NO SCROLL CURSOR FOR \
         SELECT row_to_json(t)::text FROM {} t ORDER BY {}",
        quote_table(table),
        columns.join(", ")
    )
}

/// `name` as a quoted identifier: in double quotes, embedded ones doubled.
pub(in crate::adapters::outbound) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table name, `schema.table` accepted: each part quoted.
pub(in crate::adapters::outbound) fn quote_table(name: &str) -> String {
    name.split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

fn failed(what: &str, error: &sqlx::Error) -> SourceError {
    SourceError(format!("PostgreSQL, {what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_always_quoted() {
        assert_eq!(quote_ident("createdAt"), "\"createdAt\"");
        assert_eq!(
            quote_ident("a\"; DROP TABLE x; --"),
            "\"a\"\"; DROP TABLE x; --\""
        );
        assert_eq!(quote_table("ChatMessages"), "\"ChatMessages\"");
        assert_eq!(
            quote_table("clinic.ChatMessages"),
            "\"clinic\".\"ChatMessages\""
        );
    }

    #[test]
    fn the_message_cursor_sorts_by_conversation_time_and_id() {
        assert_eq!(
            declare_sql("ChatMessages", &["relationId", "createdAt", "id"]),
            "DECLARE legacy_records NO SCROLL CURSOR FOR SELECT row_to_json(t)::text \
             FROM \"ChatMessages\" t ORDER BY t.\"relationId\", t.\"createdAt\", t.\"id\""
        );
        assert!(declare_sql("m", &["c", "id", "id"]).ends_with("ORDER BY t.\"c\", t.\"id\""));
    }

    #[test]
    fn lookups_compare_in_the_id_columns_type() {
        assert_eq!(
            lookup_sql("DoctorPatientRelation", "id", Some("integer")),
            "SELECT row_to_json(t)::text FROM \"DoctorPatientRelation\" t \
             WHERE t.\"id\" = CAST($1 AS integer) LIMIT 1"
        );
        assert!(lookup_sql("R", "id", None).contains("WHERE t.\"id\"::text = $1"));
    }

    #[test]
    fn a_row_that_does_not_parse_is_reported() {
        let read = read_row("{", "id", |_| Read::Record(()));
        assert!(matches!(read, Read::Unreadable { id, .. } if id.is_empty()));
    }
}
