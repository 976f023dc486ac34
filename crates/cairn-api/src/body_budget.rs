//! Reading JSON and Query request bodies within a shared budget. Such a body is read whole
//! before its signature can be checked, so the bytes held at once across requests are
//! bounded (ops7: 1,024 connections each sending an unsigned 8 MiB body held 8.5 GB). Room is
//! taken as bytes arrive, not as a `Content-Length` declares them (hostile14: sixteen
//! connections declaring 8 MiB and sending a trickle locked every large body out), and bodies
//! up to [`SMALL_BODY`] (nearly every API call's) are bounded by the connection cap alone.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bytes of large bodies held at once, in KiB: 128 MiB.
pub const BUDGET_KIB: usize = 128 << 10;

/// Bodies up to this size take nothing from the budget.
pub const SMALL_BODY: usize = 64 << 10;

/// How long a body waits for room before it is refused.
const WAIT: Duration = Duration::from_secs(2);

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// It came too slowly (the body-rate floor).
    TooSlow,
    /// It exceeded the limit.
    TooLarge,
    /// The budget had no room for it within [`WAIT`].
    NoRoom,
}

/// The budget, shared by a server's requests.
pub fn budget() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(BUDGET_KIB))
}

/// Reads `body` (at most `max` bytes), taking room in `budget` for every KiB past
/// [`SMALL_BODY`] as it arrives; the room is held as long as the returned permits.
pub async fn read(
    body: axum::body::Body,
    max: usize,
    budget: &Arc<Semaphore>,
) -> Result<(Bytes, Vec<OwnedSemaphorePermit>), BodyError> {
    let mut body = body;
    let mut out = BytesMut::new();
    let mut held: Vec<OwnedSemaphorePermit> = Vec::new();
    let mut held_kib = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) if crate::server::is_too_slow(&e) => return Err(BodyError::TooSlow),
            Err(_) => return Err(BodyError::TooLarge),
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if out.len() + data.len() > max {
            return Err(BodyError::TooLarge);
        }
        out.extend_from_slice(&data);
        let wanted = out.len().saturating_sub(SMALL_BODY).div_ceil(1024);
        if wanted > held_kib {
            let more = u32::try_from((wanted - held_kib).min(BUDGET_KIB)).unwrap_or(u32::MAX);
            match tokio::time::timeout(WAIT, budget.clone().acquire_many_owned(more)).await {
                Ok(Ok(permit)) => held.push(permit),
                _ => return Err(BodyError::NoRoom),
            }
            held_kib = wanted;
        }
    }
    Ok((out.freeze(), held))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn room_is_taken_as_bytes_arrive_and_given_back() {
        let budget = Arc::new(Semaphore::new(256));
        // Small bodies take nothing.
        let (b, held) = read(axum::body::Body::from(vec![1u8; 1000]), 1 << 20, &budget)
            .await
            .unwrap();
        assert_eq!(
            (b.len(), held.len(), budget.available_permits()),
            (1000, 0, 256)
        );
        // 64 KiB past the small size: 64 KiB of room, back once the permits go.
        let big = vec![1u8; SMALL_BODY + (64 << 10)];
        let (_, held) = read(axum::body::Body::from(big.clone()), 1 << 20, &budget)
            .await
            .unwrap();
        assert_eq!(budget.available_permits(), 256 - 64);
        // No room for another 256 KiB past the small size while they are held.
        let huge = vec![1u8; SMALL_BODY + (256 << 10)];
        assert!(matches!(
            read(axum::body::Body::from(huge.clone()), 1 << 20, &budget).await,
            Err(BodyError::NoRoom)
        ));
        drop(held);
        assert_eq!(budget.available_permits(), 256);
        assert!(
            read(axum::body::Body::from(huge), 1 << 20, &budget)
                .await
                .is_ok()
        );
        // Over the limit.
        assert!(matches!(
            read(axum::body::Body::from(big), 1000, &budget).await,
            Err(BodyError::TooLarge)
        ));
    }
}
