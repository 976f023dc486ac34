//! What each CloudTrail operation must be allowed to do (Service Authorization Reference,
//! spec iam-kms.md §5.1): the action is `cloudtrail:<Operation>`; trail operations are
//! authorized against the trail's home-region ARN, tag operations against each resource they
//! name, CloudTrail Lake operations (which Cairn refuses, after authorizing them) against the
//! event data stores, channels and dashboards they name (`lake_resources`), and the rest
//! against `*`. A trail's tags are its `aws:ResourceTag/<key>` values. CreateTrail/UpdateTrail also need `iam:PassRole` for a
//! CloudWatch Logs role, and CreateTrail `cloudtrail:AddTags` when it tags.

use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_core::{CallContext, trails};
use cairn_lake::{Reads, queried_stores};
use cairn_store::Connection;
use serde_json::Value;

/// The member naming the trail, for operations with a trail resource.
/// The member naming the trail a call acts on, if it acts on a trail. The operations that
/// take a trail or an event data store (Get/PutInsightSelectors, Get/PutEventConfiguration)
/// act on the trail when `TrailName` is given, else on the store ([`lake_resources`]);
/// ListInsightsData names its trail by ARN in `InsightSource`.
fn trail_member(op: &str, body: &Value) -> Option<&'static str> {
    let names_trail = || text(body, "TrailName").is_some_and(|n| !n.is_empty());
    let names_store = || text(body, "EventDataStore").is_some_and(|n| !n.is_empty());
    Some(match op {
        "CreateTrail" | "UpdateTrail" | "DeleteTrail" | "GetTrail" | "GetTrailStatus"
        | "StartLogging" | "StopLogging" => "Name",
        "PutEventSelectors" | "GetEventSelectors" => "TrailName",
        "PutInsightSelectors" | "GetInsightSelectors" if names_trail() || !names_store() => {
            "TrailName"
        }
        "PutEventConfiguration" | "GetEventConfiguration" if names_trail() => "TrailName",
        "ListInsightsData" => "InsightSource",
        _ => return None,
    })
}

/// The trails a call names, from the permissions it needs: the first one's resource for an
/// operation on a trail, each trail ARN a tag operation names.
pub fn named_trails(op: &str, body: &Value, needed: &[Permission]) -> Vec<String> {
    if trail_member(op, body).is_some() {
        return needed
            .first()
            .map(|p| p.resource.clone())
            .into_iter()
            .collect();
    }
    match op {
        "AddTags" | "RemoveTags" | "ListTags" => needed
            .iter()
            .filter(|p| p.resource.contains(":trail/"))
            .map(|p| p.resource.clone())
            .collect(),
        _ => Vec::new(),
    }
}

fn text<'a>(body: &'a Value, member: &str) -> Option<&'a str> {
    body.get(member).and_then(Value::as_str)
}

/// A request's tags: `TagsList`, or CreateChannel's `Tags`, when operation `op` has such a
/// member (lake3: a `TagsList` sent with GenerateQuery, which has none, was copied into the
/// context of every store the call named).
fn tag_list<'a>(op: &str, body: &'a Value) -> Option<&'a Vec<Value>> {
    ["TagsList", "Tags"]
        .into_iter()
        .filter(|m| !crate::model_check::unmodeled("cloudtrail", op, m))
        .find_map(|m| body.get(m))
        .and_then(Value::as_array)
}

