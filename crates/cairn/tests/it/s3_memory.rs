//! CopyObject and CompleteMultipartUpload move bytes file to file: the server's peak
//! resident memory while they run does not grow with the object. Measured from
//! `/proc/<pid>/status` (`VmHWM`, reset through `clear_refs` before each call); Linux only.

use crate::harness::*;
use crate::s3_util::*;

/// What a streaming copy may add to the peak, whatever the object's size.
const BOUND: u64 = 16 * 1024 * 1024;

fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field in /proc status")
}

/// Resets the peak to the current resident size; false where the kernel does not allow it.
fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Runs `call` and returns how far the server's peak rose above its resident size before.
async fn peak_growth<F: std::future::Future<Output = ()>>(pid: u32, call: F) -> u64 {
    assert!(reset_peak(pid));
    let before = status_kb(pid, "VmRSS:") * 1024;
    call.await;
    let peak = status_kb(pid, "VmHWM:") * 1024;
    peak.saturating_sub(before)
}

async fn put(server: &Server, path: &str, body: Vec<u8>) -> String {
    let (status, headers, resp) = server
        .send(s3_unsigned(&server.addr, "PUT", path, body))
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    headers
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn copy_and_multipart_assembly_do_not_hold_objects_in_memory() {
    let server = Server::start();
    let pid = server.child.id();
    if !reset_peak(pid) {
        println!("skipped: /proc/{pid}/clear_refs cannot reset the peak RSS here");
        return;
    }
    assert_eq!(server.s3("PUT", "/mem-bkt", b"").await.0, 200);
    let size = 64 * 1024 * 1024;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    put(&server, "/mem-bkt/big", data.clone()).await;

    // Measured twice and judged on the lower figure: a server that held the object would
    // exceed the bound both times, while a parallel test's load can add a transient peak
    // (a fresh worker thread's allocator pages) to one of them.
    let mut growths = Vec::new();
    for target in ["/mem-bkt/big-copy", "/mem-bkt/big-copy-2"] {
        growths.push(
            peak_growth(pid, async {
                let req = s3_request(
                    &server.addr,
                    "PUT",
                    target,
                    vec![("x-amz-copy-source".into(), "/mem-bkt/big".into())],
                    Vec::new(),
                );
                let (status, _, body) = server.send(req).await;
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            })
            .await,
        );
    }
    let growth = growths.iter().copied().min().unwrap_or_default();
    println!("CopyObject of {size} bytes: peak RSS +{growths:?} bytes");
    assert!(
        growth < BOUND,
        "CopyObject of {size} bytes raised the peak RSS by {growths:?} bytes"
    );
    let (status, _, body) = server
        .send(s3_request(
            &server.addr,
            "GET",
            "/mem-bkt/big-copy",
            vec![],
            vec![],
        ))
        .await;
    assert_eq!(status, 200);
    assert!(body == data, "the copy differs from its source");

    // Two parts, 40 MiB and 24 MiB, assembled into one object.
    let (s, created) = server.s3("POST", "/mem-bkt/mp?uploads", b"").await;
    assert_eq!(s, 200, "{created}");
    let start = created.find("<UploadId>").unwrap() + "<UploadId>".len();
    let id = &created[start..start + created[start..].find('<').unwrap()];
    let split = 40 * 1024 * 1024;
    let e1 = put(
        &server,
        &format!("/mem-bkt/mp?partNumber=1&uploadId={id}"),
        data[..split].to_vec(),
    )
    .await;
    let e2 = put(
        &server,
        &format!("/mem-bkt/mp?partNumber=2&uploadId={id}"),
        data[split..].to_vec(),
    )
    .await;
    let complete = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{e1}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{e2}</ETag></Part></CompleteMultipartUpload>"
    );
    let growth = peak_growth(pid, async {
        let req = s3_request(
            &server.addr,
            "POST",
            &format!("/mem-bkt/mp?uploadId={id}"),
            vec![],
            complete.into_bytes(),
        );
        let (status, _, body) = server.send(req).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    })
    .await;
    println!("CompleteMultipartUpload of {size} bytes: peak RSS +{growth} bytes");
    assert!(
        growth < BOUND,
        "CompleteMultipartUpload of {size} bytes raised the peak RSS by {growth} bytes"
    );
    let (status, _, body) = server
        .send(s3_request(
            &server.addr,
            "GET",
            "/mem-bkt/mp",
            vec![],
            vec![],
        ))
        .await;
    assert_eq!(status, 200);
    assert!(body == data, "the assembled object differs from its parts");
}
