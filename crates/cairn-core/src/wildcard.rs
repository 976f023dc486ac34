//! Wildcard text patterns as AWS's APIs take them outside policies (a stack policy's
//! `Action` and `Resource`, EC2's filter values): `*` matches any run of characters, `?` any
//! one, case-sensitively. (IAM policies have their own compiled form in `cairn-policy`.)

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("*us*", "ec2.us-east-1.amazonaws.com"));
        assert!(matches("eu-west-?", "eu-west-3"));
        assert!(matches("*", ""));
        assert!(!matches("eu-*-1", "us-east-1"));
        assert!(matches("eu-*-1", "eu-central-1"));
        assert!(!matches("eu-west-?", "eu-west-10"));
    }
}
