//! The Insights page: the region's Insights events, newest first, read with the signed-in
//! user's own LookupEvents (`EventCategory` `insight`), so it is authorized and recorded as
//! any LookupEvents call.

use axum::response::Response;
use cairn_console::pages::{InsightRow, Insights};
use cairn_console::text::display_time;
use serde_json::{Value, json};

use super::calls::Caller;
use super::describe_error;
use super::history::{record_of, time_of};
use super::session::Signed;
use super::web::{self, Form, url};
use crate::server::AppState;

/// Insights events a page lists.
const PAGE: i64 = 50;

/// A row for one LookupEvents item of the insight category.
pub fn row(item: &Value) -> InsightRow {
    let record = record_of(item);
    let d = &record["insightDetails"];
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let stats = &d["insightContext"]["statistics"];
    let avg = |v: &Value| v.as_f64().map(|a| format!("{a:.2}")).unwrap_or_default();
    let state = s(&d["state"]);
    InsightRow {
        event_name: s(&d["eventName"]),
        event_source: s(&d["eventSource"]),
        insight_type: s(&d["insightType"]),
        error_code: d["errorCode"].as_str().map(str::to_owned),
        time: display_time(time_of(item)),
        baseline: avg(&stats["baseline"]["average"]),
        insight: avg(&stats["insight"]["average"]),
        duration: if state == "End" {
            stats["insightDuration"]
                .as_i64()
                .map(|m| m.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        },
        state,
    }
}

/// GET /console/insights (`next`: LookupEvents' NextToken of the page to show).
pub async fn page(state: &AppState, signed: &Signed, query: &Form) -> Response {
    let caller = Caller::new(state, signed);
    let token = query.get("next").filter(|t| !t.is_empty());
    let mut body = json!({"EventCategory": "insight", "MaxResults": PAGE});
    if let Some(t) = token {
        body["NextToken"] = json!(t);
    }
    let mut page = Insights {
        chrome: signed.chrome("insights"),
        first_href: token.map(|_| "/console/insights".to_owned()),
        ..Insights::default()
    };
    match caller.cloudtrail("LookupEvents", body).await {
        Ok(out) => {
            page.rows = out["Events"]
                .as_array()
                .map(|items| items.iter().map(row).collect())
                .unwrap_or_default();
            page.next_href = out["NextToken"]
                .as_str()
                .map(|t| url("/console/insights", &[("next", t)]));
            web::page(&page)
        }
        Err(e) => {
            page.error = Some(describe_error(&e));
            web::page_with(web::form_status(&e), &page)
        }
    }
}
