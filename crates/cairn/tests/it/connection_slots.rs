//! Connection slots are not held by clients that send nothing: the header timeout covers the
//! wait for the first byte of every request (on connect and between kept-alive requests),
//! and while the connection cap is nearly reached such connections are reclaimed within a
//! second, so silent sockets cannot lock clients out.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::Server;

/// Reads until the server closes `s`; returns how long that took, or `None` if it was still
/// open after `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(started.elapsed());
            }
            Err(_) => return None,
        }
    }
}

/// Reads one `/health` answer (headers and its `Content-Length` body) off a kept-alive
/// connection.
fn read_answer(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = s.read(&mut buf).expect("the answer");
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

/// A socket that never sends a byte was held until the idle timeout (60 s here), not the
/// header timeout (2 s).
#[test]
fn a_connection_that_sends_nothing_is_closed_at_the_header_timeout() {
    let server = Server::start_with(&["--header-timeout-secs", "2", "--idle-timeout-secs", "60"]);
    let mut silent = TcpStream::connect(server.addr).unwrap();
    let took = closed_within(&mut silent, Duration::from_secs(30))
        .expect("a silent connection is closed within 30 s");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(20),
        "{took:?}"
    );
}

/// After an answer, a kept-alive connection that sends nothing more is closed at the header
/// timeout too.
#[test]
fn a_kept_alive_connection_that_sends_nothing_more_is_closed_at_the_header_timeout() {
    let server = Server::start_with(&["--header-timeout-secs", "2", "--idle-timeout-secs", "60"]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    for _ in 0..2 {
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let answer = read_answer(&mut s);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let took = closed_within(&mut s, Duration::from_secs(30))
        .expect("an idle kept-alive connection is closed within 30 s");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

/// With every slot held by silent sockets, a client with a request is served within
/// seconds, not after the header timeout (60 s here): near the cap, connections awaiting a
/// request are reclaimed after a second.
#[test]
fn silent_connections_at_the_cap_are_reclaimed_for_a_real_client() {
    let server = Server::start_with(&[
        "--max-connections",
        "4",
        "--header-timeout-secs",
        "60",
        "--idle-timeout-secs",
        "120",
    ]);
    let silent: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    let started = Instant::now();
    let mut client = TcpStream::connect(server.addr).unwrap();
    client
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let answer = read_answer(&mut client);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // Only as many as needed are reclaimed; the rest wait for their own header timeout.
    drop(silent);
}

/// With every slot held by connections that sent half their request headers, a client with
/// a request is served within seconds: such a connection, once its slot is reclaimed, is
/// dropped at once, not left to hyper's own header timeout (hostile12: hyper's graceful
/// shutdown closes an HTTP/1 connection only between requests, so the slot stayed held).
#[test]
fn half_sent_headers_at_the_cap_are_dropped_for_a_real_client() {
    let server = Server::start_with(&[
        "--max-connections",
        "4",
        "--header-timeout-secs",
        "60",
        "--idle-timeout-secs",
        "120",
    ]);
    let half: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    let mut client = TcpStream::connect(server.addr).unwrap();
    client
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let answer = read_answer(&mut client);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    drop(half);
}
