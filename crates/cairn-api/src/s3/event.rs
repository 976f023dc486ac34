//! The CloudTrail record of an S3 call: management events for bucket calls, data events
//! (`AWS::S3::Object` + `AWS::S3::Bucket` resources, bytes transferred) for object calls.

use cairn_core::error::ApiResult;
use cairn_model::event::EventResource;
use serde_json::{Map, Value, json};

use crate::errors::WireError;
use crate::recording::Outcome;

/// What to record about one S3 call whose result is a `T`.
pub struct Spec<T> {
    /// `eventName`.
    pub name: &'static str,
    /// `readOnly`.
    pub read_only: bool,
    /// Object-level (data event) or bucket-level (management event).
    pub data: bool,
    /// Bucket.
    pub bucket: Option<String>,
    /// Key.
    pub key: Option<String>,
    /// `Host` header.
    pub host: String,
    /// Extra request parameters beyond bucketName/Host/key.
    pub extra: Map<String, Value>,
    /// Bytes received.
    pub bytes_in: i64,
    /// `responseElements` and bytes sent, from a successful result.
    pub response: fn(&T) -> (Value, i64),
}

impl<T> Spec<T> {
    /// A spec with no extra parameters and no response elements.
    pub fn new(
        name: &'static str,
        read_only: bool,
        data: bool,
        bucket: Option<&str>,
        key: Option<&str>,
        host: &str,
    ) -> Self {
        Self {
            name,
            read_only,
            data,
            bucket: bucket.map(str::to_owned),
            key: key.map(str::to_owned),
            host: host.to_owned(),
            extra: Map::new(),
            bytes_in: 0,
            response: |_| (Value::Null, 0),
        }
    }

    /// Adds a request parameter.
    pub fn param(mut self, name: &str, value: Value) -> Self {
        self.extra.insert(name.to_owned(), value);
        self
    }

    /// Sets the bytes received.
    pub fn bytes_in(mut self, n: i64) -> Self {
        self.bytes_in = n;
        self
    }

    /// Sets how to derive response elements and bytes sent.
    pub fn response(mut self, f: fn(&T) -> (Value, i64)) -> Self {
        self.response = f;
        self
    }

    /// The record outcome for `result`.
    pub fn outcome(self, result: &ApiResult<T>, request_id: &str, account: &str) -> Outcome {
        let mut params = Map::new();
        if let Some(b) = &self.bucket {
            params.insert("bucketName".into(), json!(b));
        }
        params.insert("Host".into(), json!(self.host));
        if let Some(k) = &self.key {
            params.insert("key".into(), json!(k));
        }
        params.extend(self.extra);
        let (response_elements, bytes_out, error) = match result {
            Ok(v) => {
                let (elements, out) = (self.response)(v);
                (elements, out, None)
            }
            Err(e) => {
                let w = WireError::from(e);
                (Value::Null, 0, Some((w.code.to_owned(), w.message)))
            }
        };
        let mut resources = Vec::new();
        if let (Some(b), Some(k)) = (&self.bucket, &self.key) {
            resources.push((
                EventResource {
                    arn: format!("arn:aws:s3:::{b}/{k}"),
                    account_id: None,
                    resource_type: "AWS::S3::Object".into(),
                },
                format!("{b}/{k}"),
            ));
        }
        if let Some(b) = &self.bucket {
            resources.push((
                EventResource {
                    arn: format!("arn:aws:s3:::{b}"),
                    account_id: Some(account.to_owned()),
                    resource_type: "AWS::S3::Bucket".into(),
                },
                b.clone(),
            ));
        }
        Outcome {
            event_source: "s3.amazonaws.com",
            event_name: self.name.to_owned(),
            read_only: self.read_only,
            management: !self.data,
            request_parameters: Value::Object(params),
            response_elements,
            error,
            resources,
            additional_event_data: Some(json!({
                "SignatureVersion": "SigV4",
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": request_id,
                "bytesTransferredIn": self.bytes_in,
                "bytesTransferredOut": bytes_out,
            })),
        }
    }
}
