//! The pages: one askama template per page, each a plain struct of display-ready values.
//! Every field is escaped by askama when rendered (the templates are `.html`), so callers pass
//! raw text, never markup. Links are built by the caller and passed as `href` strings.

use askama::Template;

/// The templates' own filters.
mod filters {
    use askama::{Result, Values};

    /// Text shown with its bidirectional and zero-width characters made visible
    /// ([`crate::text::visible`]); askama escapes the result as any value.
    #[askama::filter_fn]
    pub fn visible(s: impl std::fmt::Display, _: &dyn Values) -> Result<String> {
        Ok(crate::text::visible(&s.to_string()))
    }
}

/// What every signed-in page shows around its content.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    /// The signed-in principal's ARN.
    pub principal: String,
    /// The account.
    pub account: String,
    /// The console's current region.
    pub region: String,
    /// Regions the picker offers.
    pub regions: Vec<String>,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// The active navigation entry: `dashboard`, `events`, `trails`, `insights`.
    pub nav: &'static str,
}

/// A link.
#[derive(Clone, Debug, Default)]
pub struct Link {
    /// Text.
    pub text: String,
    /// Target.
    pub href: String,
}

/// A label with its value.
#[derive(Clone, Debug, Default)]
pub struct Setting {
    /// Label, in AWS's words.
    pub label: String,
    /// Value as shown.
    pub value: String,
    /// Where the value links to, when it does.
    pub href: Option<String>,
}

impl Setting {
    /// A plain setting.
    pub fn new(label: &str, value: impl Into<String>) -> Self {
        Self {
            label: label.to_owned(),
            value: value.into(),
            href: None,
        }
    }

    /// A setting whose value links to `href`.
    pub fn linked(label: &str, value: impl Into<String>, href: impl Into<String>) -> Self {
        Self {
            label: label.to_owned(),
            value: value.into(),
            href: Some(href.into()),
        }
    }
}

/// The sign-in page.
#[derive(Template, Debug, Default)]
#[template(path = "signin.html")]
pub struct SignIn {
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// A notice (signed out, session expired).
    pub notice: Option<String>,
    /// The access key id typed last.
    pub access_key_id: String,
    /// Pre-session CSRF token (double-submit cookie).
    pub csrf: String,
    /// Regions offered.
    pub regions: Vec<String>,
    /// The region preselected.
    pub region: String,
}

/// One trail in a table.
#[derive(Clone, Debug, Default)]
pub struct TrailRow {
    /// Name.
    pub name: String,
    /// Details page.
    pub href: String,
    /// Home region.
    pub home_region: String,
    /// "Yes" or "No".
    pub multi_region: String,
    /// Bucket.
    pub bucket: String,
    /// Whether it logs (when its status could be read).
    pub logging: bool,
    /// Why its status could not be read (GetTrailStatus failed): shown as "Unknown", never
    /// as "Off".
    pub status_unknown: Option<String>,
    /// Latest delivery time, or "-".
    pub latest_delivery: String,
    /// Latest digest time, or "-".
    pub latest_digest: String,
    /// The latest delivery error, if any.
    pub delivery_error: Option<String>,
}

/// One event in a table.
#[derive(Clone, Debug, Default)]
pub struct EventRow {
    /// Event name.
    pub name: String,
    /// Event record page.
    pub href: String,
    /// Event time, ISO.
    pub time: String,
    /// User name.
    pub user: String,
    /// Event source.
    pub source: String,
    /// Resource types, comma separated.
    pub resource_type: String,
    /// Resources, each linking to its timeline.
    pub resources: Vec<Link>,
    /// Error code, when the call failed.
    pub error_code: Option<String>,
    /// Whether the call only read.
    pub read_only: bool,
}

/// The dashboard.
#[derive(Template, Debug, Default)]
#[template(path = "dashboard.html")]
pub struct Dashboard {
    /// Chrome.
    pub chrome: Chrome,
    /// Trails with status.
    pub trails: Vec<TrailRow>,
    /// Whether some multi-region trail is logging, or may be (its status could not be read).
    pub multi_region_logging: bool,
    /// The trails could not be listed (DescribeTrails refused): unknown, never "none".
    pub trails_unknown: bool,
    /// Latest events.
    pub recent: Vec<EventRow>,
    /// The latest events could not be read (LookupEvents refused): unknown, never "none".
    pub recent_unknown: bool,
    /// Errors from the calls behind the page.
    pub errors: Vec<String>,
}

/// One row of the attribute filter.
#[derive(Clone, Debug, Default)]
pub struct FilterRow {
    /// Attribute key (`EventName`…), empty for an unused row.
    pub key: String,
    /// Value.
    pub value: String,
}

