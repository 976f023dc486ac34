//! The event selector editor: form fields to the basic selectors PutEventSelectors takes (one
//! selector for management events, one for S3 data events, as the AWS console writes them),
//! and GetEventSelectors' output back to the form and its summary.

use cairn_console::pages::{DataRow, SelectorForm, Setting};
use serde_json::{Value, json};

use super::web::Form;

/// The selector form as submitted.
pub fn read_form(f: &Form) -> SelectorForm {
    SelectorForm {
        management: f.checked("management"),
        read: f.checked("read"),
        write: f.checked("write"),
        exclude_kms: f.checked("exclude_kms"),
        s3_data: f.checked("s3_data"),
        s3_all: f.get("s3_scope") != Some("some"),
        s3_buckets: f.str("s3_buckets"),
        s3_read: f.checked("s3_read"),
        s3_write: f.checked("s3_write"),
        insights_call_rate: f.checked("insights_call_rate"),
        insights_error_rate: f.checked("insights_error_rate"),
        advanced: None,
    }
}

/// AWS's defaults: management events, Read and Write, nothing else.
pub fn defaults() -> SelectorForm {
    SelectorForm {
        management: true,
        read: true,
        write: true,
        s3_all: true,
        s3_read: true,
        s3_write: true,
        ..Default::default()
    }
}

fn read_write(read: bool, write: bool) -> &'static str {
    match (read, write) {
        (true, false) => "ReadOnly",
        (false, true) => "WriteOnly",
        _ => "All",
    }
}

/// The S3 data resource values of the form: `arn:aws:s3` for all buckets, else one
/// `arn:aws:s3:::bucket/prefix` per line (a bare bucket gets its trailing `/`).
fn s3_values(form: &SelectorForm) -> Vec<String> {
    if form.s3_all {
        return vec!["arn:aws:s3".to_owned()];
    }
    form.s3_buckets
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let bare = l.strip_prefix("arn:aws:s3:::").unwrap_or(l);
            if bare.contains('/') {
                format!("arn:aws:s3:::{bare}")
            } else {
                format!("arn:aws:s3:::{bare}/")
            }
        })
        .collect()
}

/// `EventSelectors` for the form.
pub fn basic(form: &SelectorForm) -> Value {
    let mut list = Vec::new();
    let mgmt = form.management && (form.read || form.write);
    let mut first = json!({
        "ReadWriteType": read_write(form.read, form.write),
        "IncludeManagementEvents": mgmt,
        "DataResources": [],
    });
    if mgmt && form.exclude_kms {
        first["ExcludeManagementEventSources"] = json!(["kms.amazonaws.com"]);
    }
    let data = form.s3_data && (form.s3_read || form.s3_write);
    if data {
        let resources = json!([{"Type": "AWS::S3::Object", "Values": s3_values(form)}]);
        if mgmt && read_write(form.read, form.write) == read_write(form.s3_read, form.s3_write) {
            first["DataResources"] = resources;
        } else {
            list.push(json!({
                "ReadWriteType": read_write(form.s3_read, form.s3_write),
                "IncludeManagementEvents": false,
                "DataResources": resources,
            }));
        }
    }
    if mgmt || !data {
        list.insert(0, first);
    }
    Value::Array(list)
}

/// A short fingerprint of GetEventSelectors' `out` (its basic and advanced selectors) and of
/// the Insights types GetInsightSelectors' `insights` shows (`None` when unread): the editor
/// carries the one it was built from, and a save is refused when either is no longer what the
/// page showed (changed meanwhile, say to advanced selectors the page never showed, or
/// Insights turned on by another admin, which the form would turn off again).
pub fn version(out: &Value, insights: Option<&Value>) -> String {
    super::web::fingerprint(&json!([
        out.get("EventSelectors"),
        out.get("AdvancedEventSelectors"),
        insights.map(insight_kinds)
    ]))
}

