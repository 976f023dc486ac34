//! Source positions of statements, for SimulatePolicy's `MatchedStatements`
//! (`StartPosition`/`EndPosition`).
//!
//! serde_json gives no positions, so the original text (already known to be valid JSON) is
//! scanned: the top-level object's last `Statement` member (the one serde_json keeps), and
//! each object inside it. Lines and columns count from 1; columns count characters. The start
//! is the statement's `{`, the end the position just after its `}` (Cairn's convention).

/// A line/column position in a policy document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

/// Byte spans of the statement objects of a valid JSON document, in order. An object
/// `Statement` gives one span; an array gives one per object element.
pub(crate) fn statement_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Vec::new();
    }
    i += 1;
    let mut found: Option<(usize, usize)> = None;
    loop {
        i = ws(b, i);
        match b.get(i) {
            Some(b'"') => {}
            _ => break,
        }
        let key_end = skip_string(b, i);
        let is_statement = key_is(&text[i..key_end], "Statement");
        i = ws(b, key_end);
        if b.get(i) != Some(&b':') {
            break;
        }
        i = ws(b, i + 1);
        let end = skip_value(b, i);
        if is_statement {
            found = Some((i, end));
        }
        i = ws(b, end);
        if b.get(i) == Some(&b',') {
            i += 1;
        } else {
            break;
        }
    }
    let Some((start, end)) = found else {
        return Vec::new();
    };
    match b[start] {
        b'{' => vec![(start, end)],
        b'[' => {
            let mut spans = Vec::new();
            let mut j = start + 1;
            loop {
                j = ws(b, j);
                if j >= end || b[j] == b']' {
                    break;
                }
                let e = skip_value(b, j);
                if b[j] == b'{' {
                    spans.push((j, e));
                }
                j = ws(b, e);
                if b.get(j) == Some(&b',') {
                    j += 1;
                } else {
                    break;
                }
            }
            spans
        }
        _ => Vec::new(),
    }
}

fn key_is(raw: &str, want: &str) -> bool {
    let inner = &raw[1..raw.len().saturating_sub(1).max(1)];
    if !inner.contains('\\') {
        return inner == want;
    }
    serde_json::from_str::<String>(raw).is_ok_and(|k| k == want)
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// `i` at an opening quote; returns the index after the closing quote.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Skips one value starting at `i`; returns the index after it. Iterative for nesting.
fn skip_value(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            j
        }
        None => i,
    }
}

/// Converts ascending byte offsets to positions in one pass.
pub(crate) fn to_positions(text: &str, offsets: &[usize]) -> Vec<Position> {
    let mut out = Vec::with_capacity(offsets.len());
    let (mut line, mut col) = (1u32, 1u32);
    let mut next = 0;
    for (i, c) in text.char_indices() {
        while next < offsets.len() && offsets[next] <= i {
            out.push(Position { line, column: col });
            next += 1;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    while next < offsets.len() {
        out.push(Position { line, column: col });
        next += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_list_and_object() {
        let t = "{\"Version\":\"2012-10-17\",\n \"Statement\": [\n  {\"Effect\":\"Allow\",\"Action\":\"a:b\",\"Resource\":\"}\"},\n  {\"Effect\":\"Deny\"}\n]}";
        let s = statement_spans(t);
        assert_eq!(s.len(), 2);
        assert_eq!(&t[s[1].0..s[1].1], "{\"Effect\":\"Deny\"}");
        let p = to_positions(t, &[s[0].0, s[0].1, s[1].0]);
        assert_eq!(p[0], Position { line: 3, column: 3 });
        assert_eq!(p[2], Position { line: 4, column: 3 });
        let o = "{\"Statement\":{\"a\":[1,{\"b\":\"[\"}]}}";
        let s = statement_spans(o);
        assert_eq!(&o[s[0].0..s[0].1], "{\"a\":[1,{\"b\":\"[\"}]}");
        let esc = "{\"Statem\\u0065nt\":{}}";
        assert_eq!(statement_spans(esc).len(), 1);
    }
}
