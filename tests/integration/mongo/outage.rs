//! A MongoDB outage in the middle of use. While the server is down, posting a message fails
//! with a store error and nothing is announced; once it is back, the same running core works
//! again without a restart, and everything acknowledged before the outage is still there.
//!
//! The test runs a private SecantusDB server (`secantusd-py`, which `.ci/run` installs from
//! PyPI) on a free port with on-disk storage, so that it can kill it and start it again
//! without disturbing the shared test servers. A missing `secantusd-py` skips the test
//! outside CI and fails it under CI.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard::app::{Actor, AppError, PostMessage, Requester};
use switchboard::bootstrap::build;
use switchboard::bootstrap::config::{Settings, StoreKind};
use switchboard::domain::{ConversationContext, DomainEvent, Seq, UserId, UserProfile};
use switchboard::ports::{EventEnvelope, EventSubscription, Page};

/// Long enough for a slow machine to start the server; a wedged start fails the test.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A SecantusDB server of this test's own.
struct PrivateServer {
    child: Option<Child>,
    port: u16,
    storage: tempfile::TempDir,
}

impl PrivateServer {
    fn launch(port: u16, storage: &std::path::Path) -> std::io::Result<Child> {
        Command::new("secantusd-py")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--storage-path")
            .arg(storage)
            // Acknowledged writes must survive the kill below, as they would on a MongoDB
            // with journaled writes.
            .arg("--sync-on-commit")
            .args(["--log-level", "WARNING"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    /// `None` when the server cannot be run here (see the module doc).
    async fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let storage = tempfile::tempdir().expect("a storage directory");
        let child = match Self::launch(port, storage.path()) {
            Ok(child) => child,
            Err(err) => {
                crate::support::real_servers::unreachable(
                    "secantusd-py (pip install SecantusDB)",
                    err,
                );
                return None;
            }
        };
        let server = Self {
            child: Some(child),
            port,
            storage,
        };
        server.wait_until_listening().await;
        Some(server)
    }

    fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }

    async fn wait_until_listening(&self) {
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < START_TIMEOUT,
                "secantusd-py did not listen on port {} within {START_TIMEOUT:?}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the server, as a crash or a lost network would: connections drop mid-use.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data.
    async fn restart(&mut self) {
        self.kill();
        self.child =
            Some(Self::launch(self.port, self.storage.path()).expect("secantusd-py restarts"));
        self.wait_until_listening().await;
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn ann() -> Actor {
    Actor {
        profile: UserProfile::bare(uid("ann")),
        origin: None,
    }
}

fn post(conversation: &switchboard::domain::ConversationId, text: &str) -> PostMessage {
    PostMessage {
        // Retries after the outage resend the same message: stored once whatever happens.
        client_key: Some(format!("key-{text}")),
        ..PostMessage::text(conversation.clone(), text)
    }
}

/// The next announced message's text, or `None` if nothing is announced in `within`.
async fn next_posted(events: &mut Box<dyn EventSubscription>, within: Duration) -> Option<String> {
    let envelope: Arc<EventEnvelope> = tokio::time::timeout(within, events.next()).await.ok()??;
    match &envelope.event {
        DomainEvent::MessagePosted { message, .. } => Some(message.body.text.clone()),
        other => panic!("unexpected event {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_requests_and_the_store_recovers_by_itself() {
    let Some(mut server) = PrivateServer::start().await else {
        return;
    };
    let mut settings = Settings::default();
    settings.store.kind = StoreKind::Mongo;
    settings.store.mongo_uri = Some(server.uri());
    settings.store.mongo_database = Some("outage".into());
    // Operations during the outage give up after this long.
    settings.store.connect_timeout_secs = 2;
    let app = build(&settings).await.expect("the app starts on MongoDB");
    let core = &app.use_cases;
    let mut events = app.bus.subscribe();

    let (conversation, _) = core
        .open_conversation(
            &Requester::User(uid("ann")),
            vec![uid("ann"), uid("bob")],
            ConversationContext::default(),
        )
        .await
        .unwrap();
    let before = core
        .post_message(&ann(), post(&conversation.id, "before"))
        .await
        .unwrap()
        .message;
    assert_eq!(before.seq, Seq(1));
    assert_eq!(
        next_posted(&mut events, Duration::from_secs(5))
            .await
            .as_deref(),
        Some("before")
    );

    server.kill();
    for _ in 0..2 {
        let during = tokio::time::timeout(
            Duration::from_secs(60),
            core.post_message(&ann(), post(&conversation.id, "during")),
        )
        .await
        .expect("a request during the outage fails instead of hanging");
        assert_eq!(during.unwrap_err(), AppError::Unavailable);
    }
    let reading = core
        .history(&uid("bob"), &conversation.id, Page::new(50, 0))
        .await;
    assert!(matches!(reading, Err(AppError::Unavailable)), "{reading:?}");
    assert_eq!(
        next_posted(&mut events, Duration::from_millis(200)).await,
        None
    );

    server.restart().await;
    // The driver finds the server again by itself; give it a moment, not a restart.
    let recovered = Instant::now();
    let after = loop {
        match core
            .post_message(&ann(), post(&conversation.id, "after"))
            .await
        {
            Ok(posted) => break posted.message,
            Err(err) => {
                assert!(
                    recovered.elapsed() < Duration::from_secs(60),
                    "still failing a minute after the server came back: {err}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(after.seq, Seq(2), "the failed post took no seq");
    assert_eq!(
        next_posted(&mut events, Duration::from_secs(5))
            .await
            .as_deref(),
        Some("after")
    );

    let history = core
        .history(&uid("bob"), &conversation.id, Page::new(50, 0))
        .await
        .unwrap();
    let texts: Vec<&str> = history
        .messages
        .iter()
        .map(|m| m.body.text.as_str())
        .collect();
    assert_eq!(texts, ["before", "after"]);
    assert_eq!(core.total_unread(&uid("bob")).await.unwrap(), 2);
}