/// What a trail's basic event selectors (GetEventSelectors' `out`) hold that the editor
/// cannot show, if anything: non-S3 data resources, S3 resources of several selectors with
/// different Read/Write settings, excluded sources other than KMS, … Saving the editor would
/// write only what it shows, so such selectors are not offered for editing (advanced
/// selectors have their own notice). `None` when the editor shows them exactly.
pub fn beyond_editor(out: &Value) -> Option<String> {
    let advanced = out
        .get("AdvancedEventSelectors")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if advanced {
        return None;
    }
    let have = facts(out.get("EventSelectors").unwrap_or(&Value::Null));
    let would = facts(&basic(&shown(out, &Value::Null).form));
    let lost: Vec<&str> = have.difference(&would).map(String::as_str).collect();
    let changed: Vec<&str> = would.difference(&have).map(String::as_str).collect();
    match (lost.is_empty(), changed.is_empty()) {
        (true, true) => None,
        (false, _) => Some(lost.join("; ")),
        (true, false) => Some(format!("they would become: {}", changed.join("; "))),
    }
}

/// Whether basic `selectors` log exactly what GetEventSelectors' `out` says the trail logs
/// now (no advanced selectors, the same facts): a save that changes only Insights then sends
/// no PutEventSelectors, which a user allowed only PutInsightSelectors may not call.
pub fn unchanged(out: &Value, selectors: &Value) -> bool {
    let advanced = out
        .get("AdvancedEventSelectors")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    !advanced && facts(out.get("EventSelectors").unwrap_or(&Value::Null)) == facts(selectors)
}

/// What basic event selectors log, one line per fact, independent of how the facts are
/// spread over selectors.
fn facts(selectors: &Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for sel in selectors.as_array().into_iter().flatten() {
        let rw = rw_words(
            sel.get("ReadWriteType")
                .and_then(Value::as_str)
                .unwrap_or("All"),
        );
        if sel
            .get("IncludeManagementEvents")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            out.insert(format!("management events ({rw})"));
            for source in crate::wire::strings_of(sel, "ExcludeManagementEventSources") {
                out.insert(format!("management events of {source} excluded"));
            }
        }
        for dr in sel
            .get("DataResources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = dr.get("Type").and_then(Value::as_str).unwrap_or("");
            for value in crate::wire::strings_of(dr, "Values") {
                let value = match value.as_str() {
                    "arn:aws:s3" | "arn:aws:s3:::" if kind == "AWS::S3::Object" => "all buckets",
                    v => v,
                };
                out.insert(format!("{kind} {value} ({rw})"));
            }
        }
    }
    out
}

/// `InsightSelectors` for the form.
pub fn insights(form: &SelectorForm) -> Value {
    let mut list = Vec::new();
    if form.insights_call_rate {
        list.push(json!({"InsightType": "ApiCallRateInsight"}));
    }
    if form.insights_error_rate {
        list.push(json!({"InsightType": "ApiErrorRateInsight"}));
    }
    Value::Array(list)
}

/// `InsightSelectors` for the form, each type the trail already has keeping its
/// `EventCategories` as GetInsightSelectors' `current` shows them: the form shows only the
/// types, and saving them bare turned Insights on data events into management events
/// (console6).
pub fn insights_keeping(form: &SelectorForm, current: &Value) -> Value {
    let categories = |kind: &str| {
        current
            .get("InsightSelectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|i| i.get("InsightType").and_then(Value::as_str) == Some(kind))
            .and_then(|i| i.get("EventCategories"))
            .cloned()
    };
    let mut list = insights(form);
    for item in list.as_array_mut().into_iter().flatten() {
        let kind = item["InsightType"].as_str().unwrap_or_default().to_owned();
        if let Some(c) = categories(&kind) {
            item["EventCategories"] = c;
        }
    }
    list
}

/// Whether `EventSelectors` log anything: a selector with management events, or a data
/// resource with at least one value.
pub fn logs_anything(event_selectors: &Value) -> bool {
    event_selectors.as_array().into_iter().flatten().any(|sel| {
        sel.get("IncludeManagementEvents").and_then(Value::as_bool) == Some(true)
            || sel
                .get("DataResources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|dr| {
                    dr.get("Values")
                        .and_then(Value::as_array)
                        .is_some_and(|v| !v.is_empty())
                })
    })
}

