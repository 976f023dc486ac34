//! Object keys: `[prefix/]AWSLogs/<account>/CloudTrail[-Digest|-Insight]/<region>/YYYY/MM/DD/…`.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

fn base(prefix: Option<&str>) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}/AWSLogs"),
        _ => "AWSLogs".to_owned(),
    }
}

fn at(epoch: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(epoch, 0).unwrap_or_default()
}

/// A log file key. `stamp` is the file's timestamp (epoch seconds, shown to the minute);
/// `unique` is 16 characters `[A-Za-z0-9]`.
pub fn log_file(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    stamp: i64,
    unique: &str,
) -> String {
    let t = at(stamp);
    format!(
        "{}/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{unique}.json.gz",
        base(prefix),
        t.format("%Y/%m/%d"),
        t.format("%Y%m%dT%H%MZ"),
    )
}

/// An Insights file key (`CloudTrail-Insight` folder); like [`log_file`].
pub fn insight_file(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    stamp: i64,
    unique: &str,
) -> String {
    let t = at(stamp);
    format!(
        "{}/{account}/CloudTrail-Insight/{region}/{}/{account}_CloudTrail-Insight_{region}_{}_{unique}.json.gz",
        base(prefix),
        t.format("%Y/%m/%d"),
        t.format("%Y%m%dT%H%MZ"),
    )
}

/// A digest key for the logs of `region` of trail `trail` (homed in `home`), ending at `end`.
pub fn digest(
    prefix: Option<&str>,
    account: &str,
    region: &str,
    trail: &str,
    home: &str,
    end: i64,
) -> String {
    let t = at(end);
    format!(
        "{}/{account}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{trail}_{home}_{}.json.gz",
        base(prefix),
        t.format("%Y/%m/%d"),
        t.format("%Y%m%dT%H%M%SZ"),
    )
}

/// The 16 characters `[A-Za-z0-9]` that end a file name, derived from `seed` (the planned
/// file's identity), so a re-write after a crash reuses the key.
pub fn unique_suffix(seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Sha256::digest(seed.as_bytes())
        .iter()
        .take(16)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_layout() {
        let stamp = 1_439_820_300; // 2015-08-17T14:05:00Z
        assert_eq!(
            log_file(None, "111122223333", "us-east-2", stamp, "9nYN7gp2eWAJHIfT"),
            "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1405Z_9nYN7gp2eWAJHIfT.json.gz"
        );
        let end = 1_439_823_691; // 2015-08-17T15:01:31Z
        let key = digest(
            Some("pre"),
            "111122223333",
            "us-east-2",
            "trail",
            "us-east-2",
            end,
        );
        assert_eq!(
            key,
            "pre/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_trail_us-east-2_20150817T150131Z.json.gz"
        );
        assert_eq!(
            insight_file(
                None,
                "123456789015",
                "ca-central-1",
                1_600_838_160,
                "KL5e9VCV2SS7IqzB"
            ),
            "AWSLogs/123456789015/CloudTrail-Insight/ca-central-1/2020/09/23/123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz"
        );
        // awscli reads the end time back as key[-24:-8].
        assert_eq!(&key[key.len() - 24..key.len() - 8], "20150817T150131Z");
    }
}
