//! A deliberately plain HTTP/1.1 client over one TCP connection, for what reqwest hides:
//! whether a connection stays usable between requests, and request paths sent byte for
//! byte (a URL library would resolve `..` and `%2e%2e` segments before sending).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::Signed;

/// One response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One kept-alive connection.
pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    pub async fn connect(addr: &SocketAddr) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.expect("connect"),
            buf: Vec::new(),
        }
    }

    /// The request line and headers (with `Content-Length`), without the body.
    pub fn head(req: &Signed, content_length: usize) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path_and_query);
        for (n, v) in &req.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {content_length}\r\n\r\n"));
        head.into_bytes()
    }

    /// Writes raw bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Writes a whole request.
    pub async fn send(&mut self, req: &Signed) -> std::io::Result<()> {
        let mut bytes = Self::head(req, req.body.len());
        bytes.extend_from_slice(&req.body);
        self.write(&bytes).await
    }

    /// Sends a request and reads its response.
    pub async fn call(&mut self, req: &Signed) -> std::io::Result<RawResponse> {
        self.send(req).await?;
        self.response(req.method == "HEAD").await
    }

    async fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads one response (`Content-Length` framed, as Cairn answers).
    pub async fn response(&mut self, head_request: bool) -> std::io::Result<RawResponse> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if self.fill().await? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed before a response",
                ));
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = if head_request || status == 204 || status == 304 {
            0
        } else {
            headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0)
        };
        while self.buf.len() < len {
            if self.fill().await? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed inside a body",
                ));
            }
        }
        let body = self.buf.drain(..len).collect();
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// Whether the server has closed the connection (reads to EOF or an error).
    pub async fn is_closed_by_server(&mut self) -> bool {
        matches!(self.fill().await, Ok(0) | Err(_))
    }
}
