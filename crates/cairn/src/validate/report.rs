//! The text the stock validator prints, byte for byte: status lines (valid ones on stdout
//! with `--verbose`, problems on stderr followed by a blank line), then the summary on
//! stdout. Cairn's own findings use the same shapes.

use std::io::Write;

use serde_json::{Value, json};

use super::extra;
use super::time::display;

/// Writes status lines with the stock tool's spacing.
pub struct Printer<O: Write, E: Write> {
    out: O,
    err: E,
    verbose: bool,
    last_was_double_space: bool,
}

impl<O: Write, E: Write> Printer<O, E> {
    /// A printer over stdout-like `out` and stderr-like `err`.
    pub fn new(out: O, err: E, verbose: bool) -> Self {
        Self {
            out,
            err,
            verbose,
            last_was_double_space: true,
        }
    }

    /// `Validating log files for trail … between … and …`, then a blank line.
    pub fn startup(&mut self, arn: &str, start: i64, end: i64) -> std::io::Result<()> {
        write!(
            self.out,
            "Validating log files for trail {arn} between {} and {}\n\n",
            display(start),
            display(end)
        )?;
        self.out.flush()
    }

    /// A line that only `--verbose` shows.
    pub fn valid(&mut self, line: &str) -> std::io::Result<()> {
        if self.verbose {
            self.last_was_double_space = false;
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// A problem: on stderr, set apart by blank lines.
    pub fn problem(&mut self, line: &str) -> std::io::Result<()> {
        // stdout holds valid lines; flush it first so a terminal shows both in order.
        self.out.flush()?;
        if self.last_was_double_space {
            write!(self.err, "{line}\n\n")?;
        } else {
            write!(self.err, "\n{line}\n\n")?;
        }
        self.last_was_double_space = true;
        self.err.flush()
    }

    /// The summary.
    pub fn summary(&mut self, s: &Summary) -> std::io::Result<()> {
        if !self.last_was_double_space {
            writeln!(self.out)?;
        }
        writeln!(
            self.out,
            "Results requested for {} to {}",
            display(s.start),
            display(s.end)
        )?;
        if s.digests_valid + s.digests_invalid == 0 {
            writeln!(self.out, "No digests found")?;
            return self.out.flush();
        }
        match s.found {
            Some((from, to)) => writeln!(
                self.out,
                "Results found for {} to {}:",
                display(from),
                display(to)
            )?,
            None => writeln!(self.out, "No valid digests found in range")?,
        }
        self.ratio(s.digests_valid, s.digests_invalid, "digest")?;
        self.ratio(s.logs_valid, s.logs_invalid, "log")?;
        writeln!(self.out)?;
        self.out.flush()
    }

    fn ratio(&mut self, valid: usize, invalid: usize, name: &str) -> std::io::Result<()> {
        let total = valid + invalid;
        if total > 0 {
            write!(self.out, "\n{valid}/{total} {name} files valid")?;
            if invalid > 0 {
                write!(self.out, ", {invalid}/{total} {name} files INVALID")?;
            }
        }
        Ok(())
    }
}

/// The counts and times of the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Requested start.
    pub start: i64,
    /// Requested end.
    pub end: i64,
    /// Earliest start and latest end of the valid digests, clamped to the request.
    pub found: Option<(i64, i64)>,
    /// Valid digests.
    pub digests_valid: usize,
    /// Invalid or missing digests.
    pub digests_invalid: usize,
    /// Valid log files.
    pub logs_valid: usize,
    /// Invalid, missing or unlisted log files.
    pub logs_invalid: usize,
}

/// `Digest file\ts3://bucket/key\tvalid` and the like.
pub fn line(kind: &str, bucket: &str, key: &str, state: &str) -> String {
    format!("{kind}\ts3://{bucket}/{key}\t{state}")
}

/// The `--json` report: the summary's counts, the gaps and every problem line, split into
/// kind, object and problem where it has them.
pub fn json_report(
    arn: &str,
    s: &Summary,
    gaps: &[extra::Finding],
    problems: &[String],
    notice: Option<String>,
) -> Value {
    let problems: Vec<Value> = problems
        .iter()
        .map(|p| {
            let parts: Vec<&str> = p.splitn(3, '\t').collect();
            match parts.as_slice() {
                [kind, object, state] => json!({
                    "Kind": kind,
                    "Object": object,
                    "Problem": state.strip_prefix("INVALID: ").unwrap_or(state),
                }),
                _ => json!({ "Kind": "Notice", "Problem": p }),
            }
        })
        .collect();
    let missing = problems
        .iter()
        .filter(|p| p["Kind"] == "Digest file" && p["Problem"] == "not found")
        .count()
        + gaps.iter().map(|g| g.digests).sum::<usize>();
    json!({
        "TrailARN": arn,
        "StartTime": display(s.start),
        "EndTime": display(s.end),
        "ResultsFound": s.found.map(|(a, b)| json!({"StartTime": display(a), "EndTime": display(b)})),
        "Digests": {"Valid": s.digests_valid, "Invalid": s.digests_invalid, "Total": s.digests_valid + s.digests_invalid},
        "LogFiles": {"Valid": s.logs_valid, "Invalid": s.logs_invalid, "Total": s.logs_valid + s.logs_invalid},
        "Gaps": gaps.iter().map(|g| g.line.clone()).collect::<Vec<_>>(),
        "MissingDigests": missing,
        "Notice": notice,
        "Problems": problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        verbose: bool,
        f: impl FnOnce(&mut Printer<&mut Vec<u8>, &mut Vec<u8>>),
    ) -> (String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut p = Printer::new(&mut out, &mut err, verbose);
        f(&mut p);
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn spacing_follows_the_stock_tool() {
        let (out, err) = run(true, |p| {
            p.startup("arn:t", 0, 3600).unwrap();
            p.valid("Digest file\ts3://b/d\tvalid").unwrap();
            p.problem("Log file\ts3://b/l\tINVALID: not found").unwrap();
            p.problem("Log file\ts3://b/m\tINVALID: not found").unwrap();
            p.valid("Log file\ts3://b/n\tvalid").unwrap();
            p.summary(&Summary {
                start: 0,
                end: 3600,
                found: Some((0, 3600)),
                digests_valid: 1,
                digests_invalid: 0,
                logs_valid: 1,
                logs_invalid: 2,
            })
            .unwrap();
        });
        assert_eq!(
            out,
            "Validating log files for trail arn:t between 1970-01-01T00:00:00Z and 1970-01-01T01:00:00Z\n\n\
             Digest file\ts3://b/d\tvalid\nLog file\ts3://b/n\tvalid\n\n\
             Results requested for 1970-01-01T00:00:00Z to 1970-01-01T01:00:00Z\n\
             Results found for 1970-01-01T00:00:00Z to 1970-01-01T01:00:00Z:\n\n\
             1/1 digest files valid\n1/3 log files valid, 2/3 log files INVALID\n"
        );
        assert_eq!(
            err,
            "\nLog file\ts3://b/l\tINVALID: not found\n\nLog file\ts3://b/m\tINVALID: not found\n\n"
        );
    }

    #[test]
    fn no_digests_and_no_valid_digests_have_their_own_lines() {
        let s = Summary {
            start: 0,
            end: 60,
            ..Default::default()
        };
        let (out, _) = run(false, |p| p.summary(&s).unwrap());
        assert_eq!(
            out,
            "Results requested for 1970-01-01T00:00:00Z to 1970-01-01T00:01:00Z\nNo digests found\n"
        );
        let (out, _) = run(false, |p| {
            p.summary(&Summary {
                digests_invalid: 1,
                ..s.clone()
            })
            .unwrap()
        });
        assert!(out.ends_with("No valid digests found in range\n\n0/1 digest files valid, 1/1 digest files INVALID\n"), "{out}");
    }
}
