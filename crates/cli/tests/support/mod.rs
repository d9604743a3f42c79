//! Running the real `rampart` binary in a scratch directory with its own SQLite store.
#![allow(dead_code)]

pub mod exposition;

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub struct Rampart {
    pub dir: tempfile::TempDir,
}

impl Rampart {
    pub fn new() -> Rampart {
        Rampart {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The store URL the binary is run with.
    pub fn store_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("rampart.db").display())
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
        command
            .args(["--store", &self.store_url()])
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RAMPART_CONFIG");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `input` on standard input (a pipe, not a terminal).
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
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

/// A running `rampart serve` with its standard error lines as they come; killed if the test
/// ends before it stopped (a failed assertion must not leave a server behind).
pub struct Serve {
    pub child: std::process::Child,
    pub lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Rampart {
    /// Starts `rampart serve` on this directory's store with `config`.
    pub fn serve(&self, config: &str) -> Serve {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["--store", &self.store_url(), "--config", config, "serve"])
            .current_dir(self.dir.path())
            .env_remove("RAMPART_CONFIG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (lines_out, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if lines_out.send(line).is_err() {
                    break;
                }
            }
        });
        Serve { child, lines }
    }

    /// Starts `rampart serve` and returns it with its HTTP base URL, read from stderr.
    pub fn serve_http(&self, config: &str) -> (Serve, String) {
        let serve = self.serve(config);
        let (address, _) = serve.until_listening();
        (serve, address)
    }
}

impl Serve {
    /// Reads stderr up to the HTTP address; returns the address and the lines before it.
    pub fn until_listening(&self) -> (String, Vec<String>) {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("serve did not report its HTTP address: {seen:?}"));
            if let Some(address) = line.strip_prefix("rampart serve: http listening on ") {
                return (address.to_owned(), seen);
            }
            seen.push(line);
        }
    }
}