/// An option of a select: value, label, selected.
#[derive(Clone, Debug, Default)]
pub struct Choice {
    /// Submitted value.
    pub value: String,
    /// Shown label.
    pub label: String,
    /// Selected.
    pub selected: bool,
}

/// Event history.
#[derive(Template, Debug, Default)]
#[template(path = "events.html")]
pub struct Events {
    /// Chrome.
    pub chrome: Chrome,
    /// Filter rows, each with the attribute choices.
    pub filters: Vec<(Vec<Choice>, String)>,
    /// Time range presets.
    pub ranges: Vec<Choice>,
    /// Custom range start (`datetime-local` value, UTC).
    pub start: String,
    /// Custom range end.
    pub end: String,
    /// Whether read-only events are shown.
    pub show_read_only: bool,
    /// Free-text search.
    pub q: String,
    /// The page.
    pub rows: Vec<EventRow>,
    /// Next page.
    pub next_href: Option<String>,
    /// First page of the same filter.
    pub first_href: Option<String>,
    /// CSV download of the filter.
    pub csv_href: String,
    /// JSON download of the filter.
    pub json_href: String,
    /// The filter in words, for the summary line.
    pub summary: Vec<String>,
    /// How many events the page scanned to find its rows.
    pub scanned: usize,
    /// An error from LookupEvents.
    pub error: Option<String>,
}

/// A resource referenced by an event.
#[derive(Clone, Debug, Default)]
pub struct ResourceRow {
    /// Type.
    pub resource_type: String,
    /// Name.
    pub name: String,
    /// Its timeline.
    pub timeline_href: String,
}

/// One event's record.
#[derive(Template, Debug, Default)]
#[template(path = "event.html")]
pub struct EventDetail {
    /// Chrome.
    pub chrome: Chrome,
    /// Event name.
    pub name: String,
    /// Summary.
    pub summary: Vec<Setting>,
    /// Resources referenced.
    pub resources: Vec<ResourceRow>,
    /// `CloudTrailEvent`, pretty-printed.
    pub record: String,
    /// Not found or failed.
    pub error: Option<String>,
}

/// One request parameter in a timeline entry.
#[derive(Clone, Debug, Default)]
pub struct ParamRow {
    /// Dotted path.
    pub key: String,
    /// JSON value.
    pub value: String,
    /// Whether it differs from the last call that set it.
    pub changed: bool,
}

/// One event in a resource timeline.
#[derive(Clone, Debug, Default)]
pub struct TimelineEntry {
    /// Time.
    pub time: String,
    /// Event name.
    pub name: String,
    /// Its record.
    pub href: String,
    /// Who (ARN or user name).
    pub who: String,
    /// Source IP address.
    pub source_ip: String,
    /// User agent.
    pub user_agent: String,
    /// Event source.
    pub source: String,
    /// Error code and message.
    pub error: Option<String>,
    /// Read-only call.
    pub read_only: bool,
    /// Request parameters.
    pub params: Vec<ParamRow>,
}

/// Resource timeline.
#[derive(Template, Debug, Default)]
#[template(path = "timeline.html")]
pub struct Timeline {
    /// Chrome.
    pub chrome: Chrome,
    /// Resource name.
    pub name: String,
    /// Entries, oldest first.
    pub entries: Vec<TimelineEntry>,
    /// Whether older events were left out (bounded).
    pub truncated: bool,
    /// Event history filtered on the resource.
    pub events_href: String,
    /// An error from LookupEvents.
    pub error: Option<String>,
}

/// The trails table.
#[derive(Template, Debug, Default)]
#[template(path = "trails.html")]
pub struct Trails {
    /// Chrome.
    pub chrome: Chrome,
    /// Rows.
    pub rows: Vec<TrailRow>,
    /// The trails could not be listed (DescribeTrails refused): unknown, never "none".
    pub trails_unknown: bool,
    /// A success notice.
    pub flash: Option<String>,
    /// Errors.
    pub errors: Vec<String>,
}

/// A data event selector row as shown.
#[derive(Clone, Debug, Default)]
pub struct DataRow {
    /// Resource type.
    pub resource_type: String,
    /// Values (ARNs or prefixes).
    pub values: String,
    /// Read, Write, or Read and Write.
    pub read_write: String,
}

/// The selectors editor state.
#[derive(Clone, Debug, Default)]
pub struct SelectorForm {
    /// Management events on.
    pub management: bool,
    /// Read.
    pub read: bool,
    /// Write.
    pub write: bool,
    /// Exclude AWS KMS events.
    pub exclude_kms: bool,
    /// Data events on for S3.
    pub s3_data: bool,
    /// All current and future buckets.
    pub s3_all: bool,
    /// Chosen buckets, one per line.
    pub s3_buckets: String,
    /// Data read.
    pub s3_read: bool,
    /// Data write.
    pub s3_write: bool,
    /// Insights: API call rate.
    pub insights_call_rate: bool,
    /// Insights: API error rate.
    pub insights_error_rate: bool,
    /// Whether the trail uses advanced selectors (the editor then only shows them).
    pub advanced: Option<String>,
}

