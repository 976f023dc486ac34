//! PutEventSelectors / GetEventSelectors / PutInsightSelectors / GetInsightSelectors,
//! with CloudTrail's validation.
//!
//! A selector change is not retroactive: PutEventSelectors keeps the replaced selectors in
//! the trail's `selector_history` with the seq of its own event, and routing applies to each
//! event the selectors in force when it was recorded.

use cairn_model::trail::{
    AdvancedEventSelector, Coverage, EventSelector, FieldSelector, InsightSelector, InsightType,
    ReadWriteType, SelectorEpoch, Selectors, Trail,
};
use cairn_store::{Connection, trails};

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::{CallContext, trails as trail_ops};

const DATA_RESOURCE_TYPES: &[&str] = &[
    "AWS::S3::Object",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
];
const EXCLUDABLE_SOURCES: &[&str] = &["kms.amazonaws.com", "rdsdata.amazonaws.com"];
const MANAGEMENT_FIELDS: &[&str] = &["eventCategory", "eventSource", "readOnly"];
const DATA_FIELDS: &[&str] = &[
    "eventCategory",
    "resources.type",
    "resources.ARN",
    "eventName",
    "eventSource",
    "eventType",
    "readOnly",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
];
/// Fields of network activity selectors (calls through VPC endpoints). Cairn has no VPC
/// endpoints, so such selectors are kept and echoed, and select no event.
const NETWORK_FIELDS: &[&str] = &[
    "eventCategory",
    "eventSource",
    "eventName",
    "errorCode",
    "vpcEndpointId",
    // "The following additional field is available for trails" (AdvancedFieldSelector).
    "userIdentity.arn",
];

/// The event category an advanced selector is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Category {
    Management,
    Data,
    NetworkActivity,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidEventSelectors, message)
}

/// A basic selector as supplied, before defaults.
#[derive(Clone, Debug, Default)]
pub struct BasicSelectorInput {
    /// `ReadWriteType` text.
    pub read_write_type: Option<String>,
    /// `IncludeManagementEvents`.
    pub include_management_events: Option<bool>,
    /// `DataResources` as (type, values).
    pub data_resources: Vec<(Option<String>, Vec<String>)>,
    /// `ExcludeManagementEventSources`.
    pub exclude_management_event_sources: Vec<String>,
}

fn data_value_ok(resource_type: &str, value: &str) -> (bool, bool) {
    // Returns (valid, is "all resources of the type").
    match resource_type {
        "AWS::S3::Object" => {
            if value == "arn:aws:s3" || value == "arn:aws:s3:::" {
                return (true, true);
            }
            let ok = value
                .strip_prefix("arn:aws:s3:::")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(bucket, _)| crate::validate::is_valid_bucket_name(bucket));
            (ok, false)
        }
        "AWS::Lambda::Function" => {
            if value == "arn:aws:lambda" {
                return (true, true);
            }
            (
                value.starts_with("arn:aws:lambda:") && value.contains(":function:"),
                false,
            )
        }
        "AWS::DynamoDB::Table" => {
            if value == "arn:aws:dynamodb" {
                return (true, true);
            }
            (
                value.starts_with("arn:aws:dynamodb:") && value.contains(":table/"),
                false,
            )
        }
        _ => (false, false),
    }
}

