//! Request bodies of the JSON and Query services are read whole before their signature can
//! be checked, so the bodies held at once are bounded (ops7: 1,024 connections each sending
//! an unsigned 8 MiB body held 8.5 GB): past 128 MiB of large bodies in flight a large one
//! waits two seconds and is answered 503, while small bodies (every usual API call) pass.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::harness::Server;

/// Sends a POST that declares `declared` bytes and sends `sent` of them; the open stream.
fn post(server: &Server, declared: usize, sent: usize) -> TcpStream {
    let mut s = TcpStream::connect(server.addr).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: CloudTrail_20131101.DescribeTrails\r\nContent-Length: {declared}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&vec![b' '; sent]).unwrap();
    s
}

/// The status line of the answer on `s`.
fn status(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(2).any(|w| w == b"\r\n") {
        let n = s.read(&mut buf).expect("an answer");
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn large_bodies_in_flight_are_bounded_and_small_ones_still_pass() {
    let server = Server::start();
    // Sixteen 8 MiB bodies, each a sixth sent: the whole budget held.
    let held: Vec<TcpStream> = (0..16).map(|_| post(&server, 8 << 20, 1 << 20)).collect();
    // Wait until the server holds them all: a large body is then refused.
    let mut refused = String::new();
    for _ in 0..50 {
        let mut one = post(&server, 1 << 20, 1 << 20);
        refused = status(&mut one);
        if refused.contains(" 503 ") {
            break;
        }
    }
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    // A small body is read and answered as usual (here: not signed).
    let mut small = post(&server, 2, 2);
    let answer = status(&mut small);
    assert!(!answer.contains(" 503 "), "{answer}");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    // Once the held bodies end, large ones are read again.
    drop(held);
    let mut after = String::new();
    for _ in 0..50 {
        let mut one = post(&server, 1 << 20, 1 << 20);
        after = status(&mut one);
        if !after.contains(" 503 ") {
            break;
        }
    }
    assert!(after.starts_with("HTTP/1.1 4"), "{after}");
}
