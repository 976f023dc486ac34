//! Metric filters (spec monitoring.md §1.3, §2.8): Put/Describe/DeleteMetricFilter,
//! TestMetricFilter, and their compiled form that ingestion applies.

use cairn_filter::{FilterPattern, Matcher, MetricValue, PatternError, Selector};
use cairn_store::Connection;
use cairn_store::logs::filters::{self as store, StoredFilter};
use serde::{Deserialize, Serialize};

use super::{GroupKey, check_group_name, constraint, invalid, load_group, now_ms};
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Most metric filters per log group.
pub const MAX_FILTERS_PER_GROUP: usize = 100;
/// Most regex-bearing metric filters per log group.
pub const MAX_REGEX_FILTERS_PER_GROUP: usize = 5;

/// CloudWatch's standard units.
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// A metric transformation (persisted as JSON with the filter).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transformation {
    /// Metric name.
    pub metric_name: String,
    /// Namespace.
    pub metric_namespace: String,
    /// `"1"`, `$.field` or `$name`.
    pub metric_value: String,
    /// Emitted for non-matching events when set.
    pub default_value: Option<f64>,
    /// Dimension name → selector.
    pub dimensions: Vec<(String, String)>,
    /// Unit, if given.
    pub unit: Option<String>,
}

/// PutMetricFilter's input.
#[derive(Clone, Debug)]
pub struct PutFilter {
    /// The group.
    pub group: String,
    /// Filter name.
    pub name: String,
    /// The pattern, verbatim.
    pub pattern: String,
    /// Exactly one transformation.
    pub transformations: Vec<Transformation>,
}

fn pattern_error(e: PatternError) -> ApiError {
    invalid(e.message)
}

fn check_metric_text(value: &str, member: &str) -> ApiResult<()> {
    if value.is_empty() || value.len() > 255 || value.contains([':', '*', '$']) {
        return Err(constraint(
            value,
            member,
            "Member must satisfy regular expression pattern: [^:*$]* and have length between 1 and 255",
        ));
    }
    Ok(())
}

/// Validates a transformation; returns its parsed value and dimension selectors.
fn check_transformation(t: &Transformation) -> ApiResult<(MetricValue, Vec<(String, Selector)>)> {
    check_metric_text(&t.metric_name, "metricTransformations.1.member.metricName")?;
    check_metric_text(
        &t.metric_namespace,
        "metricTransformations.1.member.metricNamespace",
    )?;
    if t.metric_namespace.starts_with("AWS/") {
        return Err(invalid(
            "Invalid metric namespace: the AWS/ prefix is reserved.",
        ));
    }
    if t.metric_value.len() > 100 {
        return Err(constraint(
            &t.metric_value,
            "metricTransformations.1.member.metricValue",
            "Member must have length less than or equal to 100",
        ));
    }
    let value = MetricValue::parse(&t.metric_value).map_err(pattern_error)?;
    if let Some(unit) = &t.unit
        && !UNITS.contains(&unit.as_str())
    {
        return Err(constraint(
            unit,
            "metricTransformations.1.member.unit",
            &format!("Member must satisfy enum value set: [{}]", UNITS.join(", ")),
        ));
    }
    if t.dimensions.len() > 3 {
        return Err(invalid(
            "A metric transformation can have at most 3 dimensions.",
        ));
    }
    if !t.dimensions.is_empty() && t.default_value.is_some() {
        return Err(invalid(
            "Invalid metric transformation: dimensions and defaultValue cannot both be specified.",
        ));
    }
    if t.default_value.is_some_and(|v| !v.is_finite()) {
        return Err(invalid("Invalid default value."));
    }
    let dims = t
        .dimensions
        .iter()
        .map(|(k, v)| {
            check_metric_text(k, "metricTransformations.1.member.dimensions")?;
            Selector::parse(v)
                .map(|s| (k.clone(), s))
                .map_err(pattern_error)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((value, dims))
}

/// Parses a pattern for the API: ≤1024 characters and valid.
pub fn parse_pattern(pattern: &str) -> ApiResult<FilterPattern> {
    if pattern.chars().count() > 1024 {
        return Err(constraint(
            pattern,
            "filterPattern",
            "Member must have length less than or equal to 1024",
        ));
    }
    FilterPattern::parse(pattern).map_err(pattern_error)
}

fn check_filter_name(name: &str) -> ApiResult<()> {
    if name.is_empty() || name.len() > 512 || name.contains([':', '*']) {
        return Err(constraint(
            name,
            "filterName",
            "Member must satisfy regular expression pattern: [^:*]* and have length between 1 and 512",
        ));
    }
    Ok(())
}

/// PutMetricFilter: create or replace by (group, name).
pub fn put(conn: &Connection, ctx: &CallContext, input: &PutFilter) -> ApiResult<()> {
    check_group_name(&input.group, "logGroupName")?;
    check_filter_name(&input.name)?;
    let pattern = parse_pattern(&input.pattern)?;
    if input.transformations.len() != 1 {
        return Err(constraint(
            "",
            "metricTransformations",
            "Member must have length less than or equal to 1 and greater than or equal to 1",
        ));
    }
    check_transformation(&input.transformations[0])?;
    let group = load_group(conn, &GroupKey::of(ctx, &input.group))?;
    let others: Vec<StoredFilter> = store::of_group(conn, group.id)?
        .into_iter()
        .filter(|f| f.name != input.name)
        .collect();
    if others.len() >= MAX_FILTERS_PER_GROUP {
        return Err(ApiError::new(
            ErrorKind::LogsLimitExceeded,
            "Resource limit exceeded.",
        ));
    }
    if pattern.regex_count() > 0 {
        let with_regex = others
            .iter()
            .filter(|f| FilterPattern::parse(&f.pattern).is_ok_and(|p| p.regex_count() > 0))
            .count();
        if with_regex >= MAX_REGEX_FILTERS_PER_GROUP {
            return Err(ApiError::new(
                ErrorKind::LogsLimitExceeded,
                format!(
                    "A log group can have at most {MAX_REGEX_FILTERS_PER_GROUP} metric and subscription filters whose patterns contain regular expressions."
                ),
            ));
        }
    }
    let body = serde_json::to_string(&input.transformations[0])
        .map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))?;
    store::put(
        conn,
        group.id,
        &input.name,
        &input.pattern,
        &body,
        now_ms(ctx),
    )?;
    Ok(())
}