/// Validates basic selectors and fills defaults.
pub fn validate_basic(inputs: &[BasicSelectorInput]) -> ApiResult<Vec<EventSelector>> {
    if inputs.is_empty() || inputs.len() > 5 {
        return Err(invalid(
            "Specify a valid number of event selectors (1 to 5) for a trail.",
        ));
    }
    let mut total_values = 0usize;
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        let read_write_type = match input.read_write_type.as_deref() {
            None => ReadWriteType::All,
            Some(text) => ReadWriteType::parse(text).ok_or_else(|| {
                invalid(format!(
                    "Invalid ReadWriteType: {text}. Valid values are ReadOnly, WriteOnly, All."
                ))
            })?,
        };
        let mut data_resources = Vec::new();
        for (rtype, values) in &input.data_resources {
            let rtype = rtype
                .as_deref()
                .ok_or_else(|| invalid("DataResource Type must be specified."))?;
            if !DATA_RESOURCE_TYPES.contains(&rtype) {
                return Err(invalid(format!("Invalid DataResource type: {rtype}.")));
            }
            for value in values {
                let (ok, all) = data_value_ok(rtype, value);
                if !ok {
                    return Err(invalid(format!(
                        "Value {value} for DataResources.Values is invalid."
                    )));
                }
                if !all {
                    total_values += 1;
                }
            }
            data_resources.push(cairn_model::trail::DataResource {
                resource_type: rtype.to_owned(),
                values: values.clone(),
            });
        }
        for source in &input.exclude_management_event_sources {
            if !EXCLUDABLE_SOURCES.contains(&source.as_str()) {
                return Err(invalid(format!(
                    "Invalid ExcludeManagementEventSources value: {source}. Valid values are kms.amazonaws.com, rdsdata.amazonaws.com."
                )));
            }
        }
        let include_management_events = input.include_management_events.unwrap_or(true);
        // A selector without management events and without any data resource is refused, as
        // AWS refuses it (CloudFormation and CDK users who met it report). One whose data
        // resources have empty `Values` is accepted and selects nothing, as on AWS: the real
        // record of Stratus Red Team's `cloudtrail-event-selectors` technique (a trail blinded
        // this way) shows AWS answering it without error.
        if !include_management_events && data_resources.is_empty() {
            return Err(invalid(
                "Invalid combination of parameters in EventSelectors. When includeManagementEvents is false, DataResources must not be empty",
            ));
        }
        out.push(EventSelector {
            read_write_type,
            include_management_events,
            data_resources,
            exclude_management_event_sources: input.exclude_management_event_sources.clone(),
        });
    }
    if total_values > 250 {
        return Err(invalid(
            "Specify a valid number of DataResources.Values (0 to 250) for all your selectors",
        ));
    }
    Ok(out)
}

/// Validates advanced selectors.
pub fn validate_advanced(selectors: &[AdvancedEventSelector]) -> ApiResult<()> {
    if selectors.is_empty() {
        return Err(invalid("At least one advanced event selector is required."));
    }
    let mut total = 0usize;
    for selector in selectors {
        if selector
            .name
            .as_deref()
            .is_some_and(|n| n.chars().count() > 1000)
        {
            return Err(invalid(
                "Advanced event selector name must be at most 1000 characters.",
            ));
        }
        if selector.field_selectors.is_empty() {
            return Err(invalid(
                "Each advanced event selector must have at least one field selector.",
            ));
        }
        let category = selector
            .field_selectors
            .iter()
            .find(|f| f.field == "eventCategory")
            .ok_or_else(|| {
                invalid("Each advanced event selector must have an eventCategory field selector.")
            })?;
        let categories = category.equals.clone().unwrap_or_default();
        let category = match categories.as_slice() {
            [c] if c == "Management" => Category::Management,
            [c] if c == "Data" => Category::Data,
            [c] if c == "NetworkActivity" => Category::NetworkActivity,
            _ => {
                return Err(invalid(
                    "The eventCategory field must use Equals with exactly one value: Management, Data or NetworkActivity.",
                ));
            }
        };
        let is_data = category == Category::Data;
        let allowed = match category {
            Category::Management => MANAGEMENT_FIELDS,
            Category::Data => DATA_FIELDS,
            Category::NetworkActivity => NETWORK_FIELDS,
        };
        for once in ["eventCategory", "resources.type"] {
            let n = selector
                .field_selectors
                .iter()
                .filter(|f| f.field == once)
                .count();
            if n > 1 {
                return Err(invalid(format!(
                    "You can have only one {once} field per selector."
                )));
            }
        }
        for field in &selector.field_selectors {
            check_field(field, allowed)?;
            check_field_for_category(field, category)?;
            total += field
                .operators()
                .iter()
                .filter_map(|(_, v)| v.map(Vec::len))
                .sum::<usize>();
        }
        if is_data
            && !selector
                .field_selectors
                .iter()
                .any(|f| f.field == "resources.type")
        {
            return Err(invalid(
                "Data event selectors must include a resources.type field selector.",
            ));
        }
        if category == Category::NetworkActivity
            && !selector
                .field_selectors
                .iter()
                .any(|f| f.field == "eventSource")
        {
            return Err(invalid(
                "Network activity event selectors must include an eventSource field selector.",
            ));
        }
    }
    if total > 500 {
        return Err(invalid(
            "A trail can have a maximum of 500 conditions across all advanced event selectors.",
        ));
    }
    Ok(())
}