/// The Insights types of GetInsightSelectors' output (or a `{"InsightSelectors": …}` input),
/// sorted.
pub fn insight_kinds(out: &Value) -> Vec<String> {
    let mut kinds: Vec<String> = out
        .get("InsightSelectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("InsightType").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// What the details page shows of a trail's selectors.
pub struct Shown {
    /// Management events summary.
    pub management: Vec<Setting>,
    /// Data event rows.
    pub data: Vec<DataRow>,
    /// Insights summary.
    pub insights: String,
    /// The editor, filled.
    pub form: SelectorForm,
}

fn rw_words(rw: &str) -> &'static str {
    match rw {
        "ReadOnly" => "Read",
        "WriteOnly" => "Write",
        _ => "Read, Write",
    }
}

/// Reads GetEventSelectors' and GetInsightSelectors' outputs.
pub fn shown(selectors: &Value, insights_out: &Value) -> Shown {
    let mut form = SelectorForm {
        s3_all: true,
        ..Default::default()
    };
    let mut management = Vec::new();
    let mut data = Vec::new();
    for sel in selectors
        .get("EventSelectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let rw = sel
            .get("ReadWriteType")
            .and_then(Value::as_str)
            .unwrap_or("All");
        let (r, w) = (rw != "WriteOnly", rw != "ReadOnly");
        if sel
            .get("IncludeManagementEvents")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            form.management = true;
            form.read |= r;
            form.write |= w;
            let excluded: Vec<&str> = sel
                .get("ExcludeManagementEventSources")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            form.exclude_kms |= excluded.contains(&"kms.amazonaws.com");
            management.push(Setting::new("API activity", rw_words(rw)));
            if !excluded.is_empty() {
                management.push(Setting::new("Excluded event sources", excluded.join(", ")));
            }
        }
        for dr in sel
            .get("DataResources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = dr
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let values = crate::wire::strings_of(dr, "Values");
            if kind == "AWS::S3::Object" {
                form.s3_data = true;
                form.s3_read |= r;
                form.s3_write |= w;
                let all = values
                    .iter()
                    .any(|v| v == "arn:aws:s3" || v == "arn:aws:s3:::");
                form.s3_all = all;
                if !all {
                    form.s3_buckets = values
                        .iter()
                        .map(|v| v.strip_prefix("arn:aws:s3:::").unwrap_or(v).to_owned())
                        .collect::<Vec<_>>()
                        .join("\n");
                }
            }
            data.push(DataRow {
                resource_type: kind,
                values: values.join(", "),
                read_write: rw_words(rw).to_owned(),
            });
        }
    }
    if let Some(adv) = selectors
        .get("AdvancedEventSelectors")
        .and_then(Value::as_array)
    {
        form.advanced = serde_json::to_string_pretty(adv).ok();
        for sel in adv {
            // A selector of management events is shown under Management events, as AWS's
            // console shows it (console6: it was listed as a data event and the trail shown
            // as logging no management events).
            let fields = sel.get("FieldSelectors").and_then(Value::as_array);
            let is_management = fields.into_iter().flatten().any(|f| {
                f.get("Field").and_then(Value::as_str) == Some("eventCategory")
                    && crate::wire::strings_of(f, "Equals")
                        .iter()
                        .any(|v| v == "Management")
            });
            if is_management {
                let name = sel
                    .get("Name")
                    .and_then(Value::as_str)
                    .unwrap_or("Advanced event selector");
                let fields = sel
                    .get("FieldSelectors")
                    .map(Value::to_string)
                    .unwrap_or_default();
                management.push(Setting::new(
                    "Advanced event selector",
                    format!("{name}: {fields}"),
                ));
                continue;
            }
            data.push(DataRow {
                resource_type: sel
                    .get("Name")
                    .and_then(Value::as_str)
                    .unwrap_or("Advanced event selector")
                    .to_owned(),
                values: sel
                    .get("FieldSelectors")
                    .map(Value::to_string)
                    .unwrap_or_default(),
                read_write: String::new(),
            });
        }
    }
    if management.is_empty() {
        management.push(Setting::new("Management events", "Not enabled"));
    }
    let kinds: Vec<&str> = insights_out
        .get("InsightSelectors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| i.get("InsightType").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    form.insights_call_rate = kinds.contains(&"ApiCallRateInsight");
    form.insights_error_rate = kinds.contains(&"ApiErrorRateInsight");
    let insights = match (form.insights_call_rate, form.insights_error_rate) {
        (true, true) => "API call rate, API error rate",
        (true, false) => "API call rate",
        (false, true) => "API error rate",
        (false, false) => "Not enabled",
    }
    .to_owned();
    Shown {
        management,
        data,
        insights,
        form,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_management_read_and_write() {
        assert_eq!(
            basic(&defaults()),
            json!([{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []}])
        );
    }

    #[test]
    fn data_events_get_their_own_selector_when_read_write_differs() {
        let form = SelectorForm {
            management: true,
            read: false,
            write: true,
            exclude_kms: true,
            s3_data: true,
            s3_all: false,
            s3_buckets: "logs\narn:aws:s3:::other/prefix/".into(),
            s3_read: true,
            s3_write: true,
            ..Default::default()
        };
        let v = basic(&form);
        assert_eq!(v[0]["ReadWriteType"], "WriteOnly");
        assert_eq!(
            v[0]["ExcludeManagementEventSources"],
            json!(["kms.amazonaws.com"])
        );
        assert_eq!(
            v[1]["DataResources"][0]["Values"],
            json!(["arn:aws:s3:::logs/", "arn:aws:s3:::other/prefix/"])
        );
        let back = shown(&json!({"EventSelectors": v}), &Value::Null).form;
        assert!(back.management && !back.read && back.write && back.exclude_kms);
        assert!(back.s3_data && !back.s3_all && back.s3_read && back.s3_write);
        assert_eq!(back.s3_buckets, "logs/\nother/prefix/");
    }

    #[test]
    fn a_form_with_nothing_on_logs_nothing() {
        assert!(logs_anything(&basic(&defaults())));
        let off = SelectorForm {
            s3_all: true,
            ..Default::default()
        };
        assert!(!logs_anything(&basic(&off)));
        let no_buckets = SelectorForm {
            s3_data: true,
            s3_all: false,
            s3_read: true,
            ..Default::default()
        };
        assert!(!logs_anything(&basic(&no_buckets)), "no bucket chosen");
        let data_only = SelectorForm {
            s3_buckets: "logs".into(),
            ..no_buckets
        };
        assert!(logs_anything(&basic(&data_only)));
    }

    #[test]
    fn selectors_the_editor_cannot_show_are_named() {
        let out = |sel: Value| json!({"EventSelectors": sel});
        // What the editor writes itself is shown exactly.
        for form in [
            defaults(),
            SelectorForm {
                s3_data: true,
                s3_read: true,
                ..defaults()
            },
        ] {
            assert_eq!(beyond_editor(&out(basic(&form))), None);
        }
        let lambda = out(
            json!([{"ReadWriteType": "All", "IncludeManagementEvents": true,
            "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}]),
        );
        assert_eq!(
            beyond_editor(&lambda).unwrap(),
            "AWS::Lambda::Function arn:aws:lambda (Read, Write)"
        );
        let two = out(json!([
            {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": true, "DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket-a/"]}]},
            {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": false, "DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket-b/"]}]}]));
        assert!(beyond_editor(&two).is_some());
        let rds = out(
            json!([{"ReadWriteType": "All", "IncludeManagementEvents": true,
            "ExcludeManagementEventSources": ["rdsdata.amazonaws.com"]}]),
        );
        assert!(
            beyond_editor(&rds)
                .unwrap()
                .contains("rdsdata.amazonaws.com")
        );
        let advanced = json!({"AdvancedEventSelectors": [{"FieldSelectors": []}]});
        assert_eq!(beyond_editor(&advanced), None);
    }

    #[test]
    fn advanced_management_selectors_show_under_management_events() {
        let out = json!({"AdvancedEventSelectors": [
            {"Name": "Mgmt", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "readOnly", "Equals": ["false"]}]},
            {"Name": "Objects", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]});
        let shown = shown(&out, &Value::Null);
        assert_eq!(shown.management.len(), 1);
        assert_eq!(shown.data.len(), 1);
        assert_eq!(shown.data[0].resource_type, "Objects");
    }

    #[test]
    fn saved_insights_keep_their_event_categories() {
        let form = SelectorForm {
            insights_call_rate: true,
            insights_error_rate: true,
            ..Default::default()
        };
        let current = json!({"InsightSelectors": [
            {"InsightType": "ApiCallRateInsight", "EventCategories": ["Data"]}]});
        assert_eq!(
            insights_keeping(&form, &current),
            json!([
                {"InsightType": "ApiCallRateInsight", "EventCategories": ["Data"]},
                {"InsightType": "ApiErrorRateInsight"}
            ])
        );
    }

    #[test]
    fn insights_round_trip() {
        let form = SelectorForm {
            insights_error_rate: true,
            ..Default::default()
        };
        let v = insights(&form);
        let back = shown(&Value::Null, &json!({"InsightSelectors": v}));
        assert!(back.form.insights_error_rate && !back.form.insights_call_rate);
        assert_eq!(back.insights, "API error rate");
    }
}
