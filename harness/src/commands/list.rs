//! `harness list`: the plugins found, with version, ABI, library, description and parameters,
//! and the libraries that failed to load, in lines that fit a 100-column terminal.

use crate::plugin::PluginRegistry;

/// The width that descriptions, parameters and their help are wrapped to.
pub const WIDTH: usize = 100;

/// Indent of a plugin's description and parameter lines.
const INDENT: &str = "  ";
/// Indent of a parameter's help, under its name.
const HELP_INDENT: &str = "      ";

/// The `harness list` text: a block per plugin (a line with name, version, ABI and library, then
/// its description and each parameter with its default and help), then libraries that failed
/// to load.
pub fn render(registry: &PluginRegistry) -> String {
    let mut blocks = Vec::new();
    for plugin in registry.plugins() {
        let version = if plugin.version.is_empty() {
            String::new()
        } else {
            format!(" {}", plugin.version)
        };
        let mut block = format!(
            "{}{version} (ABI {}) from {}\n",
            plugin.name,
            plugin.abi(),
            plugin.path.display()
        );
        block.push_str(&wrap(&plugin.description, INDENT));
        if plugin.parameters.is_empty() {
            block.push_str(&format!("{INDENT}no parameters\n"));
        }
        for parameter in &plugin.parameters {
            block.push_str(&default_lines(&parameter.name, &parameter.default));
            block.push_str(&wrap(&parameter.help, HELP_INDENT));
        }
        blocks.push(block);
    }
    let mut out = blocks.join("\n");
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

/// `text`'s words in lines of at most [`WIDTH`] columns, each starting with `indent`; a word
/// longer than a line stands alone on its line.
fn wrap(text: &str, indent: &str) -> String {
    let room = WIDTH.saturating_sub(indent.chars().count());
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + 1 + word.chars().count();
        if !line.is_empty() && needed > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
        .iter()
        .map(|line| format!("{indent}{line}\n"))
        .collect()
}

/// `name = default` on one line, or, when that is too wide and the default is a list, one list
/// element per line aligned under the first.
fn default_lines(name: &str, default: &serde_json::Value) -> String {
    let line = format!("{INDENT}{name} = {default}");
    match default {
        serde_json::Value::Array(elements)
            if line.chars().count() > WIDTH && elements.len() > 1 =>
        {
            let opening = format!("{INDENT}{name} = [");
            let aligned = " ".repeat(opening.chars().count());
            let last = elements.len() - 1;
            elements
                .iter()
                .enumerate()
                .map(|(index, element)| {
                    let lead = if index == 0 { &opening } else { &aligned };
                    let end = if index == last { "]" } else { "," };
                    format!("{lead}{element}{end}\n")
                })
                .collect()
        }
        _ => format!("{line}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, HELP_INDENT);
        assert!(wrapped.lines().count() > 2, "{wrapped}");
        for line in wrapped.lines() {
            assert!(line.starts_with(HELP_INDENT) && line.chars().count() <= WIDTH);
        }
        let words: Vec<&str> = wrapped.split_whitespace().collect();
        assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
        let long = "x".repeat(WIDTH + 5);
        assert_eq!(wrap(&format!("a {long} b"), INDENT).lines().count(), 3);
        assert_eq!(wrap("", INDENT), "");
    }

    #[test]
    fn a_wide_list_default_puts_one_element_on_each_line() {
        let stage = serde_json::json!({"first_epoch": 11, "hard_ratio": 0.6, "hardness_k": 100});
        let lines = default_lines("stages", &serde_json::json!([stage, stage, stage]));
        assert_eq!(lines.lines().count(), 3, "{lines}");
        assert!(lines.starts_with("  stages = [{"), "{lines}");
        let aligned = " ".repeat("  stages = [".len());
        assert!(
            lines
                .lines()
                .nth(1)
                .unwrap()
                .starts_with(&format!("{aligned}{{"))
        );
        assert!(lines.ends_with("}]\n"), "{lines}");
        let all: String = lines.split_whitespace().collect();
        assert_eq!(all, format!("stages=[{stage},{stage},{stage}]"));
        assert_eq!(
            default_lines("hard_ratio", &serde_json::json!(0.5)),
            "  hard_ratio = 0.5\n"
        );
    }
}
