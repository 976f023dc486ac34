//! The AWS credential chain of the CLI, for static credentials: environment variables, then
//! the shared credentials file, then the config file, for the profile in use.
//!
//! As botocore resolves it:
//! - the profile is `--profile`, else `AWS_PROFILE`, else `default`;
//! - `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`, or the older
//!   `AWS_SECURITY_TOKEN`) win, except when `--profile` is given on the command line;
//! - then `[NAME]` of `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`);
//! - then `[profile NAME]` (`[default]` for the default profile) of `~/.aws/config`
//!   (`AWS_CONFIG_FILE`), which also gives the profile's `region`.
//!
//! The files are INI as Python's `configparser` reads them: `[section]` headers, `key = value`
//! or `key: value`, keys case-insensitive, whole-line `#`/`;` comments, and indented lines
//! that continue the previous value (botocore's nested `s3 =` blocks), which we skip.
//! Profiles that get credentials another way (roles, SSO, processes) are named in the error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::client::Credentials;

/// One parsed INI file: section → key (lower case) → value.
pub type Ini = BTreeMap<String, BTreeMap<String, String>>;

/// Parses the INI subset of the AWS shared files. `source` names the file in errors.
pub fn parse_ini(text: &str, source: &str) -> anyhow::Result<Ini> {
    let mut out: Ini = BTreeMap::new();
    let mut section: Option<String> = None;
    let mut last_key: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t']) && last_key.is_some() {
            // A continuation line: part of the previous value (a nested block).
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                bail!(
                    "{source}, line {}: a section header must end with ']'",
                    n + 1
                );
            };
            let name = name.trim().to_owned();
            out.entry(name.clone()).or_default();
            section = Some(name);
            last_key = None;
            continue;
        }
        let Some(current) = &section else {
            bail!(
                "{source}, line {}: a key outside any [section]: {trimmed}",
                n + 1
            );
        };
        let split = trimmed
            .find(['=', ':'])
            .with_context(|| format!("{source}, line {}: expected `key = value`", n + 1))?;
        let key = trimmed[..split].trim().to_lowercase();
        let value = trimmed[split + 1..].trim().to_owned();
        if key.is_empty() {
            bail!("{source}, line {}: an empty key", n + 1);
        }
        out.entry(current.clone())
            .or_default()
            .insert(key.clone(), value);
        last_key = Some(key);
    }
    Ok(out)
}

/// Where the chain looks, so tests can point it elsewhere.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// Environment variables that matter (name → value).
    pub env: BTreeMap<String, String>,
    /// `--profile`, when given.
    pub profile_flag: Option<String>,
    /// The home directory (for `~/.aws/...`).
    pub home: Option<PathBuf>,
}

const ENV_NAMES: [&str; 10] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
];

impl Sources {
    /// The process environment and `$HOME`.
    pub fn from_process(profile_flag: Option<String>) -> Self {
        Self {
            env: ENV_NAMES
                .iter()
                .filter_map(|n| Some((n.to_string(), std::env::var(n).ok()?)))
                .collect(),
            profile_flag,
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn file(&self, var: &str, default: &str) -> Option<PathBuf> {
        match self.var(var) {
            Some(p) => Some(expand_home(p, self.home.as_deref())),
            None => self.home.as_ref().map(|h| h.join(".aws").join(default)),
        }
    }
}

fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(path),
    }
}

/// What the chain found.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The credentials.
    pub credentials: Credentials,
    /// Where they came from (for messages; never the secret).
    pub source: String,
    /// The region: `AWS_DEFAULT_REGION`, `AWS_REGION`, then the profile's `region`.
    pub region: Option<String>,
}