/// A tag.
#[derive(Clone, Debug, Default)]
pub struct TagRow {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// Trail details.
#[derive(Template, Debug, Default)]
#[template(path = "trail.html")]
pub struct TrailDetail {
    /// Chrome.
    pub chrome: Chrome,
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Logging.
    pub logging: bool,
    /// Why the trail's status could not be read, if it could not: shown as "Unknown".
    pub status_unknown: Option<String>,
    /// Whether this region is the trail's home (changes are only allowed there).
    pub home: bool,
    /// General details.
    pub general: Vec<Setting>,
    /// CloudWatch Logs settings.
    pub cloudwatch: Vec<Setting>,
    /// Status.
    pub status: Vec<Setting>,
    /// Management events summary.
    pub management: Vec<Setting>,
    /// Data event selectors.
    pub data: Vec<DataRow>,
    /// Insights.
    pub insights: String,
    /// The editor.
    pub form: SelectorForm,
    /// The selector editor's field error (the editor then shows what was submitted).
    pub selectors_error: Option<String>,
    /// Why GetEventSelectors could not be read, if it could not: the selectors are shown as
    /// "Unknown" and the editor is not offered.
    pub selectors_unknown: Option<String>,
    /// What the trail's event selectors hold that the editor cannot show: the editor is not
    /// offered (saving it would drop that).
    pub selectors_beyond: Option<String>,
    /// The fingerprint of the selectors the editor shows (sent back with a save).
    pub selectors_version: String,
    /// Why GetInsightSelectors could not be read, if it could not: "Unknown", and the editor
    /// leaves Insights alone.
    pub insights_unknown: Option<String>,
    /// Tags.
    pub tags: Vec<TagRow>,
    /// Why ListTags could not be read, if it could not: "Unknown", never "No tags".
    pub tags_unknown: Option<String>,
    /// Log files page.
    pub logs_href: String,
    /// Timeline of the trail.
    pub timeline_href: String,
    /// Success notice.
    pub flash: Option<String>,
    /// Error from the last action.
    pub error: Option<String>,
}

/// Delete confirmation.
#[derive(Template, Debug, Default)]
#[template(path = "confirm_delete.html")]
pub struct ConfirmDelete {
    /// Chrome.
    pub chrome: Chrome,
    /// Trail name.
    pub name: String,
    /// Error (wrong confirmation, or the call's error).
    pub error: Option<String>,
}

/// Everything the create-trail wizard carries between its steps.
#[derive(Clone, Debug, Default)]
pub struct WizardState {
    /// Trail name.
    pub name: String,
    /// `new` or `existing`.
    pub storage: String,
    /// Bucket for a new bucket.
    pub new_bucket: String,
    /// Existing bucket name.
    pub existing_bucket: String,
    /// Prefix.
    pub prefix: String,
    /// SSE-KMS requested.
    pub kms: bool,
    /// `new` (a key with CloudTrail's key policy) or `existing`.
    pub kms_mode: String,
    /// Alias of the new key, without `alias/`.
    pub kms_alias: String,
    /// Existing key: key ID, key ARN, alias name or alias ARN.
    pub kms_key: String,
    /// Log file validation.
    pub validation: bool,
    /// SNS notification delivery.
    pub sns: bool,
    /// `new` (a topic made with CloudTrail's topic policy) or `existing`.
    pub sns_mode: String,
    /// Name of the new topic.
    pub sns_new_topic: String,
    /// Existing topic: name or ARN.
    pub sns_topic: String,
    /// CloudWatch Logs requested.
    pub cloudwatch: bool,
    /// `new` or `existing` log group.
    pub cwl_group_mode: String,
    /// Log group name.
    pub cwl_group: String,
    /// `new` or `existing` IAM role.
    pub cwl_role_mode: String,
    /// Role name (new) or role ARN or name (existing).
    pub cwl_role: String,
    /// Tags (only rows with a key are kept between steps).
    pub tags: Vec<TagRow>,
    /// Event selectors.
    pub selectors: SelectorForm,
}

/// A validation error next to its field.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors {
    /// Trail name.
    pub name: Option<String>,
    /// Bucket.
    pub bucket: Option<String>,
    /// Prefix.
    pub prefix: Option<String>,
    /// SNS.
    pub sns: Option<String>,
    /// SSE-KMS key.
    pub kms: Option<String>,
    /// CloudWatch Logs group or role.
    pub cloudwatch: Option<String>,
    /// Tags.
    pub tags: Option<String>,
    /// Event selectors.
    pub selectors: Option<String>,
    /// Anything else (AccessDenied…).
    pub general: Option<String>,
}

