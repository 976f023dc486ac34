//! What a template can get wrong, worded as CloudFormation words it: `Template format error: …`
//! for the template's shape, `Template error: …` for intrinsic functions that cannot be
//! evaluated, and plain messages for parameter values. All of them are `ValidationError`s on
//! the wire.

/// A template or parameter mistake with AWS's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    message: String,
}

impl TemplateError {
    /// `Template format error: {detail}`.
    pub fn format(detail: impl AsRef<str>) -> Self {
        Self {
            message: format!("Template format error: {}", detail.as_ref()),
        }
    }

    /// `Template error: {detail}`.
    pub fn template(detail: impl AsRef<str>) -> Self {
        Self {
            message: format!("Template error: {}", detail.as_ref()),
        }
    }

    /// A message used as is (parameter values, exports).
    pub fn plain(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message the client sees.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `Unresolved resource dependencies [a, b] in the {block} block of the template`.
    pub fn unresolved(names: &[String], block: &str) -> Self {
        Self::format(format!(
            "Unresolved resource dependencies [{}] in the {block} block of the template",
            names.join(", ")
        ))
    }
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Result alias.
pub type TemplateResult<T> = Result<T, TemplateError>;
