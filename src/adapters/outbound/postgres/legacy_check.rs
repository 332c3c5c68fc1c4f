//! The start-up refusal of a database that still holds the Prisma tables of a Node server
//! born on PostgreSQL with rows that were never imported: served without them, every
//! relation's history would look empty. The tables are found under their default names
//! (docs/LEGACY_SHAPES.md); a deployment whose tables were renamed (an import mapping file)
//! is not checked.

use sqlx::PgPool;

use crate::adapters::outbound::legacy::postgres_source::{quote_ident, quote_table};
use crate::adapters::outbound::legacy::{Family, LegacyDatabase, Mapping};
use crate::ports::StoreError;

/// (legacy table, its id column, this store's table) of every family born on PostgreSQL.
fn legacy_tables() -> Vec<(String, String, &'static str)> {
    Family::ALL
        .into_iter()
        .filter(|f| f.database() == LegacyDatabase::Postgres)
        .flat_map(|family| {
            let mapping = Mapping::defaults(family);
            [
                (
                    mapping.conversations.from,
                    mapping.conversations.id,
                    "conversations",
                ),
                (mapping.messages.from, mapping.messages.id, "messages"),
            ]
        })
        .collect()
}

/// `Err` naming the import command when a legacy table has a row whose id is not in this
/// store's table. Stops at the first such row; on a database that is all imported it reads
/// both id indexes once (an anti-join), well under a second for a million rows.
pub(super) async fn refuse_unimported(pool: &PgPool, server: &str) -> Result<(), StoreError> {
    let unavailable = |e: sqlx::Error| {
        StoreError::Unavailable(format!("checking {server} for legacy tables: {e}"))
    };
    let mut found = Vec::new();
    for (legacy, id, own) in legacy_tables() {
        let table = quote_table(&legacy);
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(&table)
            .fetch_one(pool)
            .await
            .map_err(unavailable)?;
        if !exists {
            continue;
        }
        // The names are the family defaults, quoted: not input.
        let query = format!(
            "SELECT EXISTS (SELECT 1 FROM {table} l \
             WHERE NOT EXISTS (SELECT 1 FROM {own} o WHERE o.id = l.{}::text))",
            quote_ident(&id)
        );
        let unimported: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .fetch_one(pool)
            .await
            .map_err(unavailable)?;
        if unimported {
            found.push(table);
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(StoreError::Unavailable(format!(
        "PostgreSQL database {server} holds rows of a Node server that were never imported \
         (in {}): run `{}` first, after stopping the Node server (docs/MIGRATION.md)",
        found.join(", "),
        LegacyDatabase::Postgres.import_command("DATABASE_URL"),
    )))
}
