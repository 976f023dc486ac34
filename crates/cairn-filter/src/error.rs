//! The error a malformed pattern or metric setting gets, worded as AWS words it; the edge turns
//! it into `InvalidParameterException`.

/// A pattern (or a metric value/dimension selector) that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// AWS's message.
    pub message: String,
}

impl PatternError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The generic parse failure.
    pub fn invalid() -> Self {
        Self::new("Invalid metric filter pattern")
    }
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}