/// AWS's rules that depend on the category: for management events `eventSource` may only
/// exclude KMS or RDS Data API events; `resources.type` names exactly one type (another type
/// takes another selector); for network activity events `eventSource` names services with
/// Equals and `errorCode` can only be `VpceAccessDenied`.
fn check_field_for_category(field: &FieldSelector, category: Category) -> ApiResult<()> {
    const EXCLUDABLE: &[&str] = &["kms.amazonaws.com", "rdsdata.amazonaws.com"];
    if category == Category::NetworkActivity {
        return check_network_field(field);
    }
    if category == Category::Management && field.field == "eventSource" {
        let only_not_equals = field
            .operators()
            .iter()
            .all(|(op, v)| v.is_none() || *op == "NotEquals");
        let values_ok = field
            .not_equals
            .iter()
            .flatten()
            .all(|v| EXCLUDABLE.contains(&v.as_str()));
        if !only_not_equals || !values_ok {
            return Err(invalid(
                "For management events, eventSource can only use NotEquals with kms.amazonaws.com or rdsdata.amazonaws.com.",
            ));
        }
    }
    if field.field == "resources.type" && field.equals.as_ref().is_some_and(|v| v.len() != 1) {
        return Err(invalid(
            "resources.type must use Equals with exactly one value; add another selector to log data events of another resource type.",
        ));
    }
    // "If you use Equals or NotEquals, the value must exactly match the ARN of a valid
    // resource" (AdvancedFieldSelector): a value that is no ARN can never match one.
    if field.field == "resources.ARN"
        && let Some(value) = field
            .equals
            .iter()
            .chain(field.not_equals.iter())
            .flatten()
            .find(|v| !looks_like_arn(v))
    {
        return Err(invalid(format!(
            "Invalid resources.ARN value: {value}. Equals and NotEquals take the ARN of a resource of the selector's resources.type."
        )));
    }
    if field.field == "resources.type"
        && let Some(value) = field.equals.iter().flatten().find(|v| !is_resource_type(v))
    {
        return Err(invalid(format!(
            "Invalid resources.type value: {value}. Specify a CloudFormation resource type such as AWS::S3::Object."
        )));
    }
    Ok(())
}