fn read_ini(path: &Path) -> anyhow::Result<Option<Ini>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_ini(&text, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn static_keys(section: &BTreeMap<String, String>) -> Option<Credentials> {
    Some(Credentials {
        access_key_id: section.get("aws_access_key_id")?.clone(),
        secret_access_key: section.get("aws_secret_access_key")?.clone(),
        session_token: section
            .get("aws_session_token")
            .or_else(|| section.get("aws_security_token"))
            .cloned(),
    })
}

/// Resolves credentials and region as the CLI would.
pub fn resolve(sources: &Sources) -> anyhow::Result<Resolved> {
    let explicit = sources.profile_flag.clone();
    let profile = explicit
        .clone()
        .or_else(|| sources.var("AWS_PROFILE").map(str::to_owned))
        .or_else(|| sources.var("AWS_DEFAULT_PROFILE").map(str::to_owned))
        .unwrap_or_else(|| "default".to_owned());
    let config = match sources.file("AWS_CONFIG_FILE", "config") {
        Some(p) => read_ini(&p)?,
        None => None,
    };
    let config_section = config.as_ref().and_then(|c| {
        if profile == "default" {
            c.get("default").or_else(|| c.get("profile default"))
        } else {
            c.get(&format!("profile {profile}"))
        }
    });
    let region = sources
        .var("AWS_DEFAULT_REGION")
        .or_else(|| sources.var("AWS_REGION"))
        .map(str::to_owned)
        .or_else(|| config_section.and_then(|s| s.get("region").cloned()));

    if explicit.is_none()
        && let (Some(id), Some(secret)) = (
            sources.var("AWS_ACCESS_KEY_ID"),
            sources.var("AWS_SECRET_ACCESS_KEY"),
        )
    {
        return Ok(Resolved {
            credentials: Credentials {
                access_key_id: id.to_owned(),
                secret_access_key: secret.to_owned(),
                session_token: sources
                    .var("AWS_SESSION_TOKEN")
                    .or_else(|| sources.var("AWS_SECURITY_TOKEN"))
                    .map(str::to_owned),
            },
            source: "environment variables".into(),
            region,
        });
    }
    let credentials_path = sources.file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    if let Some(path) = &credentials_path
        && let Some(ini) = read_ini(path)?
        && let Some(found) = ini.get(&profile).and_then(static_keys)
    {
        return Ok(Resolved {
            credentials: found,
            source: format!("profile {profile} of {}", path.display()),
            region,
        });
    }
    if let Some(section) = config_section {
        if let Some(found) = static_keys(section) {
            return Ok(Resolved {
                credentials: found,
                source: format!("profile {profile} of the config file"),
                region,
            });
        }
        let other: Vec<&str> = [
            "role_arn",
            "sso_session",
            "sso_start_url",
            "credential_process",
            "web_identity_token_file",
        ]
        .into_iter()
        .filter(|k| section.contains_key(*k))
        .collect();
        if !other.is_empty() {
            bail!(
                "profile {profile} gets its credentials through {}, which cairn validate-logs \
                 does not support; give static keys (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                other.join(", ")
            );
        }
    }
    let profile_known = config_section.is_some()
        || credentials_path
            .as_deref()
            .and_then(|p| read_ini(p).ok().flatten())
            .is_some_and(|ini| ini.contains_key(&profile));
    if explicit.is_some() || sources.var("AWS_PROFILE").is_some() {
        if !profile_known {
            bail!("The config profile ({profile}) could not be found");
        }
        bail!("profile {profile} has no aws_access_key_id and aws_secret_access_key");
    }
    bail!(
        "Unable to locate credentials. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or \
         configure a profile in ~/.aws/credentials"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &Path, env: &[(&str, &str)], flag: Option<&str>) -> Sources {
        Sources {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            profile_flag: flag.map(str::to_owned),
            home: Some(dir.to_owned()),
        }
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir.join(".aws")).unwrap();
        std::fs::write(dir.join(".aws").join(name), text).unwrap();
    }

    const CREDENTIALS: &str = "\
# a comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default

[work]
AWS_ACCESS_KEY_ID: AKIDWORK
aws_secret_access_key=secret-work
aws_session_token = token-work
";

    const CONFIG: &str = "\
[default]
region = eu-west-1
s3 =
    max_concurrent_requests = 20
    addressing_style = path
; another comment
[profile work]
region = ap-south-1

[profile cfgonly]
aws_access_key_id = AKIDCFG
aws_secret_access_key = secret-cfg
region = us-west-2

[profile role]
role_arn = arn:aws:iam::123456789012:role/r
source_profile = default
";

    #[test]
    fn environment_wins_unless_a_profile_flag_is_given() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "credentials", CREDENTIALS);
        write(dir.path(), "config", CONFIG);
        let env = [
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "secret-env"),
            ("AWS_SESSION_TOKEN", "token-env"),
            ("AWS_PROFILE", "work"),
        ];
        let r = resolve(&sources(dir.path(), &env, None)).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIDENV");
        assert_eq!(r.credentials.session_token.as_deref(), Some("token-env"));
        assert_eq!(
            r.region.as_deref(),
            Some("ap-south-1"),
            "AWS_PROFILE's region"
        );
        let r = resolve(&sources(dir.path(), &env, Some("work"))).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIDWORK");
        assert_eq!(r.credentials.session_token.as_deref(), Some("token-work"));
    }

    #[test]
    fn profiles_come_from_credentials_then_config() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "credentials", CREDENTIALS);
        write(dir.path(), "config", CONFIG);
        let r = resolve(&sources(dir.path(), &[], None)).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIDDEFAULT");
        assert_eq!(r.region.as_deref(), Some("eu-west-1"));
        assert!(r.credentials.session_token.is_none());
        let r = resolve(&sources(dir.path(), &[("AWS_PROFILE", "cfgonly")], None)).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIDCFG");
        assert_eq!(r.region.as_deref(), Some("us-west-2"));
        let r = resolve(&sources(
            dir.path(),
            &[
                ("AWS_PROFILE", "cfgonly"),
                ("AWS_DEFAULT_REGION", "sa-east-1"),
            ],
            None,
        ))
        .unwrap();
        assert_eq!(
            r.region.as_deref(),
            Some("sa-east-1"),
            "the environment's region wins"
        );
    }

    #[test]
    fn file_locations_follow_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("elsewhere");
        std::fs::write(
            &other,
            "[default]\naws_access_key_id=AKIDX\naws_secret_access_key=s\n",
        )
        .unwrap();
        let r = resolve(&sources(
            dir.path(),
            &[("AWS_SHARED_CREDENTIALS_FILE", other.to_str().unwrap())],
            None,
        ))
        .unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIDX");
        let cfg = dir.path().join("cfg");
        std::fs::write(
            &cfg,
            "[profile p]\naws_access_key_id=AKIDP\naws_secret_access_key=s\n",
        )
        .unwrap();
        let r = resolve(&sources(
            dir.path(),
            &[("AWS_CONFIG_FILE", cfg.to_str().unwrap())],
            Some("p"),
        ))
        .unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIDP");
    }

    #[test]
    fn missing_or_unsupported_profiles_say_why() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "credentials", CREDENTIALS);
        write(dir.path(), "config", CONFIG);
        let e = resolve(&sources(dir.path(), &[], Some("nope"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The config profile (nope) could not be found"
        );
        let e = resolve(&sources(dir.path(), &[], Some("role"))).unwrap_err();
        assert!(e.to_string().contains("role_arn"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        let e = resolve(&sources(empty.path(), &[], None)).unwrap_err();
        assert!(
            e.to_string().starts_with("Unable to locate credentials"),
            "{e}"
        );
    }

    #[test]
    fn malformed_files_are_refused_with_the_line() {
        for text in ["key = v\n", "[open\n", "[s]\nnovalue\n", "[s]\n= v\n"] {
            let e = parse_ini(text, "f").unwrap_err().to_string();
            assert!(e.starts_with("f, line "), "{text:?}: {e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_parser_never_panics(s in "[\\[\\]=:#; \ta-z\n]{0,80}") {
            let _ = parse_ini(&s, "f");
        }
    }
}