fn tag_keys(op: &str, body: &Value) -> Vec<String> {
    tag_list(op, body)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.get("Key").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn with_request_tags(mut p: Permission, op: &str, body: &Value) -> Permission {
    if let Some(tags) = tag_list(op, body) {
        for t in tags {
            if let (Some(k), Some(v)) = (
                t.get("Key").and_then(Value::as_str),
                t.get("Value").and_then(Value::as_str),
            ) {
                p = p.with(&format!("aws:RequestTag/{k}"), v);
            }
        }
        p = p.with_values("aws:TagKeys", tag_keys(op, body));
    }
    p
}

/// The ARN of a Lake resource of `kind` (`eventdatastore`, `channel`, `dashboard`) that a
/// request names by id or ARN.
fn lake_arn(ctx: &CallContext, kind: &str, id: &str) -> String {
    lake_arn_of(ctx, None, kind, id)
}

/// [`lake_arn`] in account `owner` when a request names the store's owner
/// (`EventDataStoreOwnerAccountId`), else the caller's (lake3: the owner was ignored, so a
/// Deny on another account's stores did not apply).
fn lake_arn_of(ctx: &CallContext, owner: Option<&str>, kind: &str, id: &str) -> String {
    // Only a CloudTrail ARN of this kind is taken as given; anything else names an id, so an
    // ARN of another service cannot step outside a policy scoped to `<kind>/*`.
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    if let ["arn", _, "cloudtrail", _, _, resource] = parts.as_slice()
        && resource.starts_with(&format!("{kind}/"))
    {
        return id.to_owned();
    }
    let account = ctx.account().to_string();
    format!(
        "arn:aws:cloudtrail:{}:{}:{kind}/{id}",
        ctx.region,
        owner.unwrap_or(&account)
    )
}

/// The resources a CloudTrail Lake operation is authorized on (Service Authorization
/// Reference: `eventdatastore*`, `channel*` or `dashboard*`), or `None` for an operation that
/// is not Lake's or names none. A resource that does not exist yet is `<kind>/*` (its id is
/// made on creation), a dashboard's ARN ends with its name.
/// The operations whose input has `EventDataStoreOwnerAccountId` (the CloudTrail model).
const OWNER_OPERATIONS: [&str; 4] = [
    "StartQuery",
    "DescribeQuery",
    "GetQueryResults",
    "CancelQuery",
];

fn lake_resources(ctx: &CallContext, op: &str, body: &Value) -> Option<Vec<String>> {
    // Only the query operations have this member (the model); elsewhere it is not read.
    let owner = text(body, "EventDataStoreOwnerAccountId")
        .filter(|a| !a.is_empty())
        .filter(|_| OWNER_OPERATIONS.contains(&op));
    let lake_arn = |ctx: &CallContext, kind: &str, id: &str| lake_arn_of(ctx, owner, kind, id);
    let one = |kind: &str, member: &str| text(body, member).map(|id| vec![lake_arn(ctx, kind, id)]);
    // A list with an item that is not an id (or a member that is not a list) names stores
    // no one can tell: it is authorized on every one (lake5), never on none.
    let many = |kind: &str, member: &str| {
        body.get(member).map(|ids| match ids.as_array() {
            Some(ids) => ids
                .iter()
                .map(|id| lake_arn(ctx, kind, id.as_str().unwrap_or("*")))
                .collect::<Vec<_>>(),
            None => vec![lake_arn(ctx, kind, "*")],
        })
    };
    let arns = match op {
        "CreateEventDataStore" => Some(vec![lake_arn(ctx, "eventdatastore", "*")]),
        // A channel, and the stores it delivers to (the Service Authorization Reference:
        // `channel*` and `eventdatastore*`).
        "CreateChannel" => Some(
            std::iter::once(lake_arn(ctx, "channel", "*"))
                .chain(channel_stores(body).map(|id| lake_arn(ctx, "eventdatastore", &id)))
                .collect(),
        ),
        "CreateDashboard" => one("dashboard", "Name"),
        "GetChannel" | "UpdateChannel" | "DeleteChannel" => one("channel", "Channel"),
        "GetDashboard" | "UpdateDashboard" | "DeleteDashboard" | "StartDashboardRefresh" => {
            one("dashboard", "DashboardId")
        }
        "GetResourcePolicy" | "PutResourcePolicy" | "DeleteResourcePolicy" => {
            text(body, "ResourceArn").map(|a| {
                let kind = ["eventdatastore", "channel", "dashboard"]
                    .into_iter()
                    .find(|k| a.contains(&format!(":{k}/")))
                    .unwrap_or("channel");
                vec![lake_arn(ctx, kind, a)]
            })
        }
        "GenerateQuery" => many("eventdatastore", "EventDataStores"),
        // A store's Insights: the store, and the store Insights events go to.
        "PutInsightSelectors" | "GetInsightSelectors" => {
            let stores: Vec<String> = ["EventDataStore", "InsightsDestination"]
                .into_iter()
                .filter_map(|m| text(body, m).filter(|id| !id.is_empty()))
                .map(|id| lake_arn(ctx, "eventdatastore", id))
                .collect();
            Some(stores)
        }
        // Every store the statement reads; one it cannot parse is authorized on every store.
        "StartQuery" => text(body, "QueryStatement").map(|q| match queried_stores(q) {
            Reads::Stores(ids) => ids
                .iter()
                .map(|id| lake_arn(ctx, "eventdatastore", id))
                .collect(),
            Reads::Unparsed => vec![lake_arn(ctx, "eventdatastore", "*")],
        }),
        _ if op.contains("EventDataStore")
            || op.contains("Federation")
            || op.contains("Quer")
            || op.contains("EventConfiguration") =>
        {
            one("eventdatastore", "EventDataStore")
        }
        _ => None,
    }?;
    (!arns.is_empty()).then_some(arns)
}

/// The event data stores a CreateChannel's `Destinations` name (`Location` of each
/// `EVENT_DATA_STORE` one); a destination that cannot be read names every store.
fn channel_stores(body: &Value) -> impl Iterator<Item = String> + '_ {
    let list = body.get("Destinations");
    let unreadable = list.is_some_and(|l| !l.is_array());
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let kind = d.get("Type").and_then(Value::as_str);
            match (kind, d.get("Location").and_then(Value::as_str)) {
                (Some("EVENT_DATA_STORE"), Some(location)) => Some(location.to_owned()),
                (Some(k), Some(_)) if k != "EVENT_DATA_STORE" => None,
                _ => Some("*".to_owned()),
            }
        })
        .chain(unreadable.then(|| "*".to_owned()))
}

