//! Running the real `rampart` binary in a scratch directory with its own SQLite store.
#![allow(dead_code)]

use std::process::{Command, Output};

pub struct Rampart {
    pub dir: tempfile::TempDir,
}

impl Rampart {
    pub fn new() -> Rampart {
        Rampart {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let store = format!("sqlite://{}", self.dir.path().join("rampart.db").display());
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["--store", &store])
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RAMPART_CONFIG")
            .output()
            .unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "rampart {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}