fn check_network_field(field: &FieldSelector) -> ApiResult<()> {
    if field.field == "eventSource" {
        let only_equals = field
            .operators()
            .iter()
            .all(|(op, v)| v.is_none() || *op == "Equals");
        // AWS's list of services with network activity events grows; the spelling is checked.
        let spelled = field.equals.iter().flatten().all(|v| {
            v.strip_suffix(".amazonaws.com").is_some_and(|service| {
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
        });
        if !only_equals || !spelled {
            return Err(invalid(
                "For network activity events, eventSource must use Equals with service event sources such as ec2.amazonaws.com.",
            ));
        }
    }
    if field.field == "errorCode"
        && field
            .operators()
            .iter()
            .filter_map(|(_, v)| *v)
            .flatten()
            .any(|v| v != "VpceAccessDenied")
    {
        return Err(invalid(
            "The only valid value for errorCode is VpceAccessDenied.",
        ));
    }
    Ok(())
}

/// `arn:<partition>:<service>:<region>:<account>:<resource>`, the resource not empty.
fn looks_like_arn(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && cairn_policy::is_partition(parts[1])
        && !parts[2].is_empty()
        && !parts[5].is_empty()
}

/// A resource type in CloudFormation's spelling, `AWS::<Service>::<Type>`, each part starting
/// with a capital letter. AWS's list of data-event types grows every month, so the spelling is
/// checked rather than a copy of the list; a lower-case `aws::s3::object` is refused.
fn is_resource_type(value: &str) -> bool {
    let mut parts = value.split("::");
    let well_formed = parts.next() == Some("AWS")
        && parts.clone().count() == 2
        && parts.all(|p| {
            p.starts_with(|c: char| c.is_ascii_uppercase())
                && p.chars().all(|c| c.is_ascii_alphanumeric())
        });
    // AWS's list grows every month, so only the spelling is checked elsewhere; of S3's own
    // namespace, whose data-event types the CloudTrail User Guide lists, only those are
    // taken (`AWS::S3::Bucket` is no data-event type: it would select every object call).
    let s3_ok = value
        .strip_prefix("AWS::S3::")
        .is_none_or(|t| S3_DATA_TYPES.contains(&t));
    well_formed && s3_ok
}

/// The data-event resource types in the `AWS::S3::` namespace (CloudTrail User Guide,
/// "Logging data events").
const S3_DATA_TYPES: [&str; 2] = ["Object", "AccessPoint"];

fn check_field(field: &FieldSelector, allowed: &[&str]) -> ApiResult<()> {
    let name_ok = !field.field.is_empty()
        && field.field.chars().count() <= 1000
        && field
            .field
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '_' || c == '|');
    if !name_ok || !allowed.contains(&field.field.as_str()) {
        return Err(invalid(format!(
            "Invalid FieldSelector field: {}.",
            field.field
        )));
    }
    let ops = field.operators();
    if ops.iter().all(|(_, v)| v.is_none()) {
        return Err(invalid(format!(
            "FieldSelector {} must specify an operator.",
            field.field
        )));
    }
    for (op, values) in ops {
        let Some(values) = values else { continue };
        if values.is_empty() {
            return Err(invalid(format!(
                "Operator {op} of {} must have at least one value.",
                field.field
            )));
        }
        if values
            .iter()
            .any(|v| v.is_empty() || v.chars().count() > 2048)
        {
            return Err(invalid(format!(
                "Values of {} must be 1 to 2048 characters.",
                field.field
            )));
        }
        let equals_only = matches!(
            field.field.as_str(),
            "eventCategory" | "readOnly" | "resources.type"
        );
        if equals_only && op != "Equals" {
            return Err(invalid(format!(
                "Field {} only supports the Equals operator.",
                field.field
            )));
        }
        if field.field == "readOnly" && values.iter().any(|v| v != "true" && v != "false") {
            return Err(invalid("readOnly values must be true or false."));
        }
        if field.field == "sessionCredentialFromConsole" {
            if op != "Equals" && op != "NotEquals" {
                return Err(invalid(
                    "Field sessionCredentialFromConsole only supports the Equals and NotEquals operators.",
                ));
            }
            if values.iter().any(|v| v != "true" && v != "false") {
                return Err(invalid(
                    "sessionCredentialFromConsole values must be true or false.",
                ));
            }
        }
    }
    Ok(())
}

/// PutEventSelectors: exactly one kind must be supplied; it replaces the other kind. Both or
/// neither is `InvalidEventSelectorsException`, the one error the operation's model names for
/// a selector combination.
pub fn put_event_selectors(
    conn: &Connection,
    ctx: &CallContext,
    trail_name: &str,
    basic: Option<&[BasicSelectorInput]>,
    advanced: Option<&[AdvancedEventSelector]>,
) -> ApiResult<Trail> {
    let selectors = match (basic, advanced) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "You cannot apply both EventSelectors and AdvancedEventSelectors to a trail.",
            ));
        }
        (None, None) => {
            return Err(invalid(
                "You must specify either EventSelectors or AdvancedEventSelectors.",
            ));
        }
        (Some(b), None) => Selectors::Basic(validate_basic(b)?),
        (None, Some(a)) => {
            validate_advanced(a)?;
            Selectors::Advanced(a.to_vec())
        }
    };
    let mut trail = trail_ops::resolve_home(conn, ctx, trail_name)?;
    let previous = std::mem::replace(&mut trail.selectors, selectors);
    // An insight type these selectors no longer feed ends its open insights, with End events
    // appended before this call's own: ending them after `from_seq` was taken let the call's
    // own event be judged by the new selectors (insights4).
    crate::insights::close::close_unevaluated(conn, &trail.arn(), &trail.account, Some(&trail))?;
    // This call's own event is the next one appended (in this write job). It is judged by
    // the selectors it replaces, and the new ones apply to every event after it: a change
    // that stops a trail logging management events is still logged by that trail (as
    // StopLogging is), so blinding a trail never goes unseen in its own files.
    let from_seq = cairn_store::events::next_seq(conn)? + 1;
    let cursor = cairn_store::delivery::cursor(conn, &trail.arn())?;
    let coverage = trail.coverage();
    remember_routing(&mut trail, previous, coverage, from_seq, cursor);
    trail.has_custom_event_selectors = true;
    trails::put(conn, &trail)?;
    Ok(trail)
}

