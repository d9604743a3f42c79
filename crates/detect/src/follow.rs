//! Following a growing log file, as `tail -F` does, behind a plain [`Read`]: the decoders read
//! it like any file and simply wait at its end, so line numbers stay right across the whole
//! life of the input.
//!
//! At the end of the file the reader polls for more. A file that shrank (truncated in place)
//! is read again from its start; a file replaced under the same name (rotated) is reopened.
//! A stop signal ends the stream as if the file had ended.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// A file read to its end and then followed.
pub struct Follow {
    path: PathBuf,
    file: File,
    position: u64,
    identity: Option<(u64, u64)>,
    stop: Receiver<()>,
    poll: Duration,
    /// Times the file was found truncated or replaced and read again from its start.
    pub reopened: u64,
}

impl Follow {
    /// Opens `path`; the stream ends when `stop` receives or its sender is dropped.
    pub fn open(path: &Path, stop: Receiver<()>, poll: Duration) -> io::Result<Follow> {
        let file = File::open(path)?;
        let identity = identity(&file.metadata()?);
        Ok(Follow {
            path: path.to_path_buf(),
            file,
            position: 0,
            identity,
            stop,
            poll,
            reopened: 0,
        })
    }

    /// Whether the file on disk is no longer the one being read, or shrank below what was read.
    fn rotated(&self) -> bool {
        match fs::metadata(&self.path) {
            Ok(meta) => identity(&meta) != self.identity || meta.len() < self.position,
            // Gone for now (between a rename and the new file's creation): keep waiting.
            Err(_) => false,
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        let file = File::open(&self.path)?;
        self.identity = identity(&file.metadata()?);
        self.file = file;
        self.position = 0;
        self.reopened += 1;
        Ok(())
    }
}

impl Read for Follow {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            let read = self.file.read(buffer)?;
            if read > 0 {
                self.position += read as u64;
                return Ok(read);
            }
            if self.rotated() {
                self.reopen()?;
                continue;
            }
            match self.stop.recv_timeout(self.poll) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return Ok(0),
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }
}

#[cfg(unix)]
fn identity(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::sync::mpsc;

    #[test]
    fn appended_lines_truncation_and_rotation_are_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        fs::write(&path, "one\ntw").expect("write");
        let (stop, stopped) = mpsc::channel();
        let follow = Follow::open(&path, stopped, Duration::from_millis(5)).expect("open");
        let (lines_out, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(follow);
            let mut line = String::new();
            while reader.read_line(&mut line).expect("read") > 0 {
                lines_out.send(line.clone()).expect("send");
                line.clear();
            }
            reader.into_inner().reopened
        });
        let next = || lines.recv_timeout(Duration::from_secs(5)).expect("line");
        assert_eq!(next(), "one\n");
        // The half-written line completes when its writer finishes it.
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        file.write_all(b"o\n").expect("append");
        assert_eq!(next(), "two\n");
        // Rotation: the file is renamed away and a new one takes its name.
        fs::rename(&path, dir.path().join("app.log.1")).expect("rotate");
        fs::write(&path, "three\n").expect("new file");
        assert_eq!(next(), "three\n");
        stop.send(()).expect("stop");
        let reopened = reader.join().expect("reader thread");
        assert_eq!(reopened, 1);
    }
}
