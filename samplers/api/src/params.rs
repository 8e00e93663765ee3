use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::SamplerError;

/// One configuration key of a sampler, as listed by `harness list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    pub default: serde_json::Value,
    pub help: String,
}

impl Parameter {
    /// Describes a key with its default value.
    pub fn new(name: &str, default: impl Serialize, help: &str) -> Self {
        let default = serde_json::to_value(default).expect("parameter defaults serialise to JSON");
        Parameter {
            name: name.into(),
            default,
            help: help.into(),
        }
    }
}

/// Parses a sampler configuration; an empty string means "all defaults".
///
/// Give the config struct `#[serde(default, deny_unknown_fields)]` so that a misspelt key is an
/// error that lists the accepted keys.
pub fn parse_config<T: DeserializeOwned>(json: &str) -> Result<T, SamplerError> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    serde_json::from_str(json).map_err(|e| SamplerError::Config(e.to_string()))
}
