//! An interceptor that keeps the headers of every request a client sent, as they went on
//! the wire (after signing), so tests can assert what the SDK really sends.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;

/// One request's headers, names and values, in the order sent.
type Headers = Vec<(String, String)>;

/// The headers of every request the client sent, as they went on the wire (after signing).
#[derive(Debug, Default, Clone)]
pub struct Wire(Arc<Mutex<Vec<Headers>>>);

impl Wire {
    /// The last request's header `name`, if it had one.
    pub fn last(&self, name: &str) -> Option<String> {
        let requests = self.0.lock().unwrap();
        let headers = requests.last().expect("a request was sent");
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

impl Intercept for Wire {
    fn name(&self) -> &'static str {
        "Wire"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request().headers().iter();
        let headers = headers
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        self.0.lock().unwrap().push(headers);
        Ok(())
    }
}