/// Keeps `previous` selectors and `coverage` as those of events before `from_seq` (when
/// either changed), and forgets the epochs no undelivered event can need: those ending at or
/// before the first seq the trail has not planned yet (`cursor + 1`, or its first logging
/// window's start without a cursor; a trail that never logged needs none).
pub(crate) fn remember_routing(
    trail: &mut Trail,
    previous: Selectors,
    coverage: Coverage,
    from_seq: i64,
    cursor: Option<i64>,
) {
    let changed = previous != trail.selectors || coverage != trail.coverage();
    let history = &mut trail.status.selector_history;
    if changed {
        history.push(SelectorEpoch {
            until_seq: from_seq,
            selectors: previous,
            coverage: Some(coverage),
        });
    }
    let first_needed = match (cursor, trail.status.windows.first()) {
        (Some(c), _) => c + 1,
        (None, Some(w)) => w.start_seq,
        (None, None) => i64::MAX,
    };
    history.retain(|epoch| epoch.until_seq > first_needed);
}

/// Which management events a trail logs: (reads, writes).
pub fn management_coverage(trail: &Trail) -> (bool, bool) {
    match &trail.selectors {
        Selectors::Basic(list) => {
            list.iter()
                .filter(|s| s.include_management_events)
                .fold((false, false), |(r, w), s| match s.read_write_type {
                    ReadWriteType::All => (true, true),
                    ReadWriteType::ReadOnly => (true, w),
                    ReadWriteType::WriteOnly => (r, true),
                })
        }
        Selectors::Advanced(list) => list
            .iter()
            .filter(|s| {
                s.field_selectors.iter().any(|f| {
                    f.field == "eventCategory"
                        && f.equals
                            .as_ref()
                            .is_some_and(|v| v.iter().any(|c| c == "Management"))
                })
            })
            .fold((false, false), |(r, w), s| {
                let ro = s
                    .field_selectors
                    .iter()
                    .find(|f| f.field == "readOnly")
                    .and_then(|f| f.equals.clone());
                match ro.as_deref() {
                    Some([v]) if v == "true" => (true, w),
                    Some([v]) if v == "false" => (r, true),
                    _ => (true, true),
                }
            }),
    }
}

