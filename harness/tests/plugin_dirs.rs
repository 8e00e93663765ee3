//! `--plugin-dir` belongs to the commands that load plugins, and only to them.

use crate::support::run;

#[test]
fn only_the_commands_that_load_plugins_take_plugin_dir() {
    for command in ["list", "check", "compare", "sweep", "run", "selftest"] {
        let (code, stdout, stderr) = run(&[command, "--help"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.contains("--plugin-dir <DIR>"),
            "{command}:\n{stdout}"
        );
    }
    for command in ["report", "diff", "regress", "knn"] {
        let (code, stdout, stderr) = run(&[command, "--help"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(!stdout.contains("plugin-dir"), "{command}:\n{stdout}");
    }
    let (code, _, stderr) = run(&["report", "--plugin-dir", "x", "y"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unexpected argument '--plugin-dir'"),
        "{stderr}"
    );
}
