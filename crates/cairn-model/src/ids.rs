//! Identifiers shared by every subsystem: account ids and region names.

use std::fmt;

/// A 12-digit AWS account id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Parses a 12-digit account id.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("account id must be 12 digits, got {text:?}"))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An AWS region name such as `eu-west-1`, taken from a request's credential scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

/// The regions of the `aws` partition: the regions a multi-region trail shadows into, that
/// bucket location constraints accept, and that a credential scope may name. Source:
/// botocore 1.43.11 `data/endpoints.json`, partition `aws` (one Cairn serves one partition).
pub const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
];

impl Region {
    /// Parses the name of a region that exists (one of [`KNOWN_REGIONS`]).
    pub fn parse(text: &str) -> Result<Self, String> {
        if KNOWN_REGIONS.contains(&text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("unknown region {text:?}"))
        }
    }

    /// Parses any name of AWS's region shape, `xx-name-N`, whether or not it exists (for
    /// checking the form of ARNs before asking whether their region exists).
    pub fn parse_shape(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('-').collect();
        let shape_ok = parts.len() >= 3
            && parts.iter().all(|p| !p.is_empty())
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit());
        if shape_ok && text.len() <= 32 {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("invalid region {text:?}"))
        }
    }

    /// The region as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(AccountId::parse("123456789012").is_ok());
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("12345678901a").is_err());
    }

    #[test]
    fn regions_have_aws_shape() {
        assert!(Region::parse_shape("eu-west-1").is_ok());
        assert!(Region::parse_shape("us-gov-west-1").is_ok());
        assert!(Region::parse_shape("EU-west-1").is_err());
        assert!(Region::parse_shape("euwest1").is_err());
        assert!(Region::parse_shape("eu-west-").is_err());
    }

    #[test]
    fn only_regions_that_exist_parse() {
        assert!(Region::parse("eu-west-1").is_ok());
        assert!(Region::parse("mx-central-1").is_ok());
        assert!(Region::parse("xx-nowhere-7").is_err());
        assert!(Region::parse("us-gov-west-1").is_err(), "another partition");
    }
}