/// The other permissions a Lake operation needs beyond its own action (the Service
/// Authorization Reference's API-operations table): `iam:PassRole` for a role handed to
/// CloudTrail, and `cloudtrail:StartQuery`/`StartDashboardRefresh` for a dashboard's queries.
fn lake_extras(ctx: &CallContext, op: &str, body: &Value, own: &[String]) -> Vec<Permission> {
    let pass = |role: Option<&Value>| {
        role.and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .map(|role| {
                Permission::new("iam:PassRole", role)
                    .with("iam:PassedToService", "cloudtrail.amazonaws.com")
            })
    };
    let stores_of_widgets = || -> Vec<String> {
        let widgets = body.get("Widgets").and_then(Value::as_array);
        let mut arns: Vec<String> = widgets
            .into_iter()
            .flatten()
            .flat_map(|w| {
                match w
                    .get("QueryStatement")
                    .and_then(Value::as_str)
                    .map(queried_stores)
                {
                    Some(Reads::Stores(ids)) => ids,
                    _ => vec!["*".to_owned()],
                }
            })
            .map(|id| lake_arn(ctx, "eventdatastore", &id))
            .collect();
        arns.sort();
        arns.dedup();
        arns
    };
    let query = |arns: Vec<String>| {
        arns.into_iter()
            .map(|arn| Permission::new("cloudtrail:StartQuery", arn))
    };
    let refresh = || {
        own.iter()
            .map(|arn| Permission::new("cloudtrail:StartDashboardRefresh", arn))
    };
    match op {
        "EnableFederation" => pass(body.get("FederationRoleArn")).into_iter().collect(),
        "StartImport" => pass(body.pointer("/ImportSource/S3/S3BucketAccessRoleArn"))
            .into_iter()
            .collect(),
        "CreateDashboard" | "UpdateDashboard" => {
            refresh().chain(query(stores_of_widgets())).collect()
        }
        // The dashboard's widgets are its own: any store they may read.
        "StartDashboardRefresh" => query(vec![lake_arn(ctx, "eventdatastore", "*")]).collect(),
        _ => Vec::new(),
    }
}

