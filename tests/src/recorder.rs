//! A small recording HTTP stand-in on 127.0.0.1: it answers every request with one canned
//! response and keeps what it received, to assert what we send where the emulator cannot see
//! it (cognito-local never checks client secrets).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as received: the head (request line and headers, lower-cased names) and body.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub head: String,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

pub struct Recorder {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    /// Listens on a free port and answers `status` with the JSON `body` to every request.
    pub async fn start(status: u16, body: &str) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let recorded = loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        break None;
                    };
                    if n == 0 {
                        break None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(r) = complete_request(&buf) {
                        break Some(r);
                    }
                };
                if let Some(r) = recorded {
                    if let Ok(mut all) = seen.lock() {
                        all.push(r);
                    }
                    let _ = socket.write_all(response.as_bytes()).await;
                }
            }
        });
        Recorder {
            url,
            requests,
            task,
        }
    }

    pub fn received(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn complete_request(buf: &[u8]) -> Option<Recorded> {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let length = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    (body.len() >= length).then(|| Recorded {
        head: head.to_owned(),
        body: body[..length].to_owned(),
    })
}
