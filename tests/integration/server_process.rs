//! The server as a process of its own, for the tests that need one (a full disk, a kill):
//! the built binary on a SQLite file, with one kaajkaam REST listener (which serves the
//! provisioning API too) on a free port, spoken to over plain HTTP/1.1 with every step
//! bounded.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::process::run;

pub const SERVICE_KEY: &str = "server-process-service-key";
pub const JWT_SECRET: &str = "server-process-jwt-secret";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Who a request is from.
pub enum Caller<'a> {
    ServiceKey,
    /// A user's token (see `support::token_signed_with` and `JWT_SECRET`).
    Token(&'a str),
}

/// The server as a process of its own; killed on drop if it is still running.
pub struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Starts the server on the SQLite file `db`, keeping its uploads beside it; its config
    /// and log go to `config_dir`. With `user`, it runs as that user (the test runs as root).
    pub fn start(db: &Path, config_dir: &Path, user: Option<u32>) -> Self {
        // A port that was free a moment ago; nothing else on this machine races for it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let uploads = db.with_file_name("uploads");
        let config = config_dir.join("server.toml");
        std::fs::write(
            &config,
            format!(
                "[[listeners]]\nname = \"kaajkaam\"\nbind = \"127.0.0.1:{port}\"\n\
                 dialect = \"kaajkaam\"\ntransports = [\"rest\"]\n\n\
                 [blobs]\ndir = {uploads:?}\n"
            ),
        )
        .expect("the server's config file");
        let log = config_dir.join("server.log");
        let log_file = std::fs::File::create(&log).expect("the server's log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        command
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .current_dir(config_dir)
            .env("APP__STORE__KIND", "sqlite")
            .env("APP__STORE__SQLITE_PATH", db)
            .env("APP__STORE__CONNECT_TIMEOUT_SECS", "5")
            .env("APP__AUTH__SERVICE_KEY", SERVICE_KEY)
            .env("JWT_SECRET", JWT_SECRET)
            // The tests send faster than a person: no REST rate limit.
            .env("APP__LIMITS__REST_REQUESTS_PER_SECOND_PER_USER", "0")
            .env("APP__LIMITS__REST_REQUESTS_PER_SECOND_PER_ADDRESS", "0")
            .env("APP__LOG__FILTER", "info")
            .env_remove("PORT")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the log file, twice"))
            .stderr(log_file);
        if let Some(user) = user {
            command.uid(user).gid(user);
        }
        let child = command.spawn().expect("the switchboard binary starts");
        let server = Self {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        server.wait_until_healthy();
        server
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_until_healthy(&self) {
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = self.request(Caller::ServiceKey, "GET", "/health", None) {
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the server did not answer /health within {START_TIMEOUT:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `POST /api/v1/conversations` for `participants`: the status, and the id on success.
    pub fn open_conversation(&self, participants: [&str; 2]) -> (u16, Option<String>) {
        let body = json!({ "participantIds": participants });
        match self.request(
            Caller::ServiceKey,
            "POST",
            "/api/v1/conversations",
            Some(&body),
        ) {
            Ok((status, answer)) => (
                status,
                answer["id"]
                    .as_str()
                    .map(str::to_owned)
                    .filter(|_| status == 201),
            ),
            Err(e) => panic!("POST /api/v1/conversations got no answer: {e}"),
        }
    }

    /// Where to send requests, for threads that do not own the server.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint(self.addr)
    }

    pub fn request(
        &self,
        caller: Caller<'_>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::io::Result<(u16, Value)> {
        self.endpoint().request(caller, method, path, body)
    }

    /// SIGTERM, then waits (bounded) for a graceful exit.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = run(Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdin(Stdio::null()));
        let started = Instant::now();
        while started.elapsed() < STOP_TIMEOUT {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not stop within {STOP_TIMEOUT:?} of SIGTERM");
    }

    /// SIGKILL (`kill -9`): no chance to flush or close anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL is delivered");
            child.wait().expect("the killed server is reaped");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The server's address, to send it requests.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint(SocketAddr);

impl Endpoint {
    /// One HTTP/1.1 request on a connection of its own: the status and the JSON body (`Null`
    /// when there is none). Every step is bounded by `REQUEST_TIMEOUT`.
    pub fn request(
        self,
        caller: Caller<'_>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::io::Result<(u16, Value)> {
        let addr = self.0;
        let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        let credentials = match caller {
            Caller::ServiceKey => format!("Authorization: Bearer {SERVICE_KEY}"),
            Caller::Token(token) => format!("x-auth-token: {token}"),
        };
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{credentials}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        let answer = String::from_utf8_lossy(&answer);
        let bad = || std::io::Error::new(ErrorKind::InvalidData, format!("answer: {answer:?}"));
        let status = answer
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(bad)?;
        let (_, content) = answer.split_once("\r\n\r\n").ok_or_else(bad)?;
        Ok((status, serde_json::from_str(content).unwrap_or(Value::Null)))
    }
}
