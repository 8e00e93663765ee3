use thiserror::Error;

/// Why a sampler could not be configured or could not produce an epoch.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SamplerError {
    /// A configuration that is not valid JSON or has an unknown key.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A named parameter (configuration key or input) with a bad value.
    #[error("{parameter}: {message}")]
    InvalidParameter { parameter: String, message: String },
    /// The host's output buffers are too small for what the sampler produced.
    #[error("output buffer full: {0}")]
    Capacity(String),
    /// Any other failure, described in full by the message.
    #[error("{0}")]
    Failed(String),
}

impl SamplerError {
    /// An error that names the offending parameter.
    pub fn parameter(parameter: impl Into<String>, message: impl Into<String>) -> Self {
        SamplerError::InvalidParameter {
            parameter: parameter.into(),
            message: message.into(),
        }
    }
}
