//! Norwegian person identifiers: the fødselsnummer (birth number) and the D-number, both eleven
//! digits `DDMMYY` + three individual digits + two MOD11 check digits.
//!
//! DESIGN.md §5: the reference validates nothing; fullmakt checks the check digits and the date
//! and says which rule failed. Synthetic test numbers (Skatteetaten's Tenor test data adds 80 to
//! the month) are accepted only when the caller says test data is allowed, so a production
//! instance can never store one by mistake.

use std::fmt;

/// A valid person number or D-number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonIdentifier([u8; 11]);

/// Whether synthetic test numbers (month + 80) are acceptable where a person number is parsed.
/// Production instances refuse them; test-data instances (`--test-data`, `serve --demo`) accept them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyntheticNumbers {
    #[default]
    Refuse,
    Accept,
}

impl SyntheticNumbers {
    pub fn accept_if(test_data: bool) -> Self {
        if test_data {
            Self::Accept
        } else {
            Self::Refuse
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonIdentifierKind {
    /// Fødselsnummer: the first six digits are the birth date.
    BirthNumber,
    /// D-number: 4 added to the first digit (day + 40), given to people not in the population
    /// register.
    DNumber,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonIdentifierError {
    #[error("a person number has exactly 11 digits")]
    Length,
    #[error("a person number has only digits")]
    NotDigits,
    #[error("the person number's first check digit (digit 10) is wrong")]
    FirstCheckDigit,
    #[error("the person number's second check digit (digit 11) is wrong")]
    SecondCheckDigit,
    #[error("the person number's first six digits are not a date (DDMMYY; D-numbers add 40 to the day)")]
    Date,
    #[error("the person number is a synthetic test number (month + 80), accepted only when the instance runs with test data")]
    SyntheticNotAllowed,
}

const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// MOD11 check digit over `digits` with `weights`; `None` when the remainder gives 10, which no
/// valid number has.
fn mod11(digits: &[u8], weights: &[u32]) -> Option<u8> {
    let sum: u32 = weights.iter().zip(digits).map(|(w, d)| w * u32::from(*d)).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c as u8),
    }
}

fn days_in_month(month: u8) -> u8 {
    match month {
        2 => 29, // the century is not encoded reliably enough to decide leap years here
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl PersonIdentifier {
    pub fn parse(s: &str, synthetic: SyntheticNumbers) -> Result<Self, PersonIdentifierError> {
        let bytes = s.as_bytes();
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(PersonIdentifierError::NotDigits);
        }
        if bytes.len() != 11 {
            return Err(PersonIdentifierError::Length);
        }
        let mut d = [0u8; 11];
        for (digit, b) in d.iter_mut().zip(bytes) {
            *digit = b - b'0';
        }
        if mod11(&d[..9], &K1_WEIGHTS) != Some(d[9]) {
            return Err(PersonIdentifierError::FirstCheckDigit);
        }
        if mod11(&d[..10], &K2_WEIGHTS) != Some(d[10]) {
            return Err(PersonIdentifierError::SecondCheckDigit);
        }
        let id = Self(d);
        let (day, month) = (id.day(), id.month());
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(month) {
            return Err(PersonIdentifierError::Date);
        }
        if id.is_synthetic() && synthetic == SyntheticNumbers::Refuse {
            return Err(PersonIdentifierError::SyntheticNotAllowed);
        }
        Ok(id)
    }

    pub fn kind(&self) -> PersonIdentifierKind {
        if self.0[0] >= 4 {
            PersonIdentifierKind::DNumber
        } else {
            PersonIdentifierKind::BirthNumber
        }
    }

    /// A Tenor synthetic test number: 80 added to the month.
    pub fn is_synthetic(&self) -> bool {
        self.0[2] >= 8
    }

    /// Day of birth with the D-number offset removed (0 when the digits are not a day).
    fn day(&self) -> u8 {
        let day = self.0[0] * 10 + self.0[1];
        if self.kind() == PersonIdentifierKind::DNumber {
            day - 40
        } else {
            day
        }
    }

    /// Month of birth with the synthetic offset removed.
    fn month(&self) -> u8 {
        let month = self.0[2] * 10 + self.0[3];
        if self.is_synthetic() {
            month - 80
        } else {
            month
        }
    }
}

impl fmt::Display for PersonIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Only the birth date part: person numbers are personal data and end up in logs through Debug.
impl fmt::Debug for PersonIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "PersonIdentifier({}{}{}{}{}{}*****)", d[0], d[1], d[2], d[3], d[4], d[5])
    }
}

