use std::fmt;

use schemars::JsonSchema;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::SamplerError;

/// One configuration key of a sampler, as listed by `harness list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub name: String,
    pub default: serde_json::Value,
    pub help: String,
}

/// The parameter list of a configuration struct, in field order: each key with its value in
/// `C::default()` and, as help, its field's doc comment (lines joined by spaces).
///
/// # Panics
/// If `C::default()` does not serialise to a JSON object (configurations are structs).
pub fn parameters<C: Default + Serialize + JsonSchema>() -> Vec<Parameter> {
    let defaults = serde_json::to_string(&C::default())
        .and_then(|json| serde_json::from_str::<Entries>(&json))
        .expect("a configuration's defaults serialise to a JSON object");
    let schema = schemars::schema_for!(C);
    let help = |name: &str| {
        let description = schema
            .get("properties")
            .and_then(|properties| properties.get(name))
            .and_then(|property| property.get("description"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let lines: Vec<&str> = description
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        lines.join(" ")
    };
    defaults
        .0
        .into_iter()
        .map(|(name, default)| Parameter {
            help: help(&name),
            name,
            default,
        })
        .collect()
}

/// The entries of a JSON object in written order (a `serde_json::Map` sorts its keys).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;

        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor)
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

    #[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Config {
        /// share of something, in [0, 1]
        ratio: f64,
        /// a help text written over
        /// two lines
        count: u32,
        undocumented: bool,
        /// a nested value
        steps: Vec<Step>,
    }

    /// Not part of any help text.
    #[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
    struct Step {
        /// not listed either
        at: u32,
    }

    impl Default for Config {
        fn default() -> Self {
            Config {
                ratio: 0.3,
                count: 7,
                undocumented: false,
                steps: vec![Step { at: 1 }],
            }
        }
    }

    #[test]
    fn parameters_come_from_the_defaults_and_the_field_docs_in_field_order() {
        let listed = serde_json::to_string(&parameters::<Config>()).unwrap();
        assert_eq!(
            listed,
            r#"[{"name":"ratio","default":0.3,"help":"share of something, in [0, 1]"},{"name":"count","default":7,"help":"a help text written over two lines"},{"name":"undocumented","default":false,"help":""},{"name":"steps","default":[{"at":1}],"help":"a nested value"}]"#
        );
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
