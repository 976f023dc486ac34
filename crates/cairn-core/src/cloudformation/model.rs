//! CloudFormation's records: stacks, their resources and events, change sets, and the caller
//! a stack acts as. They persist as JSON bodies in `cairn_store::cloudformation` (this module
//! owns the body format; rows carry only what queries need).

use cairn_model::identity::SessionContext;
use cairn_model::{AccountId, Principal};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// A stack.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Stack {
    /// The stack ARN (`StackId`).
    pub stack_id: String,
    /// `StackName`.
    pub name: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// `StackStatus`.
    pub status: String,
    /// `StackStatusReason`.
    pub status_reason: Option<String>,
    /// The template's `Description`.
    pub description: Option<String>,
    /// `CreationTime`.
    pub created: f64,
    /// `LastUpdatedTime`.
    pub updated: Option<f64>,
    /// `DeletionTime`.
    pub deleted_time: Option<f64>,
    /// The current template, byte for byte as submitted.
    pub template_body: String,
    /// Parameter values (raw), in declaration order.
    pub parameters: Vec<(String, String)>,
    /// Stack tags.
    pub tags: Vec<(String, String)>,
    /// Acknowledged capabilities.
    pub capabilities: Vec<String>,
    /// `NotificationARNs`.
    pub notification_arns: Vec<String>,
    /// The service role the stack acts as (`RoleARN`).
    pub role_arn: Option<String>,
    /// `DisableRollback`.
    pub disable_rollback: bool,
    /// `EnableTerminationProtection`.
    pub termination_protection: bool,
    /// `TimeoutInMinutes`.
    pub timeout_minutes: Option<i64>,
    /// The stack policy document.
    pub stack_policy: Option<String>,
    /// Resolved outputs.
    pub outputs: Vec<StackOutput>,
    /// Who the stack acts as when it has no service role: the caller of its last operation.
    pub caller: Caller,
    /// The stack before the update in progress (for rolling back).
    pub previous: Option<Previous>,
    /// The change set that created or is updating the stack.
    pub change_set_id: Option<String>,
    /// Resources to keep when a `DELETE_FAILED` stack is deleted again (`RetainResources`).
    pub retain_resources: Vec<String>,
    /// `ClientRequestToken` of the latest operation: every event it writes carries it, its
    /// final status's included.
    pub client_request_token: Option<String>,
    /// `StackPolicyDuringUpdateBody` of the update in progress.
    #[serde(default)]
    pub policy_during_update: Option<String>,
    /// `OnFailure=DELETE`: delete the stack once a failed create has rolled back.
    #[serde(default)]
    pub delete_on_failure: bool,
    /// `RollbackConfiguration`: the alarms its operations watch.
    #[serde(default)]
    pub rollback_configuration: super::rollback_triggers::RollbackConfiguration,
}

/// The parts of a stack an update replaces, kept until the update is complete.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Previous {
    /// The template before the update.
    pub template_body: String,
    /// Parameter values before the update.
    pub parameters: Vec<(String, String)>,
    /// Outputs before the update.
    pub outputs: Vec<StackOutput>,
    /// Tags before the update.
    pub tags: Vec<(String, String)>,
    /// Description before the update.
    pub description: Option<String>,
}

