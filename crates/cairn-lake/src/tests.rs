//! Which stores a statement reads: the forms that name several stores, the forms that name
//! none, and statements that cannot be parsed.

use super::{MAX_STATEMENT_CHARS, Reads, queried_stores};

const A: &str = "5e2676f8-9fce-46ef-8142-3e36a94e6691";
const B: &str = "0b6cd4a1-1111-4222-8333-444455556666";

fn stores(sql: &str) -> Vec<String> {
    match queried_stores(&sql.replace("{A}", A).replace("{B}", B)) {
        Reads::Stores(s) => s,
        Reads::Unparsed => panic!("not parsed: {sql}"),
    }
}

fn both() -> Vec<String> {
    let mut v = vec![A.to_owned(), B.to_owned()];
    v.sort();
    v
}

#[test]
fn a_bare_id_is_one_store() {
    assert_eq!(stores("SELECT eventName FROM {A}"), vec![A]);
    assert_eq!(
        stores("SELECT eventName FROM \"{A}\" WHERE eventTime > '2024-01-01'"),
        vec![A]
    );
    assert_eq!(stores("select * from {A};"), vec![A]);
}

#[test]
fn every_store_of_a_statement_is_read() {
    for sql in [
        "SELECT eventName FROM {A}, {B}",
        "SELECT eventName FROM {A},{B}",
        "SELECT x.eventName FROM {A} x JOIN {B} y ON x.eventID = y.eventID",
        "SELECT x.eventName FROM {A} x JOIN({B}) y ON x.eventID = y.eventID",
        "SELECT eventName FROM {A} UNION ALL TABLE {B}",
        "SELECT eventName FROM {A} /* comment */ UNION SELECT eventName FROM /* c */ {B}",
        "SELECT eventName FROM {A} UNION SELECT eventName FROM -- c\n{B}",
        "SELECT eventName FROM {A} WHERE eventID IN (SELECT eventID FROM\"{B}\")",
        "SELECT eventName FROM {A} EXCEPT SELECT eventName FROM({B})",
        "WITH r AS (SELECT * FROM {B}) SELECT eventName FROM {A} JOIN r ON true",
    ] {
        assert_eq!(stores(sql), both(), "{sql}");
    }
}

#[test]
fn ids_are_compared_in_lower_case() {
    assert_eq!(
        stores(&format!("SELECT 1 FROM {}", B.to_uppercase())),
        vec![B]
    );
}

#[test]
fn words_after_from_that_are_not_tables_name_no_store() {
    for sql in [
        "SELECT r.arn FROM {A} CROSS JOIN UNNEST(resources) AS t(r)",
        "SELECT eventName FROM {A} WHERE errorCode IS DISTINCT FROM 'AccessDenied'",
        "SELECT 1 FROM {A} WHERE userIdentity.accountId IS DISTINCT FROM recipientAccountId",
        "SELECT extract(hour FROM eventTime), count(*) FROM {A} GROUP BY 1",
        "SELECT trim(BOTH ' ' FROM eventName) FROM {A}",
        "SELECT eventName FROM {A} WHERE errorMessage LIKE '%denied from console%'",
        "WITH recent AS (SELECT * FROM {A}) SELECT eventName FROM recent",
        "SELECT eventName FROM (SELECT * FROM {A}) sub",
    ] {
        assert_eq!(stores(sql), vec![A], "{sql}");
    }
}

#[test]
fn a_with_named_after_a_store_does_not_hide_it() {
    let sql = "SELECT * FROM (WITH {B} AS (SELECT 1) SELECT * FROM {B}) x, {B}";
    assert_eq!(stores(sql), vec![B]);
    assert_eq!(
        stores("WITH {B} AS (SELECT * FROM {A}) SELECT * FROM {B}"),
        both()
    );
}

#[test]
fn what_cannot_be_parsed_is_unparsed() {
    for sql in [
        "SELECT eventName FROM eds-1",
        "SELECT FROM WHERE",
        "SELECT eventtime < ='2022-01-19 13:51:00' FROM x",
    ] {
        assert_eq!(queried_stores(sql), Reads::Unparsed, "{sql:?}");
    }
}