/// DeleteMetricFilter.
pub fn delete(conn: &Connection, ctx: &CallContext, group: &str, name: &str) -> ApiResult<()> {
    check_group_name(group, "logGroupName")?;
    check_filter_name(name)?;
    let group = load_group(conn, &GroupKey::of(ctx, group))?;
    if !store::delete(conn, group.id, name)? {
        return Err(ApiError::new(
            ErrorKind::ResourceNotFound,
            "The specified metric filter does not exist.",
        ));
    }
    Ok(())
}

/// DescribeMetricFilters' selection.
#[derive(Clone, Debug, Default)]
pub struct Describe {
    /// Group.
    pub group: Option<String>,
    /// Filter name prefix (only with a group).
    pub prefix: Option<String>,
    /// Metric name (with the namespace).
    pub metric_name: Option<String>,
    /// Metric namespace (with the name).
    pub metric_namespace: Option<String>,
    /// Page size, 1–50.
    pub limit: i64,
    /// The sort key (group name, filter name) of the last filter the previous page returned.
    pub after: Option<(String, String)>,
}

/// A filter as DescribeMetricFilters shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterView {
    /// The stored filter.
    pub stored: StoredFilter,
    /// Its transformation.
    pub transformation: Transformation,
}

fn decode(f: StoredFilter) -> ApiResult<FilterView> {
    let transformation = serde_json::from_str(&f.transformation)
        .map_err(|e| ApiError::new(ErrorKind::Internal, format!("stored transformation: {e}")))?;
    Ok(FilterView {
        stored: f,
        transformation,
    })
}

