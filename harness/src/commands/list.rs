//! `harness list`: the plugins found, with version, ABI and parameters, and the libraries that
//! failed to load.

use crate::plugin::PluginRegistry;
use crate::table::TextTable;

/// The `harness list` text: one block per plugin, then libraries that failed to load.
pub fn render(registry: &PluginRegistry) -> String {
    let mut table = TextTable::new([
        "Sampler",
        "Version",
        "ABI",
        "Parameters (defaults)",
        "Description",
    ]);
    for plugin in registry.plugins() {
        let parameters: Vec<String> = plugin
            .parameters
            .iter()
            .map(|p| format!("{}={}", p.name, p.default))
            .collect();
        table.row([
            plugin.name.clone(),
            plugin.version.clone(),
            plugin.abi(),
            if parameters.is_empty() {
                "-".into()
            } else {
                parameters.join(" ")
            },
            plugin.description.clone(),
        ]);
    }
    let mut out = table.render();
    for plugin in registry.plugins() {
        out.push_str(&format!("{}: {}\n", plugin.name, plugin.path.display()));
    }
    for failure in registry.failures() {
        out.push_str(&format!("not loaded: {failure}\n"));
    }
    if registry.plugins().next().is_none() {
        let folders: Vec<String> = registry
            .folders()
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        out.push_str(&format!(
            "no sampler plugins found in: {}\n",
            folders.join(", ")
        ));
    }
    out
}