#[test]
fn a_statement_without_tables_reads_no_store() {
    assert_eq!(queried_stores(""), Reads::Stores(vec![]));
    assert_eq!(queried_stores("SELECT 1"), Reads::Stores(vec![]));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    // Refused by the parser, so judged by the store ids it names.
    let sql = format!("SELECT {}1{} FROM {A}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(queried_stores(&sql), Reads::Stores(vec![A.to_owned()]));
    let sql = format!(
        "SELECT * FROM {}{A}{}",
        "(SELECT * FROM ".repeat(3000),
        ")".repeat(3000)
    );
    assert_eq!(queried_stores(&sql), Reads::Stores(vec![A.to_owned()]));
    let sql = format!("SELECT {}1{} FROM x", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(queried_stores(&sql), Reads::Unparsed);
}

proptest::proptest! {
    /// Any text, and text made of SQL's own pieces, is parsed or refused: never a panic, and a
    /// statement naming store B in a FROM list always reads it.
    #[test]
    fn any_statement_is_answered(text in "\\PC{0,200}") {
        let _ = queried_stores(&text);
    }

    #[test]
    fn pieces_of_sql_are_answered(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            "SELECT", "FROM", "JOIN", "(", ")", ",", "'", "\"", "--", "/*", "*/", "\n", "WITH",
            "AS", "UNION", "TABLE", "x", "1", A, B, "UNNEST", "IS DISTINCT", "WHERE", ";",
        ]), 0..40),
    ) {
        let _ = queried_stores(&pieces.join(" "));
    }

    #[test]
    fn a_listed_store_is_always_read(others in proptest::collection::vec("[a-z]{1,8}", 0..5)) {
        let mut list = others.clone();
        list.push(B.to_owned());
        let sql = format!("SELECT eventName FROM {}", list.join(", "));
        match queried_stores(&sql) {
            Reads::Stores(s) => proptest::prop_assert!(s.contains(&B.to_owned())),
            Reads::Unparsed => {}
        }
    }
}

#[test]
fn a_nested_comment_cannot_hide_a_store() {
    // Trino's comments do not nest: this reads store B.
    assert_eq!(stores("SELECT 1 /* /* */ FROM {B} -- */"), vec![B]);
    assert_eq!(
        stores("SELECT eventName FROM {A} /* /* */ UNION ALL SELECT eventName FROM {B} -- */"),
        both()
    );
}

#[test]
fn a_string_or_comment_naming_a_store_reads_nothing() {
    assert_eq!(
        stores("SELECT eventName FROM {A} WHERE eventID = '{B}'"),
        vec![A]
    );
    assert_eq!(stores("SELECT eventName FROM {A} -- not {B}"), vec![A]);
}

#[test]
fn what_the_parser_refuses_is_judged_by_its_store_ids() {
    // Valid Trino sqlparser does not take: the stores it names still count.
    let sql = "SELECT json_query(x, 'lax $' WITH ARRAY WRAPPER) FROM {A}, {B}";
    assert_eq!(stores(sql), both());
}

#[test]
fn a_statement_over_aws_length_is_not_parsed_and_cannot_overflow() {
    let sql = format!("SELECT {} FROM {B}", vec!["1"; 40_000].join("+"));
    assert_eq!(queried_stores(&sql), Reads::Stores(vec![B.to_owned()]));
    let sql = format!("SELECT {} FROM other", vec!["1"; 40_000].join("+"));
    assert_eq!(queried_stores(&sql), Reads::Unparsed);
    // The longest statement AWS takes, all one flat expression, parses on a test thread.
    let terms = (MAX_STATEMENT_CHARS - 60) / 2;
    let sql = format!("SELECT {} FROM {A}", vec!["1"; terms].join("+"));
    assert!(sql.len() <= MAX_STATEMENT_CHARS);
    assert_eq!(queried_stores(&sql), Reads::Stores(vec![A.to_owned()]));
}

#[test]
fn a_carriage_return_ends_a_line_comment() {
    assert_eq!(stores("SELECT eventName FROM {A} -- x\r, {B}"), both());
}

#[test]
fn an_id_inside_a_quoted_alias_does_not_shift_the_quotes() {
    let sql = "SELECT (SELECT count(*) FROM {A}) AS \"c {B}\", eventName FROM {B} --\"";
    assert_eq!(stores(sql), both());
    assert_eq!(stores("SELECT 1 AS \"x {B} y\" FROM {A}"), vec![A]);
}

#[test]
fn many_ids_in_strings_are_answered_in_linear_time() {
    let sql = format!(
        "SELECT eventName FROM {A} WHERE eventID IN ({})",
        vec![format!("'{B}'"); 20_000].join(",")
    );
    assert_eq!(stores(&sql), vec![A]);
}

#[test]
fn a_store_named_by_arn_cannot_hide_behind_a_comment_a_with_or_a_parse_failure() {
    let arn = format!("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/{B}");
    let with_arn = |sql: &str| stores(&sql.replace("{ARN}", &arn));
    let mut a_and_arn = vec![A.to_owned(), arn.clone()];
    a_and_arn.sort();
    // Trino ends the comment at the first `*/`, so the ARN is read.
    assert_eq!(
        with_arn("SELECT * FROM {A} /* /* */ , \"{ARN}\" -- */"),
        a_and_arn
    );
    // A `WITH` named as the store does not hide the store read outside its scope.
    assert_eq!(
        with_arn(
            "SELECT * FROM (WITH \"{ARN}\" AS (SELECT 1 x) SELECT * FROM \"{ARN}\") t, \"{ARN}\""
        ),
        vec![arn.clone()]
    );
    // What the parser refuses is judged by the stores its lexing names, the ARN among them.
    assert_eq!(with_arn("SELECT * FROM \"{ARN}\", {A} WHERE )"), a_and_arn);
}
