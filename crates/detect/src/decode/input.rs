//! Opening inputs: files, directories (recursively), standard input; gzip is recognised by its
//! magic bytes rather than the extension, because rotated logs are not always named `.gz`.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use super::{
    Counting, DecodeError, Decoder, Head, Input, Options, Sink, Summary, file_name, sniff,
};

const READ_BUFFER: usize = 256 * 1024;
const SNIFF_BYTES: usize = 8 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Decodes a file, every file under a directory (recursively, in name order, skipping hidden
/// ones), or standard input when `path` is `-`, choosing the decoder by content. A file that
/// cannot be decoded at all is reported to the sink as an error and the walk goes on.
pub fn decode_path(
    path: &Path,
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, DecodeError> {
    if path == Path::new("-") {
        let stdin = io::stdin();
        let mut locked = stdin.lock();
        return decode_stream(None, "-", None, &mut locked, options, sink);
    }
    let name = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|error| DecodeError::io(&name, error))?;
    if !metadata.is_dir() {
        return decode_file(path, options, sink);
    }
    let mut files = Vec::new();
    collect_files(path, &mut files).map_err(|error| DecodeError::io(&name, error))?;
    let mut total = Summary::default();
    for file in files {
        match decode_file(&file, options, sink) {
            Ok(summary) => {
                total.events += summary.events;
                total.errors += summary.errors;
            }
            Err(error) => {
                total.errors += 1;
                sink.error(error);
            }
        }
    }
    Ok(total)
}

/// The decoder that recognises the file at `path` (after gzip).
pub fn for_path(path: &Path) -> Result<&'static dyn Decoder, DecodeError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|error| DecodeError::io(&name, error))?;
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    let mut unzipped;
    let reader: &mut dyn BufRead = if is_gzip(&mut reader, &name)? {
        unzipped = BufReader::with_capacity(READ_BUFFER, MultiGzDecoder::new(reader));
        &mut unzipped
    } else {
        &mut reader
    };
    let head = read_head(reader, &name)?;
    sniff(&Head {
        bytes: &head,
        file_name: file_name(path),
    })
    .ok_or(DecodeError::UnknownFormat { input: name })
}

fn decode_file(
    path: &Path,
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, DecodeError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|error| DecodeError::io(&name, error))?;
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    decode_stream(None, &name, file_name(path), &mut reader, options, sink)
}

/// Unwraps gzip, sniffs unless `chosen` names the decoder, and decodes, counting.
pub(crate) fn decode_stream(
    chosen: Option<&'static dyn Decoder>,
    name: &str,
    file_name: Option<&str>,
    reader: &mut dyn BufRead,
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, DecodeError> {
    let mut unzipped;
    let reader: &mut dyn BufRead = if is_gzip(reader, name)? {
        unzipped = BufReader::with_capacity(READ_BUFFER, MultiGzDecoder::new(reader));
        &mut unzipped
    } else {
        reader
    };
    // A `.gz` name says nothing about the content: sniff and name logs without it.
    let file_name = file_name.map(|file| file.strip_suffix(".gz").unwrap_or(file));
    let decoder = match chosen {
        Some(decoder) => decoder,
        None => {
            let head = read_head(reader, name)?;
            sniff(&Head {
                bytes: &head,
                file_name,
            })
            .ok_or_else(|| DecodeError::UnknownFormat {
                input: name.to_owned(),
            })?
        }
    };
    let mut counting = Counting {
        inner: sink,
        summary: Summary::default(),
    };
    decoder.decode(
        Input {
            name,
            reader,
            options,
            file_name,
        },
        &mut counting,
    )?;
    Ok(counting.summary)
}

fn is_gzip(reader: &mut dyn BufRead, name: &str) -> Result<bool, DecodeError> {
    let buffered = reader
        .fill_buf()
        .map_err(|error| DecodeError::io(name, error))?;
    Ok(buffered.starts_with(&GZIP_MAGIC))
}

/// Copies the first bytes without consuming them, topping the buffer up when the reader
/// returned only a little (pipes, small first reads).
fn read_head(reader: &mut dyn BufRead, name: &str) -> Result<Vec<u8>, DecodeError> {
    let buffered = reader
        .fill_buf()
        .map_err(|error| DecodeError::io(name, error))?;
    Ok(buffered[..buffered.len().min(SNIFF_BYTES)].to_vec())
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads all of an input into memory (for formats that need random access, such as EVTX).
pub(crate) fn read_all(reader: &mut dyn BufRead, name: &str) -> Result<Vec<u8>, DecodeError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|error| DecodeError::io(name, error))?;
    Ok(bytes)
}