/// An insight selector as supplied.
#[derive(Clone, Debug, Default)]
pub struct InsightSelectorInput {
    /// `InsightType`.
    pub insight_type: Option<String>,
    /// `EventCategories`.
    pub event_categories: Option<Vec<String>>,
}

/// PutInsightSelectors for a trail. An empty list turns Insights off.
pub fn put_insight_selectors(
    conn: &Connection,
    ctx: &CallContext,
    trail_name: &str,
    inputs: &[InsightSelectorInput],
    destination: (&crate::trails::ExternalBuckets, crate::sse::KmsAccess<'_>),
) -> ApiResult<Trail> {
    let bad = |m: String| ApiError::new(ErrorKind::InvalidInsightSelectors, m);
    let mut selectors: Vec<InsightSelector> = Vec::new();
    for input in inputs {
        let text = input.insight_type.as_deref().unwrap_or("");
        let insight_type = InsightType::parse(text).ok_or_else(|| {
            bad(format!("Invalid InsightType: {text}. Valid values are ApiCallRateInsight, ApiErrorRateInsight."))
        })?;
        if selectors.iter().any(|s| s.insight_type == insight_type) {
            return Err(bad(format!("Duplicate InsightType: {text}.")));
        }
        let event_categories = input
            .event_categories
            .clone()
            .unwrap_or_else(|| vec!["Management".to_owned()]);
        if event_categories.is_empty()
            || event_categories
                .iter()
                .any(|c| c != "Management" && c != "Data")
        {
            return Err(bad(
                "EventCategories must contain Management and/or Data.".to_owned()
            ));
        }
        if let Some(dup) = event_categories
            .iter()
            .enumerate()
            .find_map(|(i, c)| event_categories[..i].contains(c).then_some(c))
        {
            return Err(bad(format!("Duplicate EventCategory: {dup}.")));
        }
        selectors.push(InsightSelector {
            insight_type,
            event_categories,
        });
    }
    let mut trail = trail_ops::resolve_home(conn, ctx, trail_name)?;
    let (reads, writes) = management_coverage(&trail);
    let logs_data = crate::routing::selects_data_events(&trail.selectors);
    for s in &selectors {
        let wants = |c: &str| s.event_categories.iter().any(|e| e == c);
        let management_ok = match s.insight_type {
            InsightType::ApiCallRateInsight => writes,
            InsightType::ApiErrorRateInsight => reads || writes,
        };
        if wants("Management") && !management_ok {
            return Err(bad(format!(
                "The trail {} does not log the management events that {} needs.",
                trail.arn(),
                s.insight_type.as_str()
            )));
        }
        // For data events Insights, the trail must log read or write data events.
        if wants("Data") && !logs_data {
            return Err(bad(format!(
                "The trail {} does not log the data events that {} on data events needs.",
                trail.arn(),
                s.insight_type.as_str()
            )));
        }
    }
    if !selectors.is_empty() {
        crate::trails::check_insights_destination(conn, ctx, &trail, destination.0, destination.1)?;
    }
    let had_insights = !trail.insight_selectors.is_empty();
    trail.insight_selectors = selectors;
    trails::put(conn, &trail)?;
    crate::insights::selectors_changed(conn, had_insights, &trail, ctx.now_secs())?;
    Ok(trail)
}

/// GetInsightSelectors for a trail.
pub fn get_insight_selectors(
    conn: &Connection,
    ctx: &CallContext,
    trail_name: &str,
) -> ApiResult<Trail> {
    let trail = trail_ops::resolve_here(conn, ctx, trail_name)?;
    if trail.insight_selectors.is_empty() {
        return Err(ApiError::new(
            ErrorKind::InsightNotEnabled,
            format!(
                "Trail {} does not have Insights enabled. Edit the trail settings to enable Insights, and then try the operation again.",
                trail.arn()
            ),
        ));
    }
    Ok(trail)
}

#[cfg(test)]
#[path = "selectors_tests.rs"]
mod tests;
