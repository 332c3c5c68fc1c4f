//! kaajkaam's multipart message form (`form.rs`, over multer) with forms of any make:
//! random and mismatched boundaries, parts named anything (quotes and line breaks that
//! break the part's headers included), file names that climb (`../`, `..\`, absolute),
//! carry control characters or NUL, or are huge; bodies cut short; files at and past the
//! size limit and more files than allowed. Every form is answered with a 201 or a 4xx
//! `{ message }`, and every stored file lies directly in the upload directory under a name
//! the server made.

use std::cell::Cell;
use std::path::{Component, Path};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use super::rest_routes::{Route, Site, answered_properly, routes_of};
use super::runner::{check, runtime};
use crate::adapters::inbound::dialects::by_name;
use crate::adapters::inbound::transports::http::harness::MAX_FILE_BYTES;

const CASES: u32 = 2_000;

#[derive(Debug, Clone)]
struct Part {
    name: Option<String>,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Form {
    /// The boundary the `Content-Type` header announces.
    announced: String,
    /// The boundary the body uses (usually the same).
    used: String,
    parts: Vec<Part>,
    /// Where the body is cut off, if it is.
    cut: Option<Index>,
}

impl Form {
    fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.announced)
    }

    fn body(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for part in &self.parts {
            body.extend_from_slice(format!("--{}\r\n", self.used).as_bytes());
            body.extend_from_slice(b"Content-Disposition: form-data");
            if let Some(name) = &part.name {
                body.extend_from_slice(format!("; name=\"{name}\"").as_bytes());
            }
            if let Some(file_name) = &part.file_name {
                body.extend_from_slice(format!("; filename=\"{file_name}\"").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            if let Some(content_type) = &part.content_type {
                body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(&part.data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{}--\r\n", self.used).as_bytes());
        if let Some(cut) = self.cut {
            body.truncate(cut.index(body.len() + 1));
        }
        body
    }
}

/// Boundaries as form libraries make them, and ones they would not (any printable ASCII,
/// which is what a header value can carry).
fn boundary() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "----formdata-[a-zA-Z0-9]{16}",
        2 => "[a-zA-Z0-9'()+_,./:=?-]{1,70}",
        1 => "[ -~]{0,80}",
        1 => Just("\"quoted\"".to_owned()),
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        vec(any::<char>(), 0..24).prop_map(String::from_iter),
        (250usize..400).prop_map(|n| format!("{}.txt", "a".repeat(n))),
    ]
}

fn part() -> impl Strategy<Value = Part> {
    let name = prop_oneof![
        6 => select(&["text", "attachments", "attachments[]"][..]).prop_map(str::to_owned),
        1 => any_text(),
    ];
    let file_name = prop_oneof![
        3 => select(
            &[
                "design.png",
                "../../etc/passwd",
                "..\\..\\boot.ini",
                "/etc/shadow",
                "../../uploads/../x.png",
                "a\0b.png",
                "\u{7}bell\u{1b}[31m.txt",
                ".",
                "..",
                "",
                " ",
                "x.type",
                ".hidden",
                "report.PDF",
                "name\r\nX-Injected: 1",
                "😀.jpg",
            ][..],
        )
        .prop_map(str::to_owned),
        1 => any_text(),
    ];
    let content_type = select(
        &[
            "image/png",
            "application/pdf",
            "text/plain; charset=utf-8",
            "",
            "image/",
            "application/octet-stream",
            "x/y\u{0}z",
        ][..],
    )
    .prop_map(str::to_owned);
    let data = prop_oneof![
        4 => vec(any::<u8>(), 0..2048),
        4 => any::<String>().prop_map(String::into_bytes),
        1 => Just(vec![0xff, 0xfe, 0x00]),
        // At and just past one file's limit.
        1 => (MAX_FILE_BYTES - 1..=MAX_FILE_BYTES + 1)
            .prop_map(|n| vec![b'z'; usize::try_from(n).unwrap()]),
    ];
    (
        option::weighted(0.95, name),
        option::weighted(0.6, file_name),
        option::weighted(0.7, prop_oneof![4 => content_type, 1 => any_text()]),
        data,
    )
        .prop_map(|(name, file_name, content_type, data)| Part {
            name,
            file_name,
            content_type,
            data,
        })
}

fn form() -> impl Strategy<Value = Form> {
    (
        boundary(),
        option::weighted(0.1, boundary()),
        vec(part(), 0..6),
        option::weighted(0.1, any::<Index>()),
    )
        .prop_map(|(announced, other, parts, cut)| Form {
            used: other.unwrap_or_else(|| announced.clone()),
            announced,
            parts,
            cut,
        })
}

#[test]
fn any_multipart_form_is_answered_and_stores_files_only_in_the_upload_directory() {
    let rt = runtime();
    let kaajkaam = by_name("kaajkaam").expect("kaajkaam is registered");
    let route: Route = *routes_of("kaajkaam")
        .unwrap_or_default()
        .iter()
        .find(|r| r.path.ends_with("/messages"))
        .expect("kaajkaam's message route");
    let site = rt.block_on(Site::new(kaajkaam.as_ref()));
    let stored = Cell::new(0usize);
    let target = "kaajkaam multipart forms";
    let outcomes = check(target, CASES, form(), |form| {
        let request = site.request(&route, None, false, Some(&form.content_type()), form.body());
        let (status, answer) = rt.block_on(site.harness.send(request));
        let outcome = answered_properly(&route.name(), true, status, &answer)?;
        if status.is_success() {
            let files = stored_inside(site.harness.uploads_dir(), &answer)?;
            stored.set(stored.get() + files);
        }
        Ok(outcome)
    });
    outcomes.assert_reached(target, "an accepted form", |status| status == "201");
    // Nothing else was written there: each file and its content-type note, no folders.
    let entries: Vec<_> = std::fs::read_dir(site.harness.uploads_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert!(entries.iter().all(|e| e.file_type().unwrap().is_file()));
    assert_eq!(entries.len(), 2 * stored.get());
}

/// The stored message's attachments: each a file directly in `dir` under the key in its
/// URL, its shown name free of control characters. Returns how many.
fn stored_inside(dir: &Path, message: &Value) -> Result<usize, TestCaseError> {
    let attachments = message["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    prop_assert!(attachments.len() <= 3, "{}", message);
    for attachment in &attachments {
        let url = attachment["url"].as_str().unwrap_or_default();
        let key = url.strip_prefix("/uploads/");
        prop_assert!(key.is_some(), "{}", url);
        let key = key.unwrap_or_default();
        let mut components = Path::new(key).components();
        prop_assert!(
            matches!(components.next(), Some(Component::Normal(_))) && components.next().is_none(),
            "{}",
            url
        );
        prop_assert!(
            !key.starts_with('.') && !key.contains(['/', '\\']),
            "{}",
            url
        );
        prop_assert!(dir.join(key).is_file(), "{} not in {}", url, dir.display());
        let name = attachment["name"].as_str().unwrap_or_default();
        prop_assert!(!name.trim().is_empty(), "{}", attachment);
        prop_assert!(!name.chars().any(char::is_control), "{:?}", name);
    }
    Ok(attachments.len())
}