/// One resolved output.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StackOutput {
    /// `OutputKey`.
    pub key: String,
    /// `OutputValue` (lists joined with commas, as DescribeStacks shows them).
    pub value: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ExportName`.
    pub export_name: Option<String>,
}

/// A physical resource of a stack and what CloudFormation knows about it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StackResource {
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `ResourceType`.
    pub resource_type: String,
    /// `PhysicalResourceId` (set before a create call when the id follows from a name, so a
    /// restart can clean up).
    pub physical_id: Option<String>,
    /// `ResourceStatus`.
    pub status: String,
    /// `ResourceStatusReason`.
    pub status_reason: Option<String>,
    /// `LastUpdatedTimestamp`.
    pub updated: f64,
    /// The resolved properties the resource was made (or last updated) with.
    pub properties: Value,
    /// `Fn::GetAtt` values.
    pub attributes: Map<String, Value>,
    /// The template's `Metadata` of the resource.
    pub metadata: Option<Value>,
    /// `DeletionPolicy`.
    pub deletion_policy: String,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: String,
    /// The random suffix of generated names for the attempt in progress.
    pub name_suffix: String,
    /// Update bookkeeping for rollback.
    pub update: Option<UpdateNote>,
}

/// What an update did to a resource, kept until the update (or its rollback) is cleaned up.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum UpdateNote {
    /// The resource is new in this update.
    Added,
    /// Updated in place; these were its properties and attributes before.
    Modified {
        /// Properties before.
        properties: Value,
        /// Attributes before.
        attributes: Map<String, Value>,
    },
    /// A physical resource to delete at cleanup (made by an update that rolled back).
    Discard {
        /// Its physical id.
        physical_id: String,
        /// Its properties.
        properties: Value,
        /// Its attributes.
        attributes: Map<String, Value>,
    },
    /// Replaced; this was the old physical resource (deleted at cleanup).
    Replaced {
        /// Old physical id.
        physical_id: String,
        /// Old properties.
        properties: Value,
        /// Old attributes.
        attributes: Map<String, Value>,
    },
}

/// One stack event.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StackEvent {
    /// `EventId`.
    pub event_id: String,
    /// `StackId`.
    pub stack_id: String,
    /// `StackName`.
    pub stack_name: String,
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `PhysicalResourceId`.
    pub physical_id: Option<String>,
    /// `ResourceType`.
    pub resource_type: String,
    /// `Timestamp`.
    pub timestamp: f64,
    /// `ResourceStatus`.
    pub status: String,
    /// `ResourceStatusReason`.
    pub reason: Option<String>,
    /// `ResourceProperties` (JSON text).
    pub properties: Option<String>,
    /// `ClientRequestToken`.
    pub client_request_token: Option<String>,
}

/// One change of a change set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Change {
    /// `Add`, `Modify`, `Remove`.
    pub action: String,
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `PhysicalResourceId`.
    pub physical_id: Option<String>,
    /// `ResourceType`.
    pub resource_type: String,
    /// `Replacement` (`True`, `False`, `Conditional`) for modifications.
    pub replacement: Option<String>,
    /// `Scope`.
    pub scope: Vec<String>,
    /// Changed properties with whether each requires recreation (`Never`, `Always`); a
    /// property appears once per cause.
    pub details: Vec<(String, String)>,
    /// Each detail's cause, in the same order: the parameter whose new value changed it
    /// (`ParameterReference`), or `None` for the template's own change (`DirectModification`).
    #[serde(default)]
    pub causes: Vec<Option<String>>,
    /// Each detail's resource cause, in the same order: `(ChangeSource, CausingEntity)` of a
    /// reference to a resource the update may replace (`ResourceReference`/`Topic`,
    /// `ResourceAttribute`/`Topic.Arn`), evaluated `Dynamic`; `None` for the others.
    #[serde(default)]
    pub references: Vec<Option<(String, String)>>,
    /// Each detail's `Target.Attribute` when it is not `Properties`, in the same order:
    /// `Tags` for the stack's new tags reaching the resource (a detail with no property name).
    #[serde(default)]
    pub attributes: Vec<Option<String>>,
}

/// A change set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ChangeSet {
    /// `ChangeSetId`.
    pub change_set_id: String,
    /// `ChangeSetName`.
    pub name: String,
    /// `StackId`.
    pub stack_id: String,
    /// `StackName`.
    pub stack_name: String,
    /// `CREATE` or `UPDATE`.
    pub change_set_type: String,
    /// `Description`.
    pub description: Option<String>,
    /// `CreationTime`.
    pub created: f64,
    /// `Status`.
    pub status: String,
    /// `StatusReason`.
    pub status_reason: Option<String>,
    /// `ExecutionStatus`.
    pub execution_status: String,
    /// The template, as submitted.
    pub template_body: String,
    /// Parameter values (raw).
    pub parameters: Vec<(String, String)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Capabilities.
    pub capabilities: Vec<String>,
    /// `NotificationARNs`.
    pub notification_arns: Vec<String>,
    /// `RoleARN`.
    pub role_arn: Option<String>,
    /// The changes.
    pub changes: Vec<Change>,
    /// `RollbackConfiguration`, when the call gave one (else the stack keeps its own).
    #[serde(default)]
    pub rollback_configuration: Option<super::rollback_triggers::RollbackConfiguration>,
}

/// The principal a stack acts as, in persisted form.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum Caller {
    /// The root user.
    Root {
        /// Account.
        account: String,
        /// Access key.
        access_key_id: String,
        /// The session of temporary credentials (GetSessionToken), if the key was one.
        #[serde(default)]
        session: Option<StoredSession>,
    },
    /// An IAM user.
    User {
        /// Account.
        account: String,
        /// Name.
        user_name: String,
        /// `AIDA…`.
        user_id: String,
        /// Path.
        path: String,
        /// Access key.
        access_key_id: String,
        /// The session of temporary credentials (GetSessionToken), if the key was one.
        #[serde(default)]
        session: Option<StoredSession>,
    },
    /// A role session.
    Role {
        /// Account.
        account: String,
        /// Role name.
        role_name: String,
        /// `AROA…`.
        role_id: String,
        /// Role path.
        role_path: String,
        /// Session name.
        session_name: String,
        /// Temporary key.
        access_key_id: String,
        /// Session start and end, epoch seconds.
        created: i64,
        /// Session expiry.
        expires: i64,
        /// Whether MFA was presented when the session began.
        #[serde(default)]
        mfa: bool,
        /// The session's `SourceIdentity`, which every call of the session carries.
        #[serde(default)]
        source_identity: Option<String>,
    },
}

/// A session's facts as a stack keeps them, so the calls the stack makes for its caller carry
/// them as the caller's own calls do (hostile7: a role session's `SourceIdentity` was lost,
/// so its stack's calls were recorded without it and escaped a Deny on `aws:SourceIdentity`;
/// the MFA flag was reset likewise).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StoredSession {
    /// Issued, epoch seconds.
    pub created: i64,
    /// Expires, epoch seconds.
    pub expires: i64,
    /// MFA presented.
    pub mfa: bool,
    /// `SourceIdentity`.
    pub source_identity: Option<String>,
}

impl StoredSession {
    fn of(s: &SessionContext) -> Self {
        Self {
            created: s.created,
            expires: s.expires,
            mfa: s.mfa,
            source_identity: s.source_identity.clone(),
        }
    }

    fn context(&self) -> SessionContext {
        SessionContext {
            created: self.created,
            expires: self.expires,
            mfa: self.mfa,
            source_identity: self.source_identity.clone(),
        }
    }
}

impl Caller {
    /// The persisted form of a principal (services and anonymous callers cannot own stacks).
    pub fn of(p: &Principal) -> ApiResult<Self> {
        Ok(match p {
            Principal::Root {
                account,
                access_key_id,
                session,
            } => Self::Root {
                account: account.to_string(),
                access_key_id: access_key_id.clone(),
                session: session.as_ref().map(StoredSession::of),
            },
            Principal::IamUser {
                account,
                user_name,
                user_id,
                path,
                access_key_id,
                session,
            } => Self::User {
                account: account.to_string(),
                user_name: user_name.clone(),
                user_id: user_id.clone(),
                path: path.clone(),
                access_key_id: access_key_id.clone(),
                session: session.as_ref().map(StoredSession::of),
            },
            Principal::AssumedRole {
                account,
                role_name,
                role_id,
                role_path,
                session_name,
                access_key_id,
                session,
            } => Self::Role {
                account: account.to_string(),
                role_name: role_name.clone(),
                role_id: role_id.clone(),
                role_path: role_path.clone(),
                session_name: session_name.clone(),
                access_key_id: access_key_id.clone(),
                created: session.created,
                expires: session.expires,
                mfa: session.mfa,
                source_identity: session.source_identity.clone(),
            },
            _ => {
                return Err(ApiError::new(
                    crate::ErrorKind::AccessDenied,
                    "Only users and roles can operate stacks.",
                ));
            }
        })
    }

    /// The principal again.
    pub fn principal(&self) -> ApiResult<Principal> {
        let account =
            |a: &str| AccountId::parse(a).map_err(|e| ApiError::new(crate::ErrorKind::Internal, e));
        Ok(match self {
            Self::Root {
                account: a,
                access_key_id,
                session,
            } => Principal::Root {
                account: account(a)?,
                access_key_id: access_key_id.clone(),
                session: session.as_ref().map(StoredSession::context),
            },
            Self::User {
                account: a,
                user_name,
                user_id,
                path,
                access_key_id,
                session,
            } => Principal::IamUser {
                account: account(a)?,
                user_name: user_name.clone(),
                user_id: user_id.clone(),
                path: path.clone(),
                access_key_id: access_key_id.clone(),
                session: session.as_ref().map(StoredSession::context),
            },
            Self::Role {
                account: a,
                role_name,
                role_id,
                role_path,
                session_name,
                access_key_id,
                created,
                expires,
                mfa,
                source_identity,
            } => Principal::AssumedRole {
                account: account(a)?,
                role_name: role_name.clone(),
                role_id: role_id.clone(),
                role_path: role_path.clone(),
                session_name: session_name.clone(),
                access_key_id: access_key_id.clone(),
                session: SessionContext {
                    created: *created,
                    expires: *expires,
                    mfa: *mfa,
                    source_identity: source_identity.clone(),
                },
            },
        })
    }
}

/// Serialises a record body.
pub fn to_body<T: Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(|e| ApiError::new(crate::ErrorKind::Internal, e.to_string()))
}

/// Reads a record body.
pub fn from_body<T: for<'de> Deserialize<'de>>(s: &str) -> ApiResult<T> {
    serde_json::from_str(s).map_err(|e| {
        tracing::error!(error = %e, "corrupt CloudFormation record");
        ApiError::new(crate::ErrorKind::Internal, "An internal error occurred.")
    })
}

/// Whether two stack tag lists name the same tags: tags are a set, so their order does not
/// count as a change.
pub fn same_tags(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let set = |t: &[(String, String)]| t.iter().cloned().collect::<std::collections::BTreeSet<_>>();
    set(a) == set(b)
}
