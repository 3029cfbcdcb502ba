//! A local SMTP server: tests deliver to it and read what it kept; `cargo xtask dev` uses it
//! as its mail catcher when no relay answers, writing each message as an `.eml` file.

use std::path::PathBuf;

/// A message an [`SmtpSink`] accepted.
#[derive(Debug, Clone)]
pub struct SmtpMessage {
    pub from: String,
    pub to: Vec<String>,
    /// The raw DATA (headers and body).
    pub data: String,
}

/// A local SMTP server: speaks enough SMTP (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a
/// real client to deliver to it, keeps what it receives (and writes it to a folder when given
/// one), and can refuse the next deliveries with a temporary error.
pub struct SmtpSink {
    pub port: u16,
    messages: std::sync::Arc<std::sync::Mutex<Vec<SmtpMessage>>>,
    refuse: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Starts on a free port.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start() -> Self {
        Self::start_with(None)
            .await
            .unwrap_or_else(|err| panic!("cannot bind the SMTP sink: {err}"))
    }

    /// Starts on a free port and also writes every message it accepts to `folder` as
    /// `<UUIDv7>.eml` (the names sort by arrival), creating the folder if needed.
    pub async fn start_writing_to(folder: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&folder)?;
        Self::start_with(Some(folder)).await
    }

    async fn start_with(folder: Option<PathBuf>) -> std::io::Result<Self> {
        use std::sync::{atomic::AtomicUsize, Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let messages: Arc<Mutex<Vec<SmtpMessage>>> = Arc::default();
        let refuse: Arc<AtomicUsize> = Arc::default();
        let (m, r) = (messages.clone(), refuse.clone());
        let folder = Arc::new(folder);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(smtp_session(socket, m.clone(), r.clone(), folder.clone()));
            }
        });
        Ok(Self {
            port,
            messages,
            refuse,
            task,
        })
    }

    /// Everything delivered so far.
    pub fn messages(&self) -> Vec<SmtpMessage> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Forgets what was delivered to `recipient` (a test that has read its e-mail).
    pub fn forget_to(&self, recipient: &str) {
        if let Ok(mut messages) = self.messages.lock() {
            messages.retain(|m| !m.to.iter().any(|to| to == recipient));
        }
    }

    /// Answers the next `n` deliveries with `451` (try again later).
    pub fn refuse_next(&self, n: usize) {
        self.refuse.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn smtp_session(
    socket: tokio::net::TcpStream,
    messages: std::sync::Arc<std::sync::Mutex<Vec<SmtpMessage>>>,
    refuse: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    folder: std::sync::Arc<Option<PathBuf>>,
) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            if upper.starts_with("RSET") {
                from.clear();
                to.clear();
            }
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().trim_matches(['<', '>']).to_owned();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            if write.write_all(b"354 go ahead\r\n").await.is_err() {
                return;
            }
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push('\n');
            }
            let refused = refuse
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let written = match folder.as_ref() {
                Some(folder) if !refused => {
                    let path = folder.join(format!("{}.eml", uuid::Uuid::now_v7()));
                    tokio::fs::write(path, data.replace('\n', "\r\n"))
                        .await
                        .is_ok()
                }
                _ => true,
            };
            if refused {
                b"451 try again later\r\n"
            } else if !written {
                b"452 cannot store the message\r\n"
            } else {
                if let Ok(mut stored) = messages.lock() {
                    stored.push(SmtpMessage {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                }
                b"250 OK queued\r\n"
            }
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"502 not implemented\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
