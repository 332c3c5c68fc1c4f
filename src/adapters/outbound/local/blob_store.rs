//! `LocalDiskBlobStore`: uploaded files kept in one directory on local disk. The server makes
//! every file name itself (a hex key plus a cleaned-up extension), so a client's file name can
//! never choose a path; the content type is kept next to the file in `<key>.type`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;

use super::entropy::random_u64;
use super::hex::hex;
use crate::ports::{Blob, BlobError, BlobStore, StoredBlob};

/// Served when a file's content type was missing or unusable.
const FALLBACK_CONTENT_TYPE: &str = "application/octet-stream";
/// Suffix of the content-type sidecar; also refused as an extension so keys never end in it.
const TYPE_SUFFIX: &str = "type";
const MAX_EXTENSION_LEN: usize = 10;
/// Longer content types are not real ones, and they end up in a response header.
const MAX_CONTENT_TYPE_LEN: usize = 127;
/// Hex length of a key's stem: 6 bytes of time, 3 of counter, 8 of randomness.
const STEM_LEN: usize = 34;

pub struct LocalDiskBlobStore {
    dir: PathBuf,
    max_bytes: u64,
    public_prefix: String,
    counter: AtomicU32,
}

impl LocalDiskBlobStore {
    /// Creates `dir` (and its parents) when missing. `public_prefix` is where the HTTP layer
    /// serves the directory, e.g. `/uploads`.
    ///
    /// # Errors
    /// `Backend` when the directory cannot be created.
    pub async fn open(
        dir: impl Into<PathBuf>,
        max_bytes: u64,
        public_prefix: &str,
    ) -> Result<Self, BlobError> {
        let dir = dir.into();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|err| BlobError::Backend(format!("cannot create {}: {err}", dir.display())))?;
        Ok(Self {
            dir,
            max_bytes,
            public_prefix: public_prefix.trim_end_matches('/').to_owned(),
            // A random start keeps keys of two processes sharing the directory apart even
            // before the random part is compared.
            counter: AtomicU32::new(random_u64() as u32),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn new_key(&self, extension: Option<&str>) -> String {
        let millis = chrono::Utc::now().timestamp_millis().max(0).to_be_bytes();
        let count = self.counter.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        let mut bytes = [0u8; STEM_LEN / 2];
        bytes[..6].copy_from_slice(&millis[2..]);
        bytes[6..9].copy_from_slice(&count[1..]);
        bytes[9..].copy_from_slice(&random_u64().to_be_bytes());
        let stem = hex(&bytes);
        match extension {
            Some(ext) => format!("{stem}.{ext}"),
            None => stem,
        }
    }

    fn sidecar(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.{TYPE_SUFFIX}"))
    }
}

#[async_trait]
impl BlobStore for LocalDiskBlobStore {
    async fn put(
        &self,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<StoredBlob, BlobError> {
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            return Err(BlobError::TooLarge {
                max: self.max_bytes,
            });
        }
        let key = self.new_key(extension_of(name).as_deref());
        let path = self.dir.join(&key);
        // The leading dot makes the partial file an invalid key, so `get` can never serve it.
        let partial = self.dir.join(format!(".{key}.part"));
        let sidecar = self.sidecar(&key);

        let written = async {
            tokio::fs::write(&sidecar, clean_content_type(content_type)).await?;
            // Write then rename, so that a crash never leaves a truncated file under the key.
            tokio::fs::write(&partial, &bytes).await?;
            tokio::fs::rename(&partial, &path).await
        }
        .await;
        if let Err(err) = written {
            // Best effort: the key was never handed out, so leftovers are only wasted space.
            let _ = tokio::fs::remove_file(&partial).await;
            let _ = tokio::fs::remove_file(&sidecar).await;
            return Err(BlobError::Backend(format!("writing blob {key}: {err}")));
        }
        Ok(StoredBlob {
            url: format!("{}/{key}", self.public_prefix),
            key,
            size,
        })
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        // Keys arrive from URLs: anything that is not a key this store could have made is
        // unknown, which also rules out `..`, slashes and the sidecars.
        if !is_valid_key(key) {
            return Ok(None);
        }
        let bytes = match tokio::fs::read(self.dir.join(key)).await {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(BlobError::Backend(format!("reading blob {key}: {err}"))),
        };
        let content_type = match tokio::fs::read_to_string(self.sidecar(key)).await {
            Ok(stored) => clean_content_type(&stored).to_owned(),
            Err(_) => FALLBACK_CONTENT_TYPE.to_owned(),
        };
        Ok(Some(Blob {
            content_type,
            bytes,
        }))
    }
}

/// The extension of the client's file name, lowercased, if it is short and alphanumeric;
/// anything else is dropped rather than repaired.
fn extension_of(name: &str) -> Option<String> {
    let file = name.rsplit(['/', '\\']).next()?;
    let (stem, ext) = file.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    let usable = !stem.is_empty()
        && !ext.is_empty()
        && ext.len() <= MAX_EXTENSION_LEN
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        && ext != TYPE_SUFFIX;
    usable.then_some(ext)
}

fn clean_content_type(raw: &str) -> &str {
    let trimmed = raw.trim();
    let usable = !trimmed.is_empty()
        && trimmed.len() <= MAX_CONTENT_TYPE_LEN
        && trimmed.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if usable {
        trimmed
    } else {
        FALLBACK_CONTENT_TYPE
    }
}

fn is_valid_key(key: &str) -> bool {
    let (stem, ext) = match key.split_once('.') {
        Some((stem, ext)) => (stem, Some(ext)),
        None => (key, None),
    };
    let stem_ok = stem.len() == STEM_LEN
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let ext_ok = ext.is_none_or(|ext| {
        !ext.is_empty()
            && ext.len() <= MAX_EXTENSION_LEN
            && ext
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            && ext != TYPE_SUFFIX
    });
    stem_ok && ext_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(max_bytes: u64) -> (tempfile::TempDir, LocalDiskBlobStore) {
        let tmp = tempfile::tempdir().unwrap();
        let store = LocalDiskBlobStore::open(tmp.path().join("uploads"), max_bytes, "/uploads")
            .await
            .unwrap();
        (tmp, store)
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn stores_and_reads_back_with_content_type() {
        let (_tmp, store) = store(1024).await;
        let stored = store
            .put("Photo.JPG", "image/jpeg", b"jpeg bytes".to_vec())
            .await
            .unwrap();
        assert!(stored.key.ends_with(".jpg"), "{}", stored.key);
        assert_eq!(stored.url, format!("/uploads/{}", stored.key));
        assert_eq!(stored.size, 10);
        let blob = store.get(&stored.key).await.unwrap().unwrap();
        assert_eq!(blob.bytes, b"jpeg bytes");
        assert_eq!(blob.content_type, "image/jpeg");
        assert_eq!(
            files_in(store.dir()),
            vec![stored.key.clone(), format!("{}.type", stored.key)]
        );
    }

    #[tokio::test]
    async fn creates_the_directory_at_open() {
        let (_tmp, store) = store(1).await;
        assert!(store.dir().is_dir());
    }

    #[tokio::test]
    async fn too_large_is_refused_and_nothing_is_written() {
        let (_tmp, store) = store(4).await;
        let err = store.put("a.txt", "text/plain", vec![0; 5]).await;
        assert!(matches!(err, Err(BlobError::TooLarge { max: 4 })));
        assert!(files_in(store.dir()).is_empty());
        // Exactly at the limit is fine.
        assert!(store.put("a.txt", "text/plain", vec![0; 4]).await.is_ok());
    }

    #[tokio::test]
    async fn the_client_name_never_chooses_the_path() {
        let (tmp, store) = store(1024).await;
        for name in ["../../evil.sh", "/etc/passwd", "..\\..\\x.exe", "a/../../b"] {
            let stored = store.put(name, "text/plain", b"x".to_vec()).await.unwrap();
            assert!(is_valid_key(&stored.key), "{name} -> {}", stored.key);
        }
        assert_eq!(files_in(tmp.path()), vec!["uploads".to_owned()]);
        assert_eq!(files_in(store.dir()).len(), 8);
    }

    #[tokio::test]
    async fn keys_are_unique() {
        let (_tmp, store) = store(1024).await;
        let mut keys = std::collections::HashSet::new();
        for _ in 0..200 {
            let stored = store.put("f.bin", "", vec![1]).await.unwrap();
            assert!(keys.insert(stored.key));
        }
    }

    #[tokio::test]
    async fn unknown_and_hostile_keys_are_not_found() {
        let (_tmp, store) = store(1024).await;
        let stored = store
            .put("a.txt", "text/plain", b"x".to_vec())
            .await
            .unwrap();
        for key in [
            "",
            "..",
            "../uploads",
            &format!("{}.type", stored.key),
            &format!("../uploads/{}", stored.key),
            &"0".repeat(STEM_LEN),
        ] {
            assert_eq!(store.get(key).await.unwrap(), None, "{key}");
        }
    }

    #[tokio::test]
    async fn bad_content_types_are_replaced() {
        let (_tmp, store) = store(1024).await;
        let stored = store
            .put("a", "text/html\r\nSet-Cookie: x=1", b"x".to_vec())
            .await
            .unwrap();
        let blob = store.get(&stored.key).await.unwrap().unwrap();
        assert_eq!(blob.content_type, FALLBACK_CONTENT_TYPE);
    }

    #[tokio::test]
    async fn a_trailing_slash_in_the_prefix_is_not_doubled() {
        let tmp = tempfile::tempdir().unwrap();
        let store = LocalDiskBlobStore::open(tmp.path(), 10, "https://cdn.example.com/files/")
            .await
            .unwrap();
        let stored = store.put("a.png", "image/png", vec![1]).await.unwrap();
        assert_eq!(
            stored.url,
            format!("https://cdn.example.com/files/{}", stored.key)
        );
    }

    #[test]
    fn extensions_are_cleaned_or_dropped() {
        assert_eq!(extension_of("report.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension_of("archive.tar.gz").as_deref(), Some("gz"));
        assert_eq!(extension_of("dir.d/noext"), None);
        assert_eq!(extension_of(".bashrc"), None);
        assert_eq!(extension_of("x.j p g"), None);
        assert_eq!(extension_of("x.verylongextension"), None);
        assert_eq!(extension_of("x.type"), None);
        assert_eq!(extension_of("x.jpé"), None);
        assert_eq!(extension_of("x."), None);
    }
}
