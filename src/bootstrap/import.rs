//! `switchboard import`: opens the legacy source the `--from` URI names (MongoDB or
//! PostgreSQL, whichever the URI says)
//! with the family's field mapping, and the configured store as the import sink, then runs
//! `crate::app::import`.

use std::path::PathBuf;

use anyhow::Context;

use super::config::StoreSettings;
use crate::app::import::{ImportOptions, ImportReport, import};
use crate::ports::{ImportProgress, ImportSink, LegacySource};

/// What the command line asks for.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub family: String,
    /// `mongodb://…`, `mongodb+srv://…`, `postgres://…` or `postgresql://…`.
    pub from: String,
    /// The MongoDB database, when the URI names none.
    pub database: Option<String>,
    /// A TOML file overriding the family's default field names.
    pub mapping: Option<PathBuf>,
    pub options: ImportOptions,
}

/// The families `switchboard import` reads (none without the `mongo` and `postgres` features).
pub fn import_families() -> Vec<&'static str> {
    #[cfg(any(feature = "mongo", feature = "postgres"))]
    return crate::adapters::outbound::legacy::Family::ALL
        .iter()
        .map(|f| f.as_str())
        .collect();
    #[cfg(not(any(feature = "mongo", feature = "postgres")))]
    Vec::new()
}

/// What an import runs on: the source and the sink, opened.
pub struct ImportParts {
    pub family: &'static str,
    pub source: Box<dyn LegacySource>,
    pub sink: Box<dyn ImportSink>,
}

/// Opens the source `request` names (with its family's mapping) and the configured store as
/// the sink: everything `run_import` does before importing.
///
/// # Errors
/// An unknown family, a bad mapping file, or a source or store that cannot be opened.
pub async fn open_import(
    store: &StoreSettings,
    request: &ImportRequest,
) -> anyhow::Result<ImportParts> {
    #[cfg(any(feature = "mongo", feature = "postgres"))]
    return with_sources::open(store, request).await;
    #[cfg(not(any(feature = "mongo", feature = "postgres")))]
    {
        let _ = (store, request);
        anyhow::bail!(
            "importing reads the Node servers' MongoDB or PostgreSQL databases: rebuild with \
             --features mongo or --features postgres"
        )
    }
}

/// Runs the import into the configured store.
///
/// # Errors
/// An unknown family, a bad mapping file, a source or store that cannot be opened, or a
/// failure while importing (what was written stays; running again continues).
pub async fn run_import(
    store: &StoreSettings,
    request: &ImportRequest,
    progress: &dyn ImportProgress,
) -> anyhow::Result<ImportReport> {
    let parts = open_import(store, request).await?;
    let report = import(
        parts.family,
        parts.source.as_ref(),
        parts.sink.as_ref(),
        progress,
        request.options,
    )
    .await
    .context("importing (what was written stays; run the same command again to continue)")?;
    Ok(report)
}

/// The import where at least one legacy database kind is compiled in.
#[cfg(any(feature = "mongo", feature = "postgres"))]
mod with_sources {
    use anyhow::{Context, bail};

    use super::super::config::mask::mask_url;
    use super::super::config::{StoreKind, StoreSettings};
    use super::super::stores;
    use super::{ImportParts, ImportRequest};
    use crate::adapters::outbound::legacy::{Family, Mapping};
    use crate::ports::{ImportSink, LegacySource};

    pub(super) async fn open(
        store: &StoreSettings,
        request: &ImportRequest,
    ) -> anyhow::Result<ImportParts> {
        let family = Family::parse(&request.family).with_context(|| {
            let known: Vec<&str> = Family::ALL.iter().map(|f| f.as_str()).collect();
            format!(
                "unknown family {:?}; one of: {}",
                request.family,
                known.join(", ")
            )
        })?;
        let mapping = Mapping::load(family, request.mapping.as_deref()).with_context(|| {
            match &request.mapping {
                Some(path) => format!("reading the mapping file {}", path.display()),
                None => "the default mapping".to_owned(),
            }
        })?;
        Ok(ImportParts {
            family: family.as_str(),
            source: open_source(request, mapping, store).await?,
            sink: open_sink(store).await?,
        })
    }

    async fn open_source(
        request: &ImportRequest,
        mapping: Mapping,
        store: &StoreSettings,
    ) -> anyhow::Result<Box<dyn LegacySource>> {
        let from = request.from.as_str();
        let shown = mask_url(from);
        let timeout = store.connect_timeout();
        if from.starts_with("mongodb://") || from.starts_with("mongodb+srv://") {
            #[cfg(feature = "mongo")]
            {
                use crate::adapters::outbound::legacy::MongoSource;
                let source =
                    MongoSource::connect(from, request.database.as_deref(), mapping, timeout)
                        .await
                        .with_context(|| {
                            format!("opening the legacy MongoDB database at {shown}")
                        })?;
                return Ok(Box::new(source));
            }
            #[cfg(not(feature = "mongo"))]
            bail!("reading {shown} needs the Cargo feature `mongo`");
        }
        if from.starts_with("postgres://") || from.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            {
                use crate::adapters::outbound::legacy::PgSource;
                let source = PgSource::connect(from, mapping, timeout)
                    .await
                    .with_context(|| {
                        format!("opening the legacy PostgreSQL database at {shown}")
                    })?;
                return Ok(Box::new(source));
            }
            #[cfg(not(feature = "postgres"))]
            bail!("reading {shown} needs the Cargo feature `postgres`");
        }
        bail!(
            "--from {shown}: expected a mongodb://, mongodb+srv://, postgres:// or postgresql:// URI"
        )
    }

    /// The configured store, opened for importing (its schema migrated; on MongoDB its indexes
    /// created, which leave documents of a Node server still running there alone).
    async fn open_sink(store: &StoreSettings) -> anyhow::Result<Box<dyn ImportSink>> {
        match store.kind {
            StoreKind::Memory => bail!(
                "store.kind is memory: an import into it would vanish with the process; configure \
             sqlite, postgres or mongo"
            ),
            #[cfg(feature = "sqlite")]
            StoreKind::Sqlite => {
                use crate::adapters::outbound::sqlite::SqliteImportSink;
                let path = stores::sqlite_path(store).await?;
                let sink = SqliteImportSink::open(path)
                    .await
                    .with_context(|| format!("opening SQLite database {path}"))?;
                Ok(Box::new(sink))
            }
            #[cfg(feature = "postgres")]
            StoreKind::Postgres => {
                use crate::adapters::outbound::postgres::PgImportSink;
                let url = stores::postgres_url(store)?;
                let sink =
                    PgImportSink::connect(url, store.max_connections, store.connect_timeout())
                        .await
                        .context("opening the PostgreSQL store")?;
                Ok(Box::new(sink))
            }
            #[cfg(feature = "mongo")]
            StoreKind::Mongo => {
                use crate::adapters::outbound::mongo::MongoImportSink;
                let settings = stores::mongo_settings(store)?;
                let sink = MongoImportSink::connect(&settings)
                    .await
                    .with_context(|| format!("opening MongoDB at {}", mask_url(&settings.uri)))?;
                Ok(Box::new(sink))
            }
            #[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mongo")))]
            other => Err(stores::not_compiled_in(other)),
        }
    }
}
