//! The dashboard, the trails table, a trail's details and its actions (start and stop
//! logging, delete behind a confirmation, event selectors, tags). A successful action answers
//! `303 See Other` to the details page with a fixed notice id signed for the session
//! (POST-redirect-GET). What could not be read (selectors, Insights, tags) is shown as
//! "Unknown" with the reason, never as off or empty; the selector editor is only offered, and
//! only saves, while the current selectors are known, leaves Insights alone unless it showed
//! them, and refuses a save that would log no events at all (CloudTrail refuses such
//! selectors).

use axum::response::Response;
use cairn_console::pages::{
    ConfirmDelete, Dashboard, SelectorForm, Setting, TagRow, TrailDetail, TrailRow, Trails,
};
use cairn_console::text::display_time;
use cairn_core::ErrorKind;
use http::StatusCode;
use serde_json::{Value, json};

use super::calls::Caller;
use super::checks;
use super::history::{self, Filter};
use super::selectors;
use super::session::Signed;
use super::web::{self, Form, url};
use super::{describe_error, events};
use crate::server::AppState;

fn s(v: &Value, m: &str) -> String {
    v.get(m).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn time(v: &Value, m: &str) -> String {
    v.get(m)
        .and_then(Value::as_f64)
        .map(|t| display_time(t as i64))
        .unwrap_or_else(|| "-".to_owned())
}

fn yes_no(b: bool) -> String {
    if b { "Yes" } else { "No" }.to_owned()
}

/// Every trail visible in the console's region with its status (DescribeTrails, then
/// GetTrailStatus per trail), the errors met, and whether the trails could not be listed.
async fn trail_rows(caller: &Caller<'_>) -> (Vec<TrailRow>, Vec<String>, bool) {
    let mut errors = Vec::new();
    let listed = caller.cloudtrail("DescribeTrails", json!({})).await;
    // Refused or failed: the trails are unknown, never shown as none (console6).
    let unknown = listed.is_err();
    let list = match listed {
        Ok(out) => out
            .get("trailList")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        Err(e) => {
            errors.push(describe_error(&e));
            Vec::new()
        }
    };
    let mut rows = Vec::new();
    for t in list {
        let (status, status_unknown) = match caller
            .cloudtrail("GetTrailStatus", json!({"Name": s(&t, "TrailARN")}))
            .await
        {
            Ok(st) => (st, None),
            Err(e) => {
                let why = describe_error(&e);
                errors.push(why.clone());
                (Value::Null, Some(why))
            }
        };
        let error = s(&status, "LatestDeliveryError");
        rows.push(TrailRow {
            href: if s(&t, "Name") == "create" {
                // The wizard's address: this trail's page is reached by its ARN (console6).
                format!("/console/trails/{}", web::segment(&s(&t, "TrailARN")))
            } else {
                format!("/console/trails/{}", web::segment(&s(&t, "Name")))
            },
            name: s(&t, "Name"),
            home_region: s(&t, "HomeRegion"),
            multi_region: yes_no(
                t.get("IsMultiRegionTrail")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            ),
            bucket: s(&t, "S3BucketName"),
            logging: status
                .get("IsLogging")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            status_unknown,
            latest_delivery: time(&status, "LatestDeliveryTime"),
            latest_digest: time(&status, "LatestDigestDeliveryTime"),
            delivery_error: (!error.is_empty()).then_some(error),
        });
    }
    (rows, errors, unknown)
}

/// `GET /console/`.
pub async fn dashboard(state: &AppState, signed: &Signed) -> Response {
    let caller = Caller::new(state, signed);
    let (trails, mut errors, trails_unknown) = trail_rows(&caller).await;
    let (recent, recent_unknown) = match history::read(&caller, &Filter::default(), 10, 1).await {
        Ok(found) => (
            found.events.iter().take(10).map(events::row).collect(),
            false,
        ),
        Err(e) => {
            errors.push(describe_error(&e));
            (Vec::new(), true)
        }
    };
    let page = Dashboard {
        chrome: signed.chrome("dashboard"),
        // A multi-region trail whose status could not be read may be logging: no warning
        // that none is.
        multi_region_logging: trails
            .iter()
            .any(|t| (t.logging || t.status_unknown.is_some()) && t.multi_region == "Yes"),
        trails,
        trails_unknown,
        recent,
        recent_unknown,
        errors,
    };
    web::page(&page)
}

/// `GET /console/trails`.
pub async fn list(state: &AppState, signed: &Signed, query: &Form) -> Response {
    let caller = Caller::new(state, signed);
    let (rows, errors, trails_unknown) = trail_rows(&caller).await;
    let flash = list_notice(signed, query, &rows);
    web::page(&Trails {
        chrome: signed.chrome("trails"),
        rows,
        trails_unknown,
        flash,
        errors,
    })
}

/// The notice of the trails page: only one this session's own redirect signed (the address
/// is anyone's to write), and "created" only for a trail the user sees.
fn list_notice(signed: &Signed, query: &Form, rows: &[TrailRow]) -> Option<String> {
    let done = query.get("done")?;
    let name = query.str("name");
    if !signed.notice_ok(done, &name, query.get("sig")) {
        return None;
    }
    match done {
        "deleted" => Some(format!("Trail {name} deleted.")),
        "created" if rows.iter().any(|r| r.name == name) => {
            Some(format!("Trail {name} created and logging."))
        }
        _ => None,
    }
}

/// The address of the trails page with the signed notice `done` of trail `name`.
pub fn list_url(signed: &Signed, done: &str, name: &str) -> String {
    url(
        "/console/trails",
        &[
            ("done", done),
            ("name", name),
            ("sig", &signed.notice_sig(done, name)),
        ],
    )
}

/// The selector editor shown again: what was submitted, and its error.
type Editor = (SelectorForm, String);

/// `GET /console/trails/{name}`, or the same page after a failed action.
pub async fn detail(
    state: &AppState,
    signed: &Signed,
    name: &str,
    flash: Option<String>,
    error: Option<String>,
) -> Response {
    detail_with(state, signed, name, flash, error, None).await
}

/// The details page; `editor` is the selector form shown again with its field error.
async fn detail_with(
    state: &AppState,
    signed: &Signed,
    name: &str,
    flash: Option<String>,
    error: Option<String>,
    editor: Option<Editor>,
) -> Response {
    let caller = Caller::new(state, signed);
    let trail = match caller.cloudtrail("GetTrail", json!({"Name": name})).await {
        Ok(out) => out.get("Trail").cloned().unwrap_or(Value::Null),
        Err(e) => {
            // A failed action is what the user asked about: its error comes first.
            let message = match &error {
                Some(failed) => format!("{failed}\n{}", describe_error(&e)),
                None => describe_error(&e),
            };
            return web::page_with(
                web::error_status(&e),
                &cairn_console::pages::ErrorPage {
                    chrome: signed.chrome("trails"),
                    title: name.to_owned(),
                    message,
                },
            );
        }
    };
    let arn = s(&trail, "TrailARN");
    let (status, status_unknown) = match caller
        .cloudtrail("GetTrailStatus", json!({"Name": arn}))
        .await
    {
        Ok(st) => (st, None),
        Err(e) => (Value::Null, Some(describe_error(&e))),
    };
    let selectors_out = caller
        .cloudtrail("GetEventSelectors", json!({"TrailName": arn}))
        .await
        .map_err(|e| describe_error(&e));
    let insights_out = read_insights(&caller, &arn).await;
    let home = s(&trail, "HomeRegion");
    let tags = caller
        .cloudtrail_in(&home, "ListTags", json!({"ResourceIdList": [arn]}))
        .await
        .map(|o| {
            o.pointer("/ResourceTagList/0/TagsList")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .map_err(|e| describe_error(&e));
    let b = |m: &str| trail.get(m).and_then(Value::as_bool).unwrap_or(false);
    let dash = |v: String| if v.is_empty() { "-".to_owned() } else { v };
    let bucket = s(&trail, "S3BucketName");
    let general = vec![
        Setting::new("Trail name", s(&trail, "Name")),
        Setting::new("Home region", s(&trail, "HomeRegion")),
        Setting::new("Multi-region trail", yes_no(b("IsMultiRegionTrail"))),
        Setting::new(
            "Apply trail to my organization",
            yes_no(b("IsOrganizationTrail")),
        ),
        Setting::new(
            "Trail log location",
            format!("{bucket}/{}", s(&trail, "S3KeyPrefix")),
        ),
        Setting::new("S3 bucket", bucket.clone()),
        Setting::new("Prefix", dash(s(&trail, "S3KeyPrefix"))),
        Setting::new(
            "Log file SSE-KMS encryption",
            if s(&trail, "KmsKeyId").is_empty() {
                "Disabled".to_owned()
            } else {
                "Enabled".to_owned()
            },
        ),
        Setting::new("AWS KMS key", dash(s(&trail, "KmsKeyId"))),
        Setting::new(
            "Log file validation",
            if b("LogFileValidationEnabled") {
                "Enabled"
            } else {
                "Disabled"
            },
        ),
        Setting::new(
            "SNS notification delivery",
            if s(&trail, "SnsTopicARN").is_empty() {
                "Disabled".to_owned()
            } else {
                "Enabled".to_owned()
            },
        ),
        Setting::new("SNS topic", dash(s(&trail, "SnsTopicARN"))),
        Setting::new(
            "Include global service events",
            yes_no(b("IncludeGlobalServiceEvents")),
        ),
    ];
    let cloudwatch = vec![
        Setting::new("Log group", dash(s(&trail, "CloudWatchLogsLogGroupArn"))),
        Setting::new("IAM Role", dash(s(&trail, "CloudWatchLogsRoleArn"))),
    ];
    let logging = status
        .get("IsLogging")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let status_rows = vec![
        Setting::new(
            "Logging",
            match &status_unknown {
                Some(why) => format!("Unknown ({why})"),
                None if logging => "Logging".to_owned(),
                None => "Off".to_owned(),
            },
        ),
        Setting::new(
            "Latest log file delivery",
            time(&status, "LatestDeliveryTime"),
        ),
        Setting::new(
            "Last log file delivery error",
            dash(s(&status, "LatestDeliveryError")),
        ),
        Setting::new(
            "Latest digest delivery",
            time(&status, "LatestDigestDeliveryTime"),
        ),
        Setting::new(
            "Last digest delivery error",
            dash(s(&status, "LatestDigestDeliveryError")),
        ),
        Setting::new(
            "Latest CloudWatch Logs delivery",
            time(&status, "LatestCloudWatchLogsDeliveryTime"),
        ),
        Setting::new(
            "Last CloudWatch Logs delivery error",
            dash(s(&status, "LatestCloudWatchLogsDeliveryError")),
        ),
        Setting::new("Logging started", time(&status, "StartLoggingTime")),
        Setting::new("Logging stopped", time(&status, "StopLoggingTime")),
    ];
    let mut shown = selectors::shown(
        selectors_out.as_ref().unwrap_or(&Value::Null),
        insights_out.as_ref().unwrap_or(&Value::Null),
    );
    if let Err(why) = &selectors_out {
        shown.management = vec![Setting::new(
            "Management events",
            format!("Unknown ({why})"),
        )];
        shown.data.clear();
    }
    if let Err(why) = &insights_out {
        shown.insights = format!("Unknown ({why})");
    }
    let selectors_error = editor.map(|(form, e)| {
        shown.form = form;
        e
    });
    let page = TrailDetail {
        chrome: signed.chrome("trails"),
        name: s(&trail, "Name"),
        home: s(&trail, "HomeRegion") == signed.region.as_str(),
        logs_href: format!("/console/trails/{}/logs", web::segment(name)),
        timeline_href: url("/console/timeline", &[("name", &arn)]),
        arn,
        logging,
        status_unknown,
        general,
        cloudwatch,
        status: status_rows,
        management: shown.management,
        data: shown.data,
        insights: shown.insights,
        form: shown.form,
        selectors_error,
        selectors_version: selectors_out
            .as_ref()
            .map(|out| selectors::version(out, insights_out.as_ref().ok()))
            .unwrap_or_default(),
        selectors_beyond: selectors_out
            .as_ref()
            .ok()
            .and_then(selectors::beyond_editor),
        selectors_unknown: selectors_out.err(),
        insights_unknown: insights_out.err(),
        tags: tags
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|t| TagRow {
                key: s(t, "Key"),
                value: s(t, "Value"),
            })
            .collect(),
        tags_unknown: tags.err(),
        flash,
        error,
    };
    web::page(&page)
}

/// `POST /console/trails/{name}/{action}` for start, stop, selectors and tags.
pub async fn act(
    state: &AppState,
    signed: &Signed,
    name: &str,
    action: &str,
    f: &Form,
) -> Response {
    let caller = Caller::new(state, signed);
    let result = match action {
        "start" => caller
            .cloudtrail("StartLogging", json!({"Name": name}))
            .await
            .map(|_| "started"),
        "stop" => caller
            .cloudtrail("StopLogging", json!({"Name": name}))
            .await
            .map(|_| "stopped"),
        "selectors" => return save_selectors(state, signed, name, f).await,
        "tags" => tags(&caller, name, f).await,
        _ => return web::text(StatusCode::NOT_FOUND, "Not found."),
    };
    match result {
        // POST-redirect-GET: reloading the page shows it again without calling again.
        Ok(done) => web::redirect(&trail_url(signed, name, done)),
        // The action's own status: a refused action is 403 even on a trail that does not
        // exist (the API answered AccessDenied, which tells nothing of the trail).
        Err(e) => {
            let mut resp = detail(state, signed, name, None, Some(describe_error(&e))).await;
            *resp.status_mut() = web::error_status(&e);
            resp
        }
    }
}

/// The address of trail `name`'s page with the notice `done`, signed for this session and
/// trail ([`Signed::notice_sig`]).
pub fn trail_url(signed: &Signed, name: &str, done: &str) -> String {
    let id = trail_id(signed, name);
    url(
        &format!("/console/trails/{}", web::segment(&id)),
        &[("done", done), ("sig", &signed.notice_sig(done, &id))],
    )
}

/// The address of trail `name`'s page (a name or an ARN, as the address had it). A trail named
/// `create` is reached by its ARN in the page's region: `/console/trails/create` is the
/// create-trail wizard (console6).
pub fn trail_path(signed: &Signed, name: &str) -> String {
    format!("/console/trails/{}", web::segment(&trail_id(signed, name)))
}

/// What names trail `name` in its page's address (see [`trail_path`]).
fn trail_id(signed: &Signed, name: &str) -> String {
    if name == "create" {
        format!(
            "arn:aws:cloudtrail:{}:{}:trail/create",
            signed.region,
            signed.principal.account()
        )
    } else {
        name.to_owned()
    }
}

/// The notice a `done` id names on trail `name`'s page: fixed texts only (nothing in the
/// address is shown), and only with this session's signature for that trail, so a link
/// written by anyone else ("Logging stopped." on a trail that logs) shows nothing.
pub fn notice(signed: &Signed, name: &str, query: &Form) -> Option<String> {
    let done = query.get("done")?;
    if !signed.notice_ok(done, name, query.get("sig")) {
        return None;
    }
    let text = match done {
        "started" => "Logging started.",
        "stopped" => "Logging stopped.",
        "selectors" => "Event selectors saved.",
        "insights" => "Insights events saved.",
        "tag-added" => "Tag added.",
        "tag-removed" => "Tag removed.",
        "updated" => "Trail settings saved.",
        _ => return None,
    };
    Some(text.to_owned())
}

/// GetInsightSelectors' output; a trail without Insights (`InsightNotEnabledException`) has
/// none, which is known, not an error.
async fn read_insights(caller: &Caller<'_>, trail: &str) -> Result<Value, String> {
    match caller
        .cloudtrail("GetInsightSelectors", json!({"TrailName": trail}))
        .await
    {
        Ok(out) => Ok(out),
        Err(e) if e.kind == ErrorKind::InsightNotEnabled => Ok(Value::Null),
        Err(e) => Err(describe_error(&e)),
    }
}

/// `POST /console/trails/{name}/selectors`. Saves only over selectors it can read (a form
/// built without them would replace them with blanks), refuses one that logs nothing, calls
/// PutEventSelectors only when the selectors change and PutInsightSelectors only when the form
/// showed Insights (`insights_shown`) and they changed.
async fn save_selectors(state: &AppState, signed: &Signed, name: &str, f: &Form) -> Response {
    let _saving = super::TRAIL_SAVES.lock().await;
    let caller = Caller::new(state, signed);
    let form = selectors::read_form(f);
    let again = |form: SelectorForm, e: String| {
        detail_with(state, signed, name, None, None, Some((form, e)))
    };
    let current = match caller
        .cloudtrail("GetEventSelectors", json!({"TrailName": name}))
        .await
    {
        Err(e) => {
            let why = format!(
                "Event selectors not saved: the current ones could not be read ({}).",
                describe_error(&e)
            );
            return detail(state, signed, name, None, Some(why)).await;
        }
        // Changed since the page was shown into selectors the form cannot hold.
        Ok(current) => {
            // Changed since the page was shown (selectors or Insights): saving would write
            // over what it never showed.
            let insights_now = read_insights(&caller, name).await.ok();
            if f.get("selectors_version")
                .is_some_and(|v| v != selectors::version(&current, insights_now.as_ref()))
            {
                let why = "Event selectors not saved: they or the Insights selectors changed \
                           since this page was shown. They are shown below as they are now."
                    .to_owned();
                // 409, as a stale Edit form answers.
                return web::with_status(
                    detail(state, signed, name, None, Some(why)).await,
                    StatusCode::CONFLICT,
                );
            }
            // Insights alone, from the form offered when the selectors are beyond the editor.
            if f.checked("insights_only") {
                return save_insights(state, signed, name, &form).await;
            }
            if let Some(what) = selectors::beyond_editor(&current) {
                let why = format!(
                    "Event selectors not saved: they hold more than this editor can show ({what})."
                );
                return detail(state, signed, name, None, Some(why)).await;
            }
            current
        }
    };
    // What puts the selectors back if the save fails half way.
    let previous = match current.get("AdvancedEventSelectors") {
        Some(a) if a.as_array().is_some_and(|a| !a.is_empty()) => {
            Some(json!({"TrailName": name, "AdvancedEventSelectors": a}))
        }
        _ => current
            .get("EventSelectors")
            .map(|e| json!({"TrailName": name, "EventSelectors": e})),
    };
    // Checked once the current selectors are known, so a form built without them is
    // refused for that reason first.
    if let Some(e) = checks::selectors_error(&form) {
        return again(form, e).await;
    }
    let event_selectors = selectors::basic(&form);
    // The event selectors are written only when they change (console7).
    let put_selectors = !selectors::unchanged(&current, &event_selectors);
    let insights = if f.checked("insights_shown") {
        match read_insights(&caller, name).await {
            Ok(current) => {
                let wanted = selectors::insights_keeping(&form, &current);
                let now = json!({"InsightSelectors": wanted});
                (selectors::insight_kinds(&now) != selectors::insight_kinds(&current))
                    .then_some(wanted)
            }
            Err(why) => {
                let why = format!(
                    "Event selectors not saved: the current Insights selectors could not be read ({why})."
                );
                return detail(state, signed, name, None, Some(why)).await;
            }
        }
    } else {
        None
    };
    let saved = async {
        if put_selectors {
            caller
                .cloudtrail(
                    "PutEventSelectors",
                    json!({"TrailName": name, "EventSelectors": event_selectors}),
                )
                .await?;
        }
        if let Some(wanted) = insights
            && let Err(e) = caller
                .cloudtrail(
                    "PutInsightSelectors",
                    json!({"TrailName": name, "InsightSelectors": wanted}),
                )
                .await
        {
            // Never half saved: the event selectors go back to what they were.
            if put_selectors && let Some(before) = &previous {
                let _ = caller.cloudtrail("PutEventSelectors", before.clone()).await;
            }
            return Err(e);
        }
        Ok::<_, cairn_core::ApiError>(())
    };
    match saved.await {
        Ok(()) => web::redirect(&trail_url(signed, name, "selectors")),
        // A refused call answers its status (403 for AccessDenied), as Stop logging does.
        Err(e) => web::with_status(
            detail(state, signed, name, None, Some(describe_error(&e))).await,
            web::form_status(&e),
        ),
    }
}

/// Saves only the Insights boxes of `form` (PutInsightSelectors when they changed).
async fn save_insights(
    state: &AppState,
    signed: &Signed,
    name: &str,
    form: &SelectorForm,
) -> Response {
    let caller = Caller::new(state, signed);
    let current = match read_insights(&caller, name).await {
        Ok(c) => c,
        Err(why) => {
            let why = format!("Insights not saved: they could not be read ({why}).");
            return detail(state, signed, name, None, Some(why)).await;
        }
    };
    let wanted = selectors::insights_keeping(form, &current);
    let now = json!({"InsightSelectors": wanted});
    if selectors::insight_kinds(&now) != selectors::insight_kinds(&current)
        && let Err(e) = caller
            .cloudtrail(
                "PutInsightSelectors",
                json!({"TrailName": name, "InsightSelectors": wanted}),
            )
            .await
    {
        return web::with_status(
            detail(state, signed, name, None, Some(describe_error(&e))).await,
            web::form_status(&e),
        );
    }
    web::redirect(&trail_url(signed, name, "insights"))
}

async fn tags(
    caller: &Caller<'_>,
    name: &str,
    f: &Form,
) -> cairn_core::error::ApiResult<&'static str> {
    let trail = caller.cloudtrail("GetTrail", json!({"Name": name})).await?;
    let arn = trail
        .pointer("/Trail/TrailARN")
        .and_then(Value::as_str)
        .unwrap_or(name)
        .to_owned();
    let key = f.exact("key");
    if f.get("op") == Some("remove") {
        caller
            .cloudtrail(
                "RemoveTags",
                json!({"ResourceId": arn, "TagsList": [{"Key": key}]}),
            )
            .await?;
        Ok("tag-removed")
    } else {
        caller
            .cloudtrail(
                "AddTags",
                json!({"ResourceId": arn, "TagsList": [{"Key": key, "Value": f.exact("value")}]}),
            )
            .await?;
        Ok("tag-added")
    }
}

/// `GET /console/trails/{name}/delete`: the confirmation, unless the trail does not exist (a
/// user who may delete but not read a trail still gets it).
pub async fn confirm_delete(state: &AppState, signed: &Signed, name: &str) -> Response {
    let error_page = |e: &cairn_core::ApiError| super::error_page(signed, "trails", name, e);
    match Caller::new(state, signed)
        .cloudtrail("GetTrail", json!({"Name": name}))
        .await
    {
        Err(e) if e.kind == ErrorKind::TrailNotFound => return error_page(&e),
        Ok(out) => {
            let t = &out["Trail"];
            let home = s(t, "HomeRegion");
            // Outside its home region a trail is read-only, as DeleteTrail is refused there
            // (console4).
            if !home.is_empty() && home != signed.region.as_str() {
                let e = cairn_core::trails::not_home_region(&home, signed.region.as_str());
                return error_page(&e);
            }
            // Reached by its ARN: the confirmation of its name's address, whose form posts
            // where the console's routes are and asks for the name it shows (console4).
            let trail_name = s(t, "Name");
            if name.starts_with("arn:") && !trail_name.is_empty() {
                return web::redirect(&format!(
                    "/console/trails/{}/delete",
                    web::segment(&trail_name)
                ));
            }
        }
        Err(_) => {}
    }
    web::page(&ConfirmDelete {
        chrome: signed.chrome("trails"),
        name: name.to_owned(),
        error: None,
    })
}

/// `POST /console/trails/{name}/delete`: deletes once the name was typed.
pub async fn delete(state: &AppState, signed: &Signed, name: &str, f: &Form) -> Response {
    let mut page = ConfirmDelete {
        chrome: signed.chrome("trails"),
        name: name.to_owned(),
        error: None,
    };
    if f.get("confirm") != Some(name) {
        page.error = Some("Enter the trail name exactly to confirm.".to_owned());
        return web::page_with(StatusCode::OK, &page);
    }
    match Caller::new(state, signed)
        .cloudtrail("DeleteTrail", json!({"Name": name}))
        .await
    {
        Ok(_) => web::redirect(&list_url(signed, "deleted", name)),
        Err(e) => {
            page.error = Some(describe_error(&e));
            web::page_with(web::error_status(&e), &page)
        }
    }
}
