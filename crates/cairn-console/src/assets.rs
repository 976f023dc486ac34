//! The console's static files, embedded at build time: nothing is loaded from another host.

/// One embedded file.
pub struct Asset {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Bytes.
    pub body: &'static [u8],
}

/// The stylesheet.
pub const CSS: &str = include_str!("../assets/console.css");
/// The script (progressive enhancement only).
pub const JS: &str = include_str!("../assets/console.js");
/// The logo and favicon.
pub const LOGO: &[u8] = include_bytes!("../assets/cairn.svg");

/// The asset served at `/console/assets/<name>`.
pub fn get(name: &str) -> Option<Asset> {
    let (content_type, body): (&str, &[u8]) = match name {
        "console.css" => ("text/css; charset=utf-8", CSS.as_bytes()),
        "console.js" => ("text/javascript; charset=utf-8", JS.as_bytes()),
        "cairn.svg" => ("image/svg+xml", LOGO),
        _ => return None,
    };
    Some(Asset { content_type, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_served_and_nothing_else() {
        for name in ["console.css", "console.js", "cairn.svg"] {
            assert!(!get(name).expect(name).body.is_empty());
        }
        assert!(get("../Cargo.toml").is_none());
        assert!(get("").is_none());
    }

    #[test]
    fn assets_name_no_other_host() {
        for text in [CSS, JS, std::str::from_utf8(LOGO).unwrap()] {
            for line in text.lines() {
                let ok_ns = line.contains("http://www.w3.org/2000/svg");
                assert!(ok_ns || !line.contains("http://"), "{line}");
                assert!(!line.contains("https://"), "{line}");
                assert!(!line.contains("@import"), "{line}");
            }
        }
    }
}
