//! Where a trail's files are in its bucket, and which keys belong to which trail.
//! Digest keys name their trail; log file keys do not.

use chrono::DateTime;

use super::time::parse_key_stamp;

/// The trail and the part of its bucket being validated.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Bucket.
    pub bucket: String,
    /// Key prefix (None or empty: none).
    pub prefix: Option<String>,
    /// Account whose logs these are.
    pub account: String,
    /// Region whose logs these are.
    pub region: String,
    /// Trail name.
    pub name: String,
    /// Trail's home region.
    pub home: String,
}

/// `YYYY/MM/DD` of a time.
pub fn day(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y/%m/%d")
        .to_string()
}

impl Layout {
    fn base(&self) -> String {
        match self.prefix.as_deref() {
            Some(p) if !p.is_empty() => format!("{p}/AWSLogs/{}", self.account),
            _ => format!("AWSLogs/{}", self.account),
        }
    }

    /// `…/CloudTrail-Digest/<region>/`.
    pub fn digest_dir(&self) -> String {
        format!("{}/CloudTrail-Digest/{}/", self.base(), self.region)
    }

    /// `…/CloudTrail/<region>/`.
    pub fn log_dir(&self) -> String {
        format!("{}/CloudTrail/{}/", self.base(), self.region)
    }

    /// The key this trail's digest ending at `t` has.
    pub fn digest_key(&self, t: i64) -> String {
        cairn_logfile::keys::digest(
            self.prefix.as_deref(),
            &self.account,
            &self.region,
            &self.name,
            &self.home,
            t,
        )
    }

    /// The `YYYY/MM/DD` directory of a key under `dir`.
    pub fn day_of<'k>(key: &'k str, dir: &str) -> Option<&'k str> {
        key.strip_prefix(dir)?.get(..10)
    }

    /// The digest file name, if `key` is a digest of this account and region:
    /// `<dir>YYYY/MM/DD/<name>` with three all-digit directories.
    fn digest_file_name<'k>(&self, key: &'k str) -> Option<&'k str> {
        let rest = key.strip_prefix(&self.digest_dir())?;
        let mut parts = rest.splitn(4, '/');
        for _ in 0..3 {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
        }
        let name = parts.next()?;
        (!name.contains('/') && name.ends_with(".json.gz")).then_some(name)
    }

    /// Whether `key` is one of this trail's digests: `<head><YYYYMMDDTHHMMSSZ>.json.gz` and
    /// nothing else. The stock tool's pattern (`<head>.+\.json\.gz`) also takes the digests
    /// of a trail whose name extends this one's (`main_us-east-1_x` for `main`), which let
    /// such a trail stand in for a deleted newest digest and made genuine files look unlisted.
    pub fn is_own_digest(&self, key: &str) -> bool {
        let head = format!(
            "{}_CloudTrail-Digest_{}_{}_{}_",
            self.account, self.region, self.name, self.home
        );
        self.digest_file_name(key)
            .and_then(|n| n.strip_prefix(&head))
            .and_then(|rest| rest.strip_suffix(".json.gz"))
            .is_some_and(is_stamp)
    }

    /// Whether `key` is a digest of any trail for this account and region.
    pub fn is_any_digest(&self, key: &str) -> bool {
        let head = format!("{}_CloudTrail-Digest_{}_", self.account, self.region);
        self.digest_file_name(key)
            .is_some_and(|n| n.starts_with(&head))
    }
}

/// Whether `s` is a digest key's time, `YYYYMMDDTHHMMSSZ`.
fn is_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

/// Whether a digest key is a backfill digest.
pub fn is_backfill(key: &str) -> bool {
    key.ends_with("_backfill.json.gz")
}

/// The time (to the minute) a log file key carries:
/// `…_CloudTrail_<region>_YYYYMMDDTHHMMZ_<unique>.json.gz`.
pub fn log_stamp(key: &str) -> Option<i64> {
    let name = key.rsplit('/').next()?;
    let stamp = name.rsplit('_').nth(1)?;
    let with_seconds = format!("{}00Z", stamp.strip_suffix('Z')?);
    parse_key_stamp(&with_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(prefix: Option<&str>) -> Layout {
        Layout {
            bucket: "b".into(),
            prefix: prefix.map(str::to_owned),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            name: "t".into(),
            home: "us-east-1".into(),
        }
    }

    #[test]
    fn own_and_other_digests_are_told_apart() {
        let l = layout(Some("p"));
        let own = l.digest_key(1_795_515_000);
        assert!(l.is_own_digest(&own) && l.is_any_digest(&own));
        let other = own.replace("_t_us-east-1_", "_other_us-east-1_");
        assert!(!l.is_own_digest(&other) && l.is_any_digest(&other));
        // A trail whose name extends this one's is another trail.
        let longer = own.replace("_t_us-east-1_", "_t_us-east-1_x_us-east-1_");
        assert!(!l.is_own_digest(&longer) && l.is_any_digest(&longer));
        assert!(!l.is_own_digest(&own.replace(".json.gz", "_backfill.json.gz")));
        assert!(!l.is_own_digest(&own.replace("/2026/", "/20x6/")));
        assert!(
            !layout(None).is_own_digest(&own),
            "the prefix is part of the pattern"
        );
        assert_eq!(Layout::day_of(&own, &l.digest_dir()), Some("2026/11/24"));
        assert!(is_backfill(&own.replace(".json.gz", "_backfill.json.gz")));
    }

    #[test]
    fn log_keys_carry_their_minute() {
        let key = cairn_logfile::keys::log_file(
            None,
            "123456789012",
            "us-east-1",
            1_795_515_059,
            "ABCDEFGHIJKLMNOP",
        );
        assert_eq!(log_stamp(&key), Some(1_795_515_000));
        assert_eq!(log_stamp("AWSLogs/x.json.gz"), None);
        assert_eq!(day(1_795_515_000), "2026/11/24");
    }
}
