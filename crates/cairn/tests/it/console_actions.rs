//! Trail actions and wizard steps answer with POST-redirect-GET: a successful action sends the
//! browser to the trail page with a fixed notice (reloading it calls nothing again, and no
//! text from the address is shown), and Next/Previous in the wizard lead to a step's own
//! address. The selector editor refuses management events with neither Read nor Write.

use serde_json::json;

use crate::console::{Browser, lookup};
use crate::harness::{ACCESS_KEY, SECRET, Server};

async fn trail(server: &Server, name: &str) {
    server.bucket_for_trails("act-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": name, "S3BucketName": "act-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
}

/// Posts a console form with the session's CSRF token: (status, Location, body).
pub(crate) async fn act(
    b: &mut Browser,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let csrf = b.csrf.clone();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let (status, headers, body) = b.post(path, &form).await;
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, body)
}

#[tokio::test]
async fn actions_redirect_to_the_trail_page_and_a_reload_calls_nothing_again() {
    let server = Server::start();
    trail(&server, "act").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/act").await;

    let (status, location, _) = act(&mut b, "/console/trails/act/start", &[]).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/console/trails/act?done=started&sig="));
    // Write events only: a change (a save that changes nothing sends no PutEventSelectors).
    let (status, location, _) = act(
        &mut b,
        "/console/trails/act/selectors",
        &[("management", "on"), ("write", "on")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/console/trails/act?done=selectors&sig="));
    for _ in 0..2 {
        let (status, _, page) = b.get(&location).await;
        assert_eq!(status, 200);
        assert!(page.contains("Event selectors saved."), "{page}");
    }
    assert_eq!(
        lookup(&server, "EventName", "PutEventSelectors")
            .await
            .len(),
        1,
        "reloading the page did not save again"
    );
    let (status, location, _) = act(
        &mut b,
        "/console/trails/act/tags",
        &[("op", "add"), ("key", "team"), ("value", "blue")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/console/trails/act?done=tag-added&sig="));
    let (status, location, _) = act(&mut b, "/console/trails/act/stop", &[]).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/console/trails/act?done=stopped&sig="));

    // Only fixed notices: an address cannot put text on the page.
    let (_, _, page) = b
        .get("/console/trails/act?done=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert!(!page.contains("alert(1)"), "{page}");
    assert!(
        !page.contains("role=\"status\""),
        "no notice for an unknown id"
    );
}

#[tokio::test]
async fn wizard_steps_have_addresses_so_back_and_reload_work() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/create").await;
    let (status, location, body) = act(
        &mut b,
        "/console/trails/create",
        &[
            ("step", "1"),
            ("go", "2"),
            ("name", "stepper"),
            ("storage", "new"),
            ("new_bucket", "stepper-logs"),
            ("prefix", "p"),
            ("tag_key", "team"),
            ("tag_value", ""),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(
        location.starts_with("/console/trails/create?step=2&"),
        "{location}"
    );
    let (status, _, page) = b.get(&location).await;
    assert_eq!(status, 200);
    assert!(page.contains("Choose log events"));
    assert!(page.contains("name=\"name\" value=\"stepper\""), "{page}");
    assert!(page.contains("name=\"tag_key\" value=\"team\""), "{page}");
    // Previous leads back to step 1 with what was entered.
    let (status, location, _) = act(
        &mut b,
        "/console/trails/create",
        &[
            ("step", "2"),
            ("go", "1"),
            ("name", "stepper"),
            ("new_bucket", "stepper-logs"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, _, page) = b.get(&location).await;
    assert!(page.contains("Choose trail attributes"));
    assert!(page.contains("value=\"stepper-logs\""), "{page}");
}

#[tokio::test]
async fn management_events_need_read_or_write() {
    let server = Server::start();
    trail(&server, "rw-trail").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/rw-trail").await;
    let (status, _, page) = act(
        &mut b,
        "/console/trails/rw-trail/selectors",
        &[("management", "on"), ("s3_data", "on"), ("s3_read", "on")],
    )
    .await;
    assert_eq!(status, 200, "shown again with the error");
    assert!(page.contains("id=\"selectors-error\""), "{page}");
    assert!(
        page.contains("aria-describedby=\"selectors-error\""),
        "{page}"
    );
    let (_, sel) = server
        .ct("GetEventSelectors", json!({"TrailName": "rw-trail"}))
        .await;
    assert_eq!(
        sel["EventSelectors"][0]["IncludeManagementEvents"], true,
        "nothing saved: {sel}"
    );
    assert!(
        lookup(&server, "EventName", "PutEventSelectors")
            .await
            .is_empty()
    );

    // The wizard's step 2 refuses it too.
    b.get("/console/trails/create").await;
    let (status, _, page) = act(
        &mut b,
        "/console/trails/create",
        &[
            ("step", "2"),
            ("go", "3"),
            ("name", "rw2"),
            ("new_bucket", "rw2-logs"),
            ("selectors_seen", "1"),
            ("management", "on"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"selectors-error\""), "{page}");
    assert!(page.contains("Choose log events"), "shown on step 2");
}

#[tokio::test]
async fn general_details_and_cloudwatch_logs_are_edited_with_update_trail() {
    let server = Server::start();
    trail(&server, "edited").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (status, _, page) = b.get("/console/trails/edited").await;
    assert_eq!(status, 200);
    assert!(page.contains("/console/trails/edited/edit"), "an Edit link");
    let (status, _, page) = b.get("/console/trails/edited/edit").await;
    assert_eq!(status, 200);
    assert!(page.contains("value=\"act-logs\""), "filled from GetTrail");

    // A bucket that does not exist is refused on its field; nothing changes.
    let (status, _, page) = act(
        &mut b,
        "/console/trails/edited/edit",
        &[("storage", "existing"), ("existing_bucket", "no-such-logs")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"bucket-error\""), "{page}");
    assert!(lookup(&server, "EventName", "UpdateTrail").await.is_empty());

    let form = |prefix: &'static str| {
        [
            ("storage", "existing"),
            ("existing_bucket", "act-logs"),
            ("prefix", prefix),
            ("validation_seen", "1"),
            ("cloudwatch", "on"),
            ("cwl_group_mode", "new"),
            ("cwl_group", "edited-group"),
            ("cwl_role_mode", "new"),
            ("cwl_role", "EditedRole"),
        ]
    };
    // The bucket policy does not let CloudTrail write under another prefix: UpdateTrail
    // refuses it, and the group and role made for it are removed again.
    let (status, _, page) = act(&mut b, "/console/trails/edited/edit", &form("elsewhere")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("InsufficientS3BucketPolicyException"),
        "{page}"
    );
    let groups = crate::logs::ok(&server, "DescribeLogGroups", json!({})).await;
    assert_eq!(groups["logGroups"], json!([]), "undone");

    let (status, location, page) = act(&mut b, "/console/trails/edited/edit", &form("")).await;
    assert_eq!(status, 303, "{page}");
    assert!(location.starts_with("/console/trails/edited?done=updated&sig="));
    let (_, t) = server.ct("GetTrail", json!({"Name": "edited"})).await;
    let t = &t["Trail"];
    assert_eq!(t["LogFileValidationEnabled"], false);
    assert_eq!(
        t["CloudWatchLogsLogGroupArn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:edited-group:*"
    );
    let updates = lookup(&server, "EventName", "UpdateTrail").await;
    assert!(
        updates
            .iter()
            .all(|u| u["userAgent"] == "console.amazonaws.com")
    );
    assert!(
        updates.iter().any(|u| u["errorCode"].is_null()),
        "{updates:?}"
    );
}

#[tokio::test]
async fn a_form_acts_in_the_region_of_its_page_when_another_tab_switched() {
    let server = Server::start();
    trail(&server, "tabbed").await;
    let (s, out) = server.ct("StartLogging", json!({"Name": "tabbed"})).await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    // Tab B shows the trail in us-east-1; its forms carry that region.
    let (_, _, page) = b.get("/console/trails/tabbed").await;
    assert!(
        page.contains(r#"name="page_region" value="us-east-1""#),
        "{page}"
    );
    // Tab A switches the session to eu-west-1.
    let (status, _, _) = act(&mut b, "/console/region", &[("region", "eu-west-1")]).await;
    assert_eq!(status, 303);
    let (_, _, other) = b.get("/console/trails").await;
    assert!(other.contains(r#"value="eu-west-1" selected"#), "{other}");
    // Tab B's Stop logging still acts on its us-east-1 trail (it used to be refused with
    // InvalidHomeRegionException: the request was made in eu-west-1).
    let (status, location, body) = act(
        &mut b,
        "/console/trails/tabbed/stop",
        &[("page_region", "us-east-1")],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(location.starts_with("/console/trails/tabbed?done=stopped&sig="));
    let (s, status) = server.ct("GetTrailStatus", json!({"Name": "tabbed"})).await;
    assert_eq!(s, 200);
    assert_eq!(status["IsLogging"], json!(false));
    // …and the page it leads to is that region's.
    let (s, _, after) = b.get(&location).await;
    assert_eq!(s, 200);
    assert!(after.contains(r#"value="us-east-1" selected"#), "{after}");
}

#[tokio::test]
async fn selectors_the_editor_cannot_show_are_not_offered_for_editing() {
    // Saving the editor unchanged once rewrote such selectors with what it showed: a Lambda
    // data resource, a second selector's bucket and a WriteOnly setting were lost.
    let server = Server::start();
    trail(&server, "wide").await;
    let selectors = json!([
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true, "DataResources": [
            {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::act-logs/"]},
            {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}
    ]);
    let (s, out) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "wide", "EventSelectors": selectors}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (status, _, page) = b.get("/console/trails/wide").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"selectors-beyond\""), "{page}");
    assert!(
        page.contains("AWS::Lambda::Function arn:aws:lambda"),
        "named"
    );
    assert!(!page.contains("id=\"selectors-form\""), "no editor");
    // Insights stay editable on their own.
    assert!(page.contains("id=\"insights-form\""), "{page}");
    let (status, _, _) = act(
        &mut b,
        "/console/trails/wide/selectors",
        &[("insights_only", "on"), ("insights_error_rate", "on")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, insights) = server
        .ct("GetInsightSelectors", json!({"TrailName": "wide"}))
        .await;
    assert_eq!(
        insights["InsightSelectors"][0]["InsightType"], "ApiErrorRateInsight",
        "{insights}"
    );

    // A form posted anyway (an old page) changes nothing.
    let (status, _, page) = act(
        &mut b,
        "/console/trails/wide/selectors",
        &[("management", "on"), ("read", "on"), ("write", "on")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Event selectors not saved"), "{page}");
    let (_, now) = server
        .ct("GetEventSelectors", json!({"TrailName": "wide"}))
        .await;
    assert_eq!(now["EventSelectors"][0]["ReadWriteType"], "WriteOnly");
    assert_eq!(
        now["EventSelectors"][0]["DataResources"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_save_over_selectors_changed_since_the_page_was_shown_is_refused() {
    // A page built over basic selectors, then advanced ones set by the CLI: saving the old
    // page replaced them, though it never showed them.
    let server = Server::start();
    trail(&server, "raced").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, page) = b.get("/console/trails/raced").await;
    let marker = "name=\"selectors_version\" value=\"";
    let at = page.find(marker).expect("the editor carries its version") + marker.len();
    let version = page[at..at + 24].to_owned();
    let advanced = json!([{"Name": "tables", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]}]}]);
    let (s, out) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "raced", "AdvancedEventSelectors": advanced}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let (status, _, page) = act(
        &mut b,
        "/console/trails/raced/selectors",
        &[
            ("selectors_version", version.as_str()),
            ("management", "on"),
            ("read", "on"),
            ("write", "on"),
        ],
    )
    .await;
    assert_eq!(status, 409);
    assert!(page.contains("changed since this page was shown"), "{page}");
    let (_, now) = server
        .ct("GetEventSelectors", json!({"TrailName": "raced"}))
        .await;
    assert_eq!(now["AdvancedEventSelectors"][0]["Name"], "tables", "{now}");
}

/// console4: the editor of a multi-region trail was offered in another region, and its save
/// made a bucket, a key, a log group and a role before UpdateTrail was refused there. Outside
/// the home region the editor is refused as UpdateTrail is, and a save makes nothing.
#[tokio::test]
async fn a_trail_is_not_edited_outside_its_home_region() {
    let server = Server::start();
    server.bucket_for_trails("act-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "everywhere", "S3BucketName": "act-logs", "IsMultiRegionTrail": true}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails").await;
    let (status, _, _) = act(&mut b, "/console/region", &[("region", "eu-west-1")]).await;
    assert_eq!(status, 303);
    let (status, _, page) = b.get("/console/trails/everywhere/edit").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("InvalidHomeRegionException"), "{page}");
    assert!(!page.contains("trail_version"), "no editor is offered");
    let (status, _, page) = act(
        &mut b,
        "/console/trails/everywhere/edit",
        &[
            ("page_region", "eu-west-1"),
            ("storage", "new"),
            ("new_bucket", "edit-elsewhere-bucket"),
            ("validation", "on"),
            ("validation_seen", "1"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("InvalidHomeRegionException"), "{page}");
    let (status, _) = server.s3("HEAD", "/edit-elsewhere-bucket", b"").await;
    assert_eq!(status, 404, "no bucket was made");
    let (status, _, page) = b.get("/console/trails/everywhere/delete").await;
    assert_eq!(status, 400, "no delete confirmation there either: {page}");
    act(&mut b, "/console/region", &[("region", "us-east-1")]).await;
    let (status, _, page) = b.get("/console/trails/everywhere/edit").await;
    assert_eq!(status, 200, "the home region offers the editor: {page}");
    // A confirmation reached by the trail's ARN leads to its name's, whose form works.
    let arn = "arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Atrail%2Feverywhere";
    let (status, headers, _) = b.get(&format!("/console/trails/{arn}/delete")).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/console/trails/everywhere/delete");
}

/// console5: a trail with advanced selectors had its Insights boxes only inside the basic
/// editor, whose checks read the unticked basic boxes: every Insights change was refused, and
/// the one way through saved basic selectors over the advanced ones. Insights now have their
/// own form there, saved with PutInsightSelectors alone.
#[tokio::test]
async fn insights_of_a_trail_with_advanced_selectors_are_saved_on_their_own() {
    let server = Server::start();
    trail(&server, "adv").await;
    let advanced = json!([
        {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "s3", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::act-logs/"]}]}
    ]);
    let (s, out) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "adv", "AdvancedEventSelectors": advanced}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (status, _, page) = b.get("/console/trails/adv").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"insights-form\""), "{page}");
    assert!(page.contains("id=\"insights-separate\""), "{page}");
    for (fields, kinds) in [
        (
            &[("insights_error_rate", "on")][..],
            vec!["ApiErrorRateInsight"],
        ),
        (
            &[("insights_call_rate", "on"), ("insights_error_rate", "on")][..],
            vec!["ApiCallRateInsight", "ApiErrorRateInsight"],
        ),
        (&[][..], vec![]),
    ] {
        let mut form = vec![("insights_only", "on")];
        form.extend_from_slice(fields);
        let (status, _, page) = act(&mut b, "/console/trails/adv/selectors", &form).await;
        assert_eq!(status, 303, "{fields:?}: {page}");
        let (_, insights) = server
            .ct("GetInsightSelectors", json!({"TrailName": "adv"}))
            .await;
        let mut got: Vec<&str> = insights["InsightSelectors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["InsightType"].as_str())
            .collect();
        got.sort_unstable();
        assert_eq!(got, kinds, "{insights}");
        let (_, now) = server
            .ct("GetEventSelectors", json!({"TrailName": "adv"}))
            .await;
        assert_eq!(now["AdvancedEventSelectors"], advanced, "kept");
    }
}
