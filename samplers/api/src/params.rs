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
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| SamplerError::Config(e.to_string()))?;
    // Serde would also accept an array as a struct by position; configurations are objects.
    if !value.is_object() {
        return Err(SamplerError::Config(format!(
            "expected a JSON object, got {value}"
        )));
    }
    serde_json::from_value(value).map_err(|e| SamplerError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Config {
        ratio: f64,
    }

    #[test]
    fn only_objects_with_known_keys_parse() {
        assert_eq!(parse_config::<Config>("").unwrap(), Config::default());
        assert_eq!(
            parse_config::<Config>(r#"{"ratio":0.5}"#).unwrap().ratio,
            0.5
        );
        let array = parse_config::<Config>("[0.5]").unwrap_err().to_string();
        assert!(array.contains("expected a JSON object"), "{array}");
        let unknown = parse_config::<Config>(r#"{"ratoi":0.5}"#)
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("unknown field `ratoi`"), "{unknown}");
    }
}