/// The permissions `op` needs for request `body`.
pub fn of(
    conn: &Connection,
    ctx: &CallContext,
    op: &str,
    body: &Value,
) -> ApiResult<Vec<Permission>> {
    let action = format!("cloudtrail:{op}");
    if let Some(member) = trail_member(op, body) {
        let name = text(body, member).unwrap_or("");
        let arn = trails::arn_for_authz(conn, ctx, name)?;
        let mut needed = vec![with_request_tags(Permission::new(&action, &arn), op, body)];
        // A call naming a trail and an event data store too is authorized on both.
        if matches!(
            op,
            "PutEventConfiguration"
                | "GetEventConfiguration"
                | "PutInsightSelectors"
                | "GetInsightSelectors"
        ) && let Some(store) = text(body, "EventDataStore").filter(|s| !s.is_empty())
        {
            needed.push(Permission::new(
                &action,
                lake_arn(ctx, "eventdatastore", store),
            ));
        }
        if op == "CreateTrail" && !tag_keys(op, body).is_empty() {
            needed.push(with_request_tags(
                Permission::new("cloudtrail:AddTags", &arn),
                op,
                body,
            ));
        }
        if matches!(op, "CreateTrail" | "UpdateTrail")
            && let Some(role) = text(body, "CloudWatchLogsRoleArn").filter(|r| !r.is_empty())
        {
            needed.push(
                Permission::new("iam:PassRole", role)
                    .with("iam:PassedToService", "cloudtrail.amazonaws.com")
                    .with("iam:AssociatedResourceArn", &arn),
            );
        }
        return Ok(needed);
    }
    // ListInsightsMetricData is LookupEvents' permission; naming a trail also needs
    // `cloudtrail:ListInsightsData` on it (the API reference).
    if op == "ListInsightsMetricData" {
        let mut needed = vec![Permission::any("cloudtrail:LookupEvents")];
        if let Some(name) = text(body, "TrailName").filter(|n| !n.is_empty()) {
            let arn = trails::arn_for_authz(conn, ctx, name)?;
            needed.push(Permission::new("cloudtrail:ListInsightsData", arn));
        }
        return Ok(needed);
    }
    if let Some(arns) = lake_resources(ctx, op, body) {
        let mut needed: Vec<Permission> = arns
            .iter()
            .map(|arn| with_request_tags(Permission::new(&action, arn), op, body))
            .collect();
        if op.starts_with("Create") && !tag_keys(op, body).is_empty() {
            needed.extend(arns.iter().map(|arn| {
                with_request_tags(Permission::new("cloudtrail:AddTags", arn), op, body)
            }));
        }
        needed.extend(lake_extras(ctx, op, body, &arns));
        return Ok(needed);
    }
    // StartImport has no resource-level permissions (`*`), whether it starts an import or
    // retries one by `ImportId`; the role it hands CloudTrail needs `iam:PassRole`.
    if op == "StartImport" {
        let mut needed = vec![Permission::any(action)];
        needed.extend(lake_extras(ctx, op, body, &[]));
        return Ok(needed);
    }
    match op {
        // AddTags and RemoveTags act on `ResourceId` alone; ListTags reads `ResourceIdList`
        // alone, at most 20 of them, counted before any is looked up (the model's members).
        "AddTags" | "RemoveTags" => match text(body, "ResourceId").filter(|id| !id.is_empty()) {
            Some(id) => {
                let arn = trails::arn_for_authz(conn, ctx, id)?;
                Ok(vec![with_request_tags(
                    Permission::new(&action, arn),
                    op,
                    body,
                )])
            }
            None => Ok(vec![Permission::any(action)]),
        },
        "ListTags" => {
            let ids: Vec<&str> = body
                .get("ResourceIdList")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            cairn_core::tags::check_list_size(ids.len())?;
            if ids.is_empty() {
                return Ok(vec![Permission::any(action)]);
            }
            ids.iter()
                .map(|id| {
                    let arn = trails::arn_for_authz(conn, ctx, id)?;
                    Ok(Permission::new(&action, arn))
                })
                .collect()
        }
        _ => Ok(vec![Permission::any(action)]),
    }
}