/// DescribeMetricFilters: a page and whether more follow.
pub fn describe(
    conn: &Connection,
    ctx: &CallContext,
    input: &Describe,
) -> ApiResult<(Vec<FilterView>, bool)> {
    if input.metric_name.is_some() != input.metric_namespace.is_some() {
        return Err(invalid(
            "metricName and metricNamespace must both be specified or both be omitted.",
        ));
    }
    let group_id = match &input.group {
        Some(g) => {
            check_group_name(g, "logGroupName")?;
            Some(load_group(conn, &GroupKey::of(ctx, g))?.id)
        }
        None => None,
    };
    let prefix = input.prefix.as_deref().filter(|_| group_id.is_some());
    let (account, region) = (ctx.account().as_str(), ctx.region.as_str());
    let mut views = if input.metric_name.is_some() {
        let after = input.after.as_ref().map(|(g, n)| (g.as_str(), n.as_str()));
        let all = store::list(conn, account, region, group_id, prefix, after, i64::MAX)?;
        let mut kept = Vec::new();
        for f in all {
            let v = decode(f)?;
            if Some(&v.transformation.metric_name) == input.metric_name.as_ref()
                && Some(&v.transformation.metric_namespace) == input.metric_namespace.as_ref()
            {
                kept.push(v);
            }
        }
        kept.into_iter().take(input.limit as usize + 1).collect()
    } else {
        store::list(
            conn,
            account,
            region,
            group_id,
            prefix,
            input.after.as_ref().map(|(g, n)| (g.as_str(), n.as_str())),
            input.limit + 1,
        )?
        .into_iter()
        .map(decode)
        .collect::<ApiResult<Vec<_>>>()?
    };
    let more = views.len() as i64 > input.limit;
    views.truncate(input.limit as usize);
    Ok((views, more))
}

/// One TestMetricFilter match: 1-based event number, the message, the extracted values.
pub type TestMatch = (usize, String, Vec<(String, String)>);

/// TestMetricFilter.
pub fn test(pattern: &str, messages: &[String]) -> ApiResult<Vec<TestMatch>> {
    let pattern = parse_pattern(pattern)?;
    if messages.is_empty() || messages.len() > 50 {
        return Err(constraint(
            "",
            "logEventMessages",
            "Member must have length less than or equal to 50 and greater than or equal to 1",
        ));
    }
    if messages.iter().any(String::is_empty) {
        return Err(constraint(
            "",
            "logEventMessages.member",
            "Member must have length greater than or equal to 1",
        ));
    }
    let matcher = Matcher::new(vec![pattern], &[]);
    Ok(messages
        .iter()
        .enumerate()
        .filter_map(|(k, m)| {
            let found = matcher.scan(m).results.pop().flatten()?;
            Some((k + 1, m.clone(), found.extracted))
        })
        .collect())
}

/// A metric filter ready to apply.
#[derive(Clone, Debug)]
pub struct CompiledTransformation {
    /// Namespace.
    pub namespace: String,
    /// Metric name.
    pub name: String,
    /// Where the value comes from.
    pub value: MetricValue,
    /// Value for non-matching events.
    pub default_value: Option<f64>,
    /// Dimension name → selector.
    pub dimensions: Vec<(String, Selector)>,
    /// Unit (`None` when unspecified).
    pub unit: String,
}

/// All metric filters of a group, compiled into one matcher.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// Patterns in filter order.
    pub matcher: Matcher,
    /// Transformations, parallel to the matcher's patterns.
    pub transformations: Vec<CompiledTransformation>,
}

/// Compiles a group's stored filters (a filter that no longer parses is skipped).
pub fn compile(filters: &[StoredFilter]) -> ApiResult<Compiled> {
    let mut patterns = Vec::new();
    let mut transformations = Vec::new();
    for f in filters {
        let view = decode(f.clone())?;
        let (Ok(pattern), Ok((value, dimensions))) = (
            FilterPattern::parse(&f.pattern),
            check_transformation(&view.transformation),
        ) else {
            tracing::warn!(filter = %f.name, "stored metric filter no longer parses; skipped");
            continue;
        };
        patterns.push(pattern);
        let t = view.transformation;
        transformations.push(CompiledTransformation {
            namespace: t.metric_namespace,
            name: t.metric_name,
            value,
            default_value: t.default_value,
            dimensions,
            unit: t.unit.unwrap_or_else(|| "None".to_owned()),
        });
    }
    let selectors: Vec<&Selector> = transformations
        .iter()
        .flat_map(|t| {
            t.value
                .selector()
                .into_iter()
                .chain(t.dimensions.iter().map(|d| &d.1))
        })
        .collect();
    Ok(Compiled {
        matcher: Matcher::new(patterns, &selectors),
        transformations,
    })
}
