//! Source reliability on the Admiralty (NATO) scale.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How far a source has proven reliable, A (completely reliable) to F (cannot be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Reliability {
    A,
    B,
    C,
    D,
    E,
    F,
}

/// A letter that is not on the Admiralty scale.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown reliability {0:?} (expected a letter A to F)")]
pub struct UnknownReliability(pub String);

impl Reliability {
    /// The weight of this grade in the score, 0.0–1.0. F ("cannot be judged") sits between
    /// "fairly" and "not usually" reliable: an unknown source is neither trusted nor distrusted.
    pub fn weight(self) -> f64 {
        match self {
            Reliability::A => 1.0,
            Reliability::B => 0.85,
            Reliability::C => 0.7,
            Reliability::D => 0.5,
            Reliability::E => 0.25,
            Reliability::F => 0.55,
        }
    }

    /// One grade worse (used when analysts mark a source's indicators false positive).
    pub fn lowered(self) -> Reliability {
        match self {
            Reliability::A => Reliability::B,
            Reliability::B => Reliability::C,
            Reliability::C => Reliability::D,
            Reliability::D | Reliability::E => Reliability::E,
            Reliability::F => Reliability::E,
        }
    }

    pub fn letter(self) -> char {
        match self {
            Reliability::A => 'A',
            Reliability::B => 'B',
            Reliability::C => 'C',
            Reliability::D => 'D',
            Reliability::E => 'E',
            Reliability::F => 'F',
        }
    }
}

impl FromStr for Reliability {
    type Err = UnknownReliability;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_uppercase().as_str() {
            "A" => Ok(Reliability::A),
            "B" => Ok(Reliability::B),
            "C" => Ok(Reliability::C),
            "D" => Ok(Reliability::D),
            "E" => Ok(Reliability::E),
            "F" => Ok(Reliability::F),
            _ => Err(UnknownReliability(text.to_owned())),
        }
    }
}

impl fmt::Display for Reliability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}