/// The create-trail wizard.
#[derive(Template, Debug, Default)]
#[template(path = "wizard.html")]
pub struct Wizard {
    /// Chrome.
    pub chrome: Chrome,
    /// 1, 2 or 3.
    pub step: u8,
    /// State.
    pub state: WizardState,
    /// Errors.
    pub errors: FieldErrors,
    /// Tag rows to show (state's tags plus empty rows).
    pub tag_rows: Vec<TagRow>,
    /// Always false: the trail fields show the name (see [`TrailEdit`]).
    pub editing: bool,
}

/// A trail's general settings and CloudWatch Logs, edited (UpdateTrail).
#[derive(Template, Debug, Default)]
#[template(path = "edit.html")]
pub struct TrailEdit {
    /// Chrome.
    pub chrome: Chrome,
    /// Trail name.
    pub name: String,
    /// The trail's page.
    pub trail_href: String,
    /// The settings shown.
    pub state: WizardState,
    /// Errors.
    pub errors: FieldErrors,
    /// Always true: the name is fixed.
    pub editing: bool,
    /// The fingerprint of the settings the form was filled from (sent back with a save, which
    /// is refused when the trail changed meanwhile).
    pub version: String,
}

/// One entry of a bucket listing.
#[derive(Clone, Debug, Default)]
pub struct FileRow {
    /// Key (relative to the folder shown).
    pub name: String,
    /// Full key.
    pub key: String,
    /// Download.
    pub href: String,
    /// Size.
    pub size: String,
    /// Last modified.
    pub modified: String,
    /// Digest or log file.
    pub kind: String,
}

/// One line of an integrity check.
#[derive(Clone, Debug, Default)]
pub struct CheckRow {
    /// Object key.
    pub key: String,
    /// `valid`, `invalid`, `missing`, ...
    pub status: String,
    /// Badge class: ok, bad, warn.
    pub class: &'static str,
    /// Detail.
    pub detail: String,
}

/// Log files of a trail.
#[derive(Template, Debug, Default)]
#[template(path = "logs.html")]
pub struct LogFiles {
    /// Chrome.
    pub chrome: Chrome,
    /// Trail name.
    pub trail: String,
    /// Trail details.
    pub trail_href: String,
    /// Bucket.
    pub bucket: String,
    /// The folder shown.
    pub folder: String,
    /// Path to it.
    pub crumbs: Vec<Link>,
    /// Sub-folders.
    pub folders: Vec<Link>,
    /// Files.
    pub files: Vec<FileRow>,
    /// Next page of the listing.
    pub next_href: Option<String>,
    /// Integrity check form values (`datetime-local`).
    pub check_start: String,
    /// End.
    pub check_end: String,
    /// Results of a check that ran.
    pub check: Option<Vec<CheckRow>>,
    /// Summary of the check.
    pub check_summary: Option<String>,
    /// An error.
    pub error: Option<String>,
}

/// A page that only says something went wrong.
#[derive(Template, Debug, Default)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Chrome.
    pub chrome: Chrome,
    /// Heading.
    pub title: String,
    /// Message.
    pub message: String,
}

/// An Insights event on the Insights page: one Start or End of unusual activity.
#[derive(Clone, Debug, Default)]
pub struct InsightRow {
    /// The API whose activity was unusual.
    pub event_name: String,
    /// Its service.
    pub event_source: String,
    /// `ApiCallRateInsight` or `ApiErrorRateInsight`.
    pub insight_type: String,
    /// The error code an error-rate insight is about.
    pub error_code: Option<String>,
    /// `Start` or `End`.
    pub state: String,
    /// When (display form).
    pub time: String,
    /// The baseline average (calls or errors a minute).
    pub baseline: String,
    /// The average during the insight.
    pub insight: String,
    /// The insight's length in minutes (on End events).
    pub duration: String,
}

/// Insights: the region's Insights events, newest first (LookupEvents with
/// `EventCategory` `insight`).
#[derive(Template, Debug, Default)]
#[template(path = "insights.html")]
pub struct Insights {
    /// Chrome.
    pub chrome: Chrome,
    /// The page.
    pub rows: Vec<InsightRow>,
    /// Next page.
    pub next_href: Option<String>,
    /// First page, when this is a later one.
    pub first_href: Option<String>,
    /// An error from LookupEvents.
    pub error: Option<String>,
}
