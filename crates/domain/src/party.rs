//! Parties of the register: organisations (units of Enhetsregisteret) and persons, and the
//! small value types that describe them. ER role codes are not a type of their own: they are
//! looked up in the access-package catalogue ([`crate::catalogue::Catalogue::er_role`]), which
//! is the one list of roles fullmakt knows.

use std::fmt;

/// The kind of a party. Sub-units are organisations with a main unit; bankruptcy estates and
/// self-identified users are not modelled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyType {
    Organisation,
    Person,
}

impl PartyType {
    /// The spelling in fullmakt's import format and database (`organization`, `person`; the
    /// reference spells organisation with a z).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organization",
            Self::Person => "person",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "organization" => Some(Self::Organisation),
            "person" => Some(Self::Person),
            _ => None,
        }
    }

    /// Altinn Register's `partyTypeName` number (1 person, 2 organisation; sub-units are 2 too).
    pub fn altinn_number(self) -> u8 {
        match self {
            Self::Person => 1,
            Self::Organisation => 2,
        }
    }
}

/// An organisation form code from Enhetsregisteret (AS, ASA, ENK, NUF, BEDR, ESEK, BRL, FLI,
/// SÆR, …). Kept as a free code checked for shape only: the register adds forms now and then,
/// and a new form must not stop an import.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnitType(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitTypeError {
    #[error("a unit type is 1 to 8 upper-case letters (A–Z, Æ, Ø, Å), such as AS, ENK or BEDR")]
    Shape,
}

impl UnitType {
    pub fn parse(s: &str) -> Result<Self, UnitTypeError> {
        let letters = s.chars().count();
        if !(1..=8).contains(&letters) || !s.chars().all(|c| c.is_ascii_uppercase() || matches!(c, 'Æ' | 'Ø' | 'Å')) {
            return Err(UnitTypeError::Shape);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UnitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnitType({})", self.0)
    }
}

/// The display name of a party: trimmed, 1 to 1000 characters, no control characters.
pub fn validate_party_name(name: &str) -> Result<&str, PartyNameError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PartyNameError::Empty);
    }
    if name.chars().count() > 1000 {
        return Err(PartyNameError::TooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(PartyNameError::ControlCharacter);
    }
    Ok(name)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartyNameError {
    #[error("a name must not be empty")]
    Empty,
    #[error("a name is at most 1000 characters")]
    TooLong,
    #[error("a name must not contain control characters")]
    ControlCharacter,
}

/// Party ids are Altinn's 32-bit integers; fullmakt assigns new ones from here up, in the range
/// Altinn's own party ids live in (5xxxxxxx), so imported and assigned ids look alike.
pub const FIRST_ASSIGNED_PARTY_ID: i64 = 50_000_000;

/// A party id given by a caller must be a positive 32-bit integer, as Altinn's.
pub fn validate_party_id(id: i64) -> Result<i64, PartyIdError> {
    if (1..=i64::from(i32::MAX)).contains(&id) {
        Ok(id)
    } else {
        Err(PartyIdError)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a party id is an integer from 1 to 2147483647")]
pub struct PartyIdError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_types_are_short_upper_case_codes() {
        for ok in ["AS", "ASA", "ENK", "NUF", "BEDR", "ESEK", "BRL", "FLI", "SÆR", "AAFY"] {
            assert_eq!(UnitType::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "as", "A S", "ABCDEFGHI", "A1", "AS;", "ÄS"] {
            assert_eq!(UnitType::parse(bad), Err(UnitTypeError::Shape), "{bad:?}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_party_name("  Fjordkraft AS "), Ok("Fjordkraft AS"));
        assert_eq!(validate_party_name("   "), Err(PartyNameError::Empty));
        assert_eq!(validate_party_name("a\u{0}b"), Err(PartyNameError::ControlCharacter));
        assert_eq!(validate_party_name(&"x".repeat(1001)), Err(PartyNameError::TooLong));
    }

    #[test]
    fn party_types_and_ids() {
        assert_eq!(PartyType::parse("organization"), Some(PartyType::Organisation));
        assert_eq!(PartyType::parse("organisation"), None);
        assert_eq!(PartyType::Person.altinn_number(), 1);
        assert_eq!(validate_party_id(50_000_000), Ok(50_000_000));
        assert_eq!(validate_party_id(0), Err(PartyIdError));
        assert_eq!(validate_party_id(i64::from(i32::MAX) + 1), Err(PartyIdError));
    }
}