impl serde::Serialize for PersonIdentifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Completes nine digits with both check digits, if the number can exist.
    fn complete(nine: &str) -> Option<String> {
        let mut d: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
        let k1 = mod11(&d, &K1_WEIGHTS)?;
        d.push(k1);
        let k2 = mod11(&d, &K2_WEIGHTS)?;
        d.push(k2);
        Some(d.iter().map(|d| char::from(b'0' + d)).collect())
    }

    fn first_valid(prefix6: &str) -> String {
        (0..1000).find_map(|i| complete(&format!("{prefix6}{i:03}"))).unwrap()
    }

    #[test]
    fn accepts_birth_numbers_and_d_numbers() {
        for n in ["01010012356", "17054026641", &first_valid("311299")] {
            let id = PersonIdentifier::parse(n, SyntheticNumbers::Refuse).unwrap();
            assert_eq!(id.kind(), PersonIdentifierKind::BirthNumber, "{n}");
            assert_eq!(id.to_string(), n);
        }
        let d = first_valid("410185");
        let id = PersonIdentifier::parse(&d, SyntheticNumbers::Refuse).unwrap();
        assert_eq!(id.kind(), PersonIdentifierKind::DNumber);
        assert!(!id.is_synthetic());
    }

    #[test]
    fn synthetic_numbers_need_test_data() {
        // Tenor style: 15 March 1985 becomes 15 83 85.
        let n = first_valid("158385");
        assert_eq!(PersonIdentifier::parse(&n, SyntheticNumbers::Refuse), Err(PersonIdentifierError::SyntheticNotAllowed));
        let id = PersonIdentifier::parse(&n, SyntheticNumbers::Accept).unwrap();
        assert!(id.is_synthetic());
        assert_eq!(id.kind(), PersonIdentifierKind::BirthNumber);
        // A synthetic D-number: both offsets.
        let n = first_valid("558385");
        let id = PersonIdentifier::parse(&n, SyntheticNumbers::Accept).unwrap();
        assert_eq!(id.kind(), PersonIdentifierKind::DNumber);
        assert!(id.is_synthetic());
    }

    #[test]
    fn each_rule_has_its_own_error() {
        let valid = "01010012356";
        let parse = |s: &str| PersonIdentifier::parse(s, SyntheticNumbers::Accept);
        assert_eq!(parse("0101001235"), Err(PersonIdentifierError::Length));
        assert_eq!(parse("010100123567"), Err(PersonIdentifierError::Length));
        assert_eq!(parse(""), Err(PersonIdentifierError::Length));
        assert_eq!(parse("0101001235x"), Err(PersonIdentifierError::NotDigits));
        assert_eq!(parse(" 1010012356"), Err(PersonIdentifierError::NotDigits));
        assert_eq!(parse("01010012366"), Err(PersonIdentifierError::FirstCheckDigit));
        assert_eq!(parse("01010012357"), Err(PersonIdentifierError::SecondCheckDigit));
        assert!(parse(valid).is_ok());
        // Valid check digits on impossible dates: day 32, month 13, 31 April, day 0, month 0.
        for prefix in ["320185", "011385", "310485", "000185", "010085", "720185", "019385"] {
            assert_eq!(parse(&first_valid(prefix)), Err(PersonIdentifierError::Date), "{prefix}");
        }
        // 29 February is accepted whatever the year: the century is not decidable here.
        assert!(parse(&first_valid("290285")).is_ok());
    }

    #[test]
    fn any_single_digit_change_of_a_valid_number_is_refused() {
        for base in ["01010012356", "17054026641", &first_valid("410185"), &first_valid("158385")] {
            for pos in 0..11 {
                for digit in b'0'..=b'9' {
                    let mut bytes = base.as_bytes().to_vec();
                    if bytes[pos] == digit {
                        continue;
                    }
                    bytes[pos] = digit;
                    let changed = String::from_utf8(bytes).unwrap();
                    assert!(PersonIdentifier::parse(&changed, SyntheticNumbers::Accept).is_err(), "{changed} from {base}");
                }
            }
        }
    }

    #[test]
    fn debug_hides_the_individual_digits() {
        let id = PersonIdentifier::parse("01010012356", SyntheticNumbers::Refuse).unwrap();
        assert_eq!(format!("{id:?}"), "PersonIdentifier(010100*****)");
    }
}
