//! Property tests: the parser and matcher never panic, whatever the pattern or message, and a
//! pattern that parses once parses again the same way.

use cairn_filter::{FilterPattern, Matcher, MetricValue, Selector};
use proptest::prelude::*;

/// Strings built from the language's own tokens, so the fuzzer reaches deep into the grammar.
fn pattern_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "$.",
        "$",
        ".",
        "a",
        "b1",
        "eventName",
        "[0]",
        "[12]",
        " ",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "&&",
        "||",
        "IS",
        "NULL",
        "TRUE",
        "FALSE",
        "NOT",
        "EXISTS",
        "\"",
        "\\",
        "*",
        "%",
        "^",
        "?",
        "-",
        "...",
        ",",
        "1",
        "2.5",
        "e3",
        "ERROR",
        "\"x y\"",
        "%[a-z]+%",
        ":",
        "é",
        "\t",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

fn message_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop::sample::select(vec![
                "{",
                "}",
                "[",
                "]",
                "\"a\"",
                ":",
                ",",
                "1",
                "null",
                "true",
                "\"eventName\"",
                " ",
                "\"",
                "x",
            ]),
            0..40
        )
        .prop_map(|v| v.concat()),
        Just(r#"{"eventName":"PutUserPolicy","a":[1,{"b":null}],"n":12.5}"#.to_owned()),
        Just(
            r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET / HTTP/1.0" 200 1534"#
                .to_owned()
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn parsing_never_panics(p in pattern_like(), q in any::<String>()) {
        let _ = FilterPattern::parse(&p);
        let _ = FilterPattern::parse(&q);
        let _ = Selector::parse(&p);
        let _ = MetricValue::parse(&q);
    }

    #[test]
    fn matching_never_panics(p in pattern_like(), m in message_like()) {
        if let Ok(pattern) = FilterPattern::parse(&p) {
            let again = FilterPattern::parse(&p).expect("parses twice");
            prop_assert_eq!(&again, &pattern);
            let sel = Selector::parse("$.a[1].b").expect("selector");
            let matcher = Matcher::new(vec![pattern.clone()], &[&sel]);
            let scan = matcher.scan(&m);
            let _ = scan.resolve(0, &sel);
            prop_assert_eq!(scan.results[0].is_some(), pattern.test(&m).is_some());
        }
    }
}
